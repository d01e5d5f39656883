"""One conversation through a real daphne server with a real websocket client."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import connect

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
