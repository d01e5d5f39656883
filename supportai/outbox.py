"""Shared rules of the apps that keep one row per outgoing message and retry it until it is sent or
fails for good (escalation notifications, booking emails).

Such a row is an ``OutboxRow``: ``next_attempt_at`` (when its task is due) and ``leased_until`` (set
while a worker sends it, so another copy of the task leaves it alone). Each app keeps its own
statuses, attempt limit and sending; what they share is the row's bookkeeping, how an attempt leases
it, how long to wait between attempts and which rows a sweeper picks up.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypeVar

from django.db import models
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

RowT = TypeVar("RowT", bound=Model)
# How long one attempt may take before another copy of the task may make it again (sends time out
# after 10 s; a worker killed mid-send leaves the lease to run out).
LEASE = timedelta(minutes=5)
# How early a copy of the task may run and still attempt (clocks and broker timers are not exact).
SCHEDULE_SLACK = timedelta(seconds=5)


class OutboxRow(models.Model):
    """The bookkeeping of one outgoing message retried until it is sent or fails for good."""

    attempts = models.PositiveSmallIntegerField(default=0)
    # When the next attempt is due (its task scheduled then); the sweeper re-enqueues rows long overdue.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # Set while an attempt is sending: other copies of the task leave the row alone until then.
    leased_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        abstract = True

    def leased_at(self, now: datetime) -> bool:
        """Whether another attempt is sending it at ``now`` (its lease not run out)."""
        return self.leased_until is not None and self.leased_until > now

    def early_at(self, now: datetime) -> bool:
        """Whether an attempt at ``now`` comes too early: its task is scheduled for later."""
        return self.next_attempt_at > now + SCHEDULE_SLACK

    def start_attempt(self, now: datetime) -> None:
        """Count one more attempt and lease the row to it (the caller saves, under the row's lock)."""
        self.attempts += 1
        self.leased_until = now + LEASE


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
