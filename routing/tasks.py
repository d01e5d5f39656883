"""Celery tasks of the routing app."""

from __future__ import annotations

from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from routing.rollups import cost_summaries_rebuild

ROLLUP_TASK = "routing.tasks.rollup_costs"


@shared_task(name=ROLLUP_TASK)
def rollup_costs(day: str | None = None) -> int:
    """Rebuild ``CostSummary`` for ``day`` (ISO date), by default yesterday and today (UTC)."""
    if day is not None:
        return cost_summaries_rebuild(day=date.fromisoformat(day))
    today = timezone.now().date()
    return cost_summaries_rebuild(day=today - timedelta(days=1)) + cost_summaries_rebuild(day=today)
