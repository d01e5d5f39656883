"""Daily cost rollups: concurrent rebuilds of one day serialise on their own connections."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from routing.models import CostEvent, CostSummary
from routing.rollups import cost_summaries_rebuild


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
            cost_summaries_rebuild(day=day)
            written.set()
            release.wait(10)

    def second() -> None:
        written.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            second_pid.append(cursor.fetchone()[0])
        cost_summaries_rebuild(day=day)

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
