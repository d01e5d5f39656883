"""Per-IP limits through a real daphne with a real websocket client, as behind a reverse proxy on the
same host: daphne passes X-Forwarded-For on untouched and the limits read it only from trusted peers."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from websockets.asyncio.client import connect

from chat.limits import WINDOW_SECONDS
from supportai.tests.factories import TenantFactory

pytestmark = pytest.mark.slow
ORIGIN = "https://shop.example.com"
ALICE, BOB = "198.51.100.7", "2001:db8::b0b"


async def _first_reply(base_url: str, key: str, forwarded_for: str) -> str:
    """``message.ack`` or the error code answering one message on a fresh socket (closed at once after)."""
    url = base_url.replace("http://", "ws://") + f"/ws/chat/?key={key}"
    headers = {"X-Forwarded-For": forwarded_for}
    async with connect(url, origin=ORIGIN, additional_headers=headers, open_timeout=30) as socket:  # type: ignore[arg-type]
        assert json.loads(await socket.recv())["type"] == "session.ready"
        await socket.send(json.dumps({"type": "message.send", "client_id": "m-1", "text": "Hello?"}))
        frame = json.loads(await asyncio.wait_for(socket.recv(), 30))
    return str(frame["type"] if frame["type"] == "message.ack" else frame["code"])


def _replies(base_url: str, key: str, *clients: str) -> list[str]:
    """One message from each of ``clients`` in turn, all within one of the limit's minutes."""
    if time.time() % WINDOW_SECONDS > WINDOW_SECONDS - 15:  # the counts are per wall-clock minute
        time.sleep(WINDOW_SECONDS - time.time() % WINDOW_SECONDS + 0.1)

    async def send_all() -> list[str]:
        return [await _first_reply(base_url, key, client) for client in clients]

    return asyncio.run(send_all())


@pytest.mark.daphne_env(TRUSTED_PROXIES="127.0.0.0/8,::1", CHAT_MESSAGES_PER_MINUTE_PER_IP="1")
def test_customers_behind_a_trusted_proxy_have_their_own_limits(daphne_server: str) -> None:
    tenant = TenantFactory.create(allowed_origins=[ORIGIN])
    assert _replies(daphne_server, tenant.public_key, ALICE, BOB, ALICE) == [
        "message.ack",
        "message.ack",
        "rate_limited",
    ]
    # and alice's HTTP fallback shares her count
    body = {"key": tenant.public_key, "client_id": "h-1", "text": "Hello?"}
    headers = {"Origin": ORIGIN, "X-Forwarded-For": ALICE}
    response = httpx.post(f"{daphne_server}/api/v1/public/chat/messages", json=body, headers=headers, timeout=30)
    assert (response.status_code, response.json()["code"]) == (429, "rate_limited")


@pytest.mark.daphne_env(CHAT_MESSAGES_PER_MINUTE_PER_IP="1")
def test_without_trusted_proxies_the_header_changes_nothing(daphne_server: str) -> None:
    tenant = TenantFactory.create(allowed_origins=[ORIGIN])
    assert _replies(daphne_server, tenant.public_key, ALICE, BOB) == ["message.ack", "rate_limited"]
