"""Whether the customer of a conversation under human handoff still has the chat open: told live to the
staff watching it (``presence`` frames on the inbox socket, docs/websocket-protocol.md), and read as it
stands when a console page is drawn (``customer_presence``).

The customer's chat consumer asks for this when a socket of a resumed conversation opens as its only one
("back") and when the conversation's last socket closes ("left"); its other sockets, tabs of the same
chat (``CHAT_SOCKETS_PER_CONVERSATION``), are counted across processes by ``chat.socket_slots``. Only
a conversation with an open escalation is told about: one query per socket opened or closed, none per
turn. The event goes to the conversation's watch group, which the open escalation page joins; for a live
handoff the tenant's queue changes too (its rows say whether the customer is there). When the customer
left is kept in the shared cache for ``LEFT_TTL_S``, beside the socket places, so a page drawn later
says it too; so is a mark that a socket of the conversation is open, set as each one opens and deleted as
the last one closes: a mark left once every place expired says a server process died with the socket
(nobody is told live; a page drawn then says the connection was lost). A customer on the HTTP fallback
has no socket, so nothing is said of them.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.db.models import Max
from django.utils import timezone

from chat.models import Message, MessageRole
from chat.socket_slots import socket_places
from escalations.models import Escalation, Mode, Status
from escalations.realtime import Publication, publish, queue_changed
from escalations.watch import watch_group
from supportai.db import db_call
from supportai.models import Tenant
from supportai.shared_cache import CACHE_ERRORS

logger = logging.getLogger(__name__)

LEFT_TTL_S = 24 * 60 * 60  # a customer who left a day ago is no news: the page says nothing then


def left_key(*, tenant_id: int, conversation_id: int) -> str:
    """The cache key holding when the customer of the conversation left the chat (their last socket closed)."""
    return f"inbox:left:t{tenant_id}:c{conversation_id}"


def open_key(*, tenant_id: int, conversation_id: int) -> str:
    """The cache key set while a socket of the conversation is open and deleted as its last one closes: still
    there once every socket place expired, it says a server process died with the socket."""
    return f"inbox:open:t{tenant_id}:c{conversation_id}"


def socket_opened(*, tenant_id: int, conversation_id: int) -> None:
    """A counted socket of the conversation opened (one cache write a socket, none a turn)."""
    _write(open_key(tenant_id=tenant_id, conversation_id=conversation_id), True, conversation_id)


def sockets_closed(*, tenant_id: int, conversation_id: int) -> None:
    """The conversation's last socket closed, as its consumer saw it: no connection was lost."""
    _write(open_key(tenant_id=tenant_id, conversation_id=conversation_id), None, conversation_id)


@dataclass(frozen=True)
class CustomerPresence:
    """What the console knows of the customer of a conversation under handoff: ``present`` True (a socket
    of their chat is open now, in any server process), False (their last socket closed at ``left_at``; or,
    ``lost``, a server process died with it and its place expired, when nobody knows) or None (not known: no
    socket since the handoff, as on the HTTP fallback, a customer who wrote since they left, or the shared
    cache down): then nothing is said."""

    present: bool | None
    left_at: datetime | None = None
    lost: bool = False  # not present: a server process died with the socket (when, nobody knows)

    def frame_fields(self) -> dict[str, Any]:
        """A live queue row's ``customer_present`` and ``customer_left_at`` (docs/websocket-protocol.md)."""
        return {
            "customer_present": self.present,
            "customer_left_at": self.left_at.isoformat() if self.left_at is not None else None,
        }


UNKNOWN = CustomerPresence(present=None)


def customer_presence(*, tenant: Tenant, conversation_ids: Collection[int]) -> dict[int, CustomerPresence]:
    """The presence of the customer of each conversation of ``tenant``: one cache read for them all (their
    socket places and when each left), and one query only when some customer left (one who wrote since, on
    the HTTP fallback, is no longer known to be away). Another tenant's conversation is unknown (its keys
    name its own tenant)."""
    ids = list(dict.fromkeys(conversation_ids))
    if not ids:
        return {}
    places = {cid: socket_places(tenant_id=tenant.pk, conversation_id=cid) for cid in ids}
    lefts = {cid: left_key(tenant_id=tenant.pk, conversation_id=cid) for cid in ids}
    opens = {cid: open_key(tenant_id=tenant.pk, conversation_id=cid) for cid in ids}
    try:
        found = caches[DEFAULT_CACHE_ALIAS].get_many(
            [key for keys in places.values() for key in keys] + [*lefts.values(), *opens.values()]
        )
    except CACHE_ERRORS as exc:
        logger.warning("presence of %s customers not read (the cache failed: %r)", len(ids), exc)
        return dict.fromkeys(ids, UNKNOWN)
    presence: dict[int, CustomerPresence] = {}
    for cid in ids:
        left_at = found.get(lefts[cid])
        if any(key in found for key in places[cid]):
            presence[cid] = CustomerPresence(present=True)
        elif isinstance(left_at, datetime):
            presence[cid] = CustomerPresence(present=False, left_at=left_at)
        elif opens[cid] in found:  # open with no place left: its server process died, its place expired
            presence[cid] = CustomerPresence(present=False, lost=True)
        else:
            presence[cid] = UNKNOWN
    away = {cid: known.left_at for cid, known in presence.items() if known.left_at is not None}
    if away:
        wrote = (
            Message.objects.for_tenant(tenant)
            .filter(conversation_id__in=away, role=MessageRole.CUSTOMER)
            .order_by()
            .values("conversation_id")
            .annotate(last=Max("created_at"))
        )
        for row in wrote:
            if row["last"] > away[row["conversation_id"]]:
                presence[row["conversation_id"]] = UNKNOWN
    return presence


def handoff_presence(*, tenant: Tenant, conversation_id: int) -> CustomerPresence | None:
    """The customer's presence when the conversation of ``tenant`` is under handoff (an open escalation),
    None when it is not, or is another tenant's (nothing to show). One query, then one cache read."""
    handed_off = (
        Escalation.objects.for_tenant(tenant)
        .filter(conversation_id=conversation_id)
        .exclude(status=Status.RESOLVED)
        .exists()
    )
    if not handed_off:
        return None
    return customer_presence(tenant=tenant, conversation_ids=[conversation_id])[conversation_id]


def presence_publications(*, tenant: Tenant, conversation_id: int, present: bool, at: datetime) -> list[Publication]:
    """The ``inbox.presence`` event of the conversation's open escalation, and for a live one the change of
    the tenant's queue (its rows say whether the customer is there); none when it has no open escalation.
    The time the customer left is kept first: the queue read for the change, or a page drawn as the event
    arrives, says it too."""
    escalation = (
        Escalation.objects.for_tenant(tenant)
        .filter(conversation_id=conversation_id)
        .exclude(status=Status.RESOLVED)
        .values_list("pk", "mode")
        .first()
    )
    if escalation is None:
        return []
    escalation_id, mode = escalation
    _remember(tenant_id=tenant.pk, conversation_id=conversation_id, left_at=None if present else at)
    event = {
        "type": "inbox.presence",
        "conversation_id": conversation_id,
        "escalation_id": escalation_id,
        "present": present,
        "at": at.isoformat(),
    }
    publications = [Publication(watch_group(tenant_id=tenant.pk, conversation_id=conversation_id), event)]
    if mode == Mode.LIVE:
        publications.append(queue_changed(tenant.pk, escalation_id))
    return publications


def _remember(*, tenant_id: int, conversation_id: int, left_at: datetime | None) -> None:
    """Keep when the customer left (None: they are back, forget it)."""
    _write(left_key(tenant_id=tenant_id, conversation_id=conversation_id), left_at, conversation_id)


def _write(key: str, value: object, conversation_id: int) -> None:
    """Set ``key`` for ``LEFT_TTL_S`` (None: delete it). A cache failure costs a warning: the pages drawn
    then say what the cache holds."""
    try:
        if value is None:
            caches[DEFAULT_CACHE_ALIAS].delete(key)
        else:
            caches[DEFAULT_CACHE_ALIAS].set(key, value, timeout=LEFT_TTL_S)
    except CACHE_ERRORS as exc:
        logger.warning(
            "presence of the customer of conversation %s not kept (the cache failed: %r)", conversation_id, exc
        )


async def publish_presence(*, tenant: Tenant, conversation_id: int, present: bool) -> None:
    """Tell the conversation's watchers that its customer came back or left, if it is under handoff.

    Best effort, as ``watch.publish_message``: a failure (the database or the channel layer) is a
    warning, never the customer's socket's error.
    """
    try:
        publications = await db_call(presence_publications)(
            tenant=tenant, conversation_id=conversation_id, present=present, at=timezone.now()
        )
        await publish(publications)
    except Exception as exc:
        logger.warning(
            "presence of the customer of conversation %s (tenant %s) was not told: %r", conversation_id, tenant.pk, exc
        )
