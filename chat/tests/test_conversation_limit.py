"""New conversations a minute per IP (``CHAT_CONVERSATIONS_PER_MINUTE_PER_IP``).

A socket opens a conversation (a stored row) before any message, so neither message limit bounds
how many a script connecting in a loop leaves behind; this one does, on the socket and over HTTP.
A resume opens nothing and is never refused by it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client as HttpClient

from chat import limits
from chat.models import Conversation
from chat.protocol import CloseCode
from chat.services import conversation_open
from chat.tests.conftest import ORIGIN
from supportai.asgi import application
from supportai.models import Tenant
from supportai.tests.websockets import disconnect

pytestmark = pytest.mark.django_db(transaction=True)
ALICE, BOB = "198.51.100.7", "203.0.113.9"


@pytest.fixture(autouse=True)
def two_conversations_a_minute(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.CHAT_CONVERSATIONS_PER_MINUTE_PER_IP = 2
    monkeypatch.setattr(limits, "wall_clock", lambda: 1_800_000_010.0)  # every request in one minute bucket


async def _connect(tenant: Tenant, *, peer: str, resume: str = "") -> list[dict[str, Any]]:
    """What a fresh socket from ``peer`` gets: its first frame, and its close if it is closed."""
    path = f"/ws/chat/?key={tenant.public_key}" + (f"&resume={resume}" if resume else "")
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]  # any tenant's, as on /demo/
    communicator = WebsocketCommunicator(application, path, headers=headers)
    communicator.scope["client"] = [peer, 50000]
    connected, _ = await communicator.connect(timeout=20)
    assert connected
    try:
        outputs = [await communicator.receive_output(timeout=20)]
        if not await communicator.receive_nothing(timeout=0.5):
            outputs.append(await communicator.receive_output(timeout=20))
        return [json.loads(o["text"]) if o["type"] == "websocket.send" else o for o in outputs]
    finally:
        await disconnect(communicator)


@pytest.mark.asyncio
async def test_sockets_opening_more_conversations_a_minute_than_allowed_are_refused(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    # given alice opened her two conversations of the minute
    first = await _connect(tenant, peer=ALICE)
    await _connect(tenant, peer=ALICE)
    # when she opens a third, at this tenant or another
    third = await _connect(tenant, peer=ALICE)
    elsewhere = await _connect(other_tenant, peer=ALICE)
    # then each is refused as rate limited and closed with 4429, and nothing more is stored
    for refused in (third, elsewhere):
        error, close = refused
        assert error["type"] == "error" and error["code"] == "rate_limited" and error["message"]
        assert close == {"type": "websocket.close", "code": CloseCode.RATE_LIMITED}
    assert await Conversation.objects.filter(tenant=tenant).acount() == 2
    assert not await Conversation.objects.filter(tenant=other_tenant).aexists()
    # and she still resumes her own conversation, while bob opens his
    resumed = (await _connect(tenant, peer=ALICE, resume=first[0]["resume_token"]))[0]
    assert resumed["type"] == "session.ready" and resumed["conversation_id"] == first[0]["conversation_id"]
    assert (await _connect(tenant, peer=BOB))[0]["type"] == "session.ready"


@pytest.mark.asyncio
async def test_another_tenants_resume_token_over_the_limit_resumes_nothing(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    # given the other tenant's conversation, and alice at her limit
    other = await sync_to_async(conversation_open)(tenant=other_tenant, origin="")
    await _connect(tenant, peer=ALICE)
    await _connect(tenant, peer=ALICE)
    # when she connects to this tenant with the other tenant's resume token
    error, close = await _connect(tenant, peer=ALICE, resume=other.resume_token)
    # then it would be a new conversation, so it is refused: never the other tenant's
    assert error["code"] == "rate_limited" and close["code"] == CloseCode.RATE_LIMITED
    assert "conversation_id" not in error and "history" not in error


def _post(tenant: Tenant, *, peer: str, client_id: str, resume_token: str | None = None) -> Any:
    body = {"key": tenant.public_key, "client_id": client_id, "text": "Hello?", "resume_token": resume_token}
    return HttpClient().post(
        "/api/v1/public/chat/messages",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_ORIGIN=ORIGIN,
        REMOTE_ADDR=peer,
    )


def test_http_messages_opening_more_conversations_a_minute_than_allowed_are_refused(tenant: Tenant) -> None:
    # given alice opened her two conversations of the minute over HTTP
    first = _post(tenant, peer=ALICE, client_id="a-1")
    assert first.status_code == 200 and _post(tenant, peer=ALICE, client_id="a-2").status_code == 200
    # when she sends a message without a resume token again
    refused = _post(tenant, peer=ALICE, client_id="a-3")
    # then it is refused as rate limited, and nothing more is stored
    assert refused.status_code == 429
    assert refused.json()["type"] == "error" and refused.json()["code"] == "rate_limited"
    assert Conversation.objects.filter(tenant=tenant).count() == 2
    # and her messages in a conversation she has, and bob's first, are answered
    assert _post(tenant, peer=ALICE, client_id="a-4", resume_token=first.json()["resume_token"]).status_code == 200
    assert _post(tenant, peer=BOB, client_id="b-1").status_code == 200
