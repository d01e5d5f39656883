"""Rebuild the daily ``CostSummary`` rows: the hourly catch-up, one day, or every day since a date."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from routing.rollups import RollupDayError, cost_summaries_catch_up, cost_summaries_rebuild, rollup_day
from supportai.management.options import tenant_by_slug
from supportai.models import Tenant

MAX_SINCE_DAYS = 366
TOO_FAR_BACK = "--since {value} is more than {limit} days ago; rebuild older days one --day at a time"


class Command(BaseCommand):
    help = (
        "Rebuild the daily cost summaries (UTC days): by default what the hourly task does (yesterday, today "
        "and each tenant's days since its own latest summarised one, at most 31 back), or one --day, or every "
        "day --since a date up to today."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        when = parser.add_mutually_exclusive_group()
        when.add_argument("--since", help="first day to rebuild, YYYY-MM-DD (up to today)")
        when.add_argument("--day", help="the one day to rebuild, YYYY-MM-DD")
        parser.add_argument("--tenant", help="rebuild this tenant's rows only (slug); others are left alone")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_by_slug(options["tenant"]) if options["tenant"] else None
        today = timezone.now().date()
        if options["day"] is not None:
            self._rebuild([_past_date("day", options["day"], today)], tenant=tenant)
        elif options["since"] is not None:
            self._rebuild(_days_since(options["since"], today), tenant=tenant)
        else:
            caught_up = cost_summaries_catch_up(today=today, tenant=tenant)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Caught up {_scope(tenant)} from {caught_up.first_day} "
                    f"({caught_up.tenants_behind} tenant(s) behind yesterday): {caught_up.rows} summary rows."
                )
            )

    def _rebuild(self, days: list[date], *, tenant: Tenant | None) -> None:
        total = 0
        for day in days:
            written = cost_summaries_rebuild(day=day, tenant=tenant)
            total += written
            self.stdout.write(f"{day}: {written} summary rows")
        self.stdout.write(self.style.SUCCESS(f"Rebuilt {len(days)} days for {_scope(tenant)}: {total} summary rows."))


def _scope(tenant: Tenant | None) -> str:
    return f"tenant {tenant.slug}" if tenant else "all tenants"


def _days_since(since: str, today: date) -> list[date]:
    first = _past_date("since", since, today)
    if (today - first).days > MAX_SINCE_DAYS:
        raise CommandError(TOO_FAR_BACK.format(value=first, limit=MAX_SINCE_DAYS))
    return [first + timedelta(days=n) for n in range((today - first).days + 1)]


def _past_date(option: str, value: str, today: date) -> date:
    try:
        return rollup_day(value, today=today)
    except RollupDayError as error:
        raise CommandError(f"--{option} {error}") from None
