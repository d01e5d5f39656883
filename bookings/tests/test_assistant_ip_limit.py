"""Ownership proofs the assistant makes for a customer count toward the per-IP limit ("20 per IP per
hour"), on the websocket (the socket's client address) and on the HTTP fallback (``REMOTE_ADDR``)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client as HttpClient

from bookings import limits
from bookings.assistant import run_tool_calls
from bookings.models import Booking
from bookings.services import CUSTOMER, GENERIC_NOT_FOUND, booking_create
from bookings.tests.conftest import local, next_weekday
from chat.services import conversation_open
from chat.tests.conftest import ORIGIN, Client
from routing.contracts import ToolCall
from routing.providers.fake import Script, ScriptedProvider
from routing.registry import override_providers
from supportai.asgi import application
from supportai.tests.websockets import disconnect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("embedding_model_loaded")]
IP = "203.0.113.7"
OTHER_IP = "198.51.100.9"


def _book(tenant, service, email="pat@x.org") -> Booking:
    start = local(tenant, next_weekday(2), 9)
    return booking_create(tenant=tenant, service=service, start=start, name="Pat", email=email, actor=CUSTOMER)


def _get_booking(code: str, email: str) -> ToolCall:
    return ToolCall("call-get", "get_booking", {"confirmation_code": code, "email": email})


def _lookup(tenant, *, ip: str, code: str, email: str, conversation=None) -> dict[str, Any]:
    conversation = conversation or conversation_open(tenant=tenant).conversation
    step = run_tool_calls(tenant=tenant, conversation=conversation, calls=(_get_booking(code, email),), ip=ip)
    (result,) = step.results
    content: dict[str, Any] = json.loads(result.content)
    return content


def _exhaust(ip: str) -> None:
    for _ in range(limits.IP_FAILURES):
        limits.proof_failed(conversation_id=0, ip=ip)


def test_failed_assistant_lookups_count_toward_the_per_ip_limit(tenant, other_tenant, service, other_service):
    # given: an address that, through the assistant in several conversations, tries another tenant's
    # booking with its right code and email (never found here) until the per-IP limit is reached
    mine = _book(tenant, service)
    theirs = _book(other_tenant, other_service, "them@x.org")
    for _ in range(limits.IP_FAILURES // limits.CONVERSATION_FAILURES):
        conversation = conversation_open(tenant=tenant).conversation
        for _ in range(limits.CONVERSATION_FAILURES):
            found = _lookup(tenant, ip=IP, code=theirs.confirmation_code, email="them@x.org", conversation=conversation)
            assert found == {"error": GENERIC_NOT_FOUND}
    # when / then: a fresh conversation from that address is refused even with a right proof
    assert _lookup(tenant, ip=IP, code=mine.confirmation_code, email="pat@x.org") == {"error": limits.TOO_MANY}
    # and another address is not affected
    found = _lookup(tenant, ip=OTHER_IP, code=mine.confirmation_code, email="pat@x.org")
    assert found["confirmation_code"] == mine.confirmation_code


def _scripted(code: str, email: str) -> ScriptedProvider:
    ask = Script(deltas=("One moment.",), tool_calls=(_get_booking(code, email),), confidence=0.95)
    return ScriptedProvider(name="local", scripts=(ask, Script(deltas=("Done.",), confidence=0.95)))


def _tool_result(provider: ScriptedProvider) -> dict[str, Any]:
    (round_,) = provider.requests[1].tool_rounds
    content: dict[str, Any] = json.loads(round_.results[0].content)
    return content


async def _ask_on_socket(tenant, *, ip: str, provider: ScriptedProvider) -> None:
    headers = [(b"origin", ORIGIN.encode()), (b"host", b"testserver")]
    communicator = WebsocketCommunicator(application, f"/ws/chat/?key={tenant.public_key}", headers=headers)
    communicator.scope["client"] = [ip, 50000]
    with override_providers({"local": provider}):
        connected, _ = await communicator.connect(timeout=20)
        assert connected
        try:
            client = Client(communicator)
            assert (await client.receive())["type"] == "session.ready"
            await client.ask("Where is my booking?", "q1")
        finally:
            await disconnect(communicator)


@pytest.mark.asyncio
async def test_the_assistant_on_the_websocket_is_limited_per_client_address(tenant, service):
    booking = await sync_to_async(_book)(tenant, service)
    await sync_to_async(_exhaust)(IP)
    limited = _scripted(booking.confirmation_code, "pat@x.org")
    await _ask_on_socket(tenant, ip=IP, provider=limited)
    assert _tool_result(limited) == {"error": limits.TOO_MANY}
    allowed = _scripted(booking.confirmation_code, "pat@x.org")
    await _ask_on_socket(tenant, ip=OTHER_IP, provider=allowed)
    assert _tool_result(allowed)["confirmation_code"] == booking.confirmation_code


def _ask_over_http(tenant, *, ip: str, provider: ScriptedProvider) -> None:
    body = {"key": tenant.public_key, "client_id": "h-1", "text": "Where is my booking?"}
    with override_providers({"local": provider}):
        response = HttpClient().post(
            "/api/v1/public/chat/messages",
            data=json.dumps(body),
            content_type="application/json",
            HTTP_ORIGIN=ORIGIN,
            REMOTE_ADDR=ip,
        )
    assert response.status_code == 200


def test_the_assistant_over_http_is_limited_per_remote_address(tenant, service):
    booking = _book(tenant, service)
    _exhaust(IP)
    limited = _scripted(booking.confirmation_code, "pat@x.org")
    _ask_over_http(tenant, ip=IP, provider=limited)
    assert _tool_result(limited) == {"error": limits.TOO_MANY}
    allowed = _scripted(booking.confirmation_code, "pat@x.org")
    _ask_over_http(tenant, ip=OTHER_IP, provider=allowed)
    assert _tool_result(allowed)["confirmation_code"] == booking.confirmation_code
