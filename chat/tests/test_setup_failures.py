"""A database failure while a conversation is opened, resumed or identified is the protocol's
``unavailable`` error, logged with the tenant and conversation ids: never a 500 with a traceback, never
a socket dropped by an unhandled exception, and nothing already stored is lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.db import InterfaceError

from chat import services
from chat.models import Conversation, Message
from chat.phrases import ErrorText, error_message
from chat.protocol import CloseCode
from chat.tests.conftest import Connect
from chat.tests.db_failures import (
    STATEMENT_TIMEOUT,
    UNAVAILABLE,
    Fail,
    assert_unavailable,
    failure_logs,
    first_turn,
    post,
)
from chat.tests.urls_under_test import MESSAGES
from supportai.identity import identity_secret_rotate, sign_identity
from supportai.models import Tenant

pytestmark = pytest.mark.django_db(transaction=True)

INTERNAL = error_message(ErrorText.INTERNAL, language="en")


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
    first = first_turn(tenant)
    # when resuming it fails in the database
    fail(service, STATEMENT_TIMEOUT)
    body = {"key": tenant.public_key, "client_id": "s-2", "text": "Mondays?", "resume_token": first["resume_token"]}
    response = post(body, path)
    # then the customer gets the unavailable error, the log names the ids, and nothing was stored or lost
    assert_unavailable(response)
    [logged] = failure_logs(caplog)
    assert f"tenant {tenant.pk}" in logged.getMessage() and logged.exc_info is not None
    assert (f"conversation {first['conversation_id']}" in logged.getMessage()) is names_the_conversation
    assert Message.objects.filter(conversation_id=first["conversation_id"]).count() == 2
    assert Conversation.objects.count() == 1
    # and the resend resumes the same conversation
    again = post(body)
    assert again.status_code == 200, again.content
    assert again.json()["conversation_id"] == first["conversation_id"]


def test_http_open_failing_in_the_database_is_unavailable(
    tenant: Tenant, fail: Fail, caplog: pytest.LogCaptureFixture
) -> None:
    fail("conversation_open", InterfaceError("connection already closed"))
    response = post({"key": tenant.public_key, "client_id": "s-1", "text": "Hello?"})
    assert_unavailable(response)
    [logged] = failure_logs(caplog)
    assert f"tenant {tenant.pk}" in logged.getMessage()
    assert not Conversation.objects.exists() and not Message.objects.exists()


def test_http_identify_failing_in_the_database_is_unavailable_and_names_the_conversation(
    tenant: Tenant, other_tenant: Tenant, fail: Fail, caplog: pytest.LogCaptureFixture
) -> None:
    # given a conversation, and a signed-in customer's identity token
    first = first_turn(tenant)
    secret = identity_secret_rotate(tenant=tenant)
    token = sign_identity(secret=secret, external_id="cust-1", name="Ann Lee", lifetime=timedelta(hours=1))
    # when linking them fails in the database
    fail("conversation_identify", STATEMENT_TIMEOUT)
    response = post(
        {
            "key": tenant.public_key,
            "client_id": "s-2",
            "text": "Where is my booking?",
            "resume_token": first["resume_token"],
            "identity_token": token,
        }
    )
    # then unavailable, logged with both ids, and the conversation is as it was
    assert_unavailable(response)
    [logged] = failure_logs(caplog)
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
    closed = {"type": "websocket.close", "code": CloseCode.UNAVAILABLE}
    assert await failed.communicator.receive_output(timeout=10) == closed
    [logged] = failure_logs(caplog)
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
    closed = {"type": "websocket.close", "code": CloseCode.UNAVAILABLE}
    assert await failed.communicator.receive_output(timeout=10) == closed
    [logged] = failure_logs(caplog)
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
    [logged] = failure_logs(caplog)
    assert f"tenant {tenant.pk}, conversation {conversation_id}" in logged.getMessage()
    await client.send({"type": "ping"})
    assert await client.receive() == {"type": "pong"}
    conversation = await Conversation.objects.aget(pk=conversation_id)
    assert conversation.end_user_id is None
    assert [m.pk async for m in Message.objects.filter(conversation=conversation)] == [question.pk]
