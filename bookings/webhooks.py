"""Stripe webhooks: verify with the SDK, store each event once, apply it through the booking services.

Idempotency: the event id is the primary key of ``StripeEvent``; the row is inserted in the same
transaction as the effect, so a duplicate delivery (even a concurrent one) applies nothing twice.
Order safety: every handler looks at the booking's current state, so ``expired`` after
``completed`` changes nothing, ``completed`` after ``expired`` re-takes the slot if it is still
free (else records that a refund is due), and a refund is recorded once.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bookings import services
from bookings.models import Booking, StripeEvent
from bookings.services import STRIPE
from supportai.ids import id_from_text

logger = logging.getLogger(__name__)

HANDLED_TYPES = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.expired",
        "charge.refunded",
    }
)


def _booking_for(obj: dict[str, Any]) -> Booking | None:
    metadata = obj.get("metadata") or {}
    booking_id = id_from_text(str(metadata.get("booking_id", "")))
    bookings = Booking.objects.select_related("service", "tenant")
    if booking_id is not None:
        return bookings.filter(pk=booking_id).first()
    intent = obj.get("payment_intent") or ""
    if isinstance(intent, str) and intent:
        return bookings.filter(stripe_payment_intent_id=intent).first()
    return None


def apply_event(kind: str, obj: dict[str, Any]) -> tuple[Booking | None, str]:
    """Apply one verified event object; returns the booking touched and a short outcome."""
    booking = _booking_for(obj)
    if booking is None:
        return None, "no matching booking"
    if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        if obj.get("payment_status") not in ("paid", "no_payment_required"):
            return booking, f"payment status {obj.get('payment_status')!r}; waiting"
        paid = services.booking_mark_paid(
            booking=booking, actor=STRIPE, payment_intent=str(obj.get("payment_intent") or ""), session_id=obj["id"]
        )
        return paid, f"paid; booking {paid.status}"
    if kind == "checkout.session.expired":
        released = services.booking_release_hold(booking=booking, actor=STRIPE)
        return booking, "hold released" if released else "nothing to release"
    refunded = int(obj.get("amount_refunded") or 0)
    services.booking_mark_refunded(booking=booking, actor=STRIPE, amount_cents=refunded)
    return booking, f"refunded {refunded}"


def event_process(payload: dict[str, Any]) -> tuple[bool, str]:
    """Store and apply a verified event once. Returns (applied now, outcome)."""
    event_id, kind = str(payload["id"]), str(payload.get("type", ""))
    try:
        with transaction.atomic():
            stored = StripeEvent.objects.create(
                event_id=event_id, type=kind, livemode=bool(payload.get("livemode")), payload=payload
            )
            if kind in HANDLED_TYPES:
                booking, outcome = apply_event(kind, payload["data"]["object"])
            else:
                booking, outcome = None, "ignored type"
            stored.booking, stored.outcome = booking, outcome
            stored.save(update_fields=["booking", "outcome"])
    except IntegrityError:
        return False, "duplicate"
    return True, outcome


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        return JsonResponse({"error": "Stripe webhooks are not configured."}, status=503)
    signature = request.headers.get("Stripe-Signature", "")
    try:
        event = stripe.Webhook.construct_event(request.body.decode("utf-8"), signature, secret)
    except stripe.SignatureVerificationError:
        return JsonResponse({"error": "Invalid or stale signature."}, status=400)
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"error": "Invalid payload."}, status=400)
    payload = json.loads(request.body)
    if not isinstance(payload, dict) or "id" not in payload or "data" not in payload:
        return JsonResponse({"error": "Invalid payload."}, status=400)
    applied, outcome = event_process(payload)
    logger.info("stripe event %s (%s): %s", event.id, payload.get("type"), outcome)
    return JsonResponse({"received": True, "duplicate": not applied, "outcome": outcome})
