"""What Stripe holds of a payment's refunds, read through the SDK, and the booking brought in line with it.

A console refund (``payments.booking_refund``) reads first what Stripe can still refund of the payment
(``stripe_charge``: its latest charge's ``amount`` less ``amount_refunded``), since refunds made in
Stripe's dashboard reach us only through webhooks, which may be late, lost, or about a refund that
failed since. ``record_stripe_refunds`` records what Stripe says it has refunded that the booking does
not hold yet, as the webhooks would have: refunds listed failed (``record_failed_refunds``), then the
charge's ``amount_refunded`` as refunded (``refund_records.booking_mark_refunded``). SDK types stay in here
and in ``payments``.
"""

from __future__ import annotations

from dataclasses import dataclass

import stripe
from django.db import transaction
from django.utils import timezone

from bookings import refund_records, services, webhooks
from bookings.models import Booking

# Refund statuses with the money given back or on its way; any other (failed, canceled,
# requires_action) is no refund.
REFUND_MADE = frozenset({"succeeded", "pending"})


@dataclass(frozen=True)
class StripeCharge:
    """The payment's charge as Stripe holds it now: what it took and what of it Stripe has refunded
    (refunds made or pending; a refund that failed is given back to the charge)."""

    amount: int
    amount_refunded: int

    @property
    def refundable(self) -> int:
        return max(self.amount - self.amount_refunded, 0)


def stripe_charge(client: stripe.StripeClient, booking: Booking) -> StripeCharge:
    """The charge of the booking's payment intent (its latest), read now; none yet reads as nothing to refund."""
    intent = client.v1.payment_intents.retrieve(booking.stripe_payment_intent_id, params={"expand": ["latest_charge"]})
    charge = intent.latest_charge
    if not isinstance(charge, stripe.Charge):
        return StripeCharge(amount=0, amount_refunded=0)
    return StripeCharge(amount=charge.amount, amount_refunded=charge.amount_refunded)


@dataclass(frozen=True)
class StripeRefund:
    """One of a payment's refunds as Stripe holds it now."""

    id: str
    amount: int
    status: str
    created: int | None
    failure_reason: str


def stripe_refunds(client: stripe.StripeClient, booking: Booking) -> list[StripeRefund]:
    """The refunds of the booking's payment intent as they are now (newest first)."""
    page = client.v1.refunds.list(params={"payment_intent": booking.stripe_payment_intent_id, "limit": 100})
    return [
        StripeRefund(
            id=refund.id,
            amount=refund.amount,
            status=refund.status or "",
            created=refund.created if type(refund.created) is int else None,
            failure_reason=refund.failure_reason or "",
        )
        for refund in page.data
    ]


def _failed_by(
    refund: StripeRefund, refunds: list[StripeRefund], reports: list[refund_records.RefundReport], now: int
) -> int:
    """When ``refund``, listed failed without its ``refund.failed`` event here, is taken to have failed (the
    Stripe time ``RefundFailure.counted_by`` compares with each ``charge.refunded``): Stripe does not say.
    A report's ``amount_refunded`` is the refunds made by then that had not failed yet; those Stripe still
    holds made (listed, with their ``created``) account for part of it, and the rest is refunds that failed
    since. A report made after ``refund`` whose rest is short of ``refund``'s amount leaves it out: it had
    failed by then, so it failed just before the first such report; with none, by now."""
    made = [r for r in refunds if r.status in REFUND_MADE and r.created is not None]
    failed_at = now
    for report in reports:
        reported_at = report.reported_at
        if reported_at is None or (refund.created is not None and reported_at < refund.created):
            continue
        held_still = sum(r.amount for r in made if r.created is not None and r.created <= reported_at)
        if report.refunded_cents - held_still < refund.amount:
            failed_at = min(failed_at, reported_at - 1)
    return failed_at


def record_failed_refunds(booking: Booking, refunds: list[StripeRefund]) -> Booking:
    """Record the refunds Stripe now reports failed or canceled, as their ``refund.failed`` event would
    (once per refund: one recorded so already is left): its refund is owed again. Stripe does not say
    when one failed: the stored ``charge.refunded`` reports that already leave it out say it had by
    then (``_failed_by``), so none of them is taken to hold it."""
    failed = sorted((r for r in refunds if r.status in webhooks.REFUND_FAILURES), key=lambda r: r.created or 0)
    if not failed:
        return booking
    now = int(timezone.now().timestamp())
    with transaction.atomic():
        locked = services.booking_lock(booking)  # no report of the charge is stored meanwhile
        reports = webhooks.refund_reports(locked)
        for refund in failed:
            refund_records.booking_mark_refund_failed(
                booking=locked,
                actor=services.STRIPE,
                refund_id=refund.id,
                amount_cents=refund.amount,
                failure_reason=(refund.failure_reason or refund.status)[:100],
                failed_at=_failed_by(refund, refunds, reports, now),
                refund_created=refund.created,
                reports=reports,
            )
        return services.booking_lock(booking)


def record_stripe_refunds(
    client: stripe.StripeClient, booking: Booking, charge: StripeCharge, *, actor: services.Actor
) -> Booking:
    """Record what Stripe says of the payment's refunds that the booking does not hold yet (a refund
    made or failed in Stripe's dashboard, its webhook not here): the refunds listed failed, then the
    charge's ``amount_refunded``, which leaves those out, as refunded ("Stripe had refunded it
    already", by ``actor``, whose refund found it; the customer is emailed). Nothing to read when
    Stripe's amount is the booking's."""
    if charge.amount_refunded == booking.refunded_cents:
        return booking
    booking = record_failed_refunds(booking, stripe_refunds(client, booking))
    return refund_records.booking_mark_refunded(
        booking=booking, actor=actor, refunded_cents=charge.amount_refunded, already_refunded=True
    )
