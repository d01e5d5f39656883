"""Daily cost rollups: the hourly task catches up on missed days, the ops command rebuilds chosen days
(of one tenant or all), and concurrent rebuilds of one day serialise on their own connections."""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from routing.models import CostEvent, CostSummary
from routing.rollups import CATCH_UP_DAYS, RollupDayError, cost_summaries_rebuild
from routing.tasks import rollup_costs
from supportai.tests.factories import TenantFactory


def _spend(tenant, amount: str, day: date, **kwargs) -> CostEvent:
    defaults = dict(provider="openai", model="gpt-4o-mini", tier=2, outcome="success", cost_usd=Decimal(amount))
    defaults.update(kwargs)
    created_at = timezone.now().replace(year=day.year, month=day.month, day=day.day, hour=12)
    return CostEvent.objects.create(tenant=tenant, created_at=created_at, **defaults)


def _in_thread(work: Callable[[], object], errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            work()
        except BaseException as error:  # reported to the test, which asserts there were none
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _wait_until_blocked(pid: list[int], thread: threading.Thread) -> None:
    """Until the backend ``pid`` waits for a lock (its own pid only: other databases share pg_locks)."""
    with connection.cursor() as cursor:
        for _ in range(200):
            if not thread.is_alive():
                raise AssertionError("the second rebuild ended without waiting for the first")
            if pid:
                cursor.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted", [pid[0]])
                if cursor.fetchone()[0]:
                    return
            time.sleep(0.05)
    raise AssertionError("the second rebuild never waited for the first")


@pytest.mark.django_db(transaction=True)
def test_cost_summaries_rebuild_of_one_day_twice_at_once_serialises(tenant, other_tenant):
    # given a day with spend, and a rebuild of it that has written its rows but not committed yet
    day = timezone.now().date() - timedelta(days=1)
    _spend(tenant, "0.10", day)
    _spend(other_tenant, "1.00", day, provider="anthropic", model="claude-sonnet-4-5", tier=3)
    written, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    second_pid: list[int] = []

    def first() -> None:
        with transaction.atomic():
            cost_summaries_rebuild(day=day, tenant=None)
            written.set()
            release.wait(10)

    def second() -> None:
        written.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            second_pid.append(cursor.fetchone()[0])
        cost_summaries_rebuild(day=day, tenant=None)

    # when a second run (another beat, a backlog run) rebuilds the same day on its own connection
    threads = [_in_thread(first, errors), _in_thread(second, errors)]
    try:
        _wait_until_blocked(second_pid, threads[1])
    finally:
        release.set()
        for thread in threads:
            thread.join(30)
    # then it waited for the first and rebuilt the day again, without an IntegrityError
    assert errors == []
    assert CostSummary.objects.for_tenant(tenant).get().cost_usd == Decimal("0.10")
    assert CostSummary.objects.for_tenant(other_tenant).get().cost_usd == Decimal("1.00")


def _summaries(tenant) -> dict[date, tuple[int, Decimal]]:
    return {row.day: (row.calls, row.cost_usd) for row in CostSummary.objects.for_tenant(tenant)}


def _summary(tenant, day: date, calls: int, cost: str) -> CostSummary:
    return CostSummary.objects.create(
        tenant=tenant, day=day, tier=2, provider="openai", model="gpt-4o-mini", calls=calls, cost_usd=Decimal(cost)
    )


@pytest.mark.django_db
def test_rollup_task_catches_up_on_days_missed_while_beat_was_down(tenant, other_tenant):
    # given summaries last built four days ago, part-way through that day, then beat was down
    today = timezone.now().date()
    days = [today - timedelta(days=n) for n in range(4, 0, -1)]
    _summary(tenant, days[0], 1, "0.10")
    for day in days:
        _spend(tenant, "0.10", day)
        _spend(tenant, "0.10", day)
    _spend(other_tenant, "1.00", days[1])
    # when the hourly task runs again
    rollup_costs()
    # then the part-built day and every missed day are built, for every tenant
    assert _summaries(tenant) == {day: (2, Decimal("0.20")) for day in days}
    assert _summaries(other_tenant) == {days[1]: (1, Decimal("1.00"))}


@pytest.mark.django_db
def test_rollup_task_catches_up_each_tenant_from_its_own_latest_summary(tenant, other_tenant):
    # given: Alpha was summarised up to two days ago (and has a stale row before that, left alone),
    # Bravo only up to six days ago, and a new tenant, never summarised, spent ten days ago
    today = timezone.now().date()
    ago = {n: today - timedelta(days=n) for n in range(11)}
    _summary(tenant, ago[5], 9, "9.00")
    _summary(tenant, ago[2], 1, "0.10")
    _summary(other_tenant, ago[6], 1, "1.00")
    for n in (5, 2, 1):
        _spend(tenant, "0.10", ago[n])
        _spend(tenant, "0.10", ago[n])
    for n in (6, 4, 3):
        _spend(other_tenant, "1.00", ago[n])
        _spend(other_tenant, "1.00", ago[n])
    newcomer = TenantFactory.create(name="Charlie Dental", slug="charlie")
    _spend(newcomer, "5.00", ago[10])
    _spend(newcomer, "5.00", ago[0])
    # when: the hourly task runs; the lagging tenants' days are found and built in a fixed number of queries
    with CaptureQueriesContext(connection) as queries:
        rollup_costs()
    # then: each tenant is caught up from its own latest summarised day (or first spend)
    assert _summaries(tenant) == {
        ago[5]: (9, Decimal("9.00")),  # before its latest summarised day: not rebuilt
        ago[2]: (2, Decimal("0.20")),
        ago[1]: (2, Decimal("0.20")),
    }
    assert _summaries(other_tenant) == {ago[n]: (2, Decimal("2.00")) for n in (6, 4, 3)}
    assert _summaries(newcomer) == {ago[10]: (1, Decimal("5.00")), ago[0]: (1, Decimal("5.00"))}
    # and the work does not grow with days or tenants: one more lagging tenant, as many queries
    laggard = TenantFactory.create(name="Delta Vet", slug="delta")
    _summary(laggard, ago[9], 1, "1.00")
    for n in (9, 8):
        _spend(laggard, "1.00", ago[n])
    with CaptureQueriesContext(connection) as again:
        rollup_costs()
    assert _summaries(laggard) == {ago[9]: (1, Decimal("1.00")), ago[8]: (1, Decimal("1.00"))}
    assert len(again) == len(queries)


@pytest.mark.django_db
def test_rollup_task_catches_up_at_most_the_bounded_number_of_days(tenant):
    today = timezone.now().date()
    oldest = today - timedelta(days=CATCH_UP_DAYS)
    _spend(tenant, "0.10", oldest)
    _spend(tenant, "0.10", oldest - timedelta(days=1))

    rollup_costs()

    assert _summaries(tenant) == {oldest: (1, Decimal("0.10"))}


@pytest.mark.django_db
def test_rollup_costs_command_rebuilds_one_day(tenant, other_tenant):
    day = timezone.now().date() - timedelta(days=10)
    _spend(tenant, "0.10", day)
    _spend(tenant, "0.10", day - timedelta(days=1))
    _spend(other_tenant, "1.00", day)

    call_command("rollup_costs", day=day.isoformat())

    assert _summaries(tenant) == {day: (1, Decimal("0.10"))}
    assert _summaries(other_tenant) == {day: (1, Decimal("1.00"))}


@pytest.mark.django_db
def test_rollup_costs_command_for_one_tenant_leaves_the_others_alone(tenant, other_tenant):
    # given stale summaries of both tenants for days with more spend since
    since = timezone.now().date() - timedelta(days=2)
    for t in (tenant, other_tenant):
        _summary(t, since, 1, "0.10")
        _spend(t, "0.10", since)
        _spend(t, "0.10", since)
        _spend(t, "0.10", since + timedelta(days=1))
    # when one tenant's days are rebuilt
    call_command("rollup_costs", "--since", since.isoformat(), "--tenant", tenant.slug)
    # then its summaries are right, and the other tenant's are untouched
    assert _summaries(tenant) == {since: (2, Decimal("0.20")), since + timedelta(days=1): (1, Decimal("0.10"))}
    assert _summaries(other_tenant) == {since: (1, Decimal("0.10"))}


@pytest.mark.django_db
def test_rollup_costs_command_catches_up_one_tenant_and_leaves_the_others_alone(tenant, other_tenant):
    # given: both tenants were last summarised five days ago, with spend every day since
    today = timezone.now().date()
    days = [today - timedelta(days=n) for n in range(5, 0, -1)]
    for t in (tenant, other_tenant):
        _summary(t, days[0], 1, "0.10")
        for day in days:
            _spend(t, "0.10", day)
    out = io.StringIO()
    # when: the default (hourly) catch-up runs for Alpha only
    call_command("rollup_costs", "--tenant", tenant.slug, stdout=out)
    # then: Alpha is caught up from its own latest day, Bravo is untouched
    assert _summaries(tenant) == {day: (1, Decimal("0.10")) for day in days}
    assert _summaries(other_tenant) == {days[0]: (1, Decimal("0.10"))}
    assert f"Caught up tenant alpha from {days[0]} (1 tenant(s) behind yesterday): 5 summary rows." in out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--day", "2026-02-30"], "--day must be a date as YYYY-MM-DD; got '2026-02-30'"),
        (["--since", "yesterday"], "--since must be a date as YYYY-MM-DD; got 'yesterday'"),
        (["--day", "2999-01-01"], "--day 2999-01-01 is in the future"),
        (["--since", "2999-01-01"], "--since 2999-01-01 is in the future"),
        (["--since", "1999-01-01"], "--since 1999-01-01 is more than 366 days ago; rebuild older days one --day"),
        (["--tenant", "no-such-tenant"], "No tenant with slug 'no-such-tenant'"),
        (["--day", "2026-01-01", "--since", "2026-01-01"], "not allowed with argument"),
    ],
)
def test_rollup_costs_command_rejects_bad_input_clearly(tenant, args, message):
    _spend(tenant, "0.10", timezone.now().date())

    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("rollup_costs", *args)

    assert not CostSummary.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("bad", "rollup_costs: day must be a date as YYYY-MM-DD; got 'bad'"),
        ("2026-02-30", "rollup_costs: day must be a date as YYYY-MM-DD; got '2026-02-30'"),
        (20260101, "rollup_costs: day must be a date as YYYY-MM-DD; got 20260101"),
        ("2999-01-01", "rollup_costs: day 2999-01-01 is in the future"),
    ],
)
def test_rollup_costs_task_refuses_a_bad_day_with_a_clear_error(tenant, day, message):
    # given yesterday's spend
    _spend(tenant, "0.10", timezone.now().date() - timedelta(days=1))

    # when the task is sent a day that is no date (or not yet one), as a worker runs it
    result = rollup_costs.apply(kwargs={"day": day}, throw=False)

    # then it fails with one plain line naming the argument, and summarises nothing
    assert result.failed()
    assert isinstance(result.result, RollupDayError)
    assert str(result.result).startswith(message)
    assert not CostSummary.objects.exists()
