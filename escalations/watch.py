"""Staff watching one conversation live in the inbox: its group, its ``message`` and ``status`` events, the replay.

Every message of a conversation is published once, after it is stored: the customer's when it is
received, the assistant's when its answer is final (complete, failed or interrupted), a staff reply
when it is sent. The group is ``inbox.watch.<tenant id>.<conversation id>``; an inbox socket joins it
with a ``watch`` frame once ``watchable_conversation`` found the conversation in the socket's tenant.
The event carries what the inbox transcript shows and nothing more (no cost, tokens, model, prompt).
An escalation resolved or handed back publishes its ``status`` there too (the open escalation page
takes its forms off), and a ``watch`` naming a closed escalation of the conversation gets it at once.
"""

from __future__ import annotations

import logging
from typing import Any

from chat.models import Conversation, Message, MessageRole, MessageStatus
from escalations.models import Escalation, Status
from escalations.realtime import Publication, publish
from supportai.models import Tenant

logger = logging.getLogger(__name__)
REPLAY_LIMIT = 200


def watch_group(*, tenant_id: int, conversation_id: int) -> str:
    return f"inbox.watch.{tenant_id}.{conversation_id}"


def agent_name(message: Message) -> str:
    agent = message.agent if message.agent_id else None
    return "" if agent is None else str(agent.first_name or agent.get_username())


def transcript_row(message: Message) -> dict[str, Any]:
    """One line of the inbox transcript (the page draws these; ``created_at`` stays a datetime)."""
    return {
        "message_id": message.pk,
        "role": message.role,
        "text": message.text,
        "sources": message.sources,
        "agent_name": agent_name(message),
        "created_at": message.created_at,
    }


def message_event(message: Message) -> dict[str, Any]:
    """The inbox's ``message`` frame for ``message`` (JSON and msgpack safe, for any channel layer)."""
    row = transcript_row(message)
    return {
        "type": "message",
        "conversation_id": message.conversation_id,
        **row,
        "role": str(row["role"]),
        "created_at": message.created_at.isoformat(),
    }


def message_publication(message: Message) -> Publication:
    group = watch_group(tenant_id=message.tenant_id, conversation_id=message.conversation_id)
    return Publication(group, {**message_event(message), "type": "inbox.message"})


async def publish_message(message: Message) -> None:
    """Show a stored (committed) message to the staff watching its conversation.

    Best effort: the message is stored and the page shows it on reload, so a channel-layer failure
    (Redis down, say) is a warning naming the ids and must not cost the customer their answer.
    """
    try:
        await publish([message_publication(message)])
    except Exception as exc:
        logger.warning(
            "message %s of conversation %s (tenant %s) was not shown to its watchers: %r",
            message.pk,
            message.conversation_id,
            message.tenant_id,
            exc,
        )


def watchable_conversation(*, tenant: Tenant, conversation_id: int) -> Conversation | None:
    """The tenant's conversation, or None (absent or another tenant's: the same answer)."""
    return Conversation.objects.for_tenant(tenant).filter(pk=conversation_id).first()


def messages_after(*, tenant: Tenant, conversation: Conversation, after: int) -> list[dict[str, Any]]:
    """``message`` frames of the conversation's shown messages after id ``after``, oldest first.

    Answers still streaming are left out: they are published when final.
    """
    messages = (
        Message.objects.for_tenant(tenant)
        .filter(conversation=conversation, pk__gt=after)
        .exclude(role=MessageRole.SYSTEM)
        .exclude(status=MessageStatus.STREAMING)
        .select_related("agent")
        .order_by("pk")[:REPLAY_LIMIT]
    )
    return [message_event(m) for m in messages]


def status_event(escalation: Escalation) -> dict[str, Any]:
    """The inbox's ``status`` frame of a closed escalation (resolved, or handed back to the assistant)."""
    return {
        "type": "status",
        "conversation_id": escalation.conversation_id,
        "escalation_id": escalation.pk,
        "status": str(escalation.status),
        "resolution": str(escalation.resolution),
    }


def status_publication(escalation: Escalation) -> Publication:
    group = watch_group(tenant_id=escalation.tenant_id, conversation_id=escalation.conversation_id)
    return Publication(group, {**status_event(escalation), "type": "inbox.status"})


def closed_status(*, tenant: Tenant, conversation: Conversation, escalation_id: int) -> dict[str, Any] | None:
    """The ``status`` frame of the conversation's escalation ``escalation_id`` if it is closed; None while it
    is open, and for an escalation of another conversation or tenant (nothing to say of it)."""
    escalation = (
        Escalation.objects.for_tenant(tenant)
        .filter(pk=escalation_id, conversation=conversation, status=Status.RESOLVED)
        .first()
    )
    return None if escalation is None else status_event(escalation)
