"""One conversation through a real daphne server with a real websocket client."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from supportai.tests.factories import TenantFactory

pytestmark = pytest.mark.slow


async def _converse(base_url: str, key: str, origin: str) -> list[dict[str, Any]]:
    url = base_url.replace("http://", "ws://") + f"/ws/chat/?key={key}"
    frames: list[dict[str, Any]] = []
    async with connect(url, origin=origin, open_timeout=30) as socket:  # type: ignore[arg-type]
        frames.append(json.loads(await socket.recv()))
        await socket.send(json.dumps({"type": "message.send", "client_id": "real-1", "text": "Hello there"}))
        while frames[-1]["type"] != "message.end":
            frames.append(json.loads(await asyncio.wait_for(socket.recv(), 60)))
        await socket.send("{broken")
        frames.append(json.loads(await socket.recv()))
    return frames


def test_real_daphne_serves_the_chat_protocol(daphne_server: str) -> None:
    tenant = TenantFactory.create(allowed_origins=["https://shop.example.com"])
    frames = asyncio.run(_converse(daphne_server, tenant.public_key, "https://shop.example.com"))
    kinds = [frame["type"] for frame in frames]
    assert kinds[0] == "session.ready"
    assert kinds[1:3] == ["message.ack", "message.start"]
    assert "message.end" in kinds
    assert frames[-1] == {"type": "error", "code": "bad_request", "message": "Frames must be JSON objects."}


async def _answer_to(base_url: str, key: str, origin: str, frame: str | bytes) -> dict[str, Any] | str:
    """The first frame a fresh socket answers ``frame`` with (bytes: sent as a text frame, unchecked),
    or how it was closed."""
    url = base_url.replace("http://", "ws://") + f"/ws/chat/?key={key}"
    async with connect(url, origin=origin, open_timeout=30, max_size=None) as socket:  # type: ignore[arg-type]
        assert json.loads(await socket.recv())["type"] == "session.ready"
        try:
            await socket.send(frame, text=True)
            answer: dict[str, Any] = json.loads(await asyncio.wait_for(socket.recv(), 30))
        except ConnectionClosed as closed:
            return f"closed {closed.rcvd.code if closed.rcvd else 'without a close frame'}"
        await socket.send(json.dumps({"type": "ping"}))  # and the socket stays usable
        assert json.loads(await asyncio.wait_for(socket.recv(), 30)) == {"type": "pong"}
        return answer


def test_real_daphne_drops_a_socket_whose_frame_it_does_not_read(daphne_server: str) -> None:
    tenant = TenantFactory.create(allowed_origins=["https://shop.example.com"])

    def answer(frame: str | bytes) -> dict[str, Any] | str:
        return asyncio.run(_answer_to(daphne_server, tenant.public_key, "https://shop.example.com", frame))

    # a frame over the protocol's 16 KiB but within the server's 1 MiB is refused, the socket kept
    refused = answer(json.dumps({"type": "ping", "pad": "x" * 20_000}))
    assert isinstance(refused, dict) and refused["code"] == "too_long"
    # one over 1 MiB, or a text frame that is no UTF-8, is not read: the socket is dropped (1006 to a browser)
    assert answer(json.dumps({"type": "ping", "pad": "x" * 1_100_000})) == "closed without a close frame"
    assert answer(b'{"type": "ping", "pad": "\xff"}') == "closed without a close frame"
