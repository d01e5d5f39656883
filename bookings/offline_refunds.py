"""Refunds given back by hand (owners and admins): a payment Stripe never took cannot be refunded
through Stripe, so staff give it back where it was taken (cash, card terminal, bank transfer) and
record that here, with the amount and a note. Recording clears the refund due (the rest stays owed
when less was given back), appends a "Refunded" event marked ``offline`` and tells the customer, as
a refund through Stripe does (``refund_records.booking_mark_refunded``).

The form carries what the booking owed when its page was rendered (``owed_cents``): a second submit
of the same form (double click, retry after a lost answer) finds the refund it recorded and records
nothing more, and a form from before another refund was recorded is refused, not added to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from bookings.currency import amount_input, amount_text
from bookings.models import Booking, BookingEventKind
from bookings.refund_records import booking_mark_refunded
from bookings.services import (
    CHANGED,
    GENERIC_NOT_FOUND,
    INVALID,
    NOT_CHANGEABLE,
    NOT_FOUND,
    Actor,
    BookingError,
    booking_lock,
)
from supportai.models import Tenant

NOTE_MAX_LENGTH = 300
NO_REFUND_DUE = "This booking owes no refund: it is not canceled, was not paid online, or is refunded already."
PAID_THROUGH_STRIPE = (
    "This payment was taken through Stripe, so it is refunded through Stripe: with the Refund button, or in "
    "Stripe's dashboard (recorded here when Stripe reports it)."
)
OWED_CHANGED = (
    "What this booking owes changed since the page was opened: {owed} is owed now. Check the page and record "
    "the refund again."
)
OWED_UNREADABLE = (
    "This form does not say what the booking owed when its page was opened (it was changed or cut short), so "
    "nothing was recorded. Open the booking's page again and record the refund from there."
)
AMOUNT_INVALID = "Give the amount given back, at most the {owed} owed, e.g. {example}."
NOTE_MISSING = "Say how the money was given back (cash, card terminal, bank transfer …)."
RECORDED = "Recorded {amount} given back offline for booking {code}; the customer was emailed."
ALREADY_RECORDED = "This refund of {amount} for booking {code} was recorded already; nothing more was recorded."


@dataclass(frozen=True)
class OfflineRefund:
    booking: Booking
    amount_cents: int
    already_recorded: bool  # a repeat of a submit that was recorded: nothing more was

    @property
    def amount_display(self) -> str:
        return amount_text(self.amount_cents, self.booking.currency)


def offline_refundable(booking: Booking) -> bool:
    """A refund is due of a payment Stripe never took ("paid offline", or the test-mode checkout page)."""
    return booking.refund_due and not booking.paid_through_stripe


def _recorded(booking: Booking, *, amount_cents: int, owed_cents: int) -> bool:
    return booking.events.filter(
        kind=BookingEventKind.REFUNDED,
        data__offline=True,
        data__owed_cents=owed_cents,
        data__amount_cents=amount_cents,
    ).exists()


@transaction.atomic
def booking_record_offline_refund(
    *, tenant: Tenant, booking: Booking, actor: Actor, amount_cents: int, owed_cents: int, note: str
) -> OfflineRefund:
    """Record that staff gave ``amount_cents`` of the payment back by hand (``note``: how), for a
    booking that owes a refund of a payment not taken through Stripe and owed ``owed_cents`` when
    staff's page was rendered. Idempotent for a repeated submit; refused (``BookingError``) for a
    booking owing no refund, one paid through Stripe, a form older than another refund, an amount
    above what is owed (``field="amount"``) or no note (``field="note"``)."""
    if booking.tenant_id != tenant.pk:
        raise BookingError(NOT_FOUND, GENERIC_NOT_FOUND)
    booking = booking_lock(booking)
    if _recorded(booking, amount_cents=amount_cents, owed_cents=owed_cents):
        return OfflineRefund(booking=booking, amount_cents=amount_cents, already_recorded=True)
    if not booking.refund_due:
        raise BookingError(NOT_CHANGEABLE, NO_REFUND_DUE)
    if booking.paid_through_stripe:
        raise BookingError(NOT_CHANGEABLE, PAID_THROUGH_STRIPE)
    owed = booking.refund_remaining_cents
    if owed_cents != owed:
        raise BookingError(CHANGED, OWED_CHANGED.format(owed=booking.refund_remaining_display))
    if not 0 < amount_cents <= owed:
        example = amount_input(owed, booking.currency)
        message = AMOUNT_INVALID.format(owed=booking.refund_remaining_display, example=example)
        raise BookingError(INVALID, message, field="amount")
    note = " ".join(note.split())[:NOTE_MAX_LENGTH]
    if not note:
        raise BookingError(INVALID, NOTE_MISSING, field="note")
    refunded = booking_mark_refunded(
        booking=booking,
        actor=actor,
        refunded_cents=booking.refunded_cents + amount_cents,
        extra={"offline": True, "note": note, "owed_cents": owed_cents},
    )
    return OfflineRefund(booking=refunded, amount_cents=amount_cents, already_recorded=False)
