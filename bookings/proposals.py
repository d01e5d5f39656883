"""Proposals: the only road from a chat (assistant tool or widget quick action) to a booking change.

``booking_propose_*`` check what can be checked up front (service, slot, ownership by code AND
email) and store a PENDING proposal for the conversation; nothing changes yet. The customer's
``proposal.confirm`` runs ``proposal_execute``, which locks the proposal row, executes it once
through ``bookings.services`` and stores the result — a second confirmation returns that first
result. Proposals belong to their conversation: any other conversation (or tenant) gets NOT_FOUND.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings import availability, payments, services
from bookings.dates import said_time
from bookings.models import (
    Booking,
    BookingSource,
    ConfirmationLevel,
    Proposal,
    ProposalAction,
    ProposalStatus,
    Service,
    price_text,
)
from bookings.phrases import BookingText, english
from bookings.results import executed_said
from bookings.services import CUSTOMER, BookingError
from chat.models import Conversation
from routing.language import DEFAULT
from supportai.models import Tenant

PROPOSAL_NOT_FOUND = english(BookingText.PROPOSAL_NOT_FOUND)
DETAILS_CHANGED = english(BookingText.DETAILS_CHANGED)
PAYMENT_UNAVAILABLE = "payment_unavailable"
NO_ONLINE_PAYMENT = english(BookingText.NO_ONLINE_PAYMENT)
# The key under which a stored result keeps the sentence of its ``message`` (``Said``), so that
# ``decision_frame`` says it in the customer's language, a repeated decision's too.
SENTENCE = "sentence"
LEVEL_TTL = {ConfirmationLevel.T2: timedelta(minutes=15), ConfirmationLevel.T3: timedelta(minutes=10)}


@dataclass(frozen=True)
class Said:
    """The sentence of a result's ``message`` and its parameters."""

    text: BookingText
    params: Mapping[str, object]


@dataclass(frozen=True)
class Decision:
    """What happened to a proposal when the customer decided (also for repeated decisions): ``result`` as
    the ``proposal.result`` frame has it, its ``message`` English; ``said``: that message's sentence."""

    proposal: Proposal
    status: str
    result: dict[str, Any]
    said: Said | None = None


def _decision(proposal: Proposal) -> Decision:
    """The proposal's stored outcome. Results stored before they kept their sentence have none (English)."""
    result = dict(proposal.result)
    kept = result.pop(SENTENCE, None)
    said = None
    if isinstance(kept, dict) and kept.get("text") in {text.value for text in BookingText}:
        said = Said(BookingText(kept["text"]), kept.get("params") or {})
    return Decision(proposal, proposal.status, result, said)


def _saying(text: BookingText | None, params: Mapping[str, object], **fields: Any) -> dict[str, Any]:
    """A result to store: ``fields``, and with a sentence, its English ``message`` and the sentence kept."""
    if text is None:
        return fields
    return {**fields, "message": english(text, **params), SENTENCE: {"text": text.value, "params": dict(params)}}


def _idempotency_key(conversation: Conversation, action: str, payload: dict[str, Any]) -> str:
    canonical = json.dumps({"c": conversation.pk, "a": action, "p": payload}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def local_label(tenant: Tenant, moment: datetime, language: str = DEFAULT) -> str:
    """``moment`` in the tenant's zone, as a customer writing ``language`` reads it (``dates.said_time``)."""
    return said_time(moment.astimezone(availability.tenant_zone(tenant)), language)


def proposal_create(
    *,
    tenant: Tenant,
    conversation: Conversation,
    action: ProposalAction,
    level: ConfirmationLevel,
    payload: dict[str, Any],
    summary: str,
    booking: Booking | None = None,
) -> Proposal:
    """A pending proposal; proposing the same thing again in this conversation returns the open one."""
    if conversation.tenant_id != tenant.pk:
        raise BookingError.of(services.NOT_FOUND, BookingText.PROPOSAL_NOT_FOUND)
    key = _idempotency_key(conversation, action, payload)
    now = timezone.now()
    existing = Proposal.objects.for_tenant(tenant).filter(idempotency_key=key, status=ProposalStatus.PENDING).first()
    if existing is not None and existing.expires_at > now:
        return existing
    if existing is not None:  # stale: expire it so a fresh one can take the key
        Proposal.objects.filter(pk=existing.pk, status=ProposalStatus.PENDING).update(status=ProposalStatus.EXPIRED)
    try:
        with transaction.atomic():
            return Proposal.objects.create(
                tenant=tenant,
                conversation=conversation,
                action=action,
                level=level,
                payload=payload,
                summary=summary[:500],
                idempotency_key=key,
                expires_at=now + LEVEL_TTL[ConfirmationLevel(level)],
                booking=booking,
            )
    except IntegrityError:  # the same proposal raced us
        return Proposal.objects.for_tenant(tenant).get(idempotency_key=key, status=ProposalStatus.PENDING)


def _terms(service: Service) -> dict[str, Any]:
    """What the customer is shown and agrees to: a booking is made on these terms or not at all."""
    return {
        "price_cents": service.price_cents,
        "currency": service.currency,
        "duration_minutes": service.duration_minutes,
        "payment": service.payment,
    }


def price_terms(service: Service, language: str = DEFAULT) -> str:
    """The summary's sentence on paying in ``language``, after a space; "" for a free service."""
    if not service.is_paid:
        return ""
    text = BookingText.PRICE_ONLINE if service.is_paid_online else BookingText.PRICE_AT_VENUE
    return " " + text.say(language, price=service.price_display)


def ensure_payable(service: Service) -> None:
    """Refuse a service paid online while no payment link can be made (no Stripe key, no test mode): the
    booking would only wait for a payment the customer cannot make until its hold ran out."""
    if service.is_paid_online and not payments.online_payment_ready():
        raise BookingError.of(PAYMENT_UNAVAILABLE, BookingText.NO_ONLINE_PAYMENT)


def booking_propose_book(
    *,
    tenant: Tenant,
    conversation: Conversation,
    service_id: int,
    start: datetime,
    name: str,
    email: str,
    notes: str = "",
    language: str = DEFAULT,
) -> Proposal:
    """A proposal to book; its summary in ``language``, the conversation's (as all ``booking_propose_*``)."""
    service = services.service_get_active(tenant=tenant, service_id=service_id)
    ensure_payable(service)
    name, email = services.clean_customer(name=name, email=email)
    if availability.slot_at(tenant=tenant, service=service, start=start) is None:
        raise BookingError.of(services.SLOT_UNAVAILABLE, BookingText.SLOT_TAKEN, field="start")
    when = local_label(tenant, start, language)
    summary = BookingText.SUMMARY_BOOK.say(language, service=service.name, when=when, name=name, email=email)
    summary += price_terms(service, language)
    return proposal_create(
        tenant=tenant,
        conversation=conversation,
        action=ProposalAction.BOOK,
        level=ConfirmationLevel.T3 if service.is_paid_online else ConfirmationLevel.T2,
        payload={
            "service_id": service.pk,
            "start": start.isoformat(),
            "name": name,
            "email": email,
            "notes": notes[:500],
            **_terms(service),
        },
        summary=summary,
    )


def booking_propose_cancel(
    *, tenant: Tenant, conversation: Conversation, code: str, email: str, reason: str = "", language: str = DEFAULT
) -> Proposal:
    booking = services.booking_find_owned(tenant=tenant, code=code, email=email)
    services.ensure_hold_not_run_out(booking)
    if not booking.is_active:
        raise BookingError.of(services.NOT_CHANGEABLE, BookingText.NOTHING_TO_CANCEL)
    services.ensure_upcoming(booking)
    summary = BookingText.SUMMARY_CANCEL.say(
        language,
        service=booking.service.name,
        when=local_label(tenant, booking.start_at, language),
        code=booking.confirmation_code,
    )
    return proposal_create(
        tenant=tenant,
        conversation=conversation,
        action=ProposalAction.CANCEL,
        level=ConfirmationLevel.T3,
        payload={"booking_id": booking.pk, "reason": reason[:300]},
        summary=summary,
        booking=booking,
    )


def booking_propose_reschedule(
    *, tenant: Tenant, conversation: Conversation, code: str, email: str, start: datetime, language: str = DEFAULT
) -> Proposal:
    booking = services.booking_find_owned(tenant=tenant, code=code, email=email)
    services.ensure_hold_not_run_out(booking)
    if not booking.is_active:
        raise BookingError.of(services.NOT_CHANGEABLE, BookingText.CANNOT_RESCHEDULE)
    services.ensure_upcoming(booking)
    if availability.slot_at(tenant=tenant, service=booking.service, start=start, exclude_booking=booking) is None:
        raise BookingError.of(services.SLOT_UNAVAILABLE, BookingText.SLOT_TAKEN, field="start")
    summary = BookingText.SUMMARY_RESCHEDULE.say(
        language,
        service=booking.service.name,
        code=booking.confirmation_code,
        old=local_label(tenant, booking.start_at, language),
        new=local_label(tenant, start, language),
    )
    return proposal_create(
        tenant=tenant,
        conversation=conversation,
        action=ProposalAction.RESCHEDULE,
        level=ConfirmationLevel.T3,
        payload={"booking_id": booking.pk, "start": start.isoformat()},
        summary=summary,
        booking=booking,
    )


def proposal_get(*, tenant: Tenant, conversation: Conversation, public_id: str) -> Proposal:
    try:
        parsed = uuid.UUID(str(public_id))
    except ValueError:
        raise BookingError.of(services.NOT_FOUND, BookingText.PROPOSAL_NOT_FOUND) from None
    proposal = Proposal.objects.for_tenant(tenant).filter(conversation=conversation, public_id=parsed).first()
    if proposal is None:
        raise BookingError.of(services.NOT_FOUND, BookingText.PROPOSAL_NOT_FOUND)
    return proposal


def booking_result(booking: Booking) -> dict[str, Any]:
    return {
        "confirmation_code": booking.confirmation_code,
        "booking_status": booking.status,
        "service": booking.service.name,
        "start": booking.start_at.isoformat(),
        "start_local": local_label(booking.tenant, booking.start_at),
        "payment": booking.payment,
        "price_cents": booking.price_cents,
        "price": booking.price_display,
        "checkout_url": booking.checkout_url,
        "hold_expires_at": booking.hold_expires_at.isoformat() if booking.hold_expires_at else None,
    }


def _execute(proposal: Proposal) -> Booking:
    tenant, payload = proposal.tenant, proposal.payload
    if proposal.action == ProposalAction.BOOK:
        service = Service.objects.for_tenant(tenant).filter(pk=payload["service_id"]).first()
        if service is None:  # deleted since it was proposed
            raise BookingError.of(services.NOT_FOUND, BookingText.SERVICE_NOT_FOUND, field="service_id")
        # Only the terms the payload has: proposals stored before terms were recorded carry none of them.
        if any(key in payload and payload[key] != value for key, value in _terms(service).items()):
            raise BookingError.of(services.CHANGED, BookingText.DETAILS_CHANGED)
        ensure_payable(service)
        return services.booking_create(
            tenant=tenant,
            service=service,
            start=datetime.fromisoformat(payload["start"]),
            name=payload["name"],
            email=payload["email"],
            notes=payload.get("notes", ""),
            actor=CUSTOMER,
            source=BookingSource.CHATBOT,
            conversation=proposal.conversation,
            proposal=proposal,
        )
    booking = Booking.objects.for_tenant(tenant).select_related("service").filter(pk=payload["booking_id"]).first()
    if booking is None:  # deleted since it was proposed
        raise BookingError.of(services.NOT_FOUND, BookingText.BOOKING_NOT_FOUND)
    if proposal.action == ProposalAction.CANCEL:
        return services.booking_cancel(
            tenant=tenant, booking=booking, actor=CUSTOMER, reason=payload.get("reason", ""), proposal=proposal
        )
    return services.booking_reschedule(
        tenant=tenant,
        booking=booking,
        start=datetime.fromisoformat(payload["start"]),
        actor=CUSTOMER,
        proposal=proposal,
    )


def proposal_execute(*, tenant: Tenant, conversation: Conversation, public_id: str) -> Decision:
    """Confirm and run a proposal once; repeated confirmations return the stored outcome."""
    with transaction.atomic():
        found = proposal_get(tenant=tenant, conversation=conversation, public_id=public_id)
        proposal = (
            Proposal.objects.select_for_update(of=("self",)).select_related("tenant", "conversation").get(pk=found.pk)
        )
        if proposal.status == ProposalStatus.PENDING:
            _decide(proposal)
    booking = proposal.booking
    if proposal.status != ProposalStatus.EXECUTED or booking is None:
        return _decision(proposal)
    if payments.needs_checkout(booking):  # also when confirmed again: a link that failed gets another try
        proposal.result = booking_result(payments.checkout_start(booking))
        Proposal.objects.filter(pk=proposal.pk).update(result=proposal.result)
    return _decision(proposal)


def _decide(proposal: Proposal) -> None:
    """Expire or execute a locked PENDING proposal and store the outcome (a BookingError fails it)."""
    now = timezone.now()
    proposal.decided_at = now
    if proposal.expires_at <= now:
        proposal.status = ProposalStatus.EXPIRED
        proposal.result = _saying(BookingText.PROPOSAL_EXPIRED, {})
    else:
        try:
            with transaction.atomic():
                executed = _execute(proposal)
            proposal.status, proposal.booking = ProposalStatus.EXECUTED, executed
            proposal.result = booking_result(executed)
        except BookingError as exc:
            proposal.status = ProposalStatus.FAILED
            failed = {"error": exc.code, "message": exc.message, **({"field": exc.field} if exc.field else {})}
            proposal.result = _saying(exc.text, exc.params, **failed)
    proposal.save(update_fields=["status", "decided_at", "result", "booking"])


@transaction.atomic
def proposal_reject(*, tenant: Tenant, conversation: Conversation, public_id: str) -> Decision:
    found = proposal_get(tenant=tenant, conversation=conversation, public_id=public_id)
    proposal = Proposal.objects.select_for_update().get(pk=found.pk)
    if proposal.status == ProposalStatus.PENDING:
        proposal.status = ProposalStatus.REJECTED
        proposal.decided_at = timezone.now()
        proposal.result = _saying(BookingText.NOTHING_CHANGED, {})
        proposal.save(update_fields=["status", "decided_at", "result"])
    return _decision(proposal)


def proposal_frame(proposal: Proposal) -> dict[str, Any]:
    """The widget's ``proposal`` frame (docs/websocket-protocol.md)."""
    return {
        "type": "proposal",
        "proposal_id": str(proposal.public_id),
        "action": proposal.action,
        "summary": proposal.summary,
        "details": {"level": proposal.level, **_shown_details(proposal.payload)},
        "expires_at": proposal.expires_at.isoformat(),
    }


def _shown_details(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload the customer sees, with its price as text when it has one (older proposals have none)."""
    shown = {k: v for k, v in payload.items() if k != "booking_id"}
    if "price_cents" in payload and "currency" in payload:
        shown["price"] = price_text(payload["price_cents"], payload["currency"])
    return shown


def decision_frame(decision: Decision, language: str = DEFAULT) -> dict[str, Any]:
    """The ``proposal.result`` frame, its ``message`` in ``language`` when it has a sentence (English without),
    its ``start_local`` in ``language``; an executed one's ``message`` (and ``pay_terms``) too."""
    frame = {
        "type": "proposal.result",
        "proposal_id": str(decision.proposal.public_id),
        "status": decision.status,
        "action": decision.proposal.action,
        **decision.result,
    }
    if decision.said is not None:
        frame["message"] = decision.said.text.say(language, **decision.said.params)
    if "start_local" in frame and isinstance(frame.get("start"), str) and language != DEFAULT:
        # stored in English (``booking_result``): said again in the language the result is said in
        start = datetime.fromisoformat(frame["start"])
        frame["start_local"] = local_label(decision.proposal.tenant, start, language)
    if decision.status == ProposalStatus.EXECUTED:
        frame.update(executed_said(frame, language))
    return frame
