"""The Redis channel layer failing under a chat socket: at setup, and while the socket is open.

Channels' own listener of the socket's channel dies with the layer; the customer must get
``error unavailable`` and close 4503 (the widget reconnects with its back-off), the server logs one
warning without a traceback, and the consumer ends (no task left behind, nothing raised to daphne).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from chat.protocol import CloseCode
from chat.tests.conftest import Connect
from chat.tests.db_failures import ORIGIN, UNAVAILABLE
from supportai.devserver import free_port, start_daphne, stop
from supportai.models import Tenant
from supportai.tests.throwaway_redis import THROWAWAY_REDIS_URL, ThrowawayRedis

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]
CLOSED = {"type": "websocket.close", "code": CloseCode.UNAVAILABLE}
LOST = "lost its channel layer"


def _records(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno == level]


@pytest.mark.asyncio
async def test_a_redis_outage_closes_an_open_chat_socket_as_unavailable_with_one_warning(
    throwaway_layer: ThrowawayRedis, connect: Connect, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    # given a customer's open socket on the Redis channel layer
    client = await connect(tenant)
    conversation_id = client.ready["conversation_id"]
    # when Redis goes away
    throwaway_layer.stop()
    # then the socket is told to try again and closed with the unavailable code
    assert await client.receive(timeout=30) == UNAVAILABLE
    assert await client.communicator.receive_output(timeout=10) == CLOSED
    # and the consumer ends cleanly once the socket is gone: nothing raised, nothing left running
    await client.disconnect()
    assert client.communicator.future.done() and client.communicator.future.exception() is None
    # and the server logged one warning naming the socket, without a traceback, and no error
    [warning] = _records(caplog, logging.WARNING)
    assert f"chat of tenant {tenant.pk}, conversation {conversation_id} {LOST}" in warning.getMessage()
    assert warning.exc_info is None
    assert not _records(caplog, logging.ERROR)


@pytest.mark.asyncio
async def test_a_chat_socket_set_up_while_redis_is_down_is_refused_and_its_consumer_ends_cleanly(
    throwaway_layer: ThrowawayRedis, connect: Connect, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    # given Redis down
    throwaway_layer.stop()
    # when a widget connects
    client = await connect(tenant, expect_ready=False)
    # then it is told to try again and closed with the unavailable code
    assert await client.receive(timeout=30) == UNAVAILABLE
    assert await client.communicator.receive_output(timeout=10) == CLOSED
    # and the consumer ends cleanly: the dead listener raised nothing and was not reported twice
    await client.disconnect()
    assert client.communicator.future.done() and client.communicator.future.exception() is None
    [error] = _records(caplog, logging.ERROR)
    assert f"chat of tenant {tenant.pk}" in error.getMessage() and "could not be set up" in error.getMessage()
    assert not [record for record in caplog.records if LOST in record.getMessage()]


async def _chat_until_closed(port: int, key: str, redis: ThrowawayRedis) -> tuple[list[dict[str, Any]], int | None]:
    """The frames a socket gets until it is closed, and its close code; ``redis`` stops after ``session.ready``."""
    frames: list[dict[str, Any]] = []
    url = f"ws://127.0.0.1:{port}/ws/chat/?key={key}"
    async with ws_connect(url, origin=ORIGIN, open_timeout=30) as socket:  # type: ignore[arg-type]
        try:
            while True:
                frames.append(json.loads(await asyncio.wait_for(socket.recv(), 30)))
                if frames[-1]["type"] == "session.ready":
                    redis.stop()
        except ConnectionClosed:
            return frames, socket.close_code


@pytest.mark.slow
@pytest.mark.parametrize("outage", ["while open", "at setup"])
def test_through_daphne_a_redis_outage_closes_the_chat_socket_as_unavailable_without_a_crash(
    throwaway_redis: ThrowawayRedis, test_database_url: str, tenant: Tenant, outage: str
) -> None:
    # given a daphne whose channel layer (and cache) is a Redis that goes away
    env = {"DATABASE_URL": test_database_url, "REDIS_URL": THROWAWAY_REDIS_URL}
    process = start_daphne(port := free_port(), env=env)
    try:
        if outage == "at setup":
            throwaway_redis.stop()
        # when a widget is connected as Redis goes
        frames, code = asyncio.run(_chat_until_closed(port, tenant.public_key, throwaway_redis))
    finally:
        stop(process)
    # then it is told to try again and closed with the unavailable code (the widget reconnects)
    assert [frame["type"] for frame in frames if frame["type"] == "session.ready"] == (
        ["session.ready"] if outage == "while open" else []
    )
    assert frames[-1] == UNAVAILABLE and code == CloseCode.UNAVAILABLE
    # and daphne saw no crash: the dead listener raised nothing, and was reported at most once
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    assert "Exception inside application" not in stderr and "await_many_dispatch" not in stderr
    if outage == "while open":
        assert stderr.count(LOST) == 1 and "Traceback" not in stderr
    else:
        assert stderr.count("could not be set up") == 1 and LOST not in stderr
