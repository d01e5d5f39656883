"""Whether the customer of a conversation under human handoff still has the chat open, told live to the
staff watching it (``presence`` frames on the inbox socket, docs/websocket-protocol.md).

The customer's chat consumer asks for this when a socket of a resumed conversation opens as its only one
("back") and when the conversation's last socket closes ("left"); its other sockets, tabs of the same
chat (``CHAT_SOCKETS_PER_CONVERSATION``), are counted across processes by ``chat.socket_slots``. Only
a conversation with an open escalation is told about: one query per socket opened or closed, none per
turn. The event goes to the conversation's watch group, which the open escalation page joins. A customer
on the HTTP fallback has no socket, so nothing is said of them.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from escalations.models import Escalation, Status
from escalations.realtime import Publication, publish
from escalations.watch import watch_group
from supportai.db import db_call
from supportai.models import Tenant

logger = logging.getLogger(__name__)


def presence_publication(*, tenant: Tenant, conversation_id: int, present: bool) -> Publication | None:
    """The ``inbox.presence`` event of the conversation's open escalation, None when it has none."""
    escalation_id = (
        Escalation.objects.for_tenant(tenant)
        .filter(conversation_id=conversation_id)
        .exclude(status=Status.RESOLVED)
        .values_list("pk", flat=True)
        .first()
    )
    if escalation_id is None:
        return None
    event = {
        "type": "inbox.presence",
        "conversation_id": conversation_id,
        "escalation_id": escalation_id,
        "present": present,
        "at": timezone.now().isoformat(),
    }
    return Publication(watch_group(tenant_id=tenant.pk, conversation_id=conversation_id), event)


async def publish_presence(*, tenant: Tenant, conversation_id: int, present: bool) -> None:
    """Tell the conversation's watchers that its customer came back or left, if it is under handoff.

    Best effort, as ``watch.publish_message``: a failure (the database or the channel layer) is a
    warning, never the customer's socket's error.
    """
    try:
        publication = await db_call(presence_publication)(
            tenant=tenant, conversation_id=conversation_id, present=present
        )
        if publication is not None:
            await publish([publication])
    except Exception as exc:
        logger.warning(
            "presence of the customer of conversation %s (tenant %s) was not told: %r", conversation_id, tenant.pk, exc
        )
