"""Writes for conversations: open/resume, customer messages, assistant replies, feedback, ratings."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from chat.models import (
    Channel,
    Conversation,
    ConversationRating,
    FeedbackValue,
    Message,
    MessageFeedback,
    MessageRole,
    MessageStatus,
)
from chat.phrases import ErrorText, english_error
from chat.tools import MAX_TOOL_ROUNDS
from routing.config import routing_settings
from routing.models import CallOutcome, CallPurpose, CostEvent
from supportai.identity import IdentityRejection, end_user_for_identity, verify_identity
from supportai.models import EndUser, Tenant

RESUME_TOKEN_BYTES = 32


class ChatError(Exception):
    """A request that names something the caller may not touch (same answer for 'absent' and 'not yours')."""


MESSAGE_NOT_FOUND = "No such answer in this conversation."


class FeedbackRefused(Exception):
    """Feedback on an answer still being written (``streaming``) or that failed: nothing to judge yet, or
    nothing the assistant said. ``status`` is the answer's."""

    def __init__(self, status: MessageStatus) -> None:
        super().__init__(f"no feedback on a {status} answer")
        self.status = status


FEEDBACK_REFUSED_STATUSES = (MessageStatus.STREAMING, MessageStatus.FAILED)


class ClientIdReused(Exception):
    """A ``client_id`` the conversation already has for a message with another text: no resend, refused."""


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class OpenedConversation:
    conversation: Conversation
    resume_token: str


def conversation_open(*, tenant: Tenant, origin: str = "", channel: str = Channel.WEB) -> OpenedConversation:
    token = secrets.token_urlsafe(RESUME_TOKEN_BYTES)
    conversation = Conversation.objects.create(
        tenant=tenant, origin=origin[:255], channel=channel, resume_token_hash=_hash_token(token)
    )
    return OpenedConversation(conversation=conversation, resume_token=token)


def conversation_resume(*, tenant: Tenant, resume_token: str) -> Conversation | None:
    """The tenant's conversation for ``resume_token``, or None (unknown, another tenant's, expired, or
    idle for ``CHAT_RESUME_IDLE_DAYS``: checked here too, so it holds where the housekeeping job
    that expires such tokens does not run)."""
    if not resume_token or len(resume_token) > 128:
        return None
    return (
        Conversation.objects.for_tenant(tenant)
        .select_related("end_user")
        .filter(resume_token_hash=_hash_token(resume_token), last_activity_at__gte=_resume_idle_cutoff())
        .first()
    )


def _resume_idle_cutoff() -> datetime:
    return timezone.now() - timedelta(days=settings.CHAT_RESUME_IDLE_DAYS)


@dataclass(frozen=True)
class ReceivedMessage:
    message: Message
    created: bool
    reply: Message | None
    finished_reply: Message | None = None  # ``reply``, when this call finished it (abandoned mid-answer)

    @property
    def news(self) -> Message | None:
        """What this call stored for staff to see: the new question, or the reply it finished."""
        return self.message if self.created else self.finished_reply


def message_receive(*, tenant: Tenant, conversation: Conversation, client_id: str, text: str) -> ReceivedMessage:
    """Store a customer message once per ``client_id``; a resend returns the first copy and its reply.

    New messages are the common case, so the insert comes first and the unique ``client_id`` per
    conversation decides: a resend fails it and gets the stored copy instead. A reply its server
    abandoned mid-answer is finished as interrupted first (see ``reply_abandoned_after``). A
    ``client_id`` stored with another ``text`` raises ``ClientIdReused``: that is a new question under
    an old id, and the old question's answer is no answer to it.
    """
    try:
        with transaction.atomic():
            message = Message.objects.create(
                tenant=tenant,
                conversation=conversation,
                role=MessageRole.CUSTOMER,
                text=text,
                client_id=client_id,
            )
            Conversation.objects.filter(pk=conversation.pk).update(last_activity_at=timezone.now())
        return ReceivedMessage(message=message, created=True, reply=None)
    except IntegrityError:
        existing = Message.objects.for_tenant(tenant).get(conversation=conversation, client_id=client_id)
    if existing.text != text:
        raise ClientIdReused(client_id)
    reply = existing.replies.filter(role=MessageRole.ASSISTANT).order_by("-pk").first()
    if reply is not None and reply.status == MessageStatus.STREAMING:
        finished = _reply_finish_if_abandoned(tenant=tenant, reply=reply)
        if finished is not None:
            return ReceivedMessage(message=existing, created=False, reply=finished, finished_reply=finished)
    return ReceivedMessage(message=existing, created=False, reply=reply)


# A claim is released when its turn ends without a reply row; one older than this was left by a
# server that died before storing its reply, and a resend may answer the question after all.
ANSWER_CLAIM_TIMEOUT = timedelta(minutes=2)


def message_answer_claim(*, tenant: Tenant, question: Message) -> bool:
    """Whether the caller is the one to answer ``question``: True for one caller at a time, in any process.

    Two requests carrying the same ``client_id`` (a resend on another connection, HTTP or websocket)
    can both find the question without a reply, since the reply row is stored only once retrieval is
    done. The conditional update on the question's row lets exactly one of them answer; the claim holds
    until its turn stores the reply row (which then decides, see ``message_receive``) or releases it.
    """
    now = timezone.now()
    answered = Message.objects.filter(reply_to=OuterRef("pk"), role=MessageRole.ASSISTANT)
    claimed = (
        Message.objects.for_tenant(tenant)
        .filter(pk=question.pk, role=MessageRole.CUSTOMER)
        .filter(Q(answer_claimed_at__isnull=True) | Q(answer_claimed_at__lt=now - ANSWER_CLAIM_TIMEOUT))
        .filter(~Exists(answered))
        .update(answer_claimed_at=now)
    )
    return claimed == 1


def message_answer_release(*, tenant: Tenant, question: Message) -> None:
    """Give up the claim on ``question`` (its turn ended without a reply row), so a resend is answered."""
    Message.objects.for_tenant(tenant).filter(pk=question.pk).update(answer_claimed_at=None)


def assistant_message_start(*, tenant: Tenant, conversation: Conversation, reply_to: Message) -> Message:
    return Message.objects.create(
        tenant=tenant,
        conversation=conversation,
        role=MessageRole.ASSISTANT,
        status=MessageStatus.STREAMING,
        reply_to=reply_to,
    )


@dataclass(frozen=True)
class AssistantOutcome:
    text: str
    status: MessageStatus
    sources: list[dict[str, Any]]
    tier: int | None = None
    provider: str = ""
    model: str = ""
    confidence: float | None = None
    outcome: str = ""
    used_tools: bool = False
    time_to_first_token_ms: float | None = None
    latency_ms: float | None = None


def _record_usage(*, tenant: Tenant, message: Message) -> None:
    """Tokens and dollars are the sum of the message's ``CostEvent`` rows, the ones its budget was
    charged (calls cancelled mid-answer and earlier tool rounds included), so the console's totals
    and the budget agree. An answer cut short or failed names no model itself: it gets the tier and
    model of its last answering call."""
    events = CostEvent.objects.for_tenant(tenant).filter(message_id=message.pk)
    usage = events.aggregate(
        input_tokens=Sum("input_tokens", default=0),
        output_tokens=Sum("output_tokens", default=0),
        cache_write_tokens=Sum("cache_write_tokens", default=0),
        cost_usd=Sum("cost_usd", default=Decimal("0")),
    )
    message.input_tokens, message.output_tokens = usage["input_tokens"], usage["output_tokens"]
    message.cache_write_tokens = usage["cache_write_tokens"]
    message.cost_usd = usage["cost_usd"]
    if message.model:
        return
    last_call = events.filter(purpose=CallPurpose.ANSWER).exclude(outcome=CallOutcome.FALLBACK).order_by("-pk").first()
    if last_call is not None:
        message.tier, message.provider, message.model = last_call.tier, last_call.provider, last_call.model


class ReplyAlreadyFinished(Exception):
    """The reply is final already: it was finished as abandoned while its turn still ran (``reply``: as stored)."""

    def __init__(self, reply: Message) -> None:
        super().__init__(f"reply {reply.pk} is already {reply.status}")
        self.reply = reply


@transaction.atomic
def assistant_message_finish(*, tenant: Tenant, message_id: int, outcome: AssistantOutcome) -> Message:
    """Store ``outcome`` on the reply while it is still streaming; raises ``ReplyAlreadyFinished`` when it
    is not (a resend or the sweep finished it as abandoned first: that version stands, never overwritten)."""
    message = (
        Message.objects.for_tenant(tenant)
        .select_for_update()
        .filter(pk=message_id, status=MessageStatus.STREAMING)
        .first()
    )
    if message is None:
        raise ReplyAlreadyFinished(Message.objects.for_tenant(tenant).get(pk=message_id))
    for field, value in outcome.__dict__.items():
        setattr(message, field, value)
    _record_usage(tenant=tenant, message=message)
    message.save()
    Conversation.objects.filter(pk=message.conversation_id).update(last_activity_at=timezone.now())
    return message


INTERRUPTED_EMPTY = AssistantOutcome(text="", status=MessageStatus.INTERRUPTED, sources=[])

# Beyond its rounds' router deadlines: a streaming call's timeout runs per delta, and retrieval and
# tool calls take their time too.
REPLY_ABANDON_MARGIN = timedelta(minutes=2)


def reply_abandoned_after() -> timedelta:
    """How long a reply may stream before it counts as abandoned by a server that died mid-answer.

    A reply row is written when its turn starts streaming and when it ends (deltas are not stored), so
    nothing marks a turn alive in between; a turn runs up to ``MAX_TOOL_ROUNDS + 1`` rounds, each
    within the router's turn deadline (``ROUTING_TURN_DEADLINE_S``), plus ``REPLY_ABANDON_MARGIN``.
    """
    rounds = MAX_TOOL_ROUNDS + 1
    return rounds * timedelta(seconds=routing_settings().turn_deadline_s) + REPLY_ABANDON_MARGIN


def _reply_finish_if_abandoned(*, tenant: Tenant, reply: Message) -> Message | None:
    """Finish ``reply`` as interrupted if its server abandoned it, and return it; None when it is
    still young or another caller finished it first (the row lock lets one caller do it; a resend
    losing that race gets the ack alone, as while the answer streams).

    Like an answer cut short when its customer left, it is repeated to resends as ``interrupted``
    (docs/websocket-protocol.md), with no text: what it streamed was never stored.
    """
    if reply.created_at >= timezone.now() - reply_abandoned_after():
        return None
    try:
        return assistant_message_finish(tenant=tenant, message_id=reply.pk, outcome=INTERRUPTED_EMPTY)
    except ReplyAlreadyFinished:
        return None


def _assistant_message(*, tenant: Tenant, conversation: Conversation, message_id: int) -> Message:
    message = (
        Message.objects.for_tenant(tenant)
        .filter(conversation=conversation, pk=message_id, role=MessageRole.ASSISTANT)
        .first()
    )
    if message is None:
        raise ChatError(MESSAGE_NOT_FOUND)
    return message


@transaction.atomic
def feedback_submit(
    *, tenant: Tenant, conversation: Conversation, message_id: int, value: FeedbackValue | str, comment: str = ""
) -> MessageFeedback:
    """One feedback per answer: a second submission updates the first. Raises ``ChatError`` when
    ``message_id`` is no answer of the conversation, ``FeedbackRefused`` while it streams or when it failed."""
    message = _assistant_message(tenant=tenant, conversation=conversation, message_id=message_id)
    if message.status in FEEDBACK_REFUSED_STATUSES:
        raise FeedbackRefused(MessageStatus(message.status))
    feedback, _ = MessageFeedback.objects.update_or_create(
        message=message,
        defaults={"tenant": tenant, "value": value, "comment": comment, "updated_at": timezone.now()},
    )
    return feedback


@transaction.atomic
def rating_submit(*, tenant: Tenant, conversation: Conversation, rating: int, comment: str = "") -> ConversationRating:
    if not 1 <= rating <= 5:
        raise ValueError("rating must be between 1 and 5")
    stored, _ = ConversationRating.objects.update_or_create(
        conversation=conversation,
        defaults={"tenant": tenant, "rating": rating, "comment": comment, "updated_at": timezone.now()},
    )
    return stored


IDENTITY_BELONGS_TO_OTHER = english_error(ErrorText.IDENTITY_CONFLICT)
# The customer's sentence of each refusal of an identity token (``IdentityError.rejection``).
IDENTITY_REFUSALS: dict[IdentityRejection, ErrorText] = {
    IdentityRejection.NOT_CONFIGURED: ErrorText.IDENTITY_NOT_CONFIGURED,
    IdentityRejection.INVALID: ErrorText.IDENTITY_INVALID,
    IdentityRejection.EXPIRED: ErrorText.IDENTITY_EXPIRED,
    IdentityRejection.TOO_LONG_LIVED: ErrorText.IDENTITY_TOO_LONG_LIVED,
    IdentityRejection.UNAVAILABLE: ErrorText.IDENTITY_UNAVAILABLE,
}


def conversation_identify(*, tenant: Tenant, conversation: Conversation, token: str) -> EndUser:
    """Link the conversation to the customer a signed identity token proves.

    Raises ``IdentityError`` for an unverified token (the visitor stays anonymous) and ``ChatError``
    when the conversation is already linked to a different customer (a shared device must start a
    new conversation rather than read someone else's).
    """
    identity = verify_identity(tenant=tenant, token=token)
    with transaction.atomic():
        locked = Conversation.objects.for_tenant(tenant).select_for_update().get(pk=conversation.pk)
        end_user = end_user_for_identity(tenant=tenant, identity=identity)
        if locked.end_user_id not in (None, end_user.pk):
            raise ChatError(IDENTITY_BELONGS_TO_OTHER)
        if locked.end_user_id is None:
            locked.end_user = end_user
            locked.save(update_fields=["end_user"])
    conversation.end_user = end_user
    return end_user


EXPIRED_TOKEN_PREFIX = "expired:"


def conversation_expire_idle_resume_tokens(*, idle_for: timedelta) -> int:
    """Make resume tokens of conversations idle longer than ``idle_for`` unusable; returns how many.

    The stored hash is replaced by a random value that no token hashes to (SHA-256 hex has no ``:``).
    """
    cutoff = timezone.now() - idle_for
    idle = Conversation.objects.filter(last_activity_at__lt=cutoff).exclude(
        resume_token_hash__startswith=EXPIRED_TOKEN_PREFIX
    )
    expired = 0
    for pk in idle.values_list("pk", flat=True).iterator():
        expired += Conversation.objects.filter(pk=pk, last_activity_at__lt=cutoff).update(  # not active meanwhile
            resume_token_hash=EXPIRED_TOKEN_PREFIX + secrets.token_hex(27)
        )
    return expired


ABANDONED_REPLIES_BATCH = 200


def _abandoned_replies() -> QuerySet[Message]:
    cutoff = timezone.now() - reply_abandoned_after()
    return Message.objects.filter(role=MessageRole.ASSISTANT, status=MessageStatus.STREAMING, created_at__lt=cutoff)


def conversation_finish_abandoned_replies(*, tenant: Tenant, conversation: Conversation) -> list[Message]:
    """Finish the conversation's replies abandoned mid-answer as interrupted, as a resend would
    (``_reply_finish_if_abandoned``); the ones finished by this call, for staff to see."""
    stale = _abandoned_replies().filter(tenant=tenant, conversation=conversation).order_by("pk")
    finished = (_reply_finish_if_abandoned(tenant=tenant, reply=reply) for reply in stale)
    return [reply for reply in finished if reply is not None]


def replies_finish_abandoned(*, batch_size: int = ABANDONED_REPLIES_BATCH) -> Iterator[list[Message]]:
    """Every tenant's replies abandoned mid-answer, finished as interrupted (each under its own tenant),
    ``batch_size`` rows at a time; yields the replies each batch finished, for staff to see."""
    after = 0
    while batch := list(_abandoned_replies().filter(pk__gt=after).select_related("tenant").order_by("pk")[:batch_size]):
        after = batch[-1].pk
        finished = (_reply_finish_if_abandoned(tenant=reply.tenant, reply=reply) for reply in batch)
        yield [reply for reply in finished if reply is not None]
