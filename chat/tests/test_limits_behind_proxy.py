"""Per-IP chat limits behind a reverse proxy: customers behind one trusted proxy are counted apart
(X-Forwarded-For), and a client that writes the header itself is counted by its own address."""

from __future__ import annotations

import json
from ipaddress import ip_network

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client as HttpClient

from chat import limits
from chat.tests.conftest import ORIGIN, Client
from supportai.asgi import application
from supportai.models import Tenant

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("embedding_model_loaded")]
PROXY = "10.0.0.2"
SPOOFER = "203.0.113.9"
ALICE, BOB = "198.51.100.7", "2001:db8::b0b"


@pytest.fixture(autouse=True)
def one_message_a_minute_behind_our_proxies(settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.TRUSTED_PROXIES = [ip_network("10.0.0.0/8")]
    settings.CHAT_MESSAGES_PER_MINUTE_PER_IP = 1
    monkeypatch.setattr(limits, "wall_clock", lambda: 1_800_000_010.0)  # every message in one minute bucket


def _post(tenant: Tenant, *, peer: str, forwarded_for: str, client_id: str) -> int:
    body = {"key": tenant.public_key, "client_id": client_id, "text": "Hello?"}
    response = HttpClient().post(
        "/api/v1/public/chat/messages",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_ORIGIN=ORIGIN,
        REMOTE_ADDR=peer,
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )
    return response.status_code


def test_http_customers_behind_one_trusted_proxy_have_their_own_limits(tenant: Tenant) -> None:
    # given alice used her message of the minute through our proxy
    assert _post(tenant, peer=PROXY, forwarded_for=ALICE, client_id="a-1") == 200
    # when bob, behind the same proxy, writes, and then alice again
    bob = _post(tenant, peer=PROXY, forwarded_for=f"10.0.0.1, {BOB}, 10.0.0.3", client_id="b-1")
    alice_again = _post(tenant, peer=PROXY, forwarded_for=ALICE, client_id="a-2")
    # then bob is answered and only alice is limited
    assert (bob, alice_again) == (200, 429)


def test_http_a_client_writing_the_header_itself_keeps_its_limit(tenant: Tenant) -> None:
    assert _post(tenant, peer=SPOOFER, forwarded_for=ALICE, client_id="s-1") == 200
    assert _post(tenant, peer=SPOOFER, forwarded_for=BOB, client_id="s-2") == 429


async def _send_one_message(tenant: Tenant, *, peer: str, forwarded_for: str) -> str:
    """The first answer to one message on a fresh socket: ``message.ack`` or the error's code."""
    headers = [(b"origin", ORIGIN.encode()), (b"host", b"testserver"), (b"x-forwarded-for", forwarded_for.encode())]
    communicator = WebsocketCommunicator(application, f"/ws/chat/?key={tenant.public_key}", headers=headers)
    communicator.scope["client"] = [peer, 50000]
    connected, _ = await communicator.connect(timeout=20)
    assert connected
    client = Client(communicator)
    try:
        assert (await client.receive())["type"] == "session.ready"
        await client.send({"type": "message.send", "client_id": "m-1", "text": "Hello?"})
        first = await client.receive()
        if first["type"] == "message.ack":
            await client.receive_until("message.end")
            return "message.ack"
        return str(first["code"])
    finally:
        await client.disconnect()


@pytest.mark.asyncio
async def test_websocket_customers_behind_one_trusted_proxy_have_their_own_limits(tenant: Tenant) -> None:
    # given alice used her message of the minute through our proxy
    assert await _send_one_message(tenant, peer=PROXY, forwarded_for=ALICE) == "message.ack"
    # when bob, behind the same proxy, writes on his own socket, and then alice again
    bob = await _send_one_message(tenant, peer=PROXY, forwarded_for=BOB)
    alice_again = await _send_one_message(tenant, peer=f"::ffff:{PROXY}", forwarded_for=f"1.1.1.1, {ALICE}")
    # then bob is answered and only alice is limited
    assert (bob, alice_again) == ("message.ack", "rate_limited")


@pytest.mark.asyncio
async def test_websocket_a_client_writing_the_header_itself_keeps_its_limit(tenant: Tenant) -> None:
    assert await _send_one_message(tenant, peer=SPOOFER, forwarded_for=ALICE) == "message.ack"
    assert await _send_one_message(tenant, peer=SPOOFER, forwarded_for=BOB) == "rate_limited"
