"""Celery tasks of the routing app."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.utils import timezone

from routing.rollups import cost_summaries_catch_up, cost_summaries_rebuild

ROLLUP_TASK = "routing.tasks.rollup_costs"


@shared_task(name=ROLLUP_TASK)
def rollup_costs(day: str | None = None) -> int:
    """Rebuild ``CostSummary`` for ``day`` (ISO date), by default yesterday, today and each tenant's
    days since its own latest summarised one (UTC; ``cost_summaries_catch_up``); returns the rows written."""
    if day is not None:
        return cost_summaries_rebuild(day=date.fromisoformat(day), tenant=None)
    return cost_summaries_catch_up(today=timezone.now().date()).rows
