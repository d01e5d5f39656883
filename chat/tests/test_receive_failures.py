"""A customer message that cannot be stored (a database error before its ack) is the protocol's
``internal`` error on the HTTP fallbacks: JSON 500 without a traceback, or the stream's error event."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import OperationalError
from django.test import AsyncClient

from chat import services
from chat.models import Conversation, Message
from chat.phrases import ErrorText, error_message
from chat.tests.urls_under_test import MESSAGES
from supportai.models import Tenant

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

INTERNAL = error_message(ErrorText.INTERNAL, language="en")
ORIGIN = "https://alpha.example.com"


@pytest.fixture
def first_receive_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first storing of a customer message fails with a database error; later ones store."""
    real_receive = services.message_receive
    failed: list[str] = []

    def receive(**kwargs: Any) -> services.ReceivedMessage:
        if not failed:
            failed.append(kwargs["client_id"])
            raise OperationalError("server closed the connection unexpectedly")
        return real_receive(**kwargs)

    monkeypatch.setattr(services, "message_receive", receive)


async def _post(path: str, body: dict[str, Any], origin: str = ORIGIN) -> Any:
    return await AsyncClient().post(path, json.dumps(body), "application/json", headers={"Origin": origin})


@pytest.mark.usefixtures("first_receive_fails")
async def test_a_message_that_cannot_be_stored_is_the_internal_error_and_a_resend_is_answered(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    body = {"key": tenant.public_key, "client_id": "r-1", "text": "Where can I park?"}
    # when the message cannot be stored
    failed = await _post(MESSAGES, body)
    # then the answer is the protocol's internal error, without a traceback
    assert failed.status_code == 500
    error = failed.json()
    assert (error["type"], error["code"], error["message"]) == ("error", "internal", INTERNAL)
    assert failed["Access-Control-Allow-Origin"] == ORIGIN
    assert not await Message.objects.filter(client_id="r-1").aexists()
    # and a resend with the resume token of the conversation it opened is stored and answered there,
    # in this tenant only
    again = await _post(MESSAGES, {**body, "resume_token": error["resume_token"]})
    assert again.status_code == 200, again.content
    question = await Message.objects.aget(client_id="r-1")
    assert (question.tenant_id, question.pk) == (tenant.pk, again.json()["message_id"])
    assert question.conversation_id == error["conversation_id"] == again.json()["conversation_id"]
    assert await Conversation.objects.acount() == 1
    assert not await Message.objects.filter(tenant=other_tenant).aexists()


@pytest.mark.usefixtures("first_receive_fails")
async def test_a_message_that_cannot_be_stored_over_sse_is_the_internal_error_event(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    body = {"key": tenant.public_key, "client_id": "r-2", "text": "Where can I park?"}
    response = await _post(f"{MESSAGES}/stream", body)
    assert response.status_code == 200
    blocks = b"".join([chunk async for chunk in response.streaming_content]).decode().strip().split("\n\n")
    assert [block.split("\n")[0] for block in blocks] == ["event: error"]
    error = json.loads(blocks[0].split("data: ", 1)[1])
    conversation = await Conversation.objects.aget()
    assert error == {
        "type": "error",
        "code": "internal",
        "message": INTERNAL,
        "client_id": "r-2",
        "conversation_id": conversation.pk,
        "resume_token": error["resume_token"],
    }
    assert not await Message.objects.filter(tenant=other_tenant).aexists()
