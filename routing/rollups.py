"""Daily ``CostSummary`` rollups of the ledger (idempotent: re-running a day rebuilds it)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDate

from routing.models import CostEvent, CostSummary
from supportai.models import Tenant

# First key of the transaction-level advisory locks that serialise the rebuilds of one day.
ROLLUP_LOCK_NAMESPACE = 0x5243  # "RC"
# How far back the hourly run catches up after beat or the workers were down.
CATCH_UP_DAYS = 31


BAD_DAY = "must be a date as YYYY-MM-DD; got {value!r}"
FUTURE_DAY = "{value} is in the future (today is {today}, UTC)"


class RollupDayError(ValueError):
    """A day to rebuild that is no ISO date, or is still to come; the message follows its name."""


def rollup_day(value: object, *, today: date) -> date:
    """``value`` (YYYY-MM-DD, from a command line or a task's arguments) as a day to rebuild, up to ``today``."""
    try:
        parsed = date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise RollupDayError(BAD_DAY.format(value=value))
    if parsed > today:
        raise RollupDayError(FUTURE_DAY.format(value=parsed, today=today))
    return parsed


@dataclass(frozen=True)
class CatchUp:
    """What one catch-up run did: the earliest day it rebuilt, how many tenants were behind
    yesterday, and how many summary rows it wrote."""

    first_day: date
    tenants_behind: int
    rows: int


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _rebuild(*, first: date, last: date, events: QuerySet[CostEvent], summaries: QuerySet[CostSummary]) -> int:
    """Replace ``summaries`` by the buckets of ``events`` (both within ``first``..``last``).

    Runs that share a day (two beat instances, a backlog run, the ops command) wait for each other:
    each deletes and inserts in its own transaction, so the second one's insert would otherwise
    collide with the first one's rows on ``routing_costsummary_unique_bucket``. The days are locked
    in ascending order, so runs over overlapping ranges cannot deadlock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, d) FROM generate_series(%s, %s) AS d",
            [ROLLUP_LOCK_NAMESPACE, first.toordinal(), last.toordinal()],
        )
    buckets = (
        events.annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("tenant_id", "day", "tier", "provider", "model")
        .annotate(
            calls=Count("id"),
            errors=Count("id", filter=Q(outcome="error")),
            input_tokens=Sum("input_tokens"),
            output_tokens=Sum("output_tokens"),
            cached_tokens=Sum("cached_tokens"),
            cache_write_tokens=Sum("cache_write_tokens"),
            cost_usd=Sum("cost_usd"),
        )
    )
    summaries.delete()
    rows = [CostSummary(**bucket) for bucket in buckets]
    CostSummary.objects.bulk_create(rows)
    return len(rows)


@transaction.atomic
def cost_summaries_rebuild(*, day: date, tenant: Tenant | None) -> int:
    """Rebuild the summary rows of ``day`` (UTC) of ``tenant``, or of every tenant when ``None``;
    returns how many rows were written."""
    start = _midnight(day)
    events = CostEvent.objects.filter(created_at__gte=start, created_at__lt=start + timedelta(days=1))
    summaries = CostSummary.objects.filter(day=day)
    if tenant is not None:
        events, summaries = events.for_tenant(tenant), summaries.for_tenant(tenant)
    return _rebuild(first=day, last=day, events=events, summaries=summaries)


def _starts_behind(*, today: date, tenant: Tenant | None) -> dict[date, list[int]]:
    """The tenants to catch up from before yesterday, by the day each starts from: its latest
    summarised day or, with none in the last ``CATCH_UP_DAYS``, its first spend in them (the days
    before have nothing to build). One query; each tenant is an index look-up or two."""
    oldest, yesterday = today - timedelta(days=CATCH_UP_DAYS), today - timedelta(days=1)
    latest = CostSummary.objects.filter(tenant_id=OuterRef("pk"), day__gte=oldest, day__lte=today)
    first_spend = CostEvent.objects.filter(tenant_id=OuterRef("pk"), created_at__gte=_midnight(oldest))
    start = Coalesce(
        Subquery(latest.order_by("-day").values("day")[:1]),
        TruncDate(Subquery(first_spend.order_by("created_at").values("created_at")[:1]), tzinfo=UTC),
    )
    tenants = Tenant.objects.all() if tenant is None else Tenant.objects.filter(pk=tenant.pk)
    starts: dict[date, list[int]] = defaultdict(list)
    behind = tenants.annotate(start=start).filter(start__lt=yesterday).order_by()
    for tenant_id, day in behind.values_list("pk", "start"):
        starts[day].append(tenant_id)
    return starts


@transaction.atomic
def cost_summaries_catch_up(*, today: date, tenant: Tenant | None = None) -> CatchUp:
    """What the hourly run rebuilds, for ``tenant`` or every tenant: yesterday and today, and each
    tenant behind that from its own latest summarised day (it may have been built part-way through),
    never more than ``CATCH_UP_DAYS`` back, so a new tenant or one whose run failed is caught up
    however far ahead the others are. All in one grouped query over the ledger."""
    yesterday = today - timedelta(days=1)
    starts = _starts_behind(today=today, tenant=tenant)
    recent_events, recent_summaries = Q(created_at__gte=_midnight(yesterday)), Q(day__gte=yesterday)
    for day, tenant_ids in starts.items():
        recent_events |= Q(tenant_id__in=tenant_ids, created_at__gte=_midnight(day))
        recent_summaries |= Q(tenant_id__in=tenant_ids, day__gte=day)
    events = CostEvent.objects.filter(recent_events, created_at__lt=_midnight(today + timedelta(days=1)))
    summaries = CostSummary.objects.filter(recent_summaries, day__lte=today)
    if tenant is not None:
        events, summaries = events.for_tenant(tenant), summaries.for_tenant(tenant)
    first = min(starts, default=yesterday)
    rows = _rebuild(first=first, last=today, events=events, summaries=summaries)
    return CatchUp(first_day=first, tenants_behind=sum(map(len, starts.values())), rows=rows)
