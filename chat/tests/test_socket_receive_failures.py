"""A customer message the socket cannot store (a database error before its ack) is the ``internal`` error
naming its ``client_id``, as over HTTP: the widget marks that question failed, and a resend is answered."""

from __future__ import annotations

import pytest

from chat.models import Message
from chat.phrases import ErrorText, error_message
from chat.tests.conftest import Connect
from chat.tests.db_failures import STATEMENT_TIMEOUT, Fail, failure_logs
from supportai.models import Tenant

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

INTERNAL = error_message(ErrorText.INTERNAL, language="en")


async def test_a_message_the_socket_cannot_store_is_the_internal_error_with_its_client_id(
    connect: Connect, tenant: Tenant, other_tenant: Tenant, fail: Fail, caplog: pytest.LogCaptureFixture
) -> None:
    # given a widget, and another tenant's
    theirs = await connect(other_tenant, origin="https://bravo.example.com")
    client = await connect(tenant)
    conversation_id = client.ready["conversation_id"]
    # when its message cannot be stored
    fail("message_receive", STATEMENT_TIMEOUT)
    send = {"type": "message.send", "client_id": "w-1", "text": "Do you open on Sundays?"}
    await client.send(send)
    # then the internal error names the message, with no ack before it, and the log names the ids
    assert await client.receive() == {"type": "error", "code": "internal", "message": INTERNAL, "client_id": "w-1"}
    [logged] = failure_logs(caplog)
    assert "'w-1'" in logged.getMessage() and logged.exc_info is not None
    assert f"tenant {tenant.pk}, conversation {conversation_id}" in logged.getMessage()
    assert not await Message.objects.aexists()
    # and the resend on the same socket is stored and answered, in this tenant only
    await client.send(send)
    frames = await client.receive_until("message.end")
    assert frames[0]["type"] == "message.ack" and frames[0]["client_id"] == "w-1"
    question = await Message.objects.aget(client_id="w-1")
    assert (question.tenant_id, question.conversation_id) == (tenant.pk, conversation_id)
    assert not await Message.objects.filter(tenant=other_tenant).aexists()
    assert await theirs.communicator.receive_nothing(timeout=0.5)
