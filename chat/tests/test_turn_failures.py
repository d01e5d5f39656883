"""A turn that fails in our own code (a database error, say) costs that turn, never the socket, the
questions queued behind it, or a 500 with a traceback on the HTTP fallbacks."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from channels.layers import get_channel_layer
from django.db import OperationalError
from django.test import AsyncClient

from chat import consumers, engine
from chat.models import Message
from chat.phrases import ErrorText, error_message
from chat.tests.conftest import Connect
from chat.tests.urls_under_test import MESSAGES
from routing.providers.fake import Script, ScriptedProvider
from routing.registry import override_providers
from supportai.models import Tenant

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

FAILING = "Tell me about memberships"
INTERNAL = error_message(ErrorText.INTERNAL, language="en")
ORIGIN = "https://alpha.example.com"


class FirstTurnFails:
    """The first turn of ``FAILING`` fails reading its prompt memory, once ``go`` is set."""

    def __init__(self) -> None:
        self.go = threading.Event()
        self.failed = threading.Event()


@pytest.fixture
def first_turn_fails(monkeypatch: pytest.MonkeyPatch) -> Iterator[FirstTurnFails]:
    failing = FirstTurnFails()
    real_memory = engine.prompt_memory

    def memory(**kwargs: Any) -> Any:
        if kwargs["before"].text == FAILING and not failing.failed.is_set():
            failing.failed.set()
            failing.go.wait(30)
            raise OperationalError("server closed the connection unexpectedly")
        return real_memory(**kwargs)

    monkeypatch.setattr(engine, "prompt_memory", memory)
    yield failing
    failing.go.set()  # never leave a pool thread waiting after the test


async def test_a_failed_turn_is_an_error_for_its_message_and_the_socket_answers_on(
    connect: Connect, tenant: Tenant, other_tenant: Tenant, first_turn_fails: FirstTurnFails
) -> None:
    # given a turn that fails with a question queued behind it, and another tenant's widget open
    theirs = await connect(other_tenant, origin="https://bravo.example.com")
    client = await connect(tenant)
    await client.send({"type": "message.send", "client_id": "f-1", "text": FAILING})
    failed_ack = await client.receive()
    await client.send({"type": "message.send", "client_id": "f-2", "text": "And about parking?"})
    queued_ack = await client.receive()
    # when the first turn fails
    first_turn_fails.go.set()
    error = await client.receive(timeout=60)  # the first retrieval of the process loads the embedding model
    queued = await client.receive_until("message.end")
    # then its message gets the internal error, and the question behind it is answered
    assert error == {"type": "error", "code": "internal", "message": INTERNAL, "client_id": "f-1"}
    reply = await Message.objects.aget(pk=queued[-1]["message_id"])
    assert reply.reply_to_id == queued_ack["message_id"]
    # and a resend of the failed message is answered, once
    await client.send({"type": "message.send", "client_id": "f-1", "text": FAILING})
    resent = await client.receive_until("message.end")
    assert resent[0] == failed_ack
    answer = await Message.objects.aget(pk=resent[-1]["message_id"])
    assert answer.reply_to_id == failed_ack["message_id"]
    assert await Message.objects.filter(reply_to_id=failed_ack["message_id"]).acount() == 1
    # and the other tenant's widget heard nothing of it
    assert await theirs.communicator.receive_nothing(timeout=0.5)


async def test_a_turn_failing_as_the_socket_closes_still_leaves_the_conversation_group(
    connect: Connect, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a partial answer that cannot be stored when the customer leaves mid-answer
    real_finish = engine.assistant_message_finish

    def finish(**kwargs: Any) -> Message:
        if kwargs["outcome"].status == "interrupted":
            raise OperationalError("server closed the connection unexpectedly")
        return real_finish(**kwargs)

    monkeypatch.setattr(engine, "assistant_message_finish", finish)
    layer = get_channel_layer()
    slow = ScriptedProvider(name="local", scripts=(Script(deltas=("never",), delay_s=30),))
    with override_providers({"local": slow}):
        client = await connect(tenant)
        group = f"chat.conversation.{client.ready['conversation_id']}"
        await client.send({"type": "message.send", "client_id": "d-1", "text": FAILING})
        await client.receive_until("message.start")
        # when
        await client.disconnect()
    # then the socket left its conversation's group all the same
    assert not layer.groups.get(group)


async def _post(path: str, body: dict[str, Any]) -> Any:
    return await AsyncClient().post(path, json.dumps(body), "application/json", headers={"Origin": ORIGIN})


async def test_a_failed_turn_over_http_is_the_internal_error_and_a_resend_is_answered(
    tenant: Tenant, first_turn_fails: FirstTurnFails
) -> None:
    # given a conversation over HTTP whose next turn fails
    first_turn_fails.go.set()
    opened = (await _post(MESSAGES, {"key": tenant.public_key, "client_id": "h-0", "text": "Hello?"})).json()
    body = {"key": tenant.public_key, "client_id": "h-1", "text": FAILING, "resume_token": opened["resume_token"]}
    # when it is asked
    failed = await _post(MESSAGES, body)
    # then the answer is the protocol's internal error, without a traceback
    assert failed.status_code == 500
    assert failed.json() == {
        "type": "error",
        "code": "internal",
        "message": INTERNAL,
        "conversation_id": opened["conversation_id"],
        "resume_token": opened["resume_token"],
    }
    assert failed["Access-Control-Allow-Origin"] == ORIGIN
    # and a resend is answered in that conversation, once
    again = await _post(MESSAGES, body)
    assert again.status_code == 200, again.content
    question = await Message.objects.aget(client_id="h-1")
    assert (again.json()["conversation_id"], again.json()["message_id"]) == (opened["conversation_id"], question.pk)
    answer = await Message.objects.aget(reply_to=question)
    assert (answer.pk, answer.tenant_id) == (again.json()["answer"]["message_id"], tenant.pk)


async def test_a_failed_first_turn_over_http_names_its_conversation_so_a_resend_answers_it_there(
    tenant: Tenant, first_turn_fails: FirstTurnFails
) -> None:
    # given a client's first message, without a resume token, whose turn fails after it was stored
    first_turn_fails.go.set()
    body = {"key": tenant.public_key, "client_id": "h-1", "text": FAILING}
    # when it is asked
    failed = await _post(MESSAGES, body)
    # then the internal error names the conversation the message is stored in
    assert failed.status_code == 500
    error = failed.json()
    question = await Message.objects.aget(client_id="h-1")
    assert (error["code"], error["conversation_id"]) == ("internal", question.conversation_id)
    # and a resend with its resume token is answered there, the question stored once
    again = await _post(MESSAGES, {**body, "resume_token": error["resume_token"]})
    assert again.status_code == 200, again.content
    assert (again.json()["conversation_id"], again.json()["message_id"]) == (question.conversation_id, question.pk)
    assert await Message.objects.filter(client_id="h-1").acount() == 1


async def test_a_failed_turn_over_sse_ends_with_the_internal_error_event(
    tenant: Tenant, first_turn_fails: FirstTurnFails
) -> None:
    first_turn_fails.go.set()
    body = {"key": tenant.public_key, "client_id": "s-1", "text": FAILING}
    response = await _post(f"{MESSAGES}/stream", body)
    assert response.status_code == 200
    blocks = b"".join([chunk async for chunk in response.streaming_content]).decode().strip().split("\n\n")
    assert [block.split("\n")[0] for block in blocks] == ["event: message.ack", "event: error"]
    error = json.loads(blocks[-1].split("data: ", 1)[1])
    ack = json.loads(blocks[0].split("data: ", 1)[1])
    assert error == {
        "type": "error",
        "code": "internal",
        "message": INTERNAL,
        "client_id": "s-1",
        "conversation_id": ack["conversation_id"],
        "resume_token": ack["resume_token"],
    }


async def test_a_socket_closing_while_its_answer_claim_runs_gives_the_claim_up(
    connect: Connect, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an answer claim still running on its database thread when the customer leaves
    entered, release, claimed = threading.Event(), threading.Event(), threading.Event()
    real_claim = engine.message_answer_claim

    def slow_claim(**kwargs: Any) -> bool:
        entered.set()
        release.wait(10)
        try:
            return real_claim(**kwargs)
        finally:
            claimed.set()

    monkeypatch.setattr(engine, "message_answer_claim", slow_claim)
    first = await connect(tenant)
    frame = {"type": "message.send", "client_id": "c-1", "text": FAILING}
    await first.send(frame)
    ack = await first.receive()
    assert await asyncio.to_thread(entered.wait, 30)
    # when the socket closes mid-claim, and the claim then completes
    disconnecting = asyncio.ensure_future(first.disconnect())
    await asyncio.sleep(0.2)
    release.set()
    await disconnecting
    assert await asyncio.to_thread(claimed.wait, 10)
    # then the question is not left claimed, and a resend on a new socket is answered at once
    question = await Message.objects.aget(pk=ack["message_id"])
    for _ in range(50):
        if question.answer_claimed_at is None:
            break
        await asyncio.sleep(0.1)
        question = await Message.objects.aget(pk=ack["message_id"])
    assert question.answer_claimed_at is None
    again = await connect(tenant, resume=first.ready["resume_token"])
    frames = await again.ask(FAILING, "c-1")
    assert frames[0] == ack and frames[1]["type"] == "message.start"
    reply = await Message.objects.aget(pk=frames[-1]["message_id"])
    assert reply.reply_to_id == question.pk


async def test_a_hand_back_whose_question_cannot_be_read_costs_one_error_not_the_socket(
    connect: Connect, tenant: Tenant, other_tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a hand-back event for a conversation whose unanswered question cannot be read
    def unreadable(**kwargs: Any) -> Message | None:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(consumers, "question_handed_back", unreadable)
    theirs = await connect(other_tenant, origin="https://bravo.example.com")
    client = await connect(tenant)
    returned = {"type": "escalation", "escalation_id": 1, "status": "returned", "message": "Back to the assistant."}
    layer = get_channel_layer()
    # when it arrives
    await layer.group_send(
        f"chat.conversation.{client.ready['conversation_id']}",
        {"type": "escalation.status", "frame": returned, "answer": 123},
    )
    # then the customer sees the hand-back and the internal error, and the socket works on
    assert await client.receive() == returned
    assert await client.receive() == {"type": "error", "code": "internal", "message": INTERNAL}
    await client.send({"type": "ping"})
    assert await client.receive() == {"type": "pong"}
    # and the other tenant's widget heard nothing
    assert await theirs.communicator.receive_nothing(timeout=0.5)
