"""Core tasks. ``ping`` proves a worker consumes from the broker (used by health tests and ops)."""

from __future__ import annotations

from celery import shared_task
from django.db import connection


@shared_task(name="supportai.ping")
def ping() -> dict[str, object]:
    """Round-trips through the broker and the database; returns what the worker saw."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (one,) = cursor.fetchone() or (0,)
    return {"pong": True, "database": one == 1}
