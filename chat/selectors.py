"""Reads for conversations (widget history, console lists and transcripts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import DecimalField, OuterRef, QuerySet, Subquery, Sum

from bookings.availability import local_day_bounds
from bookings.widget import open_proposal_frames
from chat.models import Conversation, Message, MessageRole, MessageStatus
from escalations.handoff import resume_frames as handoff_resume_frames
from routing.language import DEFAULT, next_language
from supportai.models import Tenant

HISTORY_LIMIT = 50


def message_frame(message: Message) -> dict[str, Any]:
    """A stored message as the widget sees it in ``session.ready.history``.

    An assistant answer carries ``reply_to``: the ``client_id`` of the question it answers (null when
    that question is gone or had none), which the widget settles exactly, whatever the order of answers.
    """
    frame: dict[str, Any] = {
        "message_id": message.pk,
        "role": message.role,
        "text": message.text,
        "status": message.status,
        "sources": message.sources,
        "created_at": message.created_at.isoformat(),
    }
    if message.role == MessageRole.ASSISTANT:
        question = message.reply_to
        frame["reply_to"] = (question.client_id or None) if question is not None else None
    return frame


def conversation_history(
    *, tenant: Tenant, conversation: Conversation, limit: int = HISTORY_LIMIT
) -> list[dict[str, Any]]:
    messages = (
        Message.objects.for_tenant(tenant)
        .filter(conversation=conversation)
        .exclude(status=MessageStatus.STREAMING)
        .select_related("reply_to")
        .order_by("-created_at", "-pk")[:limit]
    )
    return [message_frame(message) for message in reversed(list(messages))]


def conversation_language(history: list[dict[str, Any]], *, otherwise: str = DEFAULT) -> str:
    """The conversation's language: where the customer's messages in ``history`` (``conversation_history``'s)
    have taken it, one after the other (``next_language``: a German conversation's "OK" or "um 10 Uhr" keeps it
    German, "Can you write in English?" makes it English), else ``otherwise`` (English). The widget's frames and
    the assistant's proposals are said in it."""
    language: str | None = None
    for frame in history:
        if frame["role"] == MessageRole.CUSTOMER:
            language = next_language(language, frame["text"])
    return language or otherwise


def conversation_language_get(*, tenant: Tenant, conversation: Conversation) -> str:
    """``conversation_language`` of ``tenant``'s ``conversation``, read from its stored messages."""
    return conversation_language(conversation_history(tenant=tenant, conversation=conversation))


def conversation_resume_frames(*, tenant: Tenant, conversation: Conversation) -> list[dict[str, Any]]:
    """What a resumed widget gets right after ``session.ready`` to show its state again.

    The open handoff's ``escalation`` frame (banner), then a ``proposal`` frame for each proposal the
    customer can still confirm, oldest first. Empty for a conversation with neither.
    """
    return [
        *handoff_resume_frames(tenant=tenant, conversation=conversation),
        *open_proposal_frames(tenant=tenant, conversation=conversation),
    ]


@dataclass(frozen=True)
class ConversationFilters:
    status: str = ""
    channel: str = ""
    rating: int | None = None
    date_from: date | None = None
    date_to: date | None = None


def conversation_list(*, tenant: Tenant, filters: ConversationFilters | None = None) -> QuerySet[Conversation]:
    """The tenant's conversations, most recently active first, each with its ``cost`` (None without messages).

    The cost is a correlated subquery, so it is summed only for the rows fetched, and a count drops it
    instead of joining and grouping all the tenant's messages.
    """
    filters = filters or ConversationFilters()
    cost = (
        Message.objects.for_tenant(tenant)
        .filter(conversation=OuterRef("pk"))
        .order_by()
        .values("conversation")
        .annotate(total=Sum("cost_usd"))
        .values("total")
    )
    queryset: QuerySet[Conversation] = (
        Conversation.objects.for_tenant(tenant)
        .select_related("end_user", "rating")
        .annotate(cost=Subquery(cost, output_field=DecimalField()))
        .order_by("-last_activity_at", "-pk")
    )
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.channel:
        queryset = queryset.filter(channel=filters.channel)
    if filters.rating is not None:
        queryset = queryset.filter(rating__rating=filters.rating)
    # Dates are the tenant's local days, as on the bookings list.
    if filters.date_from:
        queryset = queryset.filter(started_at__gte=local_day_bounds(tenant, filters.date_from)[0])
    if filters.date_to:
        queryset = queryset.filter(started_at__lt=local_day_bounds(tenant, filters.date_to)[1])
    return queryset


def conversation_get(*, tenant: Tenant, pk: int) -> Conversation | None:
    return Conversation.objects.for_tenant(tenant).select_related("end_user").filter(pk=pk).first()


def transcript(*, tenant: Tenant, conversation: Conversation) -> QuerySet[Message]:
    return (
        Message.objects.for_tenant(tenant)
        .filter(conversation=conversation)
        .select_related("feedback", "agent")
        .order_by("created_at", "pk")
    )
