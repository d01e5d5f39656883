"""Staff actions on an escalation: claim, assign, reply, hand back, resolve (each audited).

Every action re-checks that the actor is an owner, admin or agent of the tenant and locks the
escalation row. Once someone holds an escalation, only they reply, and only they or an owner or admin
reassign or close it (``may_move``). Returns the channel-layer publications for the caller to send after commit (the new
places of those waiting behind are sent on commit: ``services.line_leaving``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from chat.models import Conversation, ConversationStatus, Message, MessageRole
from escalations import messages
from escalations.models import Escalation, EventKind, Resolution, Status
from escalations.realtime import Publication, queue_changed, to_customer
from escalations.selectors import unanswered_question
from escalations.services import (
    CLAIMED_BY_OTHER,
    EMPTY_REPLY,
    MAX_REPLY_CHARS,
    NOT_HOLDER,
    NOT_OPEN,
    NOT_STAFF,
    STAFF_ROLES,
    EscalationError,
    customer_frame,
    frame_publication,
    line_leaving,
    record_event,
)
from escalations.watch import message_publication, status_publication
from knowledge.parsing import storable_text
from supportai.models import MANAGER_ROLES, Membership, Tenant
from supportai.selectors import membership_get


def _require_staff(*, tenant: Tenant, actor: User) -> Membership:
    membership = membership_get(user=actor, tenant_id=tenant.pk)
    if membership is None or membership.role not in STAFF_ROLES:
        raise NOT_STAFF
    return membership


def may_move(*, membership: Membership, escalation: Escalation) -> bool:
    """May this staff member reassign or close ``escalation``? Anyone (agent, admin, owner) while nobody
    holds it; once someone does, only they or an owner or admin: another agent would take the customer's
    contact from under them. The one rule for the inbox socket, the console's forms and what its page offers."""
    return escalation.assigned_to_id in (None, membership.user_id) or membership.role in MANAGER_ROLES


def _locked(*, tenant: Tenant, escalation_id: int) -> Escalation:
    """The open escalation, locked with its conversation. The conversation's row is locked first, in its own
    statement: ``escalation_raise`` locks it, then the escalation, and a change taking them the other way
    round (as one locking join does) deadlocked with a customer asking again, and PostgreSQL ended one."""
    conversation_id = Escalation.objects.for_tenant(tenant).filter(pk=escalation_id).values("conversation_id")
    Conversation.objects.for_tenant(tenant).select_for_update().filter(pk__in=conversation_id).exists()
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
    record_event(escalation, kind, actor=actor, from_status=before, assigned_to=agent.pk)


def _joined(escalation: Escalation, agent: User, version: int | None) -> list[Publication]:
    text = messages.acknowledged(agent_name=agent_display_name(agent))
    frame = customer_frame(escalation, status="acknowledged", message=text, version=version)
    return [frame_publication(escalation, frame), queue_changed(escalation.tenant_id, escalation.pk)]


@transaction.atomic
def escalation_claim(*, tenant: Tenant, escalation_id: int, actor: User) -> list[Publication]:
    _require_staff(tenant=tenant, actor=actor)
    escalation = _locked(tenant=tenant, escalation_id=escalation_id)
    if escalation.assigned_to_id == actor.pk:
        return []
    if escalation.assigned_to_id is not None:
        raise CLAIMED_BY_OTHER
    version = line_leaving(tenant, escalation)
    _acknowledge(escalation, agent=actor, actor=actor, kind=EventKind.CLAIMED)
    return _joined(escalation, actor, version)


@transaction.atomic
def escalation_assign(*, tenant: Tenant, escalation_id: int, actor: User, assignee: User) -> list[Publication]:
    """Assign to a staff member. Only its holder or an owner or admin moves an escalation someone holds."""
    membership = _require_staff(tenant=tenant, actor=actor)
    try:
        _require_staff(tenant=tenant, actor=assignee)
    except EscalationError:
        raise EscalationError("bad_request", "Assign to an agent, admin or owner of this tenant.") from None
    escalation = _locked(tenant=tenant, escalation_id=escalation_id)
    if escalation.assigned_to_id == assignee.pk:
        return []
    if not may_move(membership=membership, escalation=escalation):
        raise CLAIMED_BY_OTHER
    version = line_leaving(tenant, escalation)
    _acknowledge(escalation, agent=assignee, actor=actor, kind=EventKind.ASSIGNED)
    return _joined(escalation, assignee, version)


@dataclass(frozen=True)
class Reply:
    message: Message
    publications: list[Publication]


@transaction.atomic
def agent_reply(*, tenant: Tenant, escalation_id: int, actor: User, text: str) -> Reply:
    """Store a staff reply in the conversation; claims the escalation when nobody has it yet.

    Raises ``CLAIMED_BY_OTHER`` when another staff member holds it (they are the customer's contact).
    """
    text = storable_text(text).strip()  # a NUL or lone surrogate (JSON escapes allow both) can't be stored
    if not text or len(text) > MAX_REPLY_CHARS:
        raise EMPTY_REPLY
    _require_staff(tenant=tenant, actor=actor)
    escalation = _locked(tenant=tenant, escalation_id=escalation_id)
    if escalation.assigned_to_id not in (None, actor.pk):
        raise CLAIMED_BY_OTHER
    publications: list[Publication] = []
    if escalation.assigned_to_id is None:
        version = line_leaving(tenant, escalation)
        _acknowledge(escalation, agent=actor, actor=actor, kind=EventKind.CLAIMED)
        publications += _joined(escalation, actor, version)
    message = Message.objects.create(
        tenant=tenant, conversation_id=escalation.conversation_id, role=MessageRole.AGENT, text=text, agent=actor
    )
    Conversation.objects.filter(pk=escalation.conversation_id).update(last_activity_at=timezone.now())
    name = agent_display_name(actor)
    event = {"type": "agent.message", "message_id": message.pk, "text": text, "agent_name": name}
    publications.append(to_customer(escalation.conversation_id, event))  # after "joined", when claimed now
    publications.append(message_publication(message))
    return Reply(message, publications)


def _close(
    *, tenant: Tenant, escalation_id: int, actor: User, resolution: Resolution, notes: str
) -> tuple[Escalation, list[Publication]]:
    membership = _require_staff(tenant=tenant, actor=actor)
    escalation = _locked(tenant=tenant, escalation_id=escalation_id)
    if not may_move(membership=membership, escalation=escalation):
        raise NOT_HOLDER
    before = escalation.status
    version = line_leaving(tenant, escalation)
    escalation.status = Status.RESOLVED
    escalation.resolution = resolution
    escalation.resolution_notes = storable_text(notes).strip()[:5000]
    escalation.resolved_at = escalation.updated_at = timezone.now()
    escalation.assigned_to = escalation.assigned_to or actor
    escalation.save()
    kind = EventKind.HANDED_BACK if resolution == Resolution.HANDED_BACK else EventKind.RESOLVED
    record_event(escalation, kind, actor=actor, from_status=before)
    after = ConversationStatus.OPEN if resolution == Resolution.HANDED_BACK else ConversationStatus.RESOLVED
    Conversation.objects.filter(pk=escalation.conversation_id).update(status=after)
    status, text = (
        ("returned", messages.handed_back())
        if resolution == Resolution.HANDED_BACK
        else ("resolved", messages.resolved())
    )
    closed = frame_publication(escalation, customer_frame(escalation, status=status, message=text, version=version))
    handed_back = resolution == Resolution.HANDED_BACK
    question = unanswered_question(tenant=tenant, conversation_id=escalation.conversation_id) if handed_back else None
    if question is not None:
        # the customer wrote after the last reply (just as staff handed back): the assistant answers it
        closed = to_customer(escalation.conversation_id, {**closed.event, "answer": question.pk})
    return escalation, [closed, queue_changed(tenant.pk, escalation.pk), status_publication(escalation)]


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
