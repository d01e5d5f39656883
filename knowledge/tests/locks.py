"""A table locked by another connection, as a migration or a ``VACUUM FULL`` holds it: every
statement that reads it waits (tests that use it commit their rows: ``django_db(transaction=True)``,
or the test's own transaction would already hold the table and jump the queue)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection, transaction

from knowledge import conf, retrieval


@contextmanager
def table_locked(table: str) -> Iterator[None]:
    """``table`` held in ACCESS EXCLUSIVE mode by a second connection until the block ends."""
    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
                held.set()
                done.wait(60)
        finally:
            connection.close()  # the thread's own connection, before the test database goes away

    thread = threading.Thread(target=hold, name=f"lock-{table}")
    thread.start()
    try:
        assert held.wait(10), f"{table} could not be locked"
        yield
    finally:
        done.set()
        thread.join()


@contextmanager
def keyword_worker_timed_out(monkeypatch: pytest.MonkeyPatch, *, timeout_ms: int = 300) -> Iterator[None]:
    """Hybrid search's BM25 side on the keyword worker's own connection, as in production (never
    against a test database otherwise), cancelled by serving's statement timeout because
    ``knowledge_posting`` is locked: its failure is collected after dense's. The worker's connection
    is closed when the block ends, before the test database goes away."""
    monkeypatch.setattr(retrieval, "_can_search_in_parallel", lambda: True)
    monkeypatch.setattr(conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, retrieval_timeout_ms=timeout_ms))
    try:
        with table_locked("knowledge_posting"):
            yield
    finally:
        retrieval.close_search_connection()
