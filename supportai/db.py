"""Database work from async code (consumers, the chat engine, the router).

Channels' default runs every ORM call on one shared thread. Under load that single thread becomes
the queue every chat turn waits in, with one database round trip at a time. Our services are
self-contained (each opens its own transaction), so they run on a small pool instead: each pool
thread keeps its own persistent connection (``DB_CONN_MAX_AGE``), PostgreSQL commits them in
parallel, and Django's connection bookkeeping (``close_old_connections``) runs around every call.

Health checks (``CONN_HEALTH_CHECKS``) would add a ``SELECT 1`` round trip to every call, because
Django treats each call as a new request. Like HikariCP's alive-bypass window, a pool thread skips
that check when its connection finished a call without errors less than ``DB_HEALTH_CHECK_BYPASS_MS``
ago: a connection that just worked is the best health check there is. An idle connection is still
checked before it is trusted again; one that died inside the window fails a single call, and the
error makes Django replace it before the next.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import SyncToAsync
from django.conf import settings
from django.db import close_old_connections, connections

P = ParamSpec("P")
R = TypeVar("R")

DB_EXECUTOR = ThreadPoolExecutor(max_workers=settings.DB_ASYNC_THREADS, thread_name_prefix="db")
_last_success = threading.local()  # alias -> monotonic time of the last error-free call, per thread


def _reuse_connections() -> None:
    close_old_connections()  # drops broken, errored or expired connections, re-arms health checks
    bypass = settings.DB_HEALTH_CHECK_BYPASS_MS / 1000
    now = time.monotonic()
    for connection in connections.all(initialized_only=True):
        used = getattr(_last_success, connection.alias, None)
        if connection.connection is not None and used is not None and now - used < bypass:
            connection.health_check_done = True  # type: ignore[attr-defined]  # not in django-stubs


def _release_connections() -> None:
    close_old_connections()
    now = time.monotonic()
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None and not connection.errors_occurred:
            setattr(_last_success, connection.alias, now)


@contextmanager
def _pooled_connections() -> Iterator[None]:
    _reuse_connections()
    try:
        yield
    finally:
        _release_connections()


class PoolSyncToAsync(SyncToAsync):
    """``SyncToAsync`` on the database pool with connection bookkeeping around each call."""

    def thread_handler(self, loop: Any, *args: Any, **kwargs: Any) -> Any:
        with _pooled_connections():
            return super().thread_handler(loop, *args, **kwargs)


def db_call(function: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]:
    """``function`` as an awaitable that runs on the database pool (see module doc)."""
    return PoolSyncToAsync(function, thread_sensitive=False, executor=DB_EXECUTOR)


def db_submit(function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> Future[R]:
    """``function(*args, **kwargs)`` on the database pool, with the same bookkeeping, for code that is
    not async and must not block (daphne's reactor thread): the caller is handed its future."""

    def pooled() -> R:
        with _pooled_connections():
            return function(*args, **kwargs)

    return DB_EXECUTOR.submit(pooled)
