"""Work on another thread, on its own database connection, for tests of two transactions at once: start it at a
chosen point of this thread's transaction, then let this one go on once the other finished or waits for a lock
this one holds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connection


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid: int = cursor.fetchone()[0]
    return pid


def _waits_on_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row is not None and row[0] == "Lock"


def in_thread(work: Callable[[], Any]) -> tuple[threading.Thread, list[Any], list[int]]:
    """Run ``work`` on its own thread (its own connection); the thread reports its backend pid first."""
    results: list[Any] = []
    pids: list[int] = []

    def run() -> None:
        try:
            pids.append(_backend_pid())
            results.append(work())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, results, pids


def until_done_or_waiting(thread: threading.Thread, pids: list[int]) -> None:
    """Wait until the thread finished, or is blocked on a row lock this connection holds."""
    deadline = time.monotonic() + 20
    while thread.is_alive() and time.monotonic() < deadline:
        if pids and _waits_on_a_lock(pids[0]):
            return
        time.sleep(0.01)
    assert not thread.is_alive(), "the other thread neither finished nor waited for a lock"


def committed_elsewhere(work: Callable[[], Any]) -> Any:
    """Run ``work`` on its own thread and connection and wait until it returned (committed); returns its result."""
    thread, results, _ = in_thread(work)
    thread.join(20)
    assert not thread.is_alive() and len(results) == 1, "the other thread did not finish its work"
    return results[0]
