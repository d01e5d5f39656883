"""Showing a stored message to the staff watching its conversation is best effort: with the channel
layer down, the customer still gets the ack and the answer, both stay stored, and the failure is a
warning naming the ids (no error, no traceback)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

import pytest
from django.test import AsyncClient

from chat.models import Message, MessageRole, MessageStatus
from chat.tests.conftest import Connect
from escalations import watch
from escalations.realtime import Publication
from supportai.models import Tenant

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]
ORIGIN = "https://alpha.example.com"


@pytest.fixture
def watchers_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Publishing to the inbox watchers fails as with Redis down."""

    async def publish(publications: Iterable[Publication]) -> None:
        raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(watch, "publish", publish)


async def _stored_turn(conversation_id: int) -> list[Message]:
    return [message async for message in Message.objects.filter(conversation_id=conversation_id).order_by("pk")]


def _assert_warned_for(caplog: pytest.LogCaptureFixture, tenant: Tenant, stored: list[Message]) -> None:
    """One warning per stored message, naming its ids; nothing at error level from our code."""
    warnings = [record for record in caplog.records if record.name == "escalations.watch"]
    assert [record.levelno for record in warnings] == [logging.WARNING] * len(stored)
    for record, message in zip(warnings, stored, strict=True):
        text = record.getMessage()
        assert f"message {message.pk}" in text and f"conversation {message.conversation_id}" in text
        assert f"tenant {tenant.pk}" in text and record.exc_info is None
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


@pytest.mark.usefixtures("watchers_unreachable")
async def test_http_answer_is_given_and_kept_when_the_watchers_cannot_be_reached(
    tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    # when a message is sent over HTTP while the channel layer is down
    body = {"key": tenant.public_key, "client_id": "p-1", "text": "Do you open on Sundays?"}
    response = await AsyncClient().post(
        "/api/v1/public/chat/messages", json.dumps(body), "application/json", headers={"Origin": ORIGIN}
    )
    # then the whole answer comes back, both messages are stored, and each failed publish is a warning
    assert response.status_code == 200, response.content
    answer = response.json()["answer"]
    assert answer["type"] == "message.end" and answer["status"] == MessageStatus.COMPLETE
    stored = await _stored_turn(response.json()["conversation_id"])
    assert [(m.role, m.status) for m in stored] == [
        (MessageRole.CUSTOMER, MessageStatus.COMPLETE),
        (MessageRole.ASSISTANT, MessageStatus.COMPLETE),
    ]
    assert [m.tenant_id for m in stored] == [tenant.pk, tenant.pk]
    _assert_warned_for(caplog, tenant, stored)


@pytest.mark.usefixtures("watchers_unreachable")
async def test_websocket_answer_is_given_and_kept_when_the_watchers_cannot_be_reached(
    connect: Connect, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    # given a widget connection
    client = await connect(tenant)
    # when a message is sent while the channel layer is down
    frames = await client.ask("Do you open on Sundays?", "p-1")
    # then the ack and the answer come, the socket stays usable, and both messages are stored
    assert frames[0]["type"] == "message.ack"
    assert frames[-1]["status"] == MessageStatus.COMPLETE
    await client.send({"type": "ping"})
    assert await client.receive() == {"type": "pong"}
    stored = await _stored_turn(client.ready["conversation_id"])
    assert [m.pk for m in stored] == [frames[0]["message_id"], frames[-1]["message_id"]]
    _assert_warned_for(caplog, tenant, stored)
