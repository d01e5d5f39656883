"""Staff watching a conversation in the inbox see its messages live: the customer's, the assistant's
answers and staff replies, before, during and after a handoff, once each, only their tenant's."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from channels.layers import get_channel_layer
from django.contrib.auth.models import User
from django.test import AsyncClient

from chat.tests.conftest import Connect
from escalations.models import Escalation, EscalationPolicy
from escalations.tests.conftest import Staff, StaffConnect
from escalations.watch import watch_group
from supportai.models import Tenant

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]
MESSAGE_KEYS = {"type", "conversation_id", "message_id", "role", "text", "sources", "agent_name", "created_at"}


async def _watch(staff: Staff, conversation_id: int, **extra: Any) -> None:
    await staff.send({"type": "watch", "conversation_id": conversation_id, **extra})
    ack = await staff.receive()
    assert ack == {"type": "watch.ack", "conversation_id": conversation_id}


async def test_a_watched_conversation_shows_the_customer_and_the_assistant_live_before_any_handoff(
    connect: Connect, staff_connect: StaffConnect, tenant: Tenant, agent: User
) -> None:
    # given a customer chatting and an agent watching that conversation
    customer = await connect(tenant)
    conversation_id = customer.ready["conversation_id"]
    staff = await staff_connect(agent, tenant)
    await _watch(staff, conversation_id)
    # when the customer asks and the assistant answers
    frames = await customer.ask("What are your opening hours?", "c-1")
    ack, end = frames[0], frames[-1]
    # then the inbox gets the question, then the finished answer, once each
    question = await staff.receive_until("message")
    answer = await staff.receive_until("message")
    assert (question["role"], question["message_id"], question["text"]) == (
        "customer",
        ack["message_id"],
        "What are your opening hours?",
    )
    assert (answer["role"], answer["message_id"], answer["text"]) == ("assistant", end["message_id"], end["text"])
    assert answer["conversation_id"] == conversation_id and answer["sources"] == end["sources"]
    # and nothing the inbox page doesn't show (cost, tokens, model, prompt) rides along
    assert set(question) == set(answer) == MESSAGE_KEYS
    assert await staff.communicator.receive_nothing(timeout=0.5)


async def test_a_resent_message_is_not_shown_twice(
    connect: Connect, staff_connect: StaffConnect, tenant: Tenant, agent: User
) -> None:
    customer = await connect(tenant)
    staff = await staff_connect(agent, tenant)
    await _watch(staff, customer.ready["conversation_id"])
    await customer.ask("What are your opening hours?", "c-1")
    await customer.ask("What are your opening hours?", "c-1")  # the client lost the ack and resends
    roles = [(await staff.receive_until("message"))["role"] for _ in range(2)]
    assert roles == ["customer", "assistant"]
    assert await staff.communicator.receive_nothing(timeout=0.5)


async def test_a_live_handoff_and_the_time_after_it_are_shown_in_order_without_duplicates(
    connect: Connect, staff_connect: StaffConnect, tenant: Tenant, agent: User, always_open: EscalationPolicy
) -> None:
    # given an agent watching a conversation that asks for a person
    customer = await connect(tenant)
    conversation_id = customer.ready["conversation_id"]
    staff = await staff_connect(agent, tenant)
    await _watch(staff, conversation_id)
    handoff = await customer.ask("I want to talk to a real person please", "c-1")
    await customer.receive_until("escalation")
    escalation = await Escalation.objects.aget(conversation_id=conversation_id)
    # when the customer writes during the handoff, the agent replies and hands back, the customer asks again
    await customer.send({"type": "message.send", "client_id": "c-2", "text": "Hello? Anyone there?"})
    await customer.receive_until("message.ack")
    await staff.send({"type": "reply", "escalation_id": escalation.pk, "text": "Hi, I'm Bob."})
    await customer.receive_until("agent.message")
    await staff.send({"type": "hand_back", "escalation_id": escalation.pk})
    await customer.receive_until("escalation")
    after = await customer.ask("What are your opening hours?", "c-3")
    # then the watcher saw every message once, in the order they were written
    seen: list[tuple[str, str]] = []
    while len(seen) < 6:
        frame = await staff.receive()
        if frame["type"] == "message":
            seen.append((frame["role"], frame["text"]))
    assert seen == [
        ("customer", "I want to talk to a real person please"),
        ("assistant", handoff[-1]["text"]),
        ("customer", "Hello? Anyone there?"),
        ("agent", "Hi, I'm Bob."),
        ("customer", "What are your opening hours?"),
        ("assistant", after[-1]["text"]),
    ]
    while not await staff.communicator.receive_nothing(timeout=0.5):  # queue updates, no further message
        frame = await staff.receive()
        assert frame["type"] != "message", frame


async def test_watch_replays_what_was_written_after_the_page_was_drawn(
    connect: Connect, staff_connect: StaffConnect, tenant: Tenant, agent: User
) -> None:
    # given a page drawn with the first question, then an answer and a second question were written
    customer = await connect(tenant)
    first = await customer.ask("What are your opening hours?", "c-1")
    second = await customer.ask("Do you have parking?", "c-2")
    staff = await staff_connect(agent, tenant)
    # when the page's socket watches from the first question on
    await staff.send(
        {"type": "watch", "conversation_id": customer.ready["conversation_id"], "after": first[0]["message_id"]}
    )
    # then it gets the messages after it, oldest first, then the ack
    frames = [await staff.receive() for _ in range(4)]
    assert [(f["type"], f.get("message_id")) for f in frames] == [
        ("message", first[-1]["message_id"]),
        ("message", second[0]["message_id"]),
        ("message", second[-1]["message_id"]),
        ("watch.ack", None),
    ]


async def test_another_tenants_conversation_cannot_be_watched(
    connect: Connect, staff_connect: StaffConnect, tenant: Tenant, other_tenant: Tenant, outsider: User
) -> None:
    # given a conversation of tenant A and tenant B's owner on B's inbox
    customer = await connect(tenant)
    conversation_id = customer.ready["conversation_id"]
    theirs = await staff_connect(outsider, other_tenant)
    # when B's owner asks to watch A's conversation (and to replay it)
    await theirs.send({"type": "watch", "conversation_id": conversation_id, "after": 0})
    # then it is not found, and A's messages never reach B
    assert (await theirs.receive())["code"] == "not_found"
    await customer.ask("What are your opening hours?", "c-1")
    assert await theirs.communicator.receive_nothing(timeout=0.5)


async def test_events_of_a_watched_conversation_stay_in_its_tenants_groups(
    connect: Connect, staff_connect: StaffConnect, tenant: Tenant, other_tenant: Tenant, agent: User
) -> None:
    # given raw channels on tenant B's inbox group and on B's watch group for the same conversation id
    layer = get_channel_layer()
    assert layer is not None
    customer = await connect(tenant)
    conversation_id = customer.ready["conversation_id"]
    spy = await layer.new_channel()
    await layer.group_add(f"inbox.tenant.{other_tenant.pk}", spy)
    await layer.group_add(watch_group(tenant_id=other_tenant.pk, conversation_id=conversation_id), spy)
    ours = await staff_connect(agent, tenant)
    await _watch(ours, conversation_id)
    # when A's customer chats
    await customer.ask("What are your opening hours?", "c-1")
    assert (await ours.receive_until("message"))["role"] == "customer"
    assert (await ours.receive_until("message"))["role"] == "assistant"
    # then nothing arrived on tenant B's groups
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(spy), timeout=0.5)


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "watch"},
        {"type": "watch", "conversation_id": "1"},
        {"type": "watch", "conversation_id": True},
        {"type": "watch", "conversation_id": -1},
        {"type": "watch", "conversation_id": 2**70},
        {"type": "watch", "conversation_id": 1, "after": "x"},
        {"type": "watch", "conversation_id": 1, "after": 2**64},
    ],
)
async def test_bad_watch_frames_get_bad_request_and_the_socket_stays(
    connect: Connect, staff_connect: StaffConnect, tenant: Tenant, agent: User, frame: dict[str, Any]
) -> None:
    customer = await connect(tenant)
    staff = await staff_connect(agent, tenant)
    await staff.send(frame)
    assert (await staff.receive())["code"] == "bad_request"
    await _watch(staff, customer.ready["conversation_id"])


async def test_messages_through_the_http_fallback_are_shown_live_too(
    connect: Connect, staff_connect: StaffConnect, tenant: Tenant, agent: User
) -> None:
    # given a conversation of the widget, continued over the HTTP fallback, and an agent watching it
    customer = await connect(tenant)
    staff = await staff_connect(agent, tenant)
    await _watch(staff, customer.ready["conversation_id"])
    body = {"key": tenant.public_key, "client_id": "h-1", "text": "Do you have parking?"}
    body["resume_token"] = customer.ready["resume_token"]
    # when the customer posts a message
    response = await AsyncClient().post(
        "/api/v1/public/chat/messages", data=json.dumps(body), content_type="application/json"
    )
    answer = response.json()
    # then the watcher sees the question and the answer
    question = await staff.receive_until("message")
    reply = await staff.receive_until("message")
    assert (question["role"], question["message_id"]) == ("customer", answer["message_id"])
    assert (reply["role"], reply["message_id"], reply["text"]) == (
        "assistant",
        answer["answer"]["message_id"],
        answer["answer"]["text"],
    )
