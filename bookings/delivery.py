"""Sending one ``BookingEmail``: lease the row, send, record the outcome on it.

An attempt leases the row under its lock before sending, so a copy of the task that runs meanwhile
(a redelivered message, a sweep) leaves it alone instead of sending twice. A transient failure (the
mail server unreachable or refusing) schedules the next attempt with backoff; after
``MAX_ATTEMPTS`` the email is FAILED, logged at ERROR and shown on the console for staff to retry. One
with no address to go to (the tenant has none on file) fails at once, shown there too, and is logged
as a warning once an hour per tenant (``supportai.config_warnings``): the tenant's state, not an error.
A send that succeeded but whose outcome could not be recorded is sent again once its lease runs
out: at least once, never silently lost. An email the booking has outdated since it was recorded (a
confirmation of a booking canceled meanwhile, a new time moved again) is superseded under the same
lock instead of sent (``notifications.still_applies``).
"""

from __future__ import annotations

import logging
import math
from datetime import timedelta
from smtplib import SMTPException

from django.db import transaction
from django.utils import timezone

from bookings.emails import build_message
from bookings.models import Booking, BookingEmail, EmailFailure, EmailStatus
from bookings.notifications import held_until, supersede_if_stale
from supportai.config_warnings import warn_hourly
from supportai.outbox import backoff_seconds

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


class AttemptFailed(Exception):
    def __init__(self, failure: EmailFailure, detail: str, *, retryable: bool) -> None:
        super().__init__(detail)
        self.failure = failure
        self.retryable = retryable


def deliver_email(email_id: int) -> int | None:
    """One attempt. Returns the seconds until the next attempt when a retry is due, else None.

    A copy that runs before the row's next attempt is due makes no attempt: the task scheduled for
    then (or the sweeper) makes it. One the booking holds back for now (``notifications.held_until``)
    makes none either: it is due again then (not counted an attempt), and its seconds are returned.
    """
    email = _lease(email_id)
    if not isinstance(email, BookingEmail):
        return email
    try:
        _send(email)
    except AttemptFailed as exc:
        return _record_failure(email, exc)
    now = timezone.now()
    BookingEmail.objects.filter(pk=email.pk).update(
        status=EmailStatus.SENT, sent_at=now, leased_until=None, failure="", last_error=""
    )
    return None


def _lease(email_id: int) -> BookingEmail | int | None:
    """The row, leased for one attempt (counted); None when this copy must not attempt; the seconds to
    wait when the booking holds it back (its next attempt moved to then)."""
    with transaction.atomic():
        email = BookingEmail.objects.select_for_update().filter(pk=email_id).first()
        if email is None or email.status != EmailStatus.PENDING:
            return None
        now = timezone.now()
        if email.leased_at(now):
            logger.info("booking email %s is being sent by another worker", email_id)
            return None
        if email.early_at(now):
            return None
        email.booking = Booking.objects.select_related("service", "tenant").get(
            pk=email.booking_id, tenant_id=email.tenant_id
        )
        if supersede_if_stale(email):
            return None
        held = held_until(email, now)
        if held is not None:
            email.next_attempt_at = held
            email.save(update_fields=["next_attempt_at"])
            logger.info("booking email %s waits for the refund asked of Stripe, until %s", email_id, held)
            return math.ceil((held - now).total_seconds())
        if email.attempts >= MAX_ATTEMPTS:  # the last attempt was cut short (its worker killed)
            _give_up(email)
            return None
        email.start_attempt(now)
        email.save(update_fields=["attempts", "leased_until"])
        return email


def _give_up(email: BookingEmail) -> None:
    email.status = EmailStatus.FAILED
    email.failure = email.failure or EmailFailure.ERROR
    email.last_error = f"the last attempt was interrupted; {email.last_error}".rstrip("; ")
    email.leased_until = None
    email.save(update_fields=["status", "failure", "last_error", "leased_until"])
    logger.error("booking %s: the %s email failed: out of attempts", email.booking.confirmation_code, email.kind)


def _send(email: BookingEmail) -> None:
    """Render and send; every error becomes an ``AttemptFailed`` (one not expected is logged with its
    traceback and retried), so the attempt is recorded rather than left leased."""
    try:
        message = build_message(email.booking, email.kind)
        if message is None:
            raise AttemptFailed(EmailFailure.NO_RECIPIENT, "no recipient address", retryable=False)
        message.send()
    except AttemptFailed:
        raise
    except SMTPException as exc:  # an OSError too: test it first
        raise AttemptFailed(EmailFailure.REFUSED, f"{type(exc).__name__}: {exc}", retryable=True) from exc
    except OSError as exc:
        raise AttemptFailed(EmailFailure.UNREACHABLE, f"{type(exc).__name__}: {exc}", retryable=True) from exc
    except Exception as exc:
        logger.exception("booking email %s: unexpected error while sending", email.pk)
        raise AttemptFailed(EmailFailure.ERROR, f"{type(exc).__name__}: {exc}", retryable=True) from exc


def _record_failure(email: BookingEmail, exc: AttemptFailed) -> int | None:
    final = not exc.retryable or email.attempts >= MAX_ATTEMPTS
    retry_in = None if final else backoff_seconds(email.attempts)
    now = timezone.now()
    BookingEmail.objects.filter(pk=email.pk).update(
        status=EmailStatus.FAILED if final else EmailStatus.PENDING,
        failure=exc.failure,
        last_error=str(exc)[:2000],
        leased_until=None,
        next_attempt_at=now + timedelta(seconds=retry_in or 0),
    )
    code = email.booking.confirmation_code
    if exc.failure == EmailFailure.NO_RECIPIENT:  # the tenant's configuration, shown on the console
        warn_hourly(
            logger,
            "booking_email_no_recipient",
            email.tenant_id,
            "tenant %s: booking %s: the %s email had no address to go to (the tenant has no escalation email "
            "and no manager with an email address); more of these are not logged for the tenant for an hour",
            email.tenant_id,
            code,
            email.kind,
        )
    elif final:
        logger.error("booking %s: the %s email failed after %s attempt(s): %s", code, email.kind, email.attempts, exc)
    else:
        logger.warning("booking %s: the %s email failed, next attempt in %s s: %s", code, email.kind, retry_in, exc)
    return retry_in
