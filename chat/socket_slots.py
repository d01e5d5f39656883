"""How many sockets one conversation may have open at once (``CHAT_SOCKETS_PER_CONVERSATION``), counted
across every server process.

Each socket holds one of its conversation's numbered places in the shared cache (Redis with
``REDIS_URL``): the key ``chat:sockets:t<tenant>:c<conversation>:<n>``, for ``n`` below the cap, taken
with an atomic add (Redis ``SET NX``) and holding the socket's own token. A socket that finds every
place taken is refused. A socket gives its place back as it closes, however it closes (daphne runs the
consumer's disconnect for a connection dropped without a close frame too); and a place expires
``SLOT_TTL_S`` after it was last refreshed, which its socket's consumer does every ``SLOT_REFRESH_S``,
so the places of a process that died (killed, its host gone) are free again within ``SLOT_TTL_S``.

Fails open: while the cache is down a socket is let in uncounted (a warning is logged), as refusing
would stop every customer's chat for a counter (docs/architecture.md, "When the shared cache fails").
Such a socket takes a free place at its next refresh once the cache is back.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache

from supportai.shared_cache import CACHE_ERRORS

logger = logging.getLogger(__name__)

SLOT_TTL_S = 90  # a place not refreshed this long is free again (its process died)
SLOT_REFRESH_S = 30  # how often a live socket refreshes its place: a third of its lifetime
# English, as the other errors a socket gets before its session is ready
TOO_MANY_SOCKETS = "This chat is open in too many windows or tabs; close one of them to continue here."
TOO_MANY_SOCKETS_REASON = "too_many_sockets"


def sockets_per_conversation() -> int:
    limit: int = getattr(settings, "CHAT_SOCKETS_PER_CONVERSATION", 5)
    return limit


@dataclass
class SocketSlot:
    """The place one socket holds among its conversation's (``key``; None: the socket is not counted,
    as the cache failed when it came or lost its place). Refreshed and released on the database pool's
    threads: one at a time, and a released place is never taken again by a refresh still running."""

    tenant_id: int
    conversation_id: int
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    key: str | None = None
    released: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def keys(self) -> list[str]:
        prefix = f"chat:sockets:t{self.tenant_id}:c{self.conversation_id}"
        return [f"{prefix}:{n}" for n in range(sockets_per_conversation())]


def _take_free_place(slot: SocketSlot) -> bool:
    """Take the first free place of the conversation for ``slot``; False when all are taken.
    Raises the cache's errors."""
    keys = slot.keys()
    taken = cache.get_many(keys)
    for key in keys:
        if key not in taken and cache.add(key, slot.token, timeout=SLOT_TTL_S):
            slot.key = key
            return True
    return False


def socket_slot_take(*, tenant_id: int, conversation_id: int) -> SocketSlot | None:
    """A place for one more socket of the conversation, or None when it has
    ``CHAT_SOCKETS_PER_CONVERSATION`` open already (refuse the socket). Fails open (see the module)."""
    slot = SocketSlot(tenant_id=tenant_id, conversation_id=conversation_id)
    try:
        return slot if _take_free_place(slot) else None
    except CACHE_ERRORS as exc:
        logger.warning(
            "socket of conversation %s not counted, it is let in (the cache failed: %r)", conversation_id, exc
        )
        return slot


def socket_slot_refresh(slot: SocketSlot) -> None:
    """Keep ``slot``'s place another ``SLOT_TTL_S``; a socket that holds none (not counted, or its place
    expired while its process stalled) takes a free one if there is one, and stays open either way."""
    with slot.lock:
        if not slot.released:
            _refresh(slot)


def _refresh(slot: SocketSlot) -> None:
    try:
        if slot.key is not None and cache.get(slot.key) == slot.token:
            cache.touch(slot.key, SLOT_TTL_S)
            return
        slot.key = None
        _take_free_place(slot)
    except CACHE_ERRORS as exc:
        logger.warning(
            "socket place of conversation %s not refreshed (the cache failed: %r)", slot.conversation_id, exc
        )


def socket_slot_release(slot: SocketSlot) -> None:
    """Give ``slot``'s place back (the socket closed); a place another socket holds by now is left alone.
    A cache failure costs a warning: the place expires by itself."""
    with slot.lock:
        slot.released = True
        key, slot.key = slot.key, None
    if key is None:
        return
    try:
        if cache.get(key) == slot.token:
            cache.delete(key)
    except CACHE_ERRORS as exc:
        logger.warning("socket place %s not given back, it expires by itself (the cache failed: %r)", key, exc)
