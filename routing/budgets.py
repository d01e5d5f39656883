"""Per-tenant monthly LLM budget: soft limit (alert, downgrade tiers), hard limit (local only)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from routing.config import routing_settings
from routing.models import BudgetAlert, CostEvent
from supportai.models import Tenant

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


def month_spend(*, tenant: Tenant, month: date) -> Decimal:
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    total = CostEvent.objects.for_tenant(tenant).filter(created_at__gte=start).aggregate(total=Sum("cost_usd"))
    return total["total"] or Decimal("0")


def budget_state(*, tenant: Tenant, now: datetime | None = None) -> BudgetState:
    """Where the tenant stands this month; raises a ``BudgetAlert`` (once per level) when a limit is crossed."""
    month = month_start(now)
    spent = month_spend(tenant=tenant, month=month)
    budget = tenant.monthly_llm_budget_usd
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
