"""Database work from async code (consumers, the chat engine, the router).

Channels' default runs every ORM call on one shared thread. Under load that single thread becomes
the queue every chat turn waits in, with one database round trip at a time. Our services are
self-contained (each opens its own transaction), so they run on a small pool instead: each pool
thread keeps its own persistent connection (``DB_CONN_MAX_AGE``), PostgreSQL commits them in
parallel, and Channels' ``close_old_connections`` bookkeeping still runs around every call.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from channels.db import database_sync_to_async
from django.conf import settings

P = ParamSpec("P")
R = TypeVar("R")

DB_EXECUTOR = ThreadPoolExecutor(max_workers=settings.DB_ASYNC_THREADS, thread_name_prefix="db")


def db_call(function: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]:
    """``function`` as an awaitable that runs on the database pool (see module doc)."""
    return database_sync_to_async(function, thread_sensitive=False, executor=DB_EXECUTOR)
