"""Celery tasks of the routing app."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.utils import timezone

from routing.rollups import cost_summaries_catch_up_days, cost_summaries_rebuild

ROLLUP_TASK = "routing.tasks.rollup_costs"


@shared_task(name=ROLLUP_TASK)
def rollup_costs(day: str | None = None) -> int:
    """Rebuild ``CostSummary`` for ``day`` (ISO date), by default every day since the latest
    summarised one, at least yesterday and today (UTC; ``cost_summaries_catch_up_days``)."""
    days = [date.fromisoformat(day)] if day is not None else cost_summaries_catch_up_days(today=timezone.now().date())
    return sum(cost_summaries_rebuild(day=each, tenant=None) for each in days)
