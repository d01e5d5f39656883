"""Daily ``CostSummary`` rollups of the ledger (idempotent: re-running a day rebuilds it)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, Q, Sum

from routing.models import CostEvent, CostSummary

# First key of the transaction-level advisory lock that serialises the rebuilds of one day.
ROLLUP_LOCK_NAMESPACE = 0x5243  # "RC"


@transaction.atomic
def cost_summaries_rebuild(*, day: date) -> int:
    """Rebuild every tenant's summary rows for ``day`` (UTC); returns how many rows were written.

    Runs of the same day (two beat instances, a backlog run) wait for each other: each deletes and
    inserts in its own transaction, so the second one's insert would otherwise collide with the
    first one's rows on ``routing_costsummary_unique_bucket``."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ROLLUP_LOCK_NAMESPACE, day.toordinal()])
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    buckets = (
        CostEvent.objects.filter(created_at__gte=start, created_at__lt=start + timedelta(days=1))
        .values("tenant_id", "tier", "provider", "model")
        .annotate(
            calls=Count("id"),
            errors=Count("id", filter=Q(outcome="error")),
            input_tokens=Sum("input_tokens"),
            output_tokens=Sum("output_tokens"),
            cached_tokens=Sum("cached_tokens"),
            cost_usd=Sum("cost_usd"),
        )
    )
    CostSummary.objects.filter(day=day).delete()
    rows = [CostSummary(day=day, **bucket) for bucket in buckets]
    CostSummary.objects.bulk_create(rows)
    return len(rows)
