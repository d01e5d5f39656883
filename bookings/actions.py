"""Customer-facing booking actions shared by the widget's quick actions and the assistant's tools.

Both entry points call these, so a booking made by clicking and one made by the model go through
the same checks: ownership proofs are attempt-limited, and every change is only a proposal.
Results are plain JSON-ready dicts (local times in the tenant's zone).
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from bookings import availability, limits, payments, proposals, services
from bookings.models import Booking, BookingStatus, PaymentMode, Proposal, Service
from bookings.phrases import BookingText
from bookings.services import BookingError
from chat.models import Conversation
from routing.language import DEFAULT
from supportai.models import Tenant
from supportai.shared_cache import CACHE_ERRORS

logger = logging.getLogger(__name__)

RATE_LIMITED = "rate_limited"
UNAVAILABLE = "unavailable"


class PaymentStatus(StrEnum):
    """How a looked-up booking stands on paying (``booking.detail``'s ``payment_status``)."""

    FREE = "free"
    PAID = "paid"
    REFUNDED = "refunded"
    ON_ARRIVAL = "on_arrival"  # paid at the venue, not paid yet
    AWAITING_PAYMENT = "awaiting_payment"  # held until paid online
    UNPAID = "unpaid"  # no longer active (canceled, released, completed, no-show) and not paid


def service_dict(service: Service) -> dict[str, Any]:
    return {
        "id": service.pk,
        "name": service.name,
        "description": service.description,
        "duration_minutes": service.duration_minutes,
        "price_cents": service.price_cents,
        "currency": service.currency,
        "price": service.price_display,
        "payment": service.payment,
    }


def list_services(*, tenant: Tenant) -> list[dict[str, Any]]:
    return [service_dict(s) for s in Service.objects.for_tenant(tenant).filter(active=True).order_by("name")]


def list_slots(
    *, tenant: Tenant, service_id: int, first_day: date, days: int, language: str = DEFAULT
) -> dict[str, Any]:
    """The service's free slots, each labelled in ``language``."""
    service = services.service_get_active(tenant=tenant, service_id=service_id)
    tz = availability.tenant_zone(tenant)
    slots = availability.available_slots(tenant=tenant, service=service, first_day=first_day, days=days)
    return {
        "service_id": service.pk,
        "timezone": tenant.timezone,
        "slots": [
            {
                "start": s.start.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
                "label": proposals.local_label(tenant, s.start, language),
            }
            for s in slots
        ],
    }


def _start(tenant: Tenant, value: str) -> datetime:
    start = availability.parse_local_start(value, tenant=tenant)
    if start is None:
        raise BookingError.of(services.INVALID, BookingText.BAD_START, field="start")
    return start


def propose_book(
    *,
    tenant: Tenant,
    conversation: Conversation,
    service_id: int,
    start: str,
    name: str,
    email: str,
    notes: str = "",
    language: str = DEFAULT,
) -> Proposal:
    return proposals.booking_propose_book(
        tenant=tenant,
        conversation=conversation,
        service_id=service_id,
        start=_start(tenant, start),
        name=name,
        email=email,
        notes=notes,
        language=language,
    )


def _owned(*, tenant: Tenant, conversation: Conversation, ip: str, code: str, email: str) -> Booking:
    """The booking ``code`` and ``email`` prove the customer owns, within the attempt limits.

    Fails closed: while the cache that counts failed proofs is down no proof is checked (``unavailable``),
    as an uncounted check would let codes be guessed."""
    try:
        allowed = limits.proof_allowed(conversation_id=conversation.pk, ip=ip)
    except CACHE_ERRORS as exc:
        logger.warning("ownership proof refused: its attempts cannot be counted (the cache failed: %r)", exc)
        raise BookingError.of(UNAVAILABLE, BookingText.CANNOT_COUNT) from None
    if not allowed:
        raise BookingError.of(RATE_LIMITED, BookingText.TOO_MANY_ATTEMPTS)
    try:
        return services.booking_find_owned(tenant=tenant, code=code, email=email)
    except BookingError:
        try:
            limits.proof_failed(conversation_id=conversation.pk, ip=ip)
        except CACHE_ERRORS as exc:  # the cache went between the check and now: the customer still gets "not found"
            logger.warning("failed ownership proof not counted (the cache failed: %r)", exc)
        raise


def booking_dict(booking: Booking, language: str = DEFAULT) -> dict[str, Any]:
    """The booking as the customer is shown it, its ``label`` in ``language``."""
    tz = availability.tenant_zone(booking.tenant)
    # The link only while the hold lasts: paid after it ran out, the booking may be lost and the payment refunded.
    payable = booking.status == BookingStatus.PENDING and booking.holds_slot()
    return {
        "confirmation_code": booking.confirmation_code,
        "service": booking.service.name,
        "service_id": booking.service_id,
        # A hold run out reads released before housekeeping records it (``Booking.shown_status``).
        "status": booking.shown_status,
        "hold_expired": booking.hold_ran_out,
        "start": booking.start_at.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
        "label": proposals.local_label(booking.tenant, booking.start_at, language),
        "timezone": booking.tenant.timezone,
        "name": booking.customer_name,
        "paid": booking.paid_at is not None,
        "payment": booking.payment,
        "price": booking.price_display,
        "payment_status": payment_status(booking),
        # What was given back of the payment so far, through Stripe or by hand ("" for nothing): a partial
        # refund leaves it "paid".
        "refunded": booking.refunded_display if booking.refunded_cents else "",
        "checkout_url": booking.checkout_url if payable else "",
    }


def payment_status(booking: Booking) -> PaymentStatus:
    if booking.price_cents == 0:
        return PaymentStatus.FREE
    if booking.paid_at is not None:
        return PaymentStatus.REFUNDED if booking.refunded_at is not None else PaymentStatus.PAID
    if not booking.is_active or booking.hold_lapsed:
        return PaymentStatus.UNPAID
    if booking.payment == PaymentMode.ON_ARRIVAL:
        return PaymentStatus.ON_ARRIVAL
    return PaymentStatus.AWAITING_PAYMENT


def lookup(
    *, tenant: Tenant, conversation: Conversation, ip: str, code: str, email: str, language: str = DEFAULT
) -> dict[str, Any]:
    """The owned booking (its label in ``language``); one waiting for payment without a link (its checkout
    failed) gets one now."""
    booking = _owned(tenant=tenant, conversation=conversation, ip=ip, code=code, email=email)
    if payments.needs_checkout(booking):
        booking = payments.checkout_start(booking)
    return booking_dict(booking, language)


def propose_cancel(
    *,
    tenant: Tenant,
    conversation: Conversation,
    ip: str,
    code: str,
    email: str,
    reason: str = "",
    language: str = DEFAULT,
) -> Proposal:
    _owned(tenant=tenant, conversation=conversation, ip=ip, code=code, email=email)
    return proposals.booking_propose_cancel(
        tenant=tenant, conversation=conversation, code=code, email=email, reason=reason, language=language
    )


def propose_reschedule(
    *, tenant: Tenant, conversation: Conversation, ip: str, code: str, email: str, start: str, language: str = DEFAULT
) -> Proposal:
    _owned(tenant=tenant, conversation=conversation, ip=ip, code=code, email=email)
    return proposals.booking_propose_reschedule(
        tenant=tenant,
        conversation=conversation,
        code=code,
        email=email,
        start=_start(tenant, start),
        language=language,
    )
