"""Booking emails: which ones exist, and queueing them for Celery once the transaction commits."""

from __future__ import annotations

from functools import partial

from django.db import transaction

from bookings.models import Booking

CONFIRMATION = "confirmation"
TENANT_NEW_BOOKING = "tenant_new_booking"
CANCELLATION = "cancellation"
RESCHEDULE = "reschedule"
PAYMENT_RECEIVED = "payment_received"
PAYMENT_REFUND_DUE = "payment_refund_due"  # paid, but the booking could not be kept
KINDS = frozenset({CONFIRMATION, TENANT_NEW_BOOKING, CANCELLATION, RESCHEDULE, PAYMENT_RECEIVED, PAYMENT_REFUND_DUE})


def notify(booking: Booking, kind: str) -> None:
    """Send ``kind`` for ``booking`` after the surrounding transaction commits (never on rollback)."""
    if kind not in KINDS:
        raise ValueError(f"unknown booking email {kind!r}")
    from bookings.tasks import send_booking_email

    transaction.on_commit(partial(send_booking_email.delay, booking.pk, kind))
