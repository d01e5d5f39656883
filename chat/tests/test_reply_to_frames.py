"""Live answers name their question: ``message.start`` and ``message.end`` carry ``reply_to``, the
``client_id`` of the customer message they answer (as ``session.ready.history`` does), however the
answer reaches the client — its own turn, a resend's repeat, another socket's answer, a handoff line
or the HTTP fallback."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import AsyncClient
from django.test import Client as HttpClient

from chat.models import Message, MessageRole
from chat.tests.conftest import Connect
from supportai.models import Tenant

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = "https://alpha.example.com"


def _answer_frames(frames: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    return [(f["type"], f.get("reply_to", "-")) for f in frames if f["type"] in {"message.start", "message.end"}]


@pytest.mark.asyncio
async def test_a_live_answer_names_its_question_from_start_to_end(connect: Connect, tenant: Tenant) -> None:
    # given
    client = await connect(tenant)
    # when two questions are asked back to back
    await client.send({"type": "message.send", "client_id": "q-1", "text": "What are your opening hours?"})
    await client.send({"type": "message.send", "client_id": "q-2", "text": "Do you sell gift cards?"})
    frames = await client.receive_until("message.end")
    frames += await client.receive_until("message.end")
    # then each answer's start and end name the question they answer
    assert _answer_frames(frames) == [
        ("message.start", "q-1"),
        ("message.end", "q-1"),
        ("message.start", "q-2"),
        ("message.end", "q-2"),
    ]


@pytest.mark.asyncio
async def test_a_resend_repeats_the_end_naming_its_question(connect: Connect, tenant: Tenant) -> None:
    client = await connect(tenant)
    first = await client.ask("Do you sell gift cards?", "same-id")

    await client.send({"type": "message.send", "client_id": "same-id", "text": "Do you sell gift cards?"})
    ack, repeat = await client.receive(), await client.receive()

    assert ack["type"] == "message.ack"
    assert repeat == first[-1] and repeat["reply_to"] == "same-id"


@pytest.mark.asyncio
async def test_another_sockets_answer_names_that_sockets_question(connect: Connect, tenant: Tenant) -> None:
    # given two sockets of one conversation (a second tab)
    first = await connect(tenant)
    second = await connect(tenant, resume=first.ready["resume_token"])
    # when the first tab asks
    own = await first.ask("What are your opening hours?", "tab-1")
    # then the second tab gets the same end, naming the first tab's question (not one of its own)
    shared = await second.receive_until("message.end")
    assert shared == [own[-1]] and shared[0]["reply_to"] == "tab-1"


@pytest.mark.asyncio
async def test_a_handoff_line_names_the_question_it_answers(connect: Connect, tenant: Tenant) -> None:
    client = await connect(tenant)

    frames = await client.ask("I want to talk to a real person please", "h-1")

    assert frames[-1]["escalated"] is True and frames[-1]["model"] == "handoff"
    assert _answer_frames(frames) == [("message.start", "h-1"), ("message.end", "h-1")]


@pytest.mark.asyncio
async def test_another_tenants_resend_of_the_same_client_id_is_answered_as_its_own(
    connect: Connect, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given tenant's answered question "same-id"
    ours = await connect(tenant)
    answered = await ours.ask("Do you sell gift cards?", "same-id")
    # when another tenant's widget resumes with that token and sends the same client_id
    theirs = await connect(other_tenant, origin="https://bravo.example.com", resume=ours.ready["resume_token"])
    frames = await theirs.ask("Do you sell gift cards?", "same-id")
    # then it is that tenant's own question, answered there: the end names it, tenant's answer is not repeated
    end = frames[-1]
    assert end["message_id"] != answered[-1]["message_id"] and end["reply_to"] == "same-id"
    stored = await Message.objects.select_related("reply_to").aget(pk=end["message_id"])
    assert stored.tenant_id == other_tenant.pk and stored.reply_to is not None
    assert (stored.reply_to.tenant_id, stored.reply_to.role) == (other_tenant.pk, MessageRole.CUSTOMER)


def _post(body: dict[str, Any]) -> Any:
    return HttpClient().post(
        "/api/v1/public/chat/messages", data=json.dumps(body), content_type="application/json", HTTP_ORIGIN=ORIGIN
    )


def test_the_http_answer_and_its_repeat_name_the_question(tenant: Tenant) -> None:
    question = {"key": tenant.public_key, "client_id": "h-1", "text": "Hello?"}
    first = _post(question).json()
    again = _post({**question, "resume_token": first["resume_token"]})

    assert first["answer"]["reply_to"] == "h-1"
    assert again.json()["answer"] == first["answer"]


@pytest.mark.asyncio
async def test_the_http_stream_names_the_question(tenant: Tenant) -> None:
    response = await AsyncClient().post(
        "/api/v1/public/chat/messages/stream",
        data=json.dumps({"key": tenant.public_key, "client_id": "s-1", "text": "Hello?"}),
        content_type="application/json",
        HTTP_ORIGIN=ORIGIN,
    )
    body = b"".join([chunk async for chunk in response.streaming_content]).decode()  # type: ignore[attr-defined]
    frames = [json.loads(line[len("data: ") :]) for line in body.splitlines() if line.startswith("data: ")]

    assert _answer_frames(frames) == [("message.start", "s-1"), ("message.end", "s-1")]
