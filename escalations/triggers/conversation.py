"""Triggers that need the conversation: repeated failure and unanswered questions.

Only what happened since the conversation's last escalation closed counts, so a conversation
handed back to the assistant does not bounce straight back to the inbox.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from chat.models import Conversation, FeedbackValue, Message, MessageFeedback, MessageRole, MessageStatus
from escalations.graphemes import clip
from escalations.models import Escalation
from escalations.triggers import lexicon
from escalations.triggers.codes import ReasonCode, TriggerHit
from escalations.triggers.normalize import normalize, tokens
from escalations.triggers.text import text_hits
from supportai.models import Tenant

UNRESOLVED_ATTEMPTS_NEEDED = 2
UNANSWERED_NEEDED = 2
RECENT_MESSAGES = 20
SAME_QUESTION_SIMILARITY = 0.8
MIN_QUESTION_WORDS = 3
QUOTE_CHARS = 60  # of each customer message a reason quotes
# Outcomes of answers that say nothing about the knowledge: the handoff line, a refused question.
NOT_KNOWLEDGE_GAPS = ("escalated", "blocked")


def _since(*, tenant: Tenant, conversation: Conversation) -> datetime | None:
    last = (
        Escalation.objects.for_tenant(tenant)
        .filter(conversation=conversation, resolved_at__isnull=False)
        .order_by("-resolved_at")
        .values_list("resolved_at", flat=True)
        .first()
    )
    return last


def _similar(a: list[str], b: list[str]) -> bool:
    if len(a) < MIN_QUESTION_WORDS or len(b) < MIN_QUESTION_WORDS:
        return False
    left, right = set(a), set(b)
    return len(left & right) / len(left | right) >= SAME_QUESTION_SIMILARITY


def repeated_failure(*, tenant: Tenant, conversation: Conversation, message: Message) -> TriggerHit | None:
    """Two or more of: a thumbs down, "that didn't help", the same question asked again."""
    since = _since(tenant=tenant, conversation=conversation)
    recent = Message.objects.for_tenant(tenant).filter(
        conversation=conversation, role=MessageRole.CUSTOMER, pk__lt=message.pk
    )
    downs = MessageFeedback.objects.for_tenant(tenant).filter(
        message__conversation=conversation, value=FeedbackValue.DOWN
    )
    if since is not None:
        recent, downs = recent.filter(created_at__gt=since), downs.filter(updated_at__gt=since)
    signals: list[str] = [f"thumbs down on answer {pk}" for pk in downs.values_list("message_id", flat=True)]
    earlier = list(recent.order_by("-pk").values_list("text", flat=True)[:RECENT_MESSAGES])
    for text in [message.text, *earlier]:
        if lexicon.NOT_HELPED.search(normalize(text)):
            signals.append(f"said: {clip(text, QUOTE_CHARS)}")
    current = tokens(message.text)
    if any(_similar(current, tokens(text)) for text in earlier):
        signals.append(f"asked again: {clip(message.text, QUOTE_CHARS)}")
    if len(signals) < UNRESOLVED_ATTEMPTS_NEEDED:
        return None
    return TriggerHit(ReasonCode.REPEATED_FAILURE, "; ".join(signals[:4]))


def unanswered(*, tenant: Tenant, conversation: Conversation) -> TriggerHit | None:
    """The knowledge had nothing relevant (an answer citing no source) for two real questions.

    Answers built from tools (services, availability, bookings) need no passage, and a question the
    input guardrail refused was not one the knowledge could answer: neither counts."""
    since = _since(tenant=tenant, conversation=conversation)
    replies = Message.objects.for_tenant(tenant).filter(
        conversation=conversation,
        role=MessageRole.ASSISTANT,
        status=MessageStatus.COMPLETE,
        sources=[],
        used_tools=False,
    )
    if since is not None:
        replies = replies.filter(created_at__gt=since)
    questions = [
        text
        for text in replies.exclude(outcome__in=NOT_KNOWLEDGE_GAPS)
        .order_by("-pk")
        .values_list("reply_to__text", flat=True)[:RECENT_MESSAGES]
        if text and len(tokens(text)) >= MIN_QUESTION_WORDS
    ]
    if len(questions) < UNANSWERED_NEEDED:
        return None
    return TriggerHit(ReasonCode.NO_ANSWER, "; ".join(clip(q, QUOTE_CHARS) for q in questions[:UNANSWERED_NEEDED]))


def turn_hits(
    *, tenant: Tenant, conversation: Conversation, message: Message, billing_threshold: Decimal
) -> list[TriggerHit]:
    """Every reason this customer turn gives to bring in a human."""
    hits = text_hits(message.text, billing_threshold=billing_threshold)
    if failure := repeated_failure(tenant=tenant, conversation=conversation, message=message):
        hits.append(failure)
    return hits
