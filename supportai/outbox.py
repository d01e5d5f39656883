"""Shared rules of the apps that keep one row per outgoing message and retry it until it is sent or
fails for good (escalation notifications, booking emails).

Such a row has ``next_attempt_at`` (when its task is due) and ``leased_until`` (set while a worker
sends it, so another copy of the task leaves it alone). Each app keeps its own statuses and sending;
what they share is how long to wait between attempts and which rows a sweeper picks up.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypeVar

from django.db.models import Model, Q, QuerySet

RowT = TypeVar("RowT", bound=Model)


def backoff_seconds(attempt: int) -> int:
    """Wait after failed attempt number ``attempt``: 30 s, 60 s, 120 s, 240 s … capped at 15 minutes."""
    return int(min(30 * 2 ** (attempt - 1), 900))


def overdue_unleased(rows: QuerySet[RowT], *, now: datetime, overdue_by: timedelta) -> QuerySet[RowT]:
    """The rows whose next attempt is overdue by ``overdue_by`` and that no worker is sending: never
    picked up (broker down at commit time) or their scheduled attempt lost (a worker killed). Rows
    still waiting for their time are left to their own task; the caller narrows to its retryable
    statuses."""
    return rows.filter(
        Q(leased_until__isnull=True) | Q(leased_until__lt=now),
        next_attempt_at__lt=now - overdue_by,
    )
