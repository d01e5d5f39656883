"""A console refund in flight: marked on the booking while it is being asked of Stripe.

Between staff clicking Refund and Stripe's answer the booking still owes its refund, so the staff's
refund-due notice would still apply: one whose attempt falls in that window (its retry due, the
sweeper) would tell staff to refund a payment they are refunding. ``refund_requested`` marks the
booking (``Booking.refund_requested_at``, committed before Stripe is asked, so every worker sees it)
and ``notifications.held_until`` holds the notice back until the mark ends. When the request ends the
mark is cleared and the notices it held are queued at once: superseded if the refund was made, sent if
it was not. A mark whose request never ended (its worker killed) holds them back no longer than
``REFUND_IN_FLIGHT``, when their own task sends them.

One request at a time: a console refund of a booking whose mark is live (a double click, a second tab)
raises ``RefundInFlight`` and asks Stripe nothing, so no request ends the mark of one still with Stripe.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from bookings import notifications
from bookings.models import REFUND_IN_FLIGHT, Booking, BookingEmail, EmailStatus
from supportai.transactions import on_commit_robust


class RefundInFlight(Exception):
    """Another console refund of the booking is being asked of Stripe: its mark is live."""


@contextmanager
def refund_requested(booking: Booking) -> Iterator[None]:
    """Mark ``booking``'s refund in flight for the block, then end the mark and the notices it held. Raises
    ``RefundInFlight`` before the block when another request's mark is live (one left by a request that never
    ended is taken over once ``REFUND_IN_FLIGHT`` has passed). The mark is its own write, taken in one
    conditional update (two requests at once: one gets it) and committed at once where no transaction is open
    (the console's request): a notice's task reads it from another connection."""
    started = timezone.now()
    free = Q(refund_requested_at__isnull=True) | Q(refund_requested_at__lte=started - REFUND_IN_FLIGHT)
    if not Booking.objects.filter(free, pk=booking.pk).update(refund_requested_at=started):
        raise RefundInFlight(booking.pk)
    try:
        yield
    finally:
        _end(booking, started)


def _end(booking: Booking, started: datetime) -> None:
    """Clear the mark, then queue the notices it held: locked first, so one an attempt is holding back as the
    mark is cleared (its row locked, the mark read) is found once that attempt commits its hold."""
    with transaction.atomic():
        Booking.objects.filter(pk=booking.pk, refund_requested_at=started).update(refund_requested_at=None)
        pending = BookingEmail.objects.select_for_update().filter(
            booking_id=booking.pk, kind=notifications.TENANT_REFUND_DUE, status=EmailStatus.PENDING
        )
        email_ids = [email.pk for email in pending if email.next_attempt_at == started + REFUND_IN_FLIGHT]
        BookingEmail.objects.filter(pk__in=email_ids).update(next_attempt_at=timezone.now())
        for email_id in email_ids:
            on_commit_robust(notifications.enqueue_email, email_id)
