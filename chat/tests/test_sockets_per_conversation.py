"""Sockets one conversation may have open at once (``CHAT_SOCKETS_PER_CONVERSATION``).

Every socket costs a consumer, a group membership and a share of each of the conversation's events;
before, a script resuming one conversation could hold thousands. A socket over the cap is told why
(``error rate_limited``, ``reason: too_many_sockets``) and closed with 4429; a socket gives its place
back however it closes, and the places of a process that died expire. Counted in the shared cache, so
on Redis every process counts together.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.core.cache import caches
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect

from chat import socket_slots
from chat.models import Conversation
from chat.protocol import CloseCode
from chat.services import conversation_open
from chat.tests.conftest import ORIGIN, Client, Connect
from supportai.devserver import free_port, start_daphne, stop
from supportai.models import Tenant
from supportai.tests.throwaway_redis import ThrowawayRedis

pytestmark = pytest.mark.django_db(transaction=True)
CLOSED = {"type": "websocket.close", "code": CloseCode.RATE_LIMITED}


def _redis_cache(settings: Any, redis_url: str, prefix: str) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": redis_url, "KEY_PREFIX": prefix}
    }


@pytest.fixture(params=["local", pytest.param("redis", marks=pytest.mark.redis)])
def shared_cache(request: pytest.FixtureRequest, settings: Any) -> Iterator[str]:
    """The cache that counts: local memory (development), or the real Redis under a prefix of its own."""
    settings.CHAT_SOCKETS_PER_CONVERSATION = 2
    if request.param == "local":
        yield "local"
        return
    _redis_cache(settings, request.getfixturevalue("redis_url"), f"test-{uuid.uuid4().hex[:8]}")
    yield "redis"
    caches["default"].delete_pattern("*")  # type: ignore[attr-defined]  # the prefix's keys only


async def _refused(client: Client) -> dict[str, Any]:
    """The error frame a refused socket got, once its close (4429) has come too."""
    frame = await client.receive()
    assert await client.communicator.receive_output(timeout=10) == CLOSED
    return frame


def _told_too_many(frame: dict[str, Any]) -> bool:
    return (
        frame["type"] == "error"
        and frame["code"] == "rate_limited"
        and frame["reason"] == "too_many_sockets"
        and frame["message"] == socket_slots.TOO_MANY_SOCKETS
        and "history" not in frame
    )


@pytest.mark.asyncio
async def test_a_socket_over_the_conversations_cap_is_refused_and_told_why(
    shared_cache: str, connect: Connect, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given a conversation open on two sockets, the cap
    first = await connect(tenant)
    token = first.ready["resume_token"]
    second = await connect(tenant, resume=token)
    assert second.ready["conversation_id"] == first.ready["conversation_id"]
    # when a third socket resumes it
    third = await connect(tenant, resume=token, expect_ready=False)
    # then it is told why and closed with 4429, and sees nothing of the conversation
    assert _told_too_many(await _refused(third))
    # and the sockets that were open still work
    await first.send({"type": "ping"})
    assert await first.receive() == {"type": "pong"}
    # and other conversations, this tenant's or another's, are not counted with it
    assert (await connect(tenant)).ready["type"] == "session.ready"
    other = await sync_to_async(conversation_open)(tenant=other_tenant, origin="")
    for _ in range(2):
        resumed = await connect(other_tenant, resume=other.resume_token, origin="http://testserver")
        assert resumed.ready["conversation_id"] == other.conversation.pk
    # and the other tenant's token given with this tenant's key opens a new conversation of this tenant
    elsewhere = await connect(tenant, resume=other.resume_token)
    assert elsewhere.ready["conversation_id"] not in (other.conversation.pk, first.ready["conversation_id"])
    assert await Conversation.objects.filter(tenant=tenant).acount() == 3


@pytest.mark.asyncio
@pytest.mark.parametrize("close_code", [1000, 1006])  # closed by the client, or dropped (daphne says 1006)
async def test_a_socket_gives_its_place_back_however_it_closes(
    shared_cache: str, connect: Connect, tenant: Tenant, close_code: int
) -> None:
    # given a conversation open on two sockets
    first = await connect(tenant)
    token = first.ready["resume_token"]
    await connect(tenant, resume=token)
    # when one of them goes
    await first.communicator.send_input({"type": "websocket.disconnect", "code": close_code})
    await first.communicator.wait(timeout=20)
    # then another socket takes its place, and the one after it is refused
    assert (await connect(tenant, resume=token)).ready["type"] == "session.ready"
    assert _told_too_many(await _refused(await connect(tenant, resume=token, expect_ready=False)))


@pytest.mark.asyncio
async def test_the_places_of_a_process_that_died_expire_and_a_live_sockets_place_does_not(
    shared_cache: str, connect: Connect, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given places that live one second unless refreshed, as live sockets do every 0.2 s
    monkeypatch.setattr(socket_slots, "SLOT_TTL_S", 1)
    monkeypatch.setattr(socket_slots, "SLOT_REFRESH_S", 0.2)
    first = await connect(tenant)
    token, conversation_id = first.ready["resume_token"], first.ready["conversation_id"]
    # and the other place held by a socket of a process that died (it never gives its place back)
    assert await sync_to_async(socket_slots.socket_slot_take)(tenant_id=tenant.pk, conversation_id=conversation_id)
    assert _told_too_many(await _refused(await connect(tenant, resume=token, expect_ready=False)))
    # when a few lifetimes of a place have passed
    await asyncio.sleep(2.5)
    # then the dead socket's place is free again, and the live socket still holds its own
    assert (await connect(tenant, resume=token)).ready["conversation_id"] == conversation_id
    assert _told_too_many(await _refused(await connect(tenant, resume=token, expect_ready=False)))


def test_a_refresh_says_whether_it_took_a_place_again_after_its_own_expired(shared_cache: str, tenant: Tenant) -> None:
    # given a socket's place, kept by a refresh
    conversation = conversation_open(tenant=tenant, origin=ORIGIN).conversation
    slot = socket_slots.socket_slot_take(tenant_id=tenant.pk, conversation_id=conversation.pk)
    assert slot is not None and slot.key is not None
    assert socket_slots.socket_slot_refresh(slot) is False
    # when its place expires (its process stalled) and it refreshes, it takes the same place again: said so
    caches["default"].delete(slot.key)
    assert socket_slots.socket_slot_refresh(slot) is True
    assert slot.key == socket_slots.socket_places(tenant_id=tenant.pk, conversation_id=conversation.pk)[0]
    # and the next refresh keeps it
    assert socket_slots.socket_slot_refresh(slot) is False


@pytest.mark.redis
@pytest.mark.asyncio
async def test_sockets_are_let_in_uncounted_while_the_cache_is_down(
    throwaway_cache: ThrowawayRedis, settings: Any, connect: Connect, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    # given one socket a conversation, and the cache's Redis gone
    settings.CHAT_SOCKETS_PER_CONVERSATION = 1
    first = await connect(tenant)
    throwaway_cache.stop()
    # when a second socket resumes the conversation
    second = await connect(tenant, resume=first.ready["resume_token"])
    # then it is let in (fails open), with a warning and no error
    assert second.ready["conversation_id"] == first.ready["conversation_id"]
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert any("not counted, it is let in" in message for message in warnings)
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


# --- across processes: a real daphne and this test process on one Redis ----------------------------


async def _open(port: int, key: str, resume: str = "") -> tuple[ClientConnection, dict[str, Any]]:
    url = f"ws://127.0.0.1:{port}/ws/chat/?key={key}" + (f"&resume={resume}" if resume else "")
    socket = await ws_connect(url, origin=ORIGIN, open_timeout=30)  # type: ignore[arg-type]
    return socket, json.loads(await asyncio.wait_for(socket.recv(), 30))


async def _refused_by_daphne(port: int, key: str, resume: str) -> bool:
    socket, frame = await _open(port, key, resume)
    async with socket:
        await socket.wait_closed()
    return _told_too_many(frame) and socket.close_code == CloseCode.RATE_LIMITED


async def _let_in_by_daphne_soon(port: int, key: str, resume: str) -> ClientConnection:
    """A socket daphne lets in within 10 s (it learns of a dropped connection as its TCP ends)."""
    for _ in range(50):
        socket, frame = await _open(port, key, resume)
        if frame["type"] == "session.ready":
            return socket
        await socket.close()
        await asyncio.sleep(0.2)
    raise AssertionError("no socket was let in")


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.asyncio
async def test_sockets_of_one_conversation_are_counted_together_by_every_process(
    settings: Any, redis_url: str, test_database_url: str, connect: Connect, tenant: Tenant
) -> None:
    # given a daphne and this process sharing one Redis cache, and a cap of two sockets
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    _redis_cache(settings, redis_url, prefix)
    settings.CHAT_SOCKETS_PER_CONVERSATION = 2
    env = {
        "DATABASE_URL": test_database_url,
        "REDIS_URL": redis_url,
        "CACHE_PREFIX": prefix,
        "CHANNELS_PREFIX": prefix,
        "CHAT_SOCKETS_PER_CONVERSATION": "2",
    }
    process = start_daphne(port := free_port(), env=env)
    try:
        # and a conversation open on one socket here and one there
        here = await connect(tenant)
        token = here.ready["resume_token"]
        there, ready = await _open(port, tenant.public_key, token)
        assert ready["conversation_id"] == here.ready["conversation_id"]
        # when a third comes, to either process
        # then each refuses it
        assert await _refused_by_daphne(port, tenant.public_key, token)
        assert _told_too_many(await _refused(await connect(tenant, resume=token, expect_ready=False)))
        # and a place given back here is taken there
        await here.disconnect()
        third = await _let_in_by_daphne_soon(port, tenant.public_key, token)
        # and a socket dropped there without a close frame gives its place back too
        there.transport.abort()
        fourth = await _let_in_by_daphne_soon(port, tenant.public_key, token)
        await third.close()
        await fourth.close()
    finally:
        stop(process)
        caches["default"].delete_pattern("*")  # type: ignore[attr-defined]  # the prefix's keys only
