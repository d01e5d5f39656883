"""Daily ``CostSummary`` rollups of the ledger (idempotent: re-running a day rebuilds it)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, Max, Q, Sum

from routing.models import CostEvent, CostSummary
from supportai.models import Tenant

# First key of the transaction-level advisory lock that serialises the rebuilds of one day.
ROLLUP_LOCK_NAMESPACE = 0x5243  # "RC"
# How far back the hourly run catches up after beat or the workers were down.
CATCH_UP_DAYS = 31


@transaction.atomic
def cost_summaries_rebuild(*, day: date, tenant: Tenant | None) -> int:
    """Rebuild the summary rows of ``day`` (UTC) of ``tenant``, or of every tenant when ``None``;
    returns how many rows were written.

    Runs of the same day (two beat instances, a backlog run) wait for each other: each deletes and
    inserts in its own transaction, so the second one's insert would otherwise collide with the
    first one's rows on ``routing_costsummary_unique_bucket``."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ROLLUP_LOCK_NAMESPACE, day.toordinal()])
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    events = CostEvent.objects.filter(created_at__gte=start, created_at__lt=start + timedelta(days=1))
    summaries = CostSummary.objects.filter(day=day)
    if tenant is not None:
        events, summaries = events.for_tenant(tenant), summaries.for_tenant(tenant)
    buckets = events.values("tenant_id", "tier", "provider", "model").annotate(
        calls=Count("id"),
        errors=Count("id", filter=Q(outcome="error")),
        input_tokens=Sum("input_tokens"),
        output_tokens=Sum("output_tokens"),
        cached_tokens=Sum("cached_tokens"),
        cost_usd=Sum("cost_usd"),
    )
    summaries.delete()
    rows = [CostSummary(day=day, **bucket) for bucket in buckets]
    CostSummary.objects.bulk_create(rows)
    return len(rows)


def cost_summaries_catch_up_days(*, today: date) -> list[date]:
    """The days the hourly run rebuilds: from the latest summarised day (it may have been built
    part-way through) or yesterday, whichever is earlier, to ``today``; never more than
    ``CATCH_UP_DAYS`` back. A day without spend has no rows, so after a quiet spell the run
    rebuilds those (empty, cheap) days until spend comes again."""
    oldest = today - timedelta(days=CATCH_UP_DAYS)
    latest = CostSummary.objects.filter(day__gte=oldest, day__lte=today).aggregate(latest=Max("day"))["latest"]
    first = min(latest or oldest, today - timedelta(days=1))
    return [first + timedelta(days=n) for n in range((today - first).days + 1)]
