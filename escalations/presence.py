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
says it too; so is a mark that a socket of the conversation is open, set to the time as each one opens and
as its place beats (``SLOT_REFRESH_S``), deleted as the last one closes: a mark left once every place expired
says a server process died with the socket, and when (by the beat it missed: ``lost_at``). A customer on the
HTTP fallback has no socket, so nothing is said of them; a message of theirs takes back a mark saying they are
away (left, or their connection lost), and a live handoff's queue row with it (``customer_wrote_publications``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.db.models import Max
from django.utils import timezone

from chat.models import Message, MessageRole
from chat.socket_slots import SLOT_REFRESH_S, socket_places
from escalations.models import Escalation, Mode, Status
from escalations.presence_phrases import presence_phrase
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


def socket_seen(*, tenant_id: int, conversation_id: int) -> None:
    """A counted socket of the conversation opened, or beat (refreshed its place, every ``SLOT_REFRESH_S``): the
    open mark says when, so that once every place expired it says when the connection was lost (one cache write
    a socket and a beat, none a turn)."""
    _write(open_key(tenant_id=tenant_id, conversation_id=conversation_id), timezone.now(), conversation_id)


def sockets_closed(*, tenant_id: int, conversation_id: int) -> None:
    """The conversation's last socket closed, as its consumer saw it: no connection was lost."""
    _write(open_key(tenant_id=tenant_id, conversation_id=conversation_id), None, conversation_id)


def lost_at(last_beat: datetime) -> datetime:
    """When a socket last seen beating at ``last_beat`` was lost by: its next beat was due then. A message of
    the customer written later came after the loss (over another socket, or the HTTP fallback)."""
    return last_beat + timedelta(seconds=SLOT_REFRESH_S)


@dataclass(frozen=True)
class CustomerPresence:
    """What the console knows of the customer of a conversation under handoff: ``present`` True (a socket
    of their chat is open now, in any server process), False (their last socket closed at ``left_at``; or a
    server process died with it and its place expired: the connection was lost by ``lost_at``, the beat its
    socket missed) or None (not known: no
    socket since the handoff, as on the HTTP fallback, a customer who wrote since they left or since their
    connection was lost, or the shared cache down): then nothing is said."""

    present: bool | None
    left_at: datetime | None = None
    lost_at: datetime | None = None

    @property
    def lost(self) -> bool:
        return self.lost_at is not None

    @property
    def phrase(self) -> str:
        """What the console says of the customer, in the active time zone ("" when not known)."""
        return presence_phrase(present=self.present, left_at=self.left_at, lost_at=self.lost_at)

    @property
    def away_since(self) -> datetime | None:
        """When the customer left, or their connection was lost by (None: not away, or not known)."""
        return self.left_at or self.lost_at

    def frame_fields(self) -> dict[str, Any]:
        """A live queue row's ``customer_present``, ``customer_left_at`` and ``customer_lost_at``
        (docs/websocket-protocol.md)."""
        return {
            "customer_present": self.present,
            "customer_left_at": _iso(self.left_at),
            "customer_lost_at": _iso(self.lost_at),
        }


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


UNKNOWN = CustomerPresence(present=None)


def customer_presence(*, tenant: Tenant, conversation_ids: Collection[int]) -> dict[int, CustomerPresence]:
    """The presence of the customer of each conversation of ``tenant``: one cache read for them all (their
    socket places, when each left, when each socket last beat), and one query only when some customer is away
    (one who wrote since they left or their connection was lost, over the HTTP fallback or another socket, is
    no longer known to be away). Another tenant's conversation is unknown (its keys
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
        left_at, last_beat = found.get(lefts[cid]), found.get(opens[cid])
        if any(key in found for key in places[cid]):
            presence[cid] = CustomerPresence(present=True)
        elif isinstance(left_at, datetime):
            presence[cid] = CustomerPresence(present=False, left_at=left_at)
        elif isinstance(last_beat, datetime):  # open with no place left: its server process died, its place expired
            presence[cid] = CustomerPresence(present=False, lost_at=lost_at(last_beat))
        else:
            presence[cid] = UNKNOWN
    away = {cid: known.away_since for cid, known in presence.items() if known.away_since is not None}
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
    escalation = _open_escalation(tenant=tenant, conversation_id=conversation_id)
    if escalation is None:
        return []
    escalation_id, mode = escalation
    _remember(tenant_id=tenant.pk, conversation_id=conversation_id, left_at=None if present else at)
    event = presence_event(conversation_id=conversation_id, escalation_id=escalation_id, present=present, at=at)
    publications = [Publication(watch_group(tenant_id=tenant.pk, conversation_id=conversation_id), event)]
    if mode == Mode.LIVE:
        publications.append(queue_changed(tenant.pk, escalation_id))
    return publications


def presence_event(
    *, conversation_id: int, escalation_id: int, present: bool, at: datetime, lost: bool = False
) -> dict[str, Any]:
    """The ``inbox.presence`` event: forwarded as a ``presence`` frame by the inbox sockets watching the
    conversation (docs/websocket-protocol.md); ``lost``: not a close, the connection was lost by ``at``."""
    return {
        "type": "inbox.presence",
        "conversation_id": conversation_id,
        "escalation_id": escalation_id,
        "present": present,
        "lost": lost,
        "at": at.isoformat(),
    }


def _open_escalation(*, tenant: Tenant, conversation_id: int) -> tuple[int, str] | None:
    """The id and mode of the conversation's open escalation (None: no human has it)."""
    found: tuple[int, str] | None = (
        Escalation.objects.for_tenant(tenant)
        .filter(conversation_id=conversation_id)
        .exclude(status=Status.RESOLVED)
        .values_list("pk", "mode")
        .first()
    )
    return found


def customer_wrote_publications(*, tenant: Tenant, conversation_id: int) -> list[Publication]:
    """A message of the customer of the conversation was stored: one the console says is away (left, or their
    connection lost: no socket place, and a left or open mark) is back, so both marks go, and for a live handoff
    the tenant's queue changes (its row says nothing of them now; the pages watching it take the line back on
    the ``message`` frame). One cache read a message; a query and a cache write only for a customer said away."""
    places = socket_places(tenant_id=tenant.pk, conversation_id=conversation_id)
    marks = [
        left_key(tenant_id=tenant.pk, conversation_id=conversation_id),
        open_key(tenant_id=tenant.pk, conversation_id=conversation_id),
    ]
    cache = caches[DEFAULT_CACHE_ALIAS]
    try:
        found = cache.get_many([*places, *marks])
        away = [key for key in marks if key in found] if not any(key in found for key in places) else []
        if away:
            cache.delete_many(away)
    except CACHE_ERRORS as exc:
        logger.warning("customer of conversation %s not marked back (the cache failed: %r)", conversation_id, exc)
        return []
    escalation = _open_escalation(tenant=tenant, conversation_id=conversation_id) if away else None
    if escalation is None or escalation[1] != Mode.LIVE:
        return []
    return [queue_changed(tenant.pk, escalation[0])]


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
    """Tell the conversation's watchers that its customer came back or left, if it is under handoff."""
    await _publish(
        presence_publications, tenant=tenant, conversation_id=conversation_id, present=present, at=timezone.now()
    )


async def publish_customer_wrote(*, tenant: Tenant, conversation_id: int) -> None:
    """A new message of the customer was stored: ``customer_wrote_publications``."""
    await _publish(customer_wrote_publications, tenant=tenant, conversation_id=conversation_id)


async def _publish(
    publications: Callable[..., list[Publication]], *, tenant: Tenant, conversation_id: int, **kwargs: Any
) -> None:
    """Send what ``publications`` (run on the database pool) returns. Best effort, as ``watch.publish_message``:
    a failure (the database or the channel layer) is a warning, never the customer's socket's or request's error."""
    try:
        await publish(await db_call(publications)(tenant=tenant, conversation_id=conversation_id, **kwargs))
    except Exception as exc:
        logger.warning(
            "presence of the customer of conversation %s (tenant %s) was not told: %r", conversation_id, tenant.pk, exc
        )
