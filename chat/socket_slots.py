"""How many sockets one conversation may have open at once (``CHAT_SOCKETS_PER_CONVERSATION``), counted
across every server process.

Each socket holds one of its conversation's numbered places in the shared cache (Redis with
``REDIS_URL``): the key ``chat:sockets:t<tenant>:c<conversation>:<n>``, for ``n`` below the cap, holding the
socket's own token. A socket that finds every place taken is refused. A socket gives its place back as it closes,
however it closes (daphne runs the consumer's disconnect for a connection dropped without a close frame too); and a
place expires ``SLOT_TTL_S`` after it was last refreshed, which its socket's consumer does every ``SLOT_REFRESH_S``,
so the places of a process that died (killed, its host gone) are free again within ``SLOT_TTL_S``.

Taking, refreshing and giving back a place each read the place and then write it; nothing may come between, or a
socket closing (refreshing) just as its place expires deletes (keeps) the place another socket took meanwhile: that
place is lost, letting one socket more in, or counted twice. What makes each one step, by cache:

- Redis (django-redis): one Lua script, which Redis runs with nothing else in between, across every process.
- Local memory (development, no ``REDIS_URL``): the cache is the process's own, and a lock of the process is held
  across each step, so each is one step for everything that can see the places.
- Any other backend (``CACHES`` set by hand: database, memcached, file): the same lock, so each step is one within a
  process, and a place is taken with the backend's ``add``; across processes, a socket closing or refreshing in the
  milliseconds after its place expired can still delete or keep the place a socket of another process took.

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
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.base import BaseCache
from django_redis.cache import RedisCache

from supportai.shared_cache import CACHE_ERRORS

logger = logging.getLogger(__name__)

SLOT_TTL_S = 90  # a place not refreshed this long is free again (its process died)
SLOT_REFRESH_S = 30  # how often a live socket refreshes its place: a third of its lifetime
# English, as the other errors a socket gets before its session is ready
TOO_MANY_SOCKETS = "This chat is open in too many windows or tabs; close one of them to continue here."
TOO_MANY_SOCKETS_REASON = "too_many_sockets"

# Redis scripts (see the module). Keep or take: KEYS are the conversation's places, ARGV the socket's token (as the
# cache stores it), the lifetime in ms and the number of the place the socket holds (0: none); returns the number of
# the place it holds now (0 for none) and 1 when it kept the one it held, 0 when it took it (the same number may be
# taken again once it expired).
KEEP_OR_TAKE_SCRIPT = """
local held = tonumber(ARGV[3])
if held > 0 and redis.call('GET', KEYS[held]) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[held], ARGV[2])
    return {held, 1}
end
for place = 1, #KEYS do
    if redis.call('SET', KEYS[place], ARGV[1], 'NX', 'PX', ARGV[2]) then
        return {place, 0}
    end
end
return {0, 0}
"""
# Give back: KEYS is the place, ARGV the socket's token; deleted only while it holds that token.
GIVE_BACK_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""
# Makes each step one on the backends without scripts (see the module).
_PROCESS_LOCK = threading.Lock()


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
        return socket_places(tenant_id=self.tenant_id, conversation_id=self.conversation_id)


def socket_places(*, tenant_id: int, conversation_id: int) -> list[str]:
    """The cache keys of the conversation's places (a socket of it is open while one of them is set)."""
    prefix = f"chat:sockets:t{tenant_id}:c{conversation_id}"
    return [f"{prefix}:{n}" for n in range(sockets_per_conversation())]


def _keep_or_take(slot: SocketSlot) -> bool:
    """Keep the place ``slot`` holds another ``SLOT_TTL_S`` if it still holds it, else take the first free one;
    ``slot.key`` is the place it holds after, None when all are taken. Whether it took a place it did not hold
    (False: it kept its own, or took none). Raises the cache's errors."""
    keys = slot.keys()
    backend = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(backend, RedisCache):
        key, kept = _redis_keep_or_take(backend, keys, slot)
    else:
        with _PROCESS_LOCK:
            key, kept = _cache_keep_or_take(backend, keys, slot)
    slot.key = key
    return key is not None and not kept


def _redis_keep_or_take(backend: RedisCache, keys: list[str], slot: SocketSlot) -> tuple[str | None, bool]:
    client = backend.client
    held = keys.index(slot.key) + 1 if slot.key in keys else 0
    script = client.get_client(write=True).register_script(KEEP_OR_TAKE_SCRIPT)
    lifetime_ms = int(SLOT_TTL_S * 1000)
    place, kept = script(
        keys=[client.make_key(key) for key in keys], args=[client.encode(slot.token), lifetime_ms, held]
    )
    return (keys[place - 1] if place else None), bool(kept)


def _cache_keep_or_take(backend: BaseCache, keys: list[str], slot: SocketSlot) -> tuple[str | None, bool]:
    # touch is False for a place that expired since the get
    if slot.key is not None and backend.get(slot.key) == slot.token and backend.touch(slot.key, SLOT_TTL_S):
        return slot.key, True
    return next((key for key in keys if backend.add(key, slot.token, timeout=SLOT_TTL_S)), None), False


def _give_back(key: str, token: str) -> None:
    """Delete the place ``key`` if it holds ``token``. Raises the cache's errors."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(backend, RedisCache):
        client = backend.client
        script = client.get_client(write=True).register_script(GIVE_BACK_SCRIPT)
        script(keys=[client.make_key(key)], args=[client.encode(token)])
        return
    with _PROCESS_LOCK:
        if backend.get(key) == token:
            backend.delete(key)


def socket_slot_take(*, tenant_id: int, conversation_id: int) -> SocketSlot | None:
    """A place for one more socket of the conversation, or None when it has
    ``CHAT_SOCKETS_PER_CONVERSATION`` open already (refuse the socket). Fails open (see the module)."""
    slot = SocketSlot(tenant_id=tenant_id, conversation_id=conversation_id)
    try:
        _keep_or_take(slot)
    except CACHE_ERRORS as exc:
        logger.warning(
            "socket of conversation %s not counted, it is let in (the cache failed: %r)", conversation_id, exc
        )
        return slot
    return slot if slot.key is not None else None


def socket_slot_refresh(slot: SocketSlot) -> bool:
    """Keep ``slot``'s place another ``SLOT_TTL_S``; a socket that holds none (not counted, or its place
    expired while its process stalled) takes a free one if there is one, and stays open either way. Whether
    it took a place it did not hold (its own expired, or it was not counted)."""
    with slot.lock:
        return not slot.released and _refresh(slot)


def _refresh(slot: SocketSlot) -> bool:
    try:
        return _keep_or_take(slot)
    except CACHE_ERRORS as exc:
        logger.warning(
            "socket place of conversation %s not refreshed (the cache failed: %r)", slot.conversation_id, exc
        )
        return False


def socket_slot_release(slot: SocketSlot) -> None:
    """Give ``slot``'s place back (the socket closed); a place another socket holds by now is left alone.
    A cache failure costs a warning: the place expires by itself."""
    with slot.lock:
        slot.released = True
        key, slot.key = slot.key, None
    if key is None:
        return
    try:
        _give_back(key, slot.token)
    except CACHE_ERRORS as exc:
        logger.warning("socket place %s not given back, it expires by itself (the cache failed: %r)", key, exc)


def sockets_open(*, tenant_id: int, conversation_id: int) -> int | None:
    """How many sockets of the conversation hold a place now, in every process; None while the cache fails
    (unknown: a socket let in uncounted holds none)."""
    try:
        return len(
            caches[DEFAULT_CACHE_ALIAS].get_many(socket_places(tenant_id=tenant_id, conversation_id=conversation_id))
        )
    except CACHE_ERRORS as exc:
        logger.warning("sockets of conversation %s not counted (the cache failed: %r)", conversation_id, exc)
        return None
