"""Daily ``CostSummary`` rollups of the ledger (idempotent: re-running a day rebuilds it)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from django.db import transaction
from django.db.models import Count, Q, Sum

from routing.models import CostEvent, CostSummary


@transaction.atomic
def cost_summaries_rebuild(*, day: date) -> int:
    """Rebuild every tenant's summary rows for ``day`` (UTC); returns how many rows were written."""
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
