"""Channel-layer events of a handoff: to the customer's widget and to the tenant's staff inbox.

Services return ``Publication`` values; callers send them once the transaction has committed
(``publish_committed`` from async code, ``publish_committed_sync`` from views).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


def conversation_group(conversation_id: int) -> str:
    """The group the customer's chat consumer joins (same name as ``chat.consumers``)."""
    return f"chat.conversation.{conversation_id}"


def inbox_group(tenant_id: int) -> str:
    return f"inbox.tenant.{tenant_id}"


@dataclass(frozen=True)
class Publication:
    group: str
    event: dict[str, Any]


def to_customer(conversation_id: int, event: dict[str, Any]) -> Publication:
    return Publication(conversation_group(conversation_id), event)


def to_inbox(tenant_id: int, event: dict[str, Any]) -> Publication:
    return Publication(inbox_group(tenant_id), event)


def queue_changed(tenant_id: int, escalation_id: int) -> Publication:
    return to_inbox(tenant_id, {"type": "inbox.changed", "escalation_id": escalation_id})


async def publish(publications: Iterable[Publication]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for publication in publications:
        await layer.group_send(publication.group, publication.event)


def publish_sync(publications: Iterable[Publication]) -> None:
    async_to_sync(publish)(list(publications))


async def publish_committed(publications: Iterable[Publication]) -> None:
    """Send the events of a change that has committed. Best effort, as ``watch.publish_message``: the change
    stands whatever the channel layer does (a widget that reconnects is told its state afresh, the inbox
    reads its queue again on its next change or reload), so a failure (Redis down, say) is a warning naming
    the groups, never the caller's error: an agent shown an error for a reply that was stored sends it
    again, a customer's turn that raised an escalation would fail after it."""
    publications = list(publications)
    try:
        await publish(publications)
    except Exception as exc:
        groups = sorted({publication.group for publication in publications})
        logger.warning("events of a committed change were not sent to %s: %r", ", ".join(groups), exc)


def publish_committed_sync(publications: Iterable[Publication]) -> None:
    async_to_sync(publish_committed)(list(publications))
