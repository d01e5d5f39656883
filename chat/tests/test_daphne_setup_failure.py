"""A chat socket whose conversation cannot be set up (our database down), through a real daphne with a
real websocket client: the ``unavailable`` error, then a close with a code daphne can send, so the
consumer ends normally instead of crashing inside daphne ("Exception inside application")."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from chat.protocol import CloseCode
from chat.tests.db_failures import ORIGIN, UNAVAILABLE
from supportai.devserver import free_port, start_daphne, stop

pytestmark = pytest.mark.slow


async def _session(port: int) -> tuple[list[dict[str, Any]], int | None]:
    """The frames a socket gets until it is closed, and its close code."""
    frames = []
    url = f"ws://127.0.0.1:{port}/ws/chat/?key=pk_any"
    async with connect(url, origin=ORIGIN, open_timeout=30) as socket:  # type: ignore[arg-type]
        try:
            while True:
                frames.append(json.loads(await asyncio.wait_for(socket.recv(), 30)))
        except ConnectionClosed:
            return frames, socket.close_code


def test_a_socket_whose_conversation_cannot_be_set_up_is_closed_by_the_consumer_not_by_a_crash() -> None:
    # given a daphne whose database is unreachable (nothing listens on its port)
    process = start_daphne(port := free_port(), env={"DATABASE_URL": f"postgres://u:p@127.0.0.1:{free_port()}/gone"})
    try:
        # when a widget connects
        frames, code = asyncio.run(_session(port))
    finally:
        stop(process)
    # then it is told to try again and closed with the unavailable code, and daphne saw no crash
    assert frames == [UNAVAILABLE] and code == CloseCode.UNAVAILABLE
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    assert "could not be set up" in stderr and "Exception inside application" not in stderr
