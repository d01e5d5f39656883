"""Writes for escalations: raise (create or update), claim, assign, reply, hand back, resolve.

Every transition writes an ``EscalationEvent``. Services return the channel-layer publications the
caller sends after commit; notifications are enqueued with ``transaction.on_commit``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from chat.models import Conversation, ConversationStatus, Message, MessageRole
from escalations import messages
from escalations.limits import RATE_LIMITED_MESSAGE, escalation_allowed
from escalations.models import (
    PRIORITY_RANK,
    Escalation,
    EscalationEvent,
    EventKind,
    Mode,
    Priority,
    Resolution,
    Status,
)
from escalations.realtime import Publication, queue_changed, to_customer, to_inbox
from escalations.selectors import escalation_queue, policy_for, service_hours_for, waiting_positions
from escalations.summary import conversation_summary
from escalations.triggers import ReasonCode, TriggerHit
from supportai.models import Role, Tenant
from supportai.selectors import membership_get

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


def _event(escalation: Escalation, kind: EventKind, *, actor: Any = None, from_status: str = "", **detail: Any) -> None:
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


def _frame_event(escalation: Escalation, frame: dict[str, Any]) -> Publication:
    return to_customer(escalation.conversation_id, {"type": "escalation.status", "frame": frame})


def _position_updates(tenant: Tenant, *, skip: int | None = None) -> list[Publication]:
    """Tell every waiting customer their new place in line."""
    team = policy_for(tenant=tenant).team_name
    updates = []
    for escalation in escalation_queue(tenant=tenant).filter(status=Status.PENDING, mode=Mode.LIVE):
        if escalation.pk == skip:
            continue
        position = waiting_positions(tenant=tenant).get(escalation.pk)
        frame = customer_frame(
            escalation,
            status="pending",
            message=messages.already_waiting(team=team, position=position),
            position=position,
        )
        updates.append(_frame_event(escalation, frame))
    return updates


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
        before = escalation.priority
        _merge(escalation, hits, reason, email, phone)
        new_priority = priority_for(escalation.reason_codes)
        if PRIORITY_RANK[Priority(new_priority)] < PRIORITY_RANK[Priority(before)]:
            escalation.priority = new_priority
            escalation.sla_due_at = min(escalation.sla_due_at, hours.sla_due(now, _sla_minutes(tenant, new_priority)))
        escalation.updated_at = now
        escalation.save()
        _event(escalation, EventKind.UPDATED, from_status=escalation.status, codes=[h.code.value for h in hits])
        position = waiting_positions(tenant=tenant).get(escalation.pk)
        text = messages.already_waiting(team=policy.team_name, position=position)
        frame = customer_frame(escalation, status=escalation.status, message=text, position=position)
        return Raised(escalation, False, frame, [queue_changed(tenant.pk, escalation.pk)])
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
    _event(escalation, EventKind.CREATED, codes=escalation.reason_codes, mode=escalation.mode)
    if escalation.mode == Mode.LIVE:
        Conversation.objects.filter(pk=conversation.pk).update(status=ConversationStatus.ESCALATED)
        position = waiting_positions(tenant=tenant).get(escalation.pk)
        text = messages.live_handoff(team=policy.team_name, position=position)
    else:
        position = None
        text = messages.ticket_handoff(
            team=policy.team_name, reply_by=escalation.sla_due_at, hours=hours, email=escalation.contact_email
        )
    from escalations.notifications.dispatch import notify_escalation_created

    notify_escalation_created(escalation)
    frame = customer_frame(escalation, status=escalation.status, message=text, position=position)
    return Raised(escalation, True, frame, [queue_changed(tenant.pk, escalation.pk)])


@transaction.atomic
def contact_email_capture(*, tenant: Tenant, conversation_id: int, text: str) -> str | None:
    """While an out-of-hours escalation has no email, an address the customer writes is kept for the reply."""
    escalation = (
        Escalation.objects.for_tenant(tenant)
        .select_for_update()
        .filter(conversation_id=conversation_id, mode=Mode.TICKET, contact_email="")
        .exclude(status=Status.RESOLVED)
        .first()
    )
    match = _EMAIL.search(text)
    if escalation is None or match is None:
        return None
    escalation.contact_email = match.group(0)[:254]
    escalation.updated_at = timezone.now()
    escalation.save(update_fields=["contact_email", "updated_at"])
    _event(escalation, EventKind.UPDATED, from_status=escalation.status, contact_email=True)
    return escalation.contact_email


def _require_staff(*, tenant: Tenant, actor: User) -> None:
    membership = membership_get(user=actor, tenant_id=tenant.pk)
    if membership is None or membership.role not in STAFF_ROLES:
        raise NOT_STAFF


def _locked(*, tenant: Tenant, escalation_id: int) -> Escalation:
    escalation = (
        Escalation.objects.for_tenant(tenant)
        .select_for_update()
        .select_related("conversation")
        .filter(pk=escalation_id)
        .first()
    )
    if escalation is None:
        raise EscalationError("not_found", "No such escalation.")
    if not escalation.is_open:
        raise NOT_OPEN
    return escalation


def agent_display_name(user: User) -> str:
    first = getattr(user, "first_name", "")
    return str(first or user.get_username())


def _acknowledge(escalation: Escalation, *, agent: User, actor: User, kind: EventKind) -> None:
    before = escalation.status
    escalation.assigned_to = agent
    escalation.status = Status.ACKNOWLEDGED
    escalation.acknowledged_at = escalation.acknowledged_at or timezone.now()
    escalation.updated_at = timezone.now()
    escalation.save()
    _event(escalation, kind, actor=actor, from_status=before, assigned_to=agent.pk)


def _joined(escalation: Escalation, agent: User) -> list[Publication]:
    frame = customer_frame(
        escalation, status="acknowledged", message=messages.acknowledged(agent_name=agent_display_name(agent))
    )
    return [_frame_event(escalation, frame), queue_changed(escalation.tenant_id, escalation.pk)]


@transaction.atomic
def escalation_claim(*, tenant: Tenant, escalation_id: int, actor: User) -> list[Publication]:
    _require_staff(tenant=tenant, actor=actor)
    escalation = _locked(tenant=tenant, escalation_id=escalation_id)
    if escalation.assigned_to_id == actor.pk:
        return []
    if escalation.assigned_to_id is not None:
        raise CLAIMED_BY_OTHER
    _acknowledge(escalation, agent=actor, actor=actor, kind=EventKind.CLAIMED)
    return [*_joined(escalation, actor), *_position_updates(tenant, skip=escalation.pk)]


@transaction.atomic
def escalation_assign(*, tenant: Tenant, escalation_id: int, actor: User, assignee: User) -> list[Publication]:
    _require_staff(tenant=tenant, actor=actor)
    try:
        _require_staff(tenant=tenant, actor=assignee)
    except EscalationError:
        raise EscalationError("bad_request", "Assign to an agent, admin or owner of this tenant.") from None
    escalation = _locked(tenant=tenant, escalation_id=escalation_id)
    _acknowledge(escalation, agent=assignee, actor=actor, kind=EventKind.ASSIGNED)
    return [*_joined(escalation, assignee), *_position_updates(tenant, skip=escalation.pk)]


@dataclass(frozen=True)
class Reply:
    message: Message
    publications: list[Publication]


@transaction.atomic
def agent_reply(*, tenant: Tenant, escalation_id: int, actor: User, text: str) -> Reply:
    """Store a staff reply in the conversation; claims the escalation when nobody has it yet."""
    text = text.strip()
    if not text or len(text) > MAX_REPLY_CHARS:
        raise EMPTY_REPLY
    _require_staff(tenant=tenant, actor=actor)
    escalation = _locked(tenant=tenant, escalation_id=escalation_id)
    publications: list[Publication] = []
    if escalation.assigned_to_id is None:
        _acknowledge(escalation, agent=actor, actor=actor, kind=EventKind.CLAIMED)
        publications += [*_joined(escalation, actor), *_position_updates(tenant, skip=escalation.pk)]
    message = Message.objects.create(
        tenant=tenant, conversation_id=escalation.conversation_id, role=MessageRole.AGENT, text=text, agent=actor
    )
    Conversation.objects.filter(pk=escalation.conversation_id).update(last_activity_at=timezone.now())
    name = agent_display_name(actor)
    event = {"type": "agent.message", "message_id": message.pk, "text": text, "agent_name": name}
    publications.append(to_customer(escalation.conversation_id, event))  # after "joined", when claimed now
    publications.append(
        to_inbox(
            tenant.pk,
            {**event, "type": "inbox.message", "role": "agent", "conversation_id": escalation.conversation_id},
        )
    )
    return Reply(message, publications)


def _close(
    *, tenant: Tenant, escalation_id: int, actor: User, resolution: Resolution, notes: str
) -> tuple[Escalation, list[Publication]]:
    _require_staff(tenant=tenant, actor=actor)
    escalation = _locked(tenant=tenant, escalation_id=escalation_id)
    before = escalation.status
    escalation.status = Status.RESOLVED
    escalation.resolution = resolution
    escalation.resolution_notes = notes.strip()[:5000]
    escalation.resolved_at = escalation.updated_at = timezone.now()
    escalation.assigned_to = escalation.assigned_to or actor
    escalation.save()
    kind = EventKind.HANDED_BACK if resolution == Resolution.HANDED_BACK else EventKind.RESOLVED
    _event(escalation, kind, actor=actor, from_status=before)
    after = ConversationStatus.OPEN if resolution == Resolution.HANDED_BACK else ConversationStatus.RESOLVED
    Conversation.objects.filter(pk=escalation.conversation_id).update(status=after)
    status, text = (
        ("returned", messages.handed_back())
        if resolution == Resolution.HANDED_BACK
        else ("resolved", messages.resolved())
    )
    publications = [
        _frame_event(escalation, customer_frame(escalation, status=status, message=text)),
        queue_changed(tenant.pk, escalation.pk),
        *_position_updates(tenant),
    ]
    return escalation, publications


@transaction.atomic
def escalation_hand_back(*, tenant: Tenant, escalation_id: int, actor: User, notes: str = "") -> list[Publication]:
    """The assistant answers this conversation again."""
    return _close(
        tenant=tenant, escalation_id=escalation_id, actor=actor, resolution=Resolution.HANDED_BACK, notes=notes
    )[1]


@transaction.atomic
def escalation_resolve(*, tenant: Tenant, escalation_id: int, actor: User, notes: str) -> list[Publication]:
    return _close(tenant=tenant, escalation_id=escalation_id, actor=actor, resolution=Resolution.RESOLVED, notes=notes)[
        1
    ]


def typing_publication(*, tenant: Tenant, escalation: Escalation) -> Publication:
    return to_customer(escalation.conversation_id, {"type": "agent.typing"})


def customer_message_publication(*, tenant: Tenant, message: Message) -> Publication:
    """A customer message in live handoff, for the agents watching the inbox."""
    return to_inbox(
        tenant.pk,
        {
            "type": "inbox.message",
            "role": "customer",
            "conversation_id": message.conversation_id,
            "message_id": message.pk,
            "text": message.text,
            "agent_name": "",
        },
    )
