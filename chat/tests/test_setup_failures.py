"""A database failure while a conversation is opened, resumed or identified is the protocol's
``unavailable`` error, logged with the tenant and conversation ids: never a 500 with a traceback, never
a socket dropped by an unhandled exception, and nothing already stored is lost."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import InterfaceError, OperationalError
from django.test import Client

from chat import services
from chat.error_phrases import ErrorText, error_message
from chat.models import Conversation, Message
from chat.tests.conftest import Connect
from supportai.identity import identity_secret_rotate, sign_identity
from supportai.models import Tenant

pytestmark = pytest.mark.django_db(transaction=True)

INTERNAL = error_message(ErrorText.INTERNAL, language="en")
UNAVAILABLE = {"type": "error", "code": "unavailable", "message": error_message(ErrorText.INTERNAL, language="en")}
ORIGIN = "https://alpha.example.com"
MESSAGES = "/api/v1/public/chat/messages"
STATEMENT_TIMEOUT = OperationalError("canceling statement due to statement timeout")

Fail = Callable[[str, Exception], None]


@pytest.fixture
def fail(monkeypatch: pytest.MonkeyPatch) -> Fail:
    """``fail(name, error)``: the service ``chat.services.<name>`` raises ``error`` once, then works again."""

    def make_fail(name: str, error: Exception) -> None:
        real = getattr(services, name)

        def failing(**kwargs: Any) -> Any:
            monkeypatch.setattr(services, name, real)
            raise error

        monkeypatch.setattr(services, name, failing)

    return make_fail


def _post(body: dict[str, Any], path: str = MESSAGES) -> Any:
    return Client().post(path, data=json.dumps(body), content_type="application/json", HTTP_ORIGIN=ORIGIN)


def _first_turn(tenant: Tenant) -> dict[str, Any]:
    response = _post({"key": tenant.public_key, "client_id": "s-1", "text": "Do you open on Sundays?"})
    assert response.status_code == 200, response.content
    first: dict[str, Any] = response.json()
    return first


def _failure_logs(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Our error records (Django's ``django.request`` also logs every 5xx status, without a traceback)."""
    return [record for record in caplog.records if record.levelno >= logging.ERROR and record.name.startswith("chat.")]


def _assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.content
    assert response.json() == UNAVAILABLE
    assert response["Access-Control-Allow-Origin"] == ORIGIN


@pytest.mark.parametrize(
    ("service", "path", "names_the_conversation"),
    [
        ("conversation_resume", MESSAGES, False),
        ("conversation_resume", f"{MESSAGES}/stream", False),
        ("conversation_finish_abandoned_replies", MESSAGES, True),
    ],
)
def test_http_resume_failing_in_the_database_is_unavailable_and_keeps_the_conversation(
    tenant: Tenant, fail: Fail, caplog: pytest.LogCaptureFixture, service: str, path: str, names_the_conversation: bool
) -> None:
    # given a conversation with a question and its answer
    first = _first_turn(tenant)
    # when resuming it fails in the database
    fail(service, STATEMENT_TIMEOUT)
    body = {"key": tenant.public_key, "client_id": "s-2", "text": "Mondays?", "resume_token": first["resume_token"]}
    response = _post(body, path)
    # then the customer gets the unavailable error, the log names the ids, and nothing was stored or lost
    _assert_unavailable(response)
    [logged] = _failure_logs(caplog)
    assert f"tenant {tenant.pk}" in logged.getMessage() and logged.exc_info is not None
    assert (f"conversation {first['conversation_id']}" in logged.getMessage()) is names_the_conversation
    assert Message.objects.filter(conversation_id=first["conversation_id"]).count() == 2
    assert Conversation.objects.count() == 1
    # and the resend resumes the same conversation
    again = _post(body)
    assert again.status_code == 200, again.content
    assert again.json()["conversation_id"] == first["conversation_id"]


def test_http_open_failing_in_the_database_is_unavailable(
    tenant: Tenant, fail: Fail, caplog: pytest.LogCaptureFixture
) -> None:
    fail("conversation_open", InterfaceError("connection already closed"))
    response = _post({"key": tenant.public_key, "client_id": "s-1", "text": "Hello?"})
    _assert_unavailable(response)
    [logged] = _failure_logs(caplog)
    assert f"tenant {tenant.pk}" in logged.getMessage()
    assert not Conversation.objects.exists() and not Message.objects.exists()


def test_http_identify_failing_in_the_database_is_unavailable_and_names_the_conversation(
    tenant: Tenant, other_tenant: Tenant, fail: Fail, caplog: pytest.LogCaptureFixture
) -> None:
    # given a conversation, and a signed-in customer's identity token
    first = _first_turn(tenant)
    secret = identity_secret_rotate(tenant=tenant)
    token = sign_identity(secret=secret, external_id="cust-1", name="Ann Lee", lifetime=timedelta(hours=1))
    # when linking them fails in the database
    fail("conversation_identify", STATEMENT_TIMEOUT)
    response = _post(
        {
            "key": tenant.public_key,
            "client_id": "s-2",
            "text": "Where is my booking?",
            "resume_token": first["resume_token"],
            "identity_token": token,
        }
    )
    # then unavailable, logged with both ids, and the conversation is as it was
    _assert_unavailable(response)
    [logged] = _failure_logs(caplog)
    assert f"tenant {tenant.pk}" in logged.getMessage()
    assert f"conversation {first['conversation_id']}" in logged.getMessage()
    conversation = Conversation.objects.get(pk=first["conversation_id"])
    assert conversation.end_user_id is None
    assert Message.objects.filter(conversation=conversation).count() == 2
    assert not Conversation.objects.filter(tenant=other_tenant).exists()


async def _stored_question(tenant: Tenant, conversation_id: int) -> Message:
    conversation = await Conversation.objects.aget(pk=conversation_id)
    received = await sync_to_async(services.message_receive)(
        tenant=tenant, conversation=conversation, client_id="w-1", text="Do you open on Sundays?"
    )
    return received.message


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("service", "names_the_conversation"),
    [("conversation_resume", False), ("conversation_finish_abandoned_replies", True)],
)
async def test_websocket_resume_failing_in_the_database_is_an_unavailable_frame_then_a_close(
    connect: Connect,
    tenant: Tenant,
    fail: Fail,
    caplog: pytest.LogCaptureFixture,
    service: str,
    names_the_conversation: bool,
) -> None:
    # given a conversation with a stored question
    first = await connect(tenant)
    conversation_id = first.ready["conversation_id"]
    question = await _stored_question(tenant, conversation_id)
    # when resuming it fails in the database
    fail(service, STATEMENT_TIMEOUT)
    failed = await connect(tenant, resume=first.ready["resume_token"], expect_ready=False)
    # then the socket gets the unavailable error and is closed cleanly, and the log names the ids
    assert await failed.receive() == UNAVAILABLE
    assert await failed.communicator.receive_output(timeout=10) == {"type": "websocket.close", "code": 1011}
    [logged] = _failure_logs(caplog)
    assert f"tenant {tenant.pk}" in logged.getMessage()
    assert (f"conversation {conversation_id}" in logged.getMessage()) is names_the_conversation
    # and the next connection resumes the conversation with its question
    again = await connect(tenant, resume=first.ready["resume_token"])
    assert again.ready["conversation_id"] == conversation_id
    assert [row["message_id"] for row in again.ready["history"]] == [question.pk]
    assert await Conversation.objects.acount() == 1


@pytest.mark.asyncio
async def test_websocket_open_failing_in_the_database_is_an_unavailable_frame_then_a_close(
    connect: Connect, tenant: Tenant, fail: Fail, caplog: pytest.LogCaptureFixture
) -> None:
    fail("conversation_open", InterfaceError("connection already closed"))
    failed = await connect(tenant, expect_ready=False)
    assert await failed.receive() == UNAVAILABLE
    assert await failed.communicator.receive_output(timeout=10) == {"type": "websocket.close", "code": 1011}
    [logged] = _failure_logs(caplog)
    assert f"tenant {tenant.pk}, conversation None" in logged.getMessage()
    assert not await Conversation.objects.aexists()


@pytest.mark.asyncio
async def test_websocket_identify_failing_in_the_database_costs_one_internal_frame(
    connect: Connect, tenant: Tenant, fail: Fail, caplog: pytest.LogCaptureFixture
) -> None:
    # given a conversation with a stored question, and a signed-in customer's identity token
    client = await connect(tenant)
    conversation_id = client.ready["conversation_id"]
    question = await _stored_question(tenant, conversation_id)
    secret = await sync_to_async(identity_secret_rotate)(tenant=tenant)
    token = sign_identity(secret=secret, external_id="cust-1", name="Ann Lee", lifetime=timedelta(hours=1))
    # when linking them fails in the database
    fail("conversation_identify", STATEMENT_TIMEOUT)
    await client.send({"type": "identify", "token": token})
    # then one internal error frame, logged with both ids, and the socket stays usable
    assert await client.receive() == {"type": "error", "code": "internal", "message": INTERNAL}
    [logged] = _failure_logs(caplog)
    assert f"tenant {tenant.pk}, conversation {conversation_id}" in logged.getMessage()
    await client.send({"type": "ping"})
    assert await client.receive() == {"type": "pong"}
    conversation = await Conversation.objects.aget(pk=conversation_id)
    assert conversation.end_user_id is None
    assert [m.pk async for m in Message.objects.filter(conversation=conversation)] == [question.pk]
