"""The bookkeeping every outbox row shares: when an attempt may lease it, and what leasing does."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from bookings.models import BookingEmail
from escalations.models import NotificationDelivery
from supportai.outbox import LEASE, SCHEDULE_SLACK, OutboxRow


def test_outbox_row_is_the_base_of_booking_emails_and_notification_deliveries() -> None:
    assert issubclass(BookingEmail, OutboxRow) and issubclass(NotificationDelivery, OutboxRow)


def test_outbox_row_leased_only_until_its_lease_runs_out() -> None:
    # given
    now = timezone.now()
    row = BookingEmail(leased_until=now + timedelta(seconds=1))
    # then
    assert row.leased_at(now)
    assert not row.leased_at(now + timedelta(seconds=1))
    assert not BookingEmail(leased_until=None).leased_at(now)


def test_outbox_row_early_only_beyond_the_schedule_slack() -> None:
    now = timezone.now()
    assert not NotificationDelivery(next_attempt_at=now + SCHEDULE_SLACK).early_at(now)
    assert NotificationDelivery(next_attempt_at=now + SCHEDULE_SLACK + timedelta(seconds=1)).early_at(now)


def test_outbox_row_start_attempt_counts_it_and_leases_the_row() -> None:
    # given
    now = timezone.now()
    row = BookingEmail(attempts=2)
    # when
    row.start_attempt(now)
    # then
    assert row.attempts == 3 and row.leased_until == now + LEASE
