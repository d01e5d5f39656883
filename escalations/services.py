"""Writes for escalations: raise (create or update) and what the customer side changes.

Staff actions (claim, assign, reply, hand back, resolve) live in ``escalations.staff``.

Every transition writes an ``EscalationEvent``. Services return the channel-layer publications the
caller sends after commit; notifications are enqueued with ``transaction.on_commit``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from chat.models import Conversation, ConversationStatus
from escalations import messages
from escalations.limits import RATE_LIMITED_MESSAGE, escalation_allowed
from escalations.models import (
    PRIORITY_RANK,
    Escalation,
    EscalationEvent,
    EventKind,
    Mode,
    Priority,
    Status,
)
from escalations.realtime import Publication, queue_changed, to_customer
from escalations.selectors import (
    Place,
    QueueKey,
    channels_that_went_out,
    policy_for,
    service_hours_for,
    waiting_between,
    waiting_place,
)
from escalations.summary import conversation_summary
from escalations.triggers import ReasonCode, TriggerHit
from supportai.models import Role, Tenant

HIGH_CODES = frozenset({ReasonCode.SECURITY, ReasonCode.OUTAGE, ReasonCode.BILLING_DISPUTE})
LOW_CODES = frozenset({ReasonCode.REPEATED_FAILURE, ReasonCode.NO_ANSWER})
STAFF_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.AGENT})  # analysts read, never reply
LIVE_CONVERSATION_HOURS = 24
MAX_REPLY_CHARS = 4000
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


class EscalationError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


NO_CONVERSATION = EscalationError("not_found", "There is no live conversation to hand over.")
RATE_LIMITED = EscalationError("rate_limited", RATE_LIMITED_MESSAGE)
NOT_OPEN = EscalationError("not_open", "This escalation is already closed.")
NOT_STAFF = EscalationError("forbidden", "Only agents, admins and owners of this tenant can do that.")
CLAIMED_BY_OTHER = EscalationError("claimed", "Another agent has already claimed this conversation.")
EMPTY_REPLY = EscalationError("bad_request", f"Write a reply of 1 to {MAX_REPLY_CHARS} characters.")


def priority_for(codes: Iterable[str]) -> Priority:
    codes = set(codes)
    if codes & HIGH_CODES:
        return Priority.HIGH
    if codes and codes <= LOW_CODES:
        return Priority.LOW
    return Priority.MEDIUM


def _sla_minutes(tenant: Tenant, priority: str) -> int:
    policy = policy_for(tenant=tenant)
    minutes: int = {
        Priority.HIGH: policy.sla_minutes_high,
        Priority.MEDIUM: policy.sla_minutes_medium,
        Priority.LOW: policy.sla_minutes_low,
    }[Priority(priority)]
    return minutes


def record_event(
    escalation: Escalation, kind: EventKind, *, actor: Any = None, from_status: str = "", **detail: Any
) -> None:
    EscalationEvent.objects.create(
        tenant_id=escalation.tenant_id,
        escalation=escalation,
        kind=kind,
        actor=actor,
        from_status=from_status,
        to_status=escalation.status,
        detail=detail,
    )


def customer_frame(escalation: Escalation, *, status: str, message: str, position: int | None = None) -> dict[str, Any]:
    """The protocol's ``escalation`` frame (docs/websocket-protocol.md)."""
    return {
        "type": "escalation",
        "escalation_id": escalation.pk,
        "status": status,
        "message": message,
        "mode": escalation.mode,
        "position": position,
        "expected_reply_at": escalation.sla_due_at.isoformat() if escalation.mode == Mode.TICKET else None,
    }


def frame_publication(escalation: Escalation, frame: dict[str, Any]) -> Publication:
    return to_customer(escalation.conversation_id, {"type": "escalation.status", "frame": frame})


def position_updates(
    tenant: Tenant, *, after: QueueKey, first: int, before: QueueKey | None = None
) -> list[Publication]:
    """Tell the customers waiting after ``after`` (and before ``before``) their new place, ``first`` for the
    next one: they moved back one (an escalation joined or moved up to ``after``) or up one (it left the
    line from there). Nobody else's place changed, so nobody else is read or told."""
    team = policy_for(tenant=tenant).team_name
    updates = []
    for position, escalation in enumerate(waiting_between(tenant=tenant, after=after, before=before), start=first):
        frame = customer_frame(
            escalation,
            status="pending",
            message=messages.already_waiting(team=team, position=position),
            position=position,
        )
        updates.append(frame_publication(escalation, frame))
    return updates


def line_joined(tenant: Tenant, place: Place | None, *, moved_from: QueueKey | None = None) -> list[Publication]:
    """Position updates once an escalation joined the line at ``place`` (None: it is not waiting), or moved
    up there from ``moved_from``: those it went ahead of are one place further back."""
    if place is None or place.key == moved_from:
        return []
    return position_updates(tenant, after=place.key, first=place.position + 1, before=moved_from)


def line_left(tenant: Tenant, place: Place | None) -> list[Publication]:
    """Position updates once the escalation that stood at ``place`` (None: it was not waiting) left the line."""
    return [] if place is None else position_updates(tenant, after=place.key, first=place.position)


def _address_follow_up(*, tenant: Tenant, escalation: Escalation) -> None:
    """The customer's address arrived after the team was told of their out-of-hours ticket without it:
    each channel that told them (the ticket, Slack, the webhook) sends an ``updated`` notification, the
    ticket again with the customer as Reply-To. A notification not sent yet reads the address itself."""
    if escalation.mode != Mode.TICKET or not escalation.contact_email:
        return
    from escalations.notifications.dispatch import notify_escalation_updated

    notify_escalation_updated(escalation, told=channels_that_went_out(tenant=tenant, escalation=escalation))


@dataclass(frozen=True)
class Raised:
    escalation: Escalation
    created: bool
    frame: dict[str, Any]
    publications: list[Publication] = field(default_factory=list)


def _open_conversation(*, tenant: Tenant, conversation_id: int) -> Conversation:
    cutoff = timezone.now() - timedelta(hours=LIVE_CONVERSATION_HOURS)
    conversation = (
        Conversation.objects.for_tenant(tenant)
        .select_for_update()
        .filter(pk=conversation_id, last_activity_at__gte=cutoff)
        .exclude(status=ConversationStatus.ABANDONED)
        .first()
    )
    if conversation is None:
        raise NO_CONVERSATION
    return conversation


def _merge(escalation: Escalation, hits: Sequence[TriggerHit], reason: str, email: str, phone: str) -> None:
    escalation.reason_codes = list(dict.fromkeys([*escalation.reason_codes, *(hit.code.value for hit in hits)]))
    escalation.evidence = [*escalation.evidence, *({"code": h.code.value, "evidence": h.evidence} for h in hits)]
    if reason and reason not in escalation.reason:
        escalation.reason = f"{escalation.reason}\n{reason}".strip()[:2000]
    escalation.contact_email = email or escalation.contact_email
    escalation.contact_phone = phone or escalation.contact_phone


@transaction.atomic
def escalation_raise(
    *,
    tenant: Tenant,
    conversation_id: int,
    hits: Sequence[TriggerHit],
    reason: str = "",
    email: str = "",
    phone: str = "",
    ip: str = "",
    now: datetime | None = None,
) -> Raised:
    """Open an escalation for the conversation, or add these triggers to its open one.

    Raises ``EscalationError`` (``not_found``: no live conversation of this tenant; ``rate_limited``).
    """
    now = now or timezone.now()
    conversation = _open_conversation(tenant=tenant, conversation_id=conversation_id)
    policy = policy_for(tenant=tenant)
    hours = service_hours_for(tenant=tenant, policy=policy)
    existing = Escalation.objects.for_tenant(tenant).filter(conversation=conversation).exclude(status=Status.RESOLVED)
    escalation = existing.select_for_update().first()
    if escalation is not None:
        old_priority, had_email, old_key = escalation.priority, bool(escalation.contact_email), QueueKey.of(escalation)
        _merge(escalation, hits, reason, email, phone)
        new_priority = priority_for(escalation.reason_codes)
        if PRIORITY_RANK[Priority(new_priority)] < PRIORITY_RANK[Priority(old_priority)]:
            escalation.priority = new_priority
            escalation.sla_due_at = min(escalation.sla_due_at, hours.sla_due(now, _sla_minutes(tenant, new_priority)))
        escalation.updated_at = now
        escalation.save()
        record_event(escalation, EventKind.UPDATED, from_status=escalation.status, codes=[h.code.value for h in hits])
        if not had_email:
            _address_follow_up(tenant=tenant, escalation=escalation)
        place = waiting_place(tenant=tenant, escalation=escalation)
        position = None if place is None else place.position
        text = messages.already_waiting(team=policy.team_name, position=position)
        frame = customer_frame(escalation, status=escalation.status, message=text, position=position)
        moved = line_joined(tenant, place, moved_from=old_key)
        return Raised(escalation, False, frame, [queue_changed(tenant.pk, escalation.pk), *moved])
    customer_key = str(conversation.end_user_id or f"c{conversation.pk}")
    if not escalation_allowed(tenant_id=tenant.pk, ip=ip, customer_key=customer_key):
        raise RATE_LIMITED
    escalation = Escalation(tenant=tenant, conversation=conversation, end_user_id=conversation.end_user_id)
    _merge(escalation, hits, reason, email, phone)
    escalation.priority = priority_for(escalation.reason_codes)
    escalation.mode = Mode.LIVE if hours.is_open(now) else Mode.TICKET
    escalation.sla_due_at = hours.sla_due(now, _sla_minutes(tenant, escalation.priority))
    escalation.summary = conversation_summary(tenant=tenant, conversation=conversation)
    escalation.created_at = escalation.updated_at = now
    if not escalation.contact_email and conversation.end_user_id and conversation.end_user:
        escalation.contact_email = conversation.end_user.email
    escalation.save()
    record_event(escalation, EventKind.CREATED, codes=escalation.reason_codes, mode=escalation.mode)
    if escalation.mode == Mode.LIVE:
        Conversation.objects.filter(pk=conversation.pk).update(status=ConversationStatus.ESCALATED)
        place = waiting_place(tenant=tenant, escalation=escalation)
        position = None if place is None else place.position
        text = messages.live_handoff(team=policy.team_name, position=position)
        moved = line_joined(tenant, place)
    else:
        position, moved = None, []
        text = messages.ticket_handoff(
            team=policy.team_name, reply_by=escalation.sla_due_at, hours=hours, email=escalation.contact_email
        )
    from escalations.notifications.dispatch import notify_escalation_created

    notify_escalation_created(escalation)
    frame = customer_frame(escalation, status=escalation.status, message=text, position=position)
    return Raised(escalation, True, frame, [queue_changed(tenant.pk, escalation.pk), *moved])


def contact_email_capture(*, tenant: Tenant, conversation_id: int, text: str) -> str | None:
    """While an out-of-hours escalation has no email, an address the customer writes is kept for the reply."""
    match = _EMAIL.search(text)
    if match is None:  # the common case costs no query
        return None
    with transaction.atomic():
        escalation = (
            Escalation.objects.for_tenant(tenant)
            .select_for_update()
            .filter(conversation_id=conversation_id, mode=Mode.TICKET, contact_email="")
            .exclude(status=Status.RESOLVED)
            .first()
        )
        if escalation is None:
            return None
        escalation.contact_email = match.group(0)[:254]
        escalation.updated_at = timezone.now()
        escalation.save(update_fields=["contact_email", "updated_at"])
        record_event(escalation, EventKind.UPDATED, from_status=escalation.status, contact_email=True)
        _address_follow_up(tenant=tenant, escalation=escalation)
        return escalation.contact_email
