"""Booking emails: which ones exist, and queueing them for Celery once the transaction commits."""

from __future__ import annotations

import logging
from functools import partial

from django.db import transaction

from bookings.models import Booking

logger = logging.getLogger(__name__)

CONFIRMATION = "confirmation"
TENANT_NEW_BOOKING = "tenant_new_booking"
CANCELLATION = "cancellation"
RESCHEDULE = "reschedule"
PAYMENT_RECEIVED = "payment_received"
PAYMENT_REFUND_DUE = "payment_refund_due"  # paid, but the booking could not be kept
KINDS = frozenset({CONFIRMATION, TENANT_NEW_BOOKING, CANCELLATION, RESCHEDULE, PAYMENT_RECEIVED, PAYMENT_REFUND_DUE})


def enqueue_email(booking_id: int, code: str, kind: str) -> None:
    """Queue one email; a failure is logged and never reaches the request nor the emails queued after it.

    The broker being down makes ``delay`` raise; in eager mode (no broker) the send itself runs here
    and an unreachable mail server raises too. No record is kept: such an email is lost (see README).
    """
    from bookings.tasks import send_booking_email

    try:
        send_booking_email.delay(booking_id, kind)
    except Exception:
        logger.exception("booking %s: the %s email could not be queued or sent; it is not retried", code, kind)


def notify(booking: Booking, kind: str) -> None:
    """Send ``kind`` for ``booking`` after the surrounding transaction commits (never on rollback)."""
    if kind not in KINDS:
        raise ValueError(f"unknown booking email {kind!r}")
    transaction.on_commit(partial(enqueue_email, booking.pk, booking.confirmation_code, kind), robust=True)
