"""Per-tenant monthly LLM budget: soft limit (alert, downgrade tiers), hard limit (local only)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from routing.config import routing_settings
from routing.models import BudgetAlert, CostEvent
from supportai.models import Tenant
from supportai.shared_cache import CACHE_ERRORS

logger = logging.getLogger(__name__)

OK, SOFT, HARD = "ok", "soft", "hard"


@dataclass(frozen=True)
class BudgetState:
    level: str
    spent_usd: Decimal
    budget_usd: Decimal
    month: date


def month_start(moment: datetime | None = None) -> date:
    current = (moment or timezone.now()).astimezone(UTC).date()
    return current.replace(day=1)


# Month-to-date spend is read on every turn; summing the month's ledger each time grows with
# traffic. It is cached briefly under the month's current generation, and a turn that records a
# non-zero cost starts a new generation once its transaction commits: a paid tenant's limit reacts
# to the next turn, free (local) turns cost no spend query per interval, and a reader that summed
# the ledger before the new cost (or read it before the commit) stores its total under the old
# generation, where nobody looks any more.
SPEND_CACHE_SECONDS = 30
# Outlives any month's readers; when it is evicted a fresh generation starts, so nothing stale returns.
GENERATION_CACHE_SECONDS = 62 * 24 * 3600


def _generation_key(tenant_id: int, month: date) -> str:
    return f"routing:month-spend-generation:{tenant_id}:{month.isoformat()}"


def _spend_cache_key(tenant_id: int, month: date) -> str:
    """Where the month's spend is cached in its current generation (read this before summing)."""
    key = _generation_key(tenant_id, month)
    generation = cache.get(key)
    if generation is None:
        cache.add(key, uuid4().hex, GENERATION_CACHE_SECONDS)
        generation = cache.get(key)
    return f"routing:month-spend:{tenant_id}:{month.isoformat()}:{generation}"


def month_spend(*, tenant: Tenant, month: date) -> Decimal:
    """The tenant's spend this month; summed from the ledger, as it is exact, while the cache is down."""
    try:
        key = _spend_cache_key(tenant.pk, month)
        cached = cache.get(key)
    except CACHE_ERRORS as exc:
        logger.warning("month spend of tenant %s summed without the cache (it failed: %r)", tenant.pk, exc)
        return _ledger_spend(tenant=tenant, month=month)
    if cached is not None:
        return Decimal(cached)
    spent = _ledger_spend(tenant=tenant, month=month)
    try:
        cache.set(key, str(spent), SPEND_CACHE_SECONDS)
    except CACHE_ERRORS as exc:
        logger.warning("month spend of tenant %s not cached (the cache failed: %r)", tenant.pk, exc)
    return spent


def _ledger_spend(*, tenant: Tenant, month: date) -> Decimal:
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    total = CostEvent.objects.for_tenant(tenant).filter(created_at__gte=start).aggregate(total=Sum("cost_usd"))
    spent: Decimal = total["total"] or Decimal("0")
    return spent


def month_spend_changed(*, tenant: Tenant, when: datetime | None = None) -> None:
    """Forget the cached spend once the new costs are committed (call in the ledger write's transaction).

    Best effort: the costs are committed whatever the cache does. Should it fail, a spend cached under
    the old generation before the failure may still be read until it expires (``SPEND_CACHE_SECONDS``).
    """
    key = _generation_key(tenant.pk, month_start(when))

    def new_generation() -> None:
        try:
            cache.set(key, uuid4().hex, GENERATION_CACHE_SECONDS)
        except CACHE_ERRORS as exc:
            logger.warning(
                "month spend of tenant %s may be read stale for %s s (the cache failed: %r)",
                tenant.pk,
                SPEND_CACHE_SECONDS,
                exc,
            )

    transaction.on_commit(new_generation)


def monthly_budget(*, tenant: Tenant) -> Decimal:
    """The tenant's budget as it stands now: an open conversation's ``Tenant`` may predate an admin's change."""
    current = Tenant.objects.filter(pk=tenant.pk).values_list("monthly_llm_budget_usd", flat=True).first()
    return tenant.monthly_llm_budget_usd if current is None else current


def budget_state(*, tenant: Tenant, now: datetime | None = None) -> BudgetState:
    """Where the tenant stands this month; raises a ``BudgetAlert`` (once per level) when a limit is crossed."""
    month = month_start(now)
    spent = month_spend(tenant=tenant, month=month)
    budget = monthly_budget(tenant=tenant)
    soft = budget * Decimal(str(routing_settings().budget_soft_fraction))
    level = HARD if spent >= budget else SOFT if spent >= soft else OK
    if level != OK:
        _alert_once(tenant=tenant, month=month, level=level, spent=spent, budget=budget)
    return BudgetState(level, spent, budget, month)


def _alert_once(*, tenant: Tenant, month: date, level: str, spent: Decimal, budget: Decimal) -> None:
    if BudgetAlert.objects.for_tenant(tenant).filter(month=month, level=level).exists():
        return
    try:
        with transaction.atomic():
            BudgetAlert.objects.create(tenant=tenant, month=month, level=level, spent_usd=spent, budget_usd=budget)
    except IntegrityError:  # another process raised it first
        return
    logger.warning("tenant %s crossed its %s LLM budget limit: $%s of $%s", tenant.slug, level, spent, budget)
