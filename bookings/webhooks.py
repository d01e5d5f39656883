"""Stripe webhooks: verify with the SDK, store each event once, apply it through the booking services.

Idempotency: the event id is the primary key of ``StripeEvent``; the row is inserted in the same
transaction as the effect, so a duplicate delivery (even a concurrent one) applies nothing twice.
Matching: a session event applies only when its metadata code and tenant, its id (once stored),
amount and currency are the booking's own; otherwise the event is stored with a ``mismatch``
outcome and changes nothing. A refund matches only the payment intent stored from such a session;
one delivered before that session's payment (stored, "no matching booking") is applied when the
payment is recorded. A refund event and a payment event naming one payment intent take turns
(``_intent_lock``), so a refund looked up while the payment is being recorded is not stored waiting
after the payment looked for waiting refunds.
Order safety: every handler looks at the booking's current state, so ``expired`` after
``completed`` changes nothing, ``completed`` after ``expired`` re-takes the slot if it is still
free (else records that a refund is due), and a refund is recorded once: ``charge.refunded`` says how
much of the charge is refunded in all (``amount_refunded``), and only what was not recorded yet counts,
so a partial refund leaves the rest owed. A refund that fails after
Stripe accepted it (``refund.updated`` or ``refund.failed`` with status failed or canceled) is owed
again, once per refund. Which refunds a ``charge.refunded`` holds follows from the events' and the
refund's ``created`` (``refund_records.RefundFailure.counted_by``): a report counts less the failed refunds
it holds, and a failure sets the refunded amount from every stored report, so the booking ends the
same in whatever order the events arrive.
"""

from __future__ import annotations

import json
import logging
import math
import zlib
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bookings import refund_records, services
from bookings.models import STRIPE_NO_BOOKING, Booking, StripeEvent
from bookings.services import STRIPE
from knowledge.parsed import UNSTORABLE
from supportai.ids import id_from_text

logger = logging.getLogger(__name__)

HANDLED_TYPES = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.expired",
        "charge.refunded",
        "refund.updated",
        "refund.failed",
    }
)


SESSION_TYPES = frozenset(
    {"checkout.session.completed", "checkout.session.async_payment_succeeded", "checkout.session.expired"}
)
PAYMENT_TYPES = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})
REFUND_TYPES = frozenset({"refund.updated", "refund.failed"})
REFUND_EVENT_TYPES = REFUND_TYPES | {"charge.refunded"}
# A refund Stripe accepted and then could not make: the money never went back.
REFUND_FAILURES = frozenset({"failed", "canceled"})
NO_BOOKING = STRIPE_NO_BOOKING
# Two-key advisory locks: (namespace, payment intent hash); bookings.availability's pools use 7_001.
INTENT_LOCK_NAMESPACE = 7_002
NO_REFUND_AMOUNT = "no amount refunded given; nothing applied"
STALE_REFUND = "a refund of this payment failed since; nothing applied"
MISMATCH = "mismatch: {reason}; nothing applied"


def _booking_for(kind: str, obj: dict[str, Any]) -> Booking | None:
    """The booking a session names (checked by ``_session_mismatch``), or a refund's by our stored payment intent."""
    bookings = Booking.objects.select_related("service", "tenant")
    if kind in SESSION_TYPES:
        metadata = obj.get("metadata")
        booking_id = id_from_text(str(metadata.get("booking_id", ""))) if isinstance(metadata, dict) else None
        return bookings.filter(pk=booking_id).first() if booking_id is not None else None
    # Only a payment intent we stored from a verified session: a charge's metadata proves nothing.
    intent = obj.get("payment_intent")
    if isinstance(intent, str) and intent:
        return bookings.filter(stripe_payment_intent_id=intent).first()
    return None


def _session_mismatch(kind: str, obj: dict[str, Any], booking: Booking) -> str:
    """Why this Checkout Session is not the one ``payments`` made for ``booking`` ("" when it is).

    ``booking_id`` is a sequential key any other sender on the Stripe account may reuse, so the
    code and tenant must agree, the session must be the stored one (when one is stored) and a
    payment must cover the booking's own price in its currency.
    """
    metadata = obj.get("metadata") or {}
    if str(metadata.get("code", "")) != booking.confirmation_code:
        return "confirmation code differs"
    if str(metadata.get("tenant_id", "")) != str(booking.tenant_id):
        return "tenant differs"
    session_id = obj.get("id")
    if not isinstance(session_id, str) or not session_id:
        return "no session id"
    if booking.stripe_checkout_session_id and session_id != booking.stripe_checkout_session_id:
        return "not the booking's checkout session"
    if kind in PAYMENT_TYPES:
        amount = obj.get("amount_total")
        if type(amount) is not int or amount < booking.price_cents:
            return f"amount {amount!r} below the booking's {booking.price_cents}"
        if str(obj.get("currency") or "").lower() != booking.currency.lower():
            return f"currency {obj.get('currency')!r} is not the booking's {booking.currency!r}"
    return ""


def _amount_refunded(charge: dict[str, Any], booking: Booking) -> int | None:
    """What a ``charge.refunded`` says is refunded of the charge in all; without a usable amount Stripe's
    ``refunded`` flag says all of it, and None when neither says."""
    amount = charge.get("amount_refunded")
    if type(amount) is int:
        return amount
    return booking.price_cents if charge.get("refunded") is True else None


def refund_reports(booking: Booking) -> list[refund_records.RefundReport]:
    """Every ``charge.refunded`` stored for ``booking``'s payment (call with its row locked)."""
    reports = []
    for payload in StripeEvent.objects.filter(booking=booking, type="charge.refunded").values_list(
        "payload", flat=True
    ):
        amount, created = _amount_refunded(payload["data"]["object"], booking), payload.get("created")
        if amount is not None:
            reports.append(
                refund_records.RefundReport(refunded_cents=amount, reported_at=created if type(created) is int else 0)
            )
    return reports


def _refund_update(booking: Booking, obj: dict[str, Any], created: int) -> str:
    """A refund's status changed: one that failed or was canceled is owed again (once per refund)."""
    refund_id, status = str(obj.get("id") or ""), obj.get("status")
    if status not in REFUND_FAILURES:
        return f"refund {refund_id} is {status}; nothing to do"[:200]
    amount, made = obj.get("amount"), obj.get("created")
    booking = services.booking_lock(booking)  # no report of the charge is stored meanwhile
    recorded = refund_records.booking_mark_refund_failed(
        booking=booking,
        actor=STRIPE,
        refund_id=refund_id,
        # an amount Stripe did not give: all that was refunded is in doubt, so all of it is owed again
        amount_cents=amount if type(amount) is int else booking.price_cents,
        failure_reason=str(obj.get("failure_reason") or status)[:100],
        failed_at=created,
        refund_created=made if type(made) is int else None,
        reports=refund_reports(booking),
    )
    return f"refund {refund_id} failed; refund due again"[:200] if recorded else "refund failure already recorded"


def waiting_refunds(intent: str) -> QuerySet[StripeEvent]:
    """The refund events of payment intent ``intent`` stored before it was (they matched no booking),
    oldest first; the partial index ``stripeevent_waiting_intent`` serves it."""
    return StripeEvent.objects.filter(
        booking__isnull=True,
        outcome=NO_BOOKING,
        type__in=REFUND_EVENT_TYPES,
        payload__data__object__payment_intent=intent,
    ).order_by("received_at", "event_id")


def _apply_waiting_refunds(booking: Booking) -> None:
    """Apply the refund events stored before the payment intent they name was (they matched no booking
    then): Stripe may deliver a refund before the payment it refunds, whose event it retries later."""
    intent = booking.stripe_payment_intent_id
    if not intent:
        return
    for stored in waiting_refunds(intent):
        created = stored.payload.get("created")
        _, stored.outcome = apply_event(
            stored.type, stored.payload["data"]["object"], created=created if type(created) is int else 0
        )
        stored.booking = booking
        stored.save(update_fields=["booking", "outcome"])


def _intent_lock(kind: str, obj: dict[str, Any]) -> None:
    """Until the transaction ends, hold the lock of the payment intent a refund event or a payment event
    names, taken before any booking's: a refund event that finds no booking of its intent is stored
    waiting before a payment of that intent is recorded (which then applies it) or after it has
    committed (when the refund finds the booking). Without it, a refund looking while the payment is
    being recorded, and stored once the payment had looked for waiting refunds, would wait for ever."""
    intent = obj.get("payment_intent")
    if kind in PAYMENT_TYPES | REFUND_EVENT_TYPES and isinstance(intent, str) and intent:
        with connection.cursor() as cursor:
            key = zlib.crc32(intent.encode()) - 2**31
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [INTENT_LOCK_NAMESPACE, key])


def apply_event(kind: str, obj: dict[str, Any], *, created: int = 0) -> tuple[Booking | None, str]:
    """Apply one verified event object (``created``: the event's Stripe time, epoch seconds); returns
    the booking touched and a short outcome. Call it in a transaction (``event_process``)."""
    _intent_lock(kind, obj)
    booking = _booking_for(kind, obj)
    if booking is None:
        return None, NO_BOOKING
    if kind in SESSION_TYPES and (reason := _session_mismatch(kind, obj, booking)):
        logger.warning("stripe session %r does not match booking %s: %s", obj.get("id"), booking.pk, reason)
        return None, MISMATCH.format(reason=reason)[:200]
    if kind in PAYMENT_TYPES:
        if obj.get("payment_status") not in ("paid", "no_payment_required"):
            return booking, f"payment status {obj.get('payment_status')!r}; waiting"
        paid = services.booking_mark_paid(
            booking=booking, actor=STRIPE, payment_intent=str(obj.get("payment_intent") or ""), session_id=obj["id"]
        )
        _apply_waiting_refunds(paid)
        return paid, f"paid; booking {paid.status}"
    if kind == "checkout.session.expired":
        released = services.booking_release_hold(booking=booking, actor=STRIPE)
        return booking, "hold released" if released else "nothing to release"
    if kind in REFUND_TYPES:
        return booking, _refund_update(booking, obj, created)
    refunded = _amount_refunded(obj, booking)
    if refunded is None:
        return booking, NO_REFUND_AMOUNT
    try:
        refund_records.booking_mark_refunded(
            booking=booking, actor=STRIPE, refunded_cents=refunded, reported_at=created
        )
    except services.BookingError as exc:
        if exc.code != refund_records.REFUND_FAILED_SINCE:
            raise
        return booking, STALE_REFUND
    return booking, f"refunded {refunded}"


def event_process(payload: dict[str, Any]) -> tuple[bool, str]:
    """Store and apply a verified event once. Returns (applied now, outcome)."""
    event_id, kind = payload["id"], payload.get("type", "")
    try:
        with transaction.atomic():
            stored = StripeEvent.objects.create(
                event_id=event_id, type=kind, livemode=bool(payload.get("livemode")), payload=payload
            )
            if kind in HANDLED_TYPES:
                created = payload.get("created")
                booking, outcome = apply_event(
                    kind, payload["data"]["object"], created=created if type(created) is int else 0
                )
            else:
                booking, outcome = None, "ignored type"
            stored.booking, stored.outcome = booking, outcome
            stored.save(update_fields=["booking", "outcome"])
    except IntegrityError:
        return False, "duplicate"
    return True, outcome


def _has_object(payload: dict[str, Any]) -> bool:
    data = payload.get("data")
    return isinstance(data, dict) and isinstance(data.get("object"), dict)


# Objects and lists an event may nest (Stripe's nest about ten deep): json reads ~1,000 levels, but
# saving them (json.dumps, called deeper in the stack) runs out of recursion before that.
MAX_PAYLOAD_DEPTH = 64


def _storable_scalar(value: Any) -> bool:
    if isinstance(value, str):
        return not UNSTORABLE.search(value)
    return math.isfinite(value) if isinstance(value, float) else True


def _storable(payload: dict[str, Any]) -> bool:
    """Whether ``StripeEvent`` can store the event: its id and type fit their columns, it nests at most
    ``MAX_PAYLOAD_DEPTH`` deep, and no string holds a NUL or half a surrogate pair (JSON escapes both)
    nor a number is NaN or infinite, which PostgreSQL's jsonb refuses. Walked without recursion: the
    body may nest as deep as json allows."""
    kind = payload.get("type", "")
    event_id = payload.get("id")
    if not (isinstance(event_id, str) and 0 < len(event_id) <= 255 and isinstance(kind, str) and len(kind) <= 100):
        return False
    pending: list[tuple[Any, int]] = [(payload, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list) and depth > MAX_PAYLOAD_DEPTH:
            return False
        if isinstance(value, dict):
            pending.extend((item, depth + 1) for item in [*value, *value.values()])
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
        elif not _storable_scalar(value):
            return False
    return True


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        return JsonResponse({"error": "Stripe webhooks are not configured."}, status=503)
    signature = request.headers.get("Stripe-Signature", "")
    try:
        body = request.body.decode("utf-8")
        stripe.WebhookSignature.verify_header(body, signature, secret, stripe.Webhook.DEFAULT_TOLERANCE)
        # Parsed here, not by construct_event: the SDK fails with AttributeError on a body that is
        # no JSON object, and neither catches a RecursionError of one nested too deep.
        payload = json.loads(body)
    except stripe.SignatureVerificationError:
        return JsonResponse({"error": "Invalid or stale signature."}, status=400)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return JsonResponse({"error": "Invalid payload."}, status=400)
    if not isinstance(payload, dict) or not _has_object(payload) or not _storable(payload):
        return JsonResponse({"error": "Invalid payload."}, status=400)
    applied, outcome = event_process(payload)
    logger.info("stripe event %s (%s): %s", payload["id"], payload.get("type"), outcome)
    return JsonResponse({"received": True, "duplicate": not applied, "outcome": outcome})
