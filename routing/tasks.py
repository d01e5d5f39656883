"""Celery tasks of the routing app."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from routing.rollups import RollupDayError, cost_summaries_catch_up, cost_summaries_rebuild, rollup_day

ROLLUP_TASK = "routing.tasks.rollup_costs"


@shared_task(name=ROLLUP_TASK)
def rollup_costs(day: str | None = None) -> int:
    """Rebuild ``CostSummary`` for ``day`` (ISO date, not in the future), by default yesterday, today
    and each tenant's days since its own latest summarised one (UTC; ``cost_summaries_catch_up``);
    returns the rows written. A bad ``day`` fails the task with one line naming it (``RollupDayError``),
    before anything is rebuilt: sending it again would fail the same way."""
    today = timezone.now().date()
    if day is not None:
        try:
            parsed = rollup_day(day, today=today)
        except RollupDayError as error:
            raise RollupDayError(f"rollup_costs: day {error}") from None
        return cost_summaries_rebuild(day=parsed, tenant=None)
    return cost_summaries_catch_up(today=today).rows
