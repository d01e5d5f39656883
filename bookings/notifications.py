"""Booking emails: which ones exist, recording them with the booking change that causes them, and
queueing their task (once that change commits; again from the sweeper or a staff retry).

An email is a ``BookingEmail`` row written in the caller's transaction, so a booking change and its
emails commit together; ``bookings.delivery`` sends it. A task that cannot be queued (broker down)
leaves the row pending, and the sweeper (beat, ``bookings.sweep_emails``) queues it again later.
An email is sent only while it still applies to the booking as it is then (``still_applies``); one
the booking has outdated is SUPERSEDED instead, never sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from bookings.models import STAFF_EMAIL_KINDS, Booking, BookingEmail, BookingStatus, EmailKind, EmailStatus
from supportai.models import Tenant
from supportai.outbox import overdue_unleased
from supportai.transactions import on_commit_robust

logger = logging.getLogger(__name__)

CONFIRMATION = EmailKind.CONFIRMATION
TENANT_NEW_BOOKING = EmailKind.TENANT_NEW_BOOKING
CANCELLATION = EmailKind.CANCELLATION
RESCHEDULE = EmailKind.RESCHEDULE
PAYMENT_RECEIVED = EmailKind.PAYMENT_RECEIVED
PAYMENT_REFUND_DUE = EmailKind.PAYMENT_REFUND_DUE  # paid, but the booking could not be kept
TENANT_REFUND_DUE = EmailKind.TENANT_REFUND_DUE  # to staff: a refund to make
PAYMENT_REFUNDED = EmailKind.PAYMENT_REFUNDED  # the refund is made (from the console, or seen by the webhook)
KINDS = frozenset(EmailKind.values)
# How long past its due time a pending email waits before the sweeper queues it again: its own task
# (queued at commit, or scheduled for its retry) normally takes it well before.
STUCK_AFTER = timedelta(minutes=5)
SWEEP_BATCH = 500
NOT_RETRYABLE = "Only a failed email can be sent again."
SUPERSEDED_NOT_RETRYABLE = "This email is not sent again: the booking changed since, so it no longer applies."

# When each email still says something true of the booking, checked as it is about to be sent.
APPLIES_WHILE: dict[str, Callable[[Booking], bool]] = {
    CONFIRMATION: lambda booking: booking.status == BookingStatus.CONFIRMED,
    TENANT_NEW_BOOKING: lambda booking: booking.status == BookingStatus.CONFIRMED,
    CANCELLATION: lambda booking: booking.status == BookingStatus.CANCELED,
    RESCHEDULE: lambda booking: booking.is_active,
    PAYMENT_RECEIVED: lambda booking: booking.paid_at is not None,
    PAYMENT_REFUND_DUE: lambda booking: booking.status == BookingStatus.CANCELED,
    TENANT_REFUND_DUE: lambda booking: booking.refund_due,
    PAYMENT_REFUNDED: lambda booking: booking.refunded_cents > 0,
}
# Emails that tell the customer how the booking stands, each with the later emails to the customer that
# tell it anew and so replace it: a confirmation or a new time (its time, its .ics) by any later one about
# the booking (moved again, canceled) but "was refunded" and "payment received", which say nothing of a
# new time (a payment recorded at the desk leaves the confirmation to go out); what was refunded so far
# by a later "was refunded" only.
_TELLS_THE_TIME = frozenset(KINDS - STAFF_EMAIL_KINDS - {PAYMENT_REFUNDED, PAYMENT_RECEIVED})
REPLACED_BY_LATER: dict[str, frozenset[str]] = {
    CONFIRMATION: _TELLS_THE_TIME,
    RESCHEDULE: _TELLS_THE_TIME,
    PAYMENT_REFUNDED: frozenset({PAYMENT_REFUNDED}),
}


class EmailRetryError(Exception):
    pass


def enqueue_email(email_id: int, *, countdown: int = 0) -> None:
    """Queue the email's task (in ``countdown`` seconds); a failure is logged and never reaches the caller.

    The broker being down makes ``apply_async`` raise: the row stays pending for the sweeper. Without a
    broker (eager mode) the attempt runs here; its outcome is recorded on the row either way.
    """
    from bookings.tasks import deliver_email

    try:
        deliver_email.apply_async((email_id,), countdown=countdown)
    except Exception:
        logger.warning("booking email %s could not be queued; the sweeper queues it again", email_id, exc_info=True)


def notify(booking: Booking, kind: str) -> BookingEmail:
    """Record ``kind`` for ``booking`` in the caller's transaction; it is queued once that commits
    (never on rollback)."""
    if kind not in KINDS:
        raise ValueError(f"unknown booking email {kind!r}")
    email = BookingEmail.objects.create(tenant_id=booking.tenant_id, booking=booking, kind=kind)
    on_commit_robust(enqueue_email, email.pk)
    return email


def notify_legacy(booking_id: object, kind: object) -> BookingEmail | None:
    """The email a message of the task's old name asked for (``tasks.send_booking_email``, queued by
    the previous release during a rolling deploy; goes with it): recorded as ``notify`` does, so the
    outbox sends it (or supersedes it if the booking changed since). A message naming no booking or
    no email kind of ours logs one WARNING naming the booking and records nothing."""
    booking = Booking.objects.filter(pk=booking_id).first() if type(booking_id) is int else None
    if booking is None or not isinstance(kind, str) or kind not in KINDS:
        logger.warning(
            "booking %r: a %r email queued under the old task name is dropped: no such booking or email kind",
            booking_id,
            kind,
        )
        return None
    with transaction.atomic():
        return notify(booking, kind)


def emails_requeue_overdue() -> int:
    """Queue again the pending emails overdue by ``STUCK_AFTER`` that no worker is sending: never
    queued (broker down at commit time) or their scheduled retry lost (a worker killed)."""
    pending = BookingEmail.objects.filter(status=EmailStatus.PENDING)
    overdue = overdue_unleased(pending, now=timezone.now(), overdue_by=STUCK_AFTER).order_by("next_attempt_at")
    email_ids = list(overdue.values_list("pk", flat=True)[:SWEEP_BATCH])
    for email_id in email_ids:
        enqueue_email(email_id)
    return len(email_ids)


def still_applies(email: BookingEmail) -> bool:
    """Whether ``email`` still applies to its booking (loaded fresh by the caller): the booking is in
    a state the email describes and no later email telling the customer the same anew
    (``REPLACED_BY_LATER``) has replaced it."""
    if not APPLIES_WHILE[email.kind](email.booking):
        return False
    replacing = REPLACED_BY_LATER.get(email.kind)
    if replacing is None:
        return True
    later = BookingEmail.objects.filter(tenant_id=email.tenant_id, booking_id=email.booking_id, pk__gt=email.pk)
    return not later.filter(kind__in=replacing).exists()


def held_until(email: BookingEmail, now: datetime) -> datetime | None:
    """Until when ``email`` (its booking fresh), which still applies, must wait before it is sent: the
    staff's refund-due notice while a console refund of its booking is asked of Stripe
    (``refunds_in_flight``), whose answer may make it untrue. None: it may go now."""
    if email.kind != TENANT_REFUND_DUE:
        return None
    return email.booking.refund_in_flight_until(now)


def supersede_if_stale(email: BookingEmail) -> bool:
    """Mark ``email`` (its row locked, its booking fresh) SUPERSEDED if it no longer applies; True if so.
    Its status leaves PENDING under the lock, so no other copy of its task sends it either."""
    if still_applies(email):
        return False
    email.status = EmailStatus.SUPERSEDED
    email.leased_until = None
    email.save(update_fields=["status", "leased_until"])
    code = email.booking.confirmation_code
    logger.info("booking %s: the %s email is not sent: the booking changed since", code, email.kind)
    return True


def booking_email_retry(*, tenant: Tenant, email: BookingEmail) -> BookingEmail:
    """Send a failed email again (staff): a fresh run of attempts, queued once this commits. One the
    booking has outdated since is SUPERSEDED instead and refused, as is one already superseded."""
    with transaction.atomic():
        email = (
            BookingEmail.objects.for_tenant(tenant)
            .select_for_update(of=("self",))
            .select_related("booking")
            .get(pk=email.pk)
        )
        refusal = _retry_refusal(email)
        if refusal is None:
            _restart(email)
    if refusal is not None:
        raise EmailRetryError(refusal)
    return email


def _retry_refusal(email: BookingEmail) -> str | None:
    if email.status == EmailStatus.SUPERSEDED:
        return SUPERSEDED_NOT_RETRYABLE
    if email.status != EmailStatus.FAILED:
        return NOT_RETRYABLE
    if supersede_if_stale(email):  # recorded even though the retry is refused
        return SUPERSEDED_NOT_RETRYABLE
    return None


def _restart(email: BookingEmail) -> None:
    email.status = EmailStatus.PENDING
    email.attempts = 0
    email.next_attempt_at = timezone.now()
    email.failure = email.last_error = ""
    email.save(update_fields=["status", "attempts", "next_attempt_at", "failure", "last_error"])
    on_commit_robust(enqueue_email, email.pk)
