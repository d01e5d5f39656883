"""The database pool for async code: persistent connections, health checks only when they matter."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import OperationalError, connection, connections
from django.db.backends.postgresql.base import DatabaseWrapper

from supportai import db
from supportai.db import db_call, db_submit

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def one_thread_pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """One pool thread with a persistent connection, so consecutive calls share it."""
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-db")
    monkeypatch.setattr(db, "DB_EXECUTOR", executor)
    yield
    executor.submit(connections.close_all).result()
    executor.shutdown()


@pytest.fixture
def health_checks(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The result of every health check Django runs (the real check, only counted)."""
    results: list[bool] = []
    real_check = DatabaseWrapper.is_usable

    def counted(self: DatabaseWrapper) -> bool:
        results.append(real_check(self))
        return results[-1]

    monkeypatch.setattr(DatabaseWrapper, "is_usable", counted)
    return results


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def terminate(pid: int) -> None:
    """Drop a backend from another connection, as a server restart or a proxy timeout would."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


async def test_db_call_reuses_a_connection_that_just_worked_without_a_health_check(
    one_thread_pool: None, health_checks: list[bool], settings: Any
) -> None:
    settings.DB_HEALTH_CHECK_BYPASS_MS = 60_000

    pids = [await db_call(backend_pid)() for _ in range(3)]

    assert len(set(pids)) == 1
    assert health_checks == []


async def test_db_call_checks_health_when_the_connection_was_idle_past_the_window(
    one_thread_pool: None, health_checks: list[bool], settings: Any
) -> None:
    settings.DB_HEALTH_CHECK_BYPASS_MS = 0

    pids = [await db_call(backend_pid)() for _ in range(3)]

    assert len(set(pids)) == 1
    assert health_checks == [True, True]


async def test_db_call_replaces_a_connection_that_died_while_idle(
    one_thread_pool: None, health_checks: list[bool], settings: Any
) -> None:
    # given a pooled connection the server has since dropped
    settings.DB_HEALTH_CHECK_BYPASS_MS = 0
    first = await db_call(backend_pid)()
    await sync_to_async(terminate)(first)

    # when the next call comes after the bypass window
    second = await db_call(backend_pid)()

    # then the health check caught it and the call ran on a new connection
    assert health_checks == [False]
    assert second != first


async def test_db_call_within_the_window_fails_once_then_reconnects(one_thread_pool: None, settings: Any) -> None:
    # given a connection that worked a moment ago and was dropped by the server since
    settings.DB_HEALTH_CHECK_BYPASS_MS = 60_000
    first = await db_call(backend_pid)()
    await sync_to_async(terminate)(first)

    # when two more calls come inside the bypass window
    with pytest.raises(OperationalError):
        await db_call(backend_pid)()
    second = await db_call(backend_pid)()

    # then only the first of them paid for the trust: the errored connection was not reused
    assert second != first


def backend_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return bool(cursor.fetchone()[0])


async def test_db_submit_runs_on_the_pool_and_keeps_its_connection(
    one_thread_pool: None, health_checks: list[bool], settings: Any
) -> None:
    settings.DB_HEALTH_CHECK_BYPASS_MS = 60_000

    pids = [await asyncio.wrap_future(db_submit(backend_pid)) for _ in range(3)]

    assert len(set(pids)) == 1
    assert health_checks == []


async def test_db_submit_closes_a_connection_past_its_age(
    one_thread_pool: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given connections that may not outlive a call (CONN_MAX_AGE 0)
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)

    # when a call has run
    pid = await asyncio.wrap_future(db_submit(backend_pid))

    # then the pool thread's connection is closed: the server has no such backend any more
    assert not await sync_to_async(backend_alive)(pid)
