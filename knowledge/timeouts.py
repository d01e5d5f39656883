"""Time limits on the retrieval statements a chat turn waits for.

A search held up by a lock or a bloated table must not hold a turn, and a database backend, for
minutes. Each bounded block runs in a transaction of its own (a savepoint inside the caller's) that
starts with ``set_config(..., true)``, i.e. ``SET LOCAL``: the limit covers each statement of the
block on whichever connection runs it (the caller's, or the keyword worker's persistent one) and
nothing is ever set on a session. The blocks only read, so they end with a rollback: a released
savepoint would keep its local settings for the rest of the caller's transaction, a rolled-back one
undoes them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from django.db import OperationalError, connection, transaction
from django.db.backends.utils import CursorWrapper
from psycopg.errors import QueryCanceled

RETRIEVAL_TIMED_OUT = "The knowledge search took too long and was stopped; try again in a moment"


class RetrievalTimedOut(Exception):
    """A retrieval statement was cancelled (``statement_timeout``, SQLSTATE 57014)."""


@contextmanager
def bounded(timeout_ms: int, settings: Mapping[str, str] | None = None) -> Iterator[CursorWrapper]:
    """A cursor whose statements are cancelled after ``timeout_ms`` each (0: no limit), in a
    transaction holding the local ``settings``; without either, the plain cursor. A cancelled
    statement raises ``RetrievalTimedOut`` once the block has been rolled back."""
    local = {**(settings or {}), **({"statement_timeout": f"{timeout_ms}ms"} if timeout_ms else {})}
    try:
        if not local:
            with connection.cursor() as cursor:
                yield cursor
            return
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT " + ", ".join("set_config(%s, %s, true)" for _ in local),
                [part for setting in local.items() for part in setting],
            )
            yield cursor
            transaction.set_rollback(True)
    except OperationalError as exc:
        if isinstance(exc.__cause__, QueryCanceled):
            raise RetrievalTimedOut(str(exc.__cause__).strip()) from exc
        raise
