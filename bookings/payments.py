"""Payments for paid services: a Stripe Checkout Session per booking, or the local test-mode page.

After a paid booking proposal is executed the booking is PENDING with a hold; ``checkout_start``
gives it a payment link. With ``STRIPE_SECRET_KEY`` that is a Stripe Checkout Session (through the
official SDK; ``STRIPE_API_BASE`` points it elsewhere in tests). Without a key, and only while
``BOOKINGS_TEST_CHECKOUT`` is on (default: DEBUG), the link opens our own test-mode checkout page,
which marks the booking paid through the same service as the webhook. SDK types stay in here.
Amounts go to Stripe as stored: ``price_cents`` is already the currency's smallest unit, as Stripe's
``unit_amount`` is (yen for JPY; see ``bookings.currency``).

Refunds: an owner or admin refunds a booking that owes one (``Booking.refund_due``) from its console
page (``booking_refund``). What Stripe can still refund of the payment is read first, and what it has
refunded that the booking does not hold yet (a dashboard refund whose webhook has not arrived) is
recorded (``stripe_refunds``); then a Stripe Refund of what is still owed (the whole price, or the rest
after a partial refund in Stripe's dashboard) on the stored payment intent, under an
idempotency key of the booking's, so a double click, a retry or two tabs never refund twice. The key
changes after a refund fails (``webhooks``: Stripe reports a refund it accepted as failed), so the
booking can be refunded again then. What is recorded is what Stripe says after the refund is made
(the payment's refunds, listed): the refund answered may be an earlier one replayed under the same
key that has failed since, and an earlier refund may have failed without its event having arrived
yet; such failures are recorded as the webhook would record them, and only a refund Stripe still
holds made is recorded refunded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import stripe
from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from bookings import refund_records, refunds_in_flight, services, webhooks
from bookings.currency import amount_text
from bookings.models import REFUND_IN_FLIGHT, Booking, BookingEventKind, BookingStatus
from bookings.stripe_refunds import (
    REFUND_MADE,
    record_failed_refunds,
    record_stripe_refunds,
    stripe_charge,
    stripe_refunds,
)
from supportai.models import Tenant

logger = logging.getLogger(__name__)

TEST_CHECKOUT_SALT = "bookings.test-checkout"
# Stripe accepts Checkout Session expiry between 30 minutes and 24 hours from now.
STRIPE_MIN_EXPIRY = timedelta(minutes=30)
CHECKOUT_FAILED = "checkout_failed"  # the data key of the NOTE event a failed Checkout Session creation leaves

REFUND_FAILED = "refund_failed"  # ``BookingError.code`` of a refund Stripe did not make
# What staff read. Stripe's own message is logged, never shown (it can name the platform's account, its
# balance, key mode and objects), but for a card error, whose message Stripe writes for the card holder.
REFUNDED = "Refunded {amount} for booking {code} through Stripe; the customer was emailed."
ALREADY_REFUNDED = (
    "Stripe had already refunded the payment for booking {code}: it is now recorded as refunded and the "
    "customer was emailed."
)
MORE_THAN_REFUNDABLE = (
    "Stripe can refund only {refundable} more of this payment, less than the {owed} this booking owes, so "
    "nothing was refunded. Check the payment in Stripe, and give back the rest another way."
)
REFUNDED_MEANWHILE = (
    "Part of this payment was refunded in Stripe meanwhile (now recorded here), so Stripe refused the refund "
    "and nothing more was refunded. Stripe can still refund {refundable}: refund again to give it back."
)
REFUND_IN_PROGRESS = (
    "A refund of this booking is being asked of Stripe already (another click or another tab), so this one was not "
    "sent. Reload the page in a moment to see how it ended. A request cut short holds refunds back for up to "
    f"{REFUND_IN_FLIGHT.total_seconds() / 60:.0f} minutes; refund again then if it is still due."
)
NO_REFUND_DUE = "This booking owes no refund: it is not canceled, was not paid online, or is refunded already."
REFUND_UNAVAILABLE = (
    "This payment cannot be refunded from here: Stripe is not set up, or the payment was not taken through "
    "Stripe. Give the money back where it was paid."
)
REFUND_DECLINED = "Stripe declined the refund: {detail} Nothing was refunded."
REFUND_REFUSED = (
    "Stripe refused the refund, so nothing was refunded. Whoever runs SupportAI can read Stripe's reason in "
    "the platform's log; or refund the payment in Stripe (it is recorded here when Stripe reports it)."
)
REFUND_DISPUTED = (
    "The customer disputed this payment with their bank, so Stripe cannot refund it while the dispute is "
    "open. Nothing was refunded."
)
DISPUTED_CODES = frozenset({"charge_disputed", "refund_disputed_payment"})
REFUND_NOT_MADE = (
    "Stripe did not make the refund (its status is {status}). Nothing was recorded; check the payment in Stripe."
)
STRIPE_BUSY = "Stripe is receiving too many requests right now. Nothing was refunded; try again in a minute."
STRIPE_KEY_REFUSED = (
    "Stripe refused the platform's API key, so nothing was refunded. Ask whoever runs SupportAI to check "
    "STRIPE_SECRET_KEY."
)
STRIPE_UNREACHABLE = (
    "Stripe could not be reached, so the refund may or may not have been made. Try again: a retry never refunds twice."
)
EARLIER_REFUND_FAILED = (
    "Stripe's refund {refund} of this payment failed ({reason}), so nothing was refunded and the refund is still "
    "due; the booking's history notes it. Refund again to make a new refund, or give the money back another way."
)
REFUND_UNCONFIRMED = (
    "Stripe took the refund request but could not say how the payment's refunds stand, so nothing was recorded "
    "yet. Try again: a retry never refunds twice (it is also recorded here when Stripe reports it)."
)
# Stripe could not be read for what it can still refund (before a refund is asked, or after it refused one):
# why, in staff's words, never Stripe's message. No refund was made either way.
REFUNDABLE_UNREAD = (
    "Stripe could not be asked how much of this payment is still refundable: {reason}; nothing was refunded, try again."
)
UNREAD_UNREACHABLE = "Stripe could not be reached or did not answer in time (a network failure or a timeout)"
UNREAD_BUSY = "Stripe is receiving too many requests right now (wait a minute)"
UNREAD_KEY_REFUSED = (
    "Stripe refused the platform's API key, or the key may not read payments (ask whoever runs SupportAI to "
    "check STRIPE_SECRET_KEY)"
)
UNREAD_NO_SUCH_PAYMENT = (
    "Stripe has no payment {intent}, the one this booking records (was it taken with another Stripe account, or "
    "in the other mode, test or live? Check the payment in Stripe)"
)
UNREAD_REFUSED = (
    "Stripe refused to show the payment (whoever runs SupportAI can read Stripe's reason in the platform's log)"
)
UNREAD_STRIPE_ERROR = "Stripe answered with an error of its own (whoever runs SupportAI can read it in the log)"
STRIPE_FAILED = (
    "Stripe reported an error and did not confirm the refund; nothing was recorded. Try again later, or "
    "refund the payment in Stripe (it is recorded here when Stripe reports it)."
)


def stripe_client() -> stripe.StripeClient:
    base = settings.STRIPE_API_BASE
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY, base_addresses={"api": base} if base else None, max_network_retries=1
    )


def public_url(path: str) -> str:
    return settings.BOOKINGS_PUBLIC_URL.rstrip("/") + path


def online_payment_ready() -> bool:
    """Whether a payment link can be made: Stripe is configured (one account for the platform), or the
    local test-mode checkout is on (development only)."""
    return bool(settings.STRIPE_SECRET_KEY or settings.BOOKINGS_TEST_CHECKOUT)


def needs_checkout(booking: Booking) -> bool:
    """A paid booking still holding its slot without a payment link (never made, or its creation failed)."""
    pending = booking.status == BookingStatus.PENDING
    return pending and booking.price_cents > 0 and not booking.checkout_url and booking.holds_slot()


def test_checkout_token(booking: Booking) -> str:
    return signing.dumps({"b": booking.pk, "c": booking.confirmation_code}, salt=TEST_CHECKOUT_SALT)


def test_checkout_booking(token: str, *, max_age_s: int) -> Booking | None:
    try:
        data = signing.loads(token, salt=TEST_CHECKOUT_SALT, max_age=max_age_s)
    except signing.BadSignature:
        return None
    booking: Booking | None = (
        Booking.objects.select_related("service", "tenant")
        .filter(pk=data.get("b"), confirmation_code=data.get("c"))
        .first()
    )
    return booking


def _idempotency_key(booking: Booking) -> str:
    """Stripe replays a key's first answer, errors included (for 24 h): a retry after a failure needs a new key."""
    failures = booking.events.filter(kind=BookingEventKind.NOTE, data__has_key=CHECKOUT_FAILED).count()
    return f"checkout-{booking.confirmation_code}" + (f"-retry{failures}" if failures else "")


def _stripe_session(booking: Booking) -> tuple[str, str]:
    expires = max(booking.hold_expires_at or timezone.now(), timezone.now() + STRIPE_MIN_EXPIRY + timedelta(minutes=1))
    metadata = {"booking_id": str(booking.pk), "tenant_id": str(booking.tenant_id), "code": booking.confirmation_code}
    session = stripe_client().v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "customer_email": booking.customer_email,
            "client_reference_id": booking.confirmation_code,
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": booking.currency,
                        "unit_amount": booking.price_cents,
                        "product_data": {"name": f"{booking.service.name} ({booking.confirmation_code})"},
                    },
                }
            ],
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
            "expires_at": int(expires.timestamp()),
            "success_url": public_url(reverse("bookings:checkout_done") + "?status=paid"),
            "cancel_url": public_url(reverse("bookings:checkout_done") + "?status=canceled"),
        },
        options={"idempotency_key": _idempotency_key(booking)},
    )
    return session.id, session.url or ""


def checkout_expire(booking: Booking) -> None:
    """Close the open Checkout Session of a canceled, unpaid booking so it can no longer be paid.

    Stripe refuses when the session is already complete or expired: logged only, since a payment
    that still arrives is flagged for a refund (``services.booking_mark_paid``).
    """
    session_id = booking.stripe_checkout_session_id
    if not settings.STRIPE_SECRET_KEY or not session_id or booking.paid_at is not None:
        return
    try:
        stripe_client().v1.checkout.sessions.expire(session_id)
    except stripe.StripeError as exc:
        logger.warning("Stripe could not expire checkout %s of booking %s: %s", session_id, booking.pk, exc)


def checkout_start(booking: Booking) -> Booking:
    """Give a PENDING paid booking its payment link (Stripe, or test mode). Failures keep the hold and are
    recorded on the booking; the next confirmation of its proposal or look-up of the booking tries again."""
    if settings.STRIPE_SECRET_KEY:
        try:
            session_id, url = _stripe_session(booking)
        except stripe.StripeError as exc:
            logger.warning("Stripe checkout failed for booking %s: %s", booking.pk, exc)
            services.event_record(booking, BookingEventKind.NOTE, services.SYSTEM, checkout_failed=str(exc)[:200])
            return booking
        return services.booking_record_checkout(booking=booking, session_id=session_id, url=url)
    if settings.BOOKINGS_TEST_CHECKOUT:
        url = public_url(reverse("bookings:test_checkout", args=[test_checkout_token(booking)]))
        return services.booking_record_checkout(booking=booking, session_id="", url=url)
    logger.warning("booking %s needs payment but neither Stripe nor test checkout is configured", booking.pk)
    return booking


def refund_available(booking: Booking) -> bool:
    """Whether the console can refund ``booking`` through Stripe: it owes a refund of a payment Stripe
    took (a payment intent is stored) and Stripe is configured. Otherwise staff refund it by hand."""
    return bool(settings.STRIPE_SECRET_KEY and booking.refund_due and booking.stripe_payment_intent_id)


@dataclass(frozen=True)
class RefundResult:
    booking: Booking
    already_refunded: bool  # Stripe answered that the payment had been refunded (dashboard, earlier try)
    amount_cents: int  # what this refund gave back (the part of the price still owed before it)

    @property
    def amount_display(self) -> str:
        return amount_text(self.amount_cents, self.booking.currency)


def _refund_error(exc: stripe.StripeError) -> str:
    """What staff read for a Stripe error (its message logged with the booking by the caller)."""
    if isinstance(exc, stripe.CardError):
        return REFUND_DECLINED.format(detail=exc.user_message or "")
    if isinstance(exc, stripe.RateLimitError):
        return STRIPE_BUSY
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return STRIPE_KEY_REFUSED
    if isinstance(exc, stripe.APIConnectionError):
        return STRIPE_UNREACHABLE
    if isinstance(exc, stripe.InvalidRequestError):
        return REFUND_DISPUTED if exc.code in DISPUTED_CODES else REFUND_REFUSED
    return STRIPE_FAILED


def _refund_key(booking: Booking) -> str:
    """The booking's refund idempotency key, new after each refund that failed and for each amount
    already refunded: Stripe replays a key's first answer (so a retry with the first key would get the
    failed refund back instead of a new one) and refuses it with another amount."""
    failures = booking.events.filter(
        kind=BookingEventKind.NOTE, data__has_key=refund_records.REFUND_FAILED_NOTE
    ).count()
    retry = f"-retry{failures}" if failures else ""
    after = f"-after{booking.refunded_cents}" if booking.refunded_cents else ""
    return f"refund-{booking.confirmation_code}{retry}{after}"


def _stripe_refundable(client: stripe.StripeClient, booking: Booking, actor: services.Actor) -> tuple[Booking, int]:
    """The booking with what Stripe has refunded of its payment recorded (``record_stripe_refunds``),
    and what Stripe can still refund of it; a Stripe error raises ``BookingError(REFUND_FAILED)``."""
    try:
        charge = stripe_charge(client, booking)
        return record_stripe_refunds(client, booking, charge, actor=actor), charge.refundable
    except stripe.StripeError as exc:
        logger.warning("Stripe did not say what it can refund of booking %s: %s", booking.pk, exc)
        reason = _unread_reason(exc, booking)
        raise services.BookingError(REFUND_FAILED, REFUNDABLE_UNREAD.format(reason=reason)) from exc


def _unread_reason(exc: stripe.StripeError, booking: Booking) -> str:
    """Why Stripe could not be read (``REFUNDABLE_UNREAD``): a failed read, not a refund, so none of
    ``_refund_error``'s words about a refund that may have been made or that Stripe refused apply."""
    if isinstance(exc, stripe.APIConnectionError):
        return UNREAD_UNREACHABLE
    if isinstance(exc, stripe.RateLimitError):
        return UNREAD_BUSY
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return UNREAD_KEY_REFUSED
    if isinstance(exc, stripe.InvalidRequestError):
        if exc.code == "resource_missing":
            return UNREAD_NO_SUCH_PAYMENT.format(intent=booking.stripe_payment_intent_id)
        return UNREAD_REFUSED
    return UNREAD_STRIPE_ERROR


def _refunded_already(before: Booking, booking: Booking) -> RefundResult:
    """Stripe had refunded all ``before`` owed (in its dashboard, or an earlier try): now recorded."""
    return RefundResult(booking=booking, already_refunded=True, amount_cents=before.refund_remaining_cents)


def _refused(
    client: stripe.StripeClient, booking: Booking, actor: services.Actor, asked: int, exc: stripe.InvalidRequestError
) -> RefundResult:
    """Stripe refused to refund ``asked``: when a refund in its dashboard left less than that to refund
    meanwhile, that refund is recorded and staff read what Stripe can still refund; otherwise why it refused."""
    logger.warning("Stripe refused the refund of booking %s: %s", booking.pk, exc)
    if exc.code in DISPUTED_CODES:
        raise services.BookingError(REFUND_FAILED, REFUND_DISPUTED) from exc
    now, refundable = _stripe_refundable(client, booking, actor)
    if not now.refund_due:
        return _refunded_already(booking, now)
    if refundable >= asked:
        raise services.BookingError(REFUND_FAILED, REFUND_REFUSED) from exc
    message = REFUNDED_MEANWHILE.format(refundable=amount_text(refundable, booking.currency))
    raise services.BookingError(REFUND_FAILED, message) from exc


def booking_refund(*, tenant: Tenant, booking: Booking, actor: services.Actor) -> RefundResult:
    """Refund what a booking that owes a refund still owes (the whole price, or the rest after a partial
    refund made in Stripe's dashboard) through Stripe, and record it
    (``refund_records.booking_mark_refunded``: the REFUNDED event with the actor, amount and Stripe's refund
    id; the customer's email).

    Stripe is asked first what it can still refund (the payment's charge): refunds made in its
    dashboard that no webhook reported yet are recorded ("Stripe had refunded it already"), so only the
    rest is asked, and a payment Stripe refunded in full is recorded refunded without asking. A booking
    owing more than Stripe can refund is refused with ``MORE_THAN_REFUNDABLE``. Stripe refusing the refund
    because a dashboard refund came meanwhile records that refund and says what is left
    (``REFUNDED_MEANWHILE``).

    A refund of the booking already being asked of Stripe (``refunds_in_flight``: a double click, a second
    tab) is not asked again: ``BookingError(NOT_CHANGEABLE)`` with ``REFUND_IN_PROGRESS``.

    The idempotency key is the booking's own: Stripe answers a repeated request (double click, two
    tabs, a retry after a lost answer) with the refund it already made, and the record is made once.
    Any other Stripe error raises ``BookingError(REFUND_FAILED)`` with a message for staff and changes nothing.
    """
    if booking.tenant_id != tenant.pk:
        raise services.BookingError(services.NOT_FOUND, services.GENERIC_NOT_FOUND)
    if not booking.refund_due:
        raise services.BookingError(services.NOT_CHANGEABLE, NO_REFUND_DUE)
    if not refund_available(booking):
        raise services.BookingError(services.NOT_CHANGEABLE, REFUND_UNAVAILABLE)
    try:
        with refunds_in_flight.refund_requested(booking):
            return _refund_through_stripe(booking, actor)
    except refunds_in_flight.RefundInFlight as exc:
        raise services.BookingError(services.NOT_CHANGEABLE, REFUND_IN_PROGRESS) from exc


def _refund_through_stripe(booking: Booking, actor: services.Actor) -> RefundResult:
    """``booking_refund``'s dealings with Stripe, the refund marked in flight."""
    client = stripe_client()
    before = booking
    booking, refundable = _stripe_refundable(client, booking, actor)
    if not booking.refund_due:
        return _refunded_already(before, booking)
    owed = booking.refund_remaining_cents
    if owed > refundable:
        refusal = MORE_THAN_REFUNDABLE.format(
            refundable=amount_text(refundable, booking.currency), owed=booking.refund_remaining_display
        )
        raise services.BookingError(REFUND_FAILED, refusal)
    metadata = {"booking_id": str(booking.pk), "tenant_id": str(booking.tenant_id), "code": booking.confirmation_code}
    try:
        refund = client.v1.refunds.create(
            params={"payment_intent": booking.stripe_payment_intent_id, "amount": owed, "metadata": metadata},
            options={"idempotency_key": _refund_key(booking)},
        )
    except stripe.InvalidRequestError as exc:
        return _refused(client, booking, actor, owed, exc)
    except stripe.StripeError as exc:
        logger.warning("Stripe could not refund booking %s: %s", booking.pk, exc)
        raise services.BookingError(REFUND_FAILED, _refund_error(exc)) from exc
    # The answer may be the first one to this key replayed, from before that refund failed; and an
    # earlier refund may have failed, its event not here yet: Stripe's refunds as they are now say.
    try:
        refunds = stripe_refunds(client, booking)
    except stripe.StripeError as exc:
        logger.warning("Stripe did not list the refunds of booking %s after refund %s: %s", booking.pk, refund.id, exc)
        raise services.BookingError(REFUND_FAILED, REFUND_UNCONFIRMED) from exc
    booking = record_failed_refunds(booking, refunds)
    current = next((r for r in refunds if r.id == refund.id), None)
    status = current.status if current is not None else refund.status
    if status in webhooks.REFUND_FAILURES:
        reason = (current.failure_reason if current is not None else "") or status
        logger.warning("Stripe refund %s of booking %s is %s (%s)", refund.id, booking.pk, status, reason)
        raise services.BookingError(REFUND_FAILED, EARLIER_REFUND_FAILED.format(refund=refund.id, reason=reason))
    if status not in REFUND_MADE:
        logger.warning("Stripe refund %s of booking %s is %s", refund.id, booking.pk, status)
        raise services.BookingError(REFUND_FAILED, REFUND_NOT_MADE.format(status=status))
    refunded = refund_records.booking_mark_refunded(
        booking=booking, actor=actor, refunded_cents=booking.refunded_cents + refund.amount, refund_id=refund.id
    )
    return RefundResult(booking=refunded, already_refunded=False, amount_cents=refund.amount)
