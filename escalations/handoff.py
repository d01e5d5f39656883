"""Where chat meets the handoff: what ``chat.engine.answer_turn`` and the chat consumer call.

* ``intercept_turn`` runs first on every customer turn: while a human has the conversation it
  forwards the message to the inbox and the assistant stays silent; when a trigger fires it opens
  (or updates) the escalation and the assistant says the handoff line instead of answering.
* ``after_answer`` runs on a stored answer: the knowledge had nothing relevant twice → hand over.
* ``escalate_request`` answers the widget's ``escalate`` frame ("Talk to a human").
* ``question_handed_back``: the customer message left unanswered at a hand-back, for the socket to answer.
* ``resume_frames`` gives a resumed widget the open handoff's ``escalation`` frame again.
* ``FrameOrder`` keeps a socket from sending an ``escalation`` frame older than one it already sent.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from chat.models import Conversation, Message, MessageStatus
from chat.phrases import ErrorText
from chat.protocol import ErrorCode, Escalate, ProtocolError, end_frame, start_frame
from chat.services import AssistantOutcome, assistant_message_finish, assistant_message_start
from escalations import messages
from escalations.models import Escalation, Mode, Status
from escalations.realtime import Publication, publish_committed
from escalations.reasons import clip
from escalations.selectors import (
    billing_threshold_for,
    in_live_handoff,
    in_waiting_line,
    line_version,
    open_escalation_for,
    place_with_version,
    policy_for,
    service_hours_for,
    unanswered_question,
)
from escalations.services import (
    EscalationError,
    Raised,
    contact_email_capture,
    customer_frame,
    escalation_raise,
    ticket_line,
)
from escalations.staff import agent_display_name
from escalations.triggers import ReasonCode, TriggerHit
from escalations.triggers.conversation import turn_hits, unanswered
from escalations.watch import publish_message
from supportai.db import db_call
from supportai.models import Tenant

logger = logging.getLogger(__name__)
Emit = Callable[[dict[str, Any]], Awaitable[None]]
HANDOFF_MODEL = "handoff"
PROTOCOL_CODES = {"rate_limited": ErrorCode.RATE_LIMITED, "not_found": ErrorCode.NOT_FOUND}
# The customer's sentence of each refusal ``escalation_raise`` may give (``services.NO_CONVERSATION``,
# ``services.RATE_LIMITED``); the others are staff-only.
CUSTOMER_TEXTS = {"not_found": ErrorText.HANDOFF_CHAT_ENDED, "rate_limited": ErrorText.HANDOFF_TOO_OFTEN}


@dataclass(frozen=True)
class TurnHandling:
    """``done``: the turn is handled here and the assistant must not generate. ``reply``: what it said."""

    done: bool
    reply: Message | None = None


@dataclass(frozen=True)
class _Plan:
    live: bool = False
    raised: Raised | None = None
    say: str = ""
    publications: tuple[Publication, ...] = ()


def _plan_turn(*, tenant: Tenant, conversation: Conversation, question: Message) -> _Plan:
    if in_live_handoff(tenant=tenant, conversation_id=conversation.pk):
        return _Plan(live=True)  # the inbox already has the message (``watch.publish_message`` on receipt)
    if email := contact_email_capture(tenant=tenant, conversation_id=conversation.pk, text=question.text):
        return _Plan(say=messages.email_noted(email=email))
    threshold = billing_threshold_for(tenant=tenant)
    hits = turn_hits(tenant=tenant, conversation=conversation, message=question, billing_threshold=threshold)
    if not hits:
        return _Plan()
    try:
        raised = escalation_raise(
            tenant=tenant, conversation_id=conversation.pk, hits=hits, reason=clip(question.text, 500)
        )
    except EscalationError as exc:  # rate limited or no live conversation: the assistant answers as usual
        logger.info("escalation not raised for conversation %s: %s", conversation.pk, exc.code)
        return _Plan()
    if not raised.created:  # already escalated (out of hours): keep helping, the team has it
        return _Plan(publications=tuple(raised.publications))
    return _Plan(raised=raised, say=raised.frame["message"], publications=tuple(raised.publications))


def _store_handoff_line(*, tenant: Tenant, conversation: Conversation, question: Message, text: str) -> Message:
    reply = assistant_message_start(tenant=tenant, conversation=conversation, reply_to=question)
    outcome = AssistantOutcome(
        text=text, status=MessageStatus.COMPLETE, sources=[], model=HANDOFF_MODEL, outcome="escalated", confidence=1.0
    )
    return assistant_message_finish(tenant=tenant, message_id=reply.pk, outcome=outcome)


async def intercept_turn(*, tenant: Tenant, conversation: Conversation, question: Message, emit: Emit) -> TurnHandling:
    plan = await db_call(_plan_turn)(tenant=tenant, conversation=conversation, question=question)
    await publish_committed(plan.publications)
    if plan.live:
        return TurnHandling(done=True)
    if not plan.say:
        return TurnHandling(done=False)
    reply = await db_call(_store_handoff_line)(
        tenant=tenant, conversation=conversation, question=question, text=plan.say
    )
    await publish_message(reply)
    await emit(start_frame(reply, question=question))
    await emit({"type": "message.delta", "message_id": reply.pk, "text": reply.text})
    await emit(end_frame(reply, question=question, escalated=plan.raised is not None))
    if plan.raised is not None:
        await emit(plan.raised.frame)
    return TurnHandling(done=True, reply=reply)


def _raise_after_answer(*, tenant: Tenant, conversation: Conversation) -> Raised | None:
    hit = unanswered(tenant=tenant, conversation=conversation)
    if hit is None:
        return None
    try:
        raised = escalation_raise(tenant=tenant, conversation_id=conversation.pk, hits=[hit])
    except EscalationError:
        return None
    return raised if raised.created else None


async def after_answer(*, tenant: Tenant, conversation: Conversation, reply: Message) -> Raised | None:
    """Call with the stored answer; a returned escalation is announced with ``announce``."""
    if reply.sources or reply.used_tools or reply.status != MessageStatus.COMPLETE:
        return None
    return await db_call(_raise_after_answer)(tenant=tenant, conversation=conversation)


async def announce(raised: Raised, emit: Emit) -> None:
    await emit(raised.frame)
    await publish_committed(raised.publications)


def button_raise(*, tenant: Tenant, conversation_id: int, command: Escalate, ip: str) -> Raised:
    email = command.email.strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ProtocolError.of(ErrorCode.BAD_REQUEST, ErrorText.BAD_EMAIL, field="email") from None
    hit = TriggerHit(ReasonCode.CUSTOMER_REQUEST, "Talk to a human")
    try:
        return escalation_raise(
            tenant=tenant,
            conversation_id=conversation_id,
            hits=[hit],
            reason=command.reason.strip(),
            email=email,
            phone=command.phone.strip(),
            ip=ip,
        )
    except EscalationError as exc:
        code, text = PROTOCOL_CODES.get(exc.code, ErrorCode.BAD_REQUEST), CUSTOMER_TEXTS.get(exc.code)
        raise (ProtocolError(code, exc.message) if text is None else ProtocolError.of(code, text)) from None


async def escalate_request(*, tenant: Tenant, conversation_id: int, command: Escalate, ip: str) -> dict[str, Any]:
    """The ``escalation`` frame for an ``escalate`` request; raises ``ProtocolError`` (rate limited, …)."""
    raised = await db_call(button_raise)(tenant=tenant, conversation_id=conversation_id, command=command, ip=ip)
    await publish_committed(raised.publications)
    return raised.frame


def question_handed_back(*, tenant: Tenant, conversation: Conversation, event: dict[str, Any]) -> Message | None:
    """The customer message an ``escalation.status`` event hands to the assistant, while still unanswered.

    Staff handed the conversation back after the customer wrote (``staff._close``); the customer's socket
    queues it as a turn. Another conversation's message, or one answered meanwhile, is None.
    """
    message_id = event.get("answer")
    if not isinstance(message_id, int):
        return None
    question = unanswered_question(tenant=tenant, conversation_id=conversation.pk)
    return question if question is not None and question.pk == message_id else None


def resume_frames(*, tenant: Tenant, conversation: Conversation) -> list[dict[str, Any]]:
    """The ``escalation`` frame of the conversation's open handoff (none when closed), as it stands now.

    Sent after ``session.ready`` on resume so the widget shows its banner again; the message is the
    one the customer would get for that state (in line with their place, who joined, when the team replies).
    A handoff that left its place in line between its read and its place's count (claimed, closed or moved
    up meanwhile) is read again: each pass needs another such change to the handoff, so this ends.
    """
    while True:
        escalation = open_escalation_for(tenant=tenant, conversation=conversation)
        if escalation is None:
            return []
        frame = _resume_frame(tenant=tenant, escalation=escalation)
        if frame is not None:
            return [frame]


def _resume_frame(*, tenant: Tenant, escalation: Escalation) -> dict[str, Any] | None:
    """The frame of ``escalation`` as read; None when it was waiting and no longer stands where it was read."""
    position, version = None, None
    if escalation.status == Status.ACKNOWLEDGED and escalation.assigned_to is not None:
        text = messages.acknowledged(agent_name=agent_display_name(escalation.assigned_to))
        version = line_version(tenant=tenant)
    elif escalation.mode == Mode.TICKET:
        policy = policy_for(tenant=tenant)
        text = ticket_line(escalation, team=policy.team_name, hours=service_hours_for(tenant=tenant, policy=policy))
    else:
        position, version = place_with_version(tenant=tenant, escalation=escalation)
        if position is None and in_waiting_line(tenant=tenant, escalation=escalation):
            return None
        text = messages.already_waiting(team=policy_for(tenant=tenant).team_name, position=position)
    return customer_frame(escalation, status=escalation.status, message=text, position=position, version=version)


class FrameOrder:
    """The newest waiting-line state one socket has told its customer. The frames of a handoff reach a
    socket by two paths, the reply to the customer's own raise and the channel group (places told after
    other changes, the agent joining), so one read earlier can come after one read later: an
    ``escalation`` frame with a ``version`` below one already sent is stale, and not sent."""

    def __init__(self) -> None:
        self._version = 0

    def admits(self, frame: dict[str, Any]) -> bool:
        version = frame.get("version")
        if frame.get("type") != "escalation" or not isinstance(version, int):
            return True
        if version < self._version:
            return False
        self._version = version
        return True
