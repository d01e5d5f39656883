"""Stripe's refund reports and failures on a booking: what is refunded, what failed, what is still owed.

Built on ``bookings.services`` (its lock, events and errors); the refunds themselves are asked of Stripe
by ``bookings.stripe_refunds`` and recorded for money handed back in person by ``bookings.offline_refunds``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from bookings import notifications
from bookings.models import Booking, BookingEventKind
from bookings.services import Actor, BookingError, booking_lock, event_record

REFUND_FAILED_NOTE = "refund_failed"  # the data key (Stripe's refund id) of the NOTE a failed refund leaves
REFUND_FAILED_SINCE = "refund_failed_since"  # a refund report older than a failure recorded since
STALE_REFUND_REPORT = "Stripe reported this refund before a refund of the payment failed; nothing was recorded."


@dataclass(frozen=True)
class RefundReport:
    """Stripe's word on how much of the payment it has refunded in all (``refunded_cents``): a webhook's
    ``charge.refunded`` at ``reported_at`` (the event's Stripe time, epoch seconds), or a refund staff
    made through the console (``refund_id``; ``recorded_pk``: its REFUNDED event, None before it is
    recorded), whose time is our own."""

    refunded_cents: int
    reported_at: int | None = None
    refund_id: str = ""
    recorded_pk: int | None = None


@dataclass(frozen=True)
class RefundFailure:
    """A refund Stripe accepted and then reported failed or canceled (the NOTE ``event_pk``)."""

    refund_id: str
    amount_cents: int
    refund_created: int | None  # Stripe time the refund was made; None for one recorded before it was kept
    failed_at: int  # Stripe time of the event that said it failed
    event_pk: int

    def counted_by(self, report: RefundReport) -> bool:
        """Whether ``report``'s amount holds this refund. A charge's ``amount_refunded`` holds a refund
        made by then that had not failed yet (a failure and a report of the same second: the report is
        taken to be the older); a console refund holds its own refund, and the refunds recorded before it
        that had not been reported failed when it was."""
        if report.refund_id and report.refund_id == self.refund_id:
            return True
        if report.reported_at is None:
            return report.recorded_pk is not None and self.event_pk > report.recorded_pk
        made = self.refund_created is None or self.refund_created <= report.reported_at
        return made and report.reported_at <= self.failed_at


def _refund_failures(booking: Booking) -> Any:
    return booking.events.filter(kind=BookingEventKind.NOTE, data__has_key=REFUND_FAILED_NOTE)


def refund_failures(booking: Booking) -> list[RefundFailure]:
    return [
        RefundFailure(
            refund_id=event.data[REFUND_FAILED_NOTE],
            amount_cents=event.data.get("amount_cents", 0),
            refund_created=event.data.get("refund_created"),
            failed_at=event.data.get("failed_at", 0),
            event_pk=event.pk,
        )
        for event in _refund_failures(booking)
    ]


def refund_held(report: RefundReport, failures: list[RefundFailure]) -> int:
    """What ``report`` says was refunded, less the refunds in it that failed since."""
    failed = sum(failure.amount_cents for failure in failures if failure.counted_by(report))
    return max(report.refunded_cents - failed, 0)


def _console_reports(booking: Booking) -> list[RefundReport]:
    """The refunds recorded other than from a ``charge.refunded`` (console refunds, Stripe's "already
    refunded"): what the booking had refunded in all once each was recorded."""
    events = booking.events.filter(kind=BookingEventKind.REFUNDED).exclude(data__has_key="reported_at")
    return [
        RefundReport(
            refunded_cents=booking.price_cents - event.data.get("remaining_cents", 0),
            refund_id=event.data.get("refund_id", ""),
            recorded_pk=event.pk,
        )
        for event in events
    ]


@transaction.atomic
def booking_mark_refunded(
    *,
    booking: Booking,
    actor: Actor,
    refunded_cents: int,
    refund_id: str = "",
    already_refunded: bool = False,
    reported_at: int | None = None,
    extra: dict[str, Any] | None = None,
) -> Booking:
    """Record that Stripe has refunded ``refunded_cents`` of the payment in all (staff through
    ``payments.booking_refund``, or Stripe's webhook: a charge's ``amount_refunded``). Only the part
    not recorded yet counts (a REFUNDED event with its amount, and ``remaining_cents`` while some of
    the price is still owed), so a webhook about a refund staff made, a redelivery or a second click
    records nothing more. The booking is refunded (``refunded_at``) once the whole price is; short of
    that it still owes the rest (``refund_due``). The customer is emailed the amount refunded.
    ``refund_id`` is Stripe's refund, when known; ``already_refunded`` says Stripe answered that the
    payment had been refunded already. ``extra`` goes into the REFUNDED event's data (a refund given
    back by hand: ``offline_refunds``).

    ``reported_at`` is the Stripe time (epoch seconds) of the webhook event reporting the refund. Such a
    report holds the refunds made by then, failed ones too when their failure came later (Stripe
    delivers in any order): it counts less those failed since (``RefundFailure.counted_by``), and when
    that leaves nothing new to record, raises ``BookingError(REFUND_FAILED_SINCE)``."""
    booking = booking_lock(booking)
    if booking.refunded_at is not None:
        return booking
    report = RefundReport(refunded_cents=refunded_cents, reported_at=reported_at, refund_id=refund_id)
    failures = refund_failures(booking)
    refunded_cents = refund_held(report, failures)
    amount = refunded_cents - booking.refunded_cents
    if amount <= 0:
        if any(failure.counted_by(report) for failure in failures):
            raise BookingError(REFUND_FAILED_SINCE, STALE_REFUND_REPORT)
        return booking
    now = timezone.now()
    booking.refunded_cents = refunded_cents
    booking.refunded_at = now if booking.refund_remaining_cents == 0 else None
    booking.updated_at = now
    booking.save(update_fields=["refunded_cents", "refunded_at", "updated_at"])
    details: dict[str, Any] = {"refund_id": refund_id} if refund_id else {}
    if reported_at:  # which refunds this report holds, should one of them fail (``booking_mark_refund_failed``)
        details["reported_at"] = reported_at
    if already_refunded:
        details["already_refunded"] = True
    if booking.refunded_at is None:
        details["remaining_cents"] = booking.refund_remaining_cents
    details.update(extra or {})
    event_record(booking, BookingEventKind.REFUNDED, actor, amount_cents=amount, **details)
    notifications.notify(booking, notifications.PAYMENT_REFUNDED)
    return booking


@transaction.atomic
def booking_mark_refund_failed(
    *,
    booking: Booking,
    actor: Actor,
    refund_id: str,
    amount_cents: int,
    failure_reason: str,
    failed_at: int,
    refund_created: int | None = None,
    reports: Sequence[RefundReport] = (),
) -> bool:
    """Record that Stripe's refund ``refund_id`` (made at ``refund_created``) failed or was canceled
    after Stripe had accepted it (``failed_at``: the Stripe time of the event saying so). A NOTE keeps
    it with Stripe's ``failure_reason``; the booking's refunded amount becomes what the refund reports
    say less the failed refunds each holds (``refund_held`` of the ``charge.refunded`` ``reports``,
    read under the booking's lock, and of the console's refunds), never more than it was: so the
    outcome is the same whichever order Stripe delivers the reports and failures in. Short of the
    price, the booking owes the rest again (``refunded_at`` cleared) and the staff get the refund-due
    notice again; the customer is not emailed (a "was refunded" email still waiting is superseded).
    Once per refund: False when this failure is recorded already."""
    booking = booking_lock(booking)
    if _refund_failures(booking).filter(**{f"data__{REFUND_FAILED_NOTE}": refund_id}).exists():
        return False
    failure: dict[str, Any] = {REFUND_FAILED_NOTE: refund_id, "failure_reason": failure_reason, "failed_at": failed_at}
    if refund_created is not None:
        failure["refund_created"] = refund_created
    event_record(booking, BookingEventKind.NOTE, actor, amount_cents=amount_cents, **failure)
    failures = refund_failures(booking)
    held = max((refund_held(report, failures) for report in [*reports, *_console_reports(booking)]), default=0)
    if held < booking.refunded_cents:
        booking.refunded_cents = held
        booking.refunded_at = None
        booking.updated_at = timezone.now()
        booking.save(update_fields=["refunded_cents", "refunded_at", "updated_at"])
    if booking.refund_due:
        notifications.notify(booking, notifications.TENANT_REFUND_DUE)
    return True
