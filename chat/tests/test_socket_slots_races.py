"""A conversation's socket places (``chat/socket_slots.py``) taken, refreshed and given back at the same time.

A place expires when its socket's process stalls past ``SLOT_TTL_S``. A socket closing (or refreshing) just as its
place expires must not give back (or keep) the place another socket took in the meantime: that place would be lost,
letting one socket more than the cap in, or counted twice. Each test pauses the stalled socket's thread right after
its first call into the cache, lets the place expire for real and a new socket take it from another thread, then lets
the stalled one go on. On the local-memory cache and on the real Redis.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Any

import pytest
import redis
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache

from chat import socket_slots
from chat.socket_slots import SocketSlot, socket_slot_refresh, socket_slot_release, socket_slot_take

TENANT_ID, OTHER_TENANT_ID, CONVERSATION_ID = 1, 2, 7
STALLED_TTL_S = 1.0  # the stalled socket's place lives this long; every other place the default


@pytest.fixture(params=["local", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request: pytest.FixtureRequest, settings: Any) -> Iterator[str]:
    """A cache of the test's own: local memory (development), or the real Redis under a prefix of its own."""
    if request.param == "local":
        location = f"test-{uuid.uuid4().hex[:8]}"
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": location}
        }
        yield "local"
        return
    redis_url = request.getfixturevalue("redis_url")
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {
        "default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": redis_url, "KEY_PREFIX": prefix}
    }
    yield "redis"
    caches["default"].delete_pattern("*")  # type: ignore[attr-defined]  # the prefix's keys only


class Pause:
    """Holds one thread right after its first call into the cache, until ``resume``."""

    def __init__(self) -> None:
        self.thread: threading.Thread | None = None
        self.reached = threading.Event()
        self.resume = threading.Event()

    def wrap(self, call: Callable[..., Any]) -> Callable[..., Any]:
        def paused_after(*args: Any, **kwargs: Any) -> Any:
            result = call(*args, **kwargs)
            if threading.current_thread() is self.thread and not self.reached.is_set():
                self.reached.set()
                assert self.resume.wait(timeout=30)
            return result

        return paused_after


@contextmanager
def paused_after_first_cache_call(backend: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pause]:
    """Every call into the cache: redis-py's commands on Redis, the cache's own methods in local memory."""
    pause = Pause()
    if backend == "redis":
        targets: list[tuple[type, str]] = [(redis.Redis, "execute_command")]
    else:
        targets = [(LocMemCache, name) for name in ("get", "get_many", "add", "touch", "delete")]
    for owner, name in targets:
        monkeypatch.setattr(owner, name, pause.wrap(getattr(owner, name)))
    try:
        yield pause
    finally:
        pause.resume.set()


def _stalled_socket(monkeypatch: pytest.MonkeyPatch) -> SocketSlot:
    """A socket holding the conversation's one place, which expires ``STALLED_TTL_S`` from now."""
    with monkeypatch.context() as patch:
        patch.setattr(socket_slots, "SLOT_TTL_S", STALLED_TTL_S)
        slot = socket_slot_take(tenant_id=TENANT_ID, conversation_id=CONVERSATION_ID)
    assert slot is not None and slot.key is not None
    return slot


def _newcomer_while_paused(pool: ThreadPoolExecutor, pause: Pause, stalled: Callable[[], object]) -> Future[Any]:
    """Run ``stalled`` until its first cache call, let its place expire, start a new socket's take (given a moment,
    it may wait for the stalled one), then let the stalled one go on; both have finished on return."""
    thread = threading.Thread(target=stalled)
    pause.thread = thread
    thread.start()
    assert pause.reached.wait(timeout=10)
    time.sleep(STALLED_TTL_S + 0.3)
    newcomer = pool.submit(socket_slot_take, tenant_id=TENANT_ID, conversation_id=CONVERSATION_ID)
    wait([newcomer], timeout=0.5)
    pause.resume.set()
    thread.join(timeout=10)
    newcomer.result(timeout=10)
    return newcomer


def test_a_socket_closing_as_its_place_expires_leaves_the_place_another_socket_took(
    backend: str, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a conversation's one place (the cap) held by a socket whose process stalled
    settings.CHAT_SOCKETS_PER_CONVERSATION = 1
    stalled = _stalled_socket(monkeypatch)
    with ThreadPoolExecutor(max_workers=1) as pool, paused_after_first_cache_call(backend, monkeypatch) as pause:
        # when it closes just as its place expires, and a new socket takes the place meanwhile
        newcomer = _newcomer_while_paused(pool, pause, lambda: socket_slot_release(stalled)).result()
    # then the new socket holds the place, and one more socket is still refused
    assert newcomer is not None and newcomer.key is not None
    assert socket_slot_take(tenant_id=TENANT_ID, conversation_id=CONVERSATION_ID) is None


def test_a_socket_refreshing_as_its_place_expires_does_not_share_the_place_another_socket_took(
    backend: str, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a conversation's one place (the cap) held by a socket whose process stalled
    settings.CHAT_SOCKETS_PER_CONVERSATION = 1
    stalled = _stalled_socket(monkeypatch)
    with ThreadPoolExecutor(max_workers=1) as pool, paused_after_first_cache_call(backend, monkeypatch) as pause:
        # when it refreshes its place just as it expires, and a new socket comes meanwhile
        newcomer = _newcomer_while_paused(pool, pause, lambda: socket_slot_refresh(stalled)).result()
    # then one socket holds the place, not both
    holders = [slot for slot in (stalled, newcomer) if slot is not None and slot.key is not None]
    assert len(holders) == 1
    # and one more socket is refused
    assert socket_slot_take(tenant_id=TENANT_ID, conversation_id=CONVERSATION_ID) is None


def test_sockets_coming_at_once_take_each_place_once(backend: str, settings: Any) -> None:
    # given a cap of three sockets a conversation
    settings.CHAT_SOCKETS_PER_CONVERSATION = 3
    # when twelve sockets of it come at once
    with ThreadPoolExecutor(max_workers=12) as pool:
        futures = [
            pool.submit(socket_slot_take, tenant_id=TENANT_ID, conversation_id=CONVERSATION_ID) for _ in range(12)
        ]
        slots = [future.result(timeout=30) for future in futures]
    # then three are let in, each on a place of its own
    taken = [slot.key for slot in slots if slot is not None]
    assert len(taken) == 3 and len(set(taken)) == 3
    # and the other tenant's conversation of the same number is counted apart
    assert socket_slot_take(tenant_id=OTHER_TENANT_ID, conversation_id=CONVERSATION_ID) is not None
    # and a place given back is taken once again
    given_back = next(slot for slot in slots if slot is not None)
    socket_slot_release(given_back)
    assert socket_slot_take(tenant_id=TENANT_ID, conversation_id=CONVERSATION_ID) is not None
    assert socket_slot_take(tenant_id=TENANT_ID, conversation_id=CONVERSATION_ID) is None
