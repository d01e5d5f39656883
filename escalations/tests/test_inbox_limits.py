"""Frame limits of the staff inbox socket: typing coalesced for the customer, floods closed (4429)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from django.contrib.auth.models import User

from chat.models import Conversation
from chat.tests.conftest import Client, Connect
from escalations.consumers import FRAME_FLOOD
from escalations.models import Escalation
from escalations.tests.conftest import Staff, StaffConnect
from escalations.tests.factories import EscalationFactory
from supportai.models import Tenant

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def _customer_in_handoff(connect: Connect, tenant: Tenant) -> tuple[Client, Escalation]:
    customer = await connect(tenant)
    conversation = await Conversation.objects.aget(pk=customer.ready["conversation_id"])
    escalation: Escalation = await asyncio.to_thread(EscalationFactory.create, conversation=conversation)
    return customer, escalation


async def _processed(staff: Staff, conversation_id: int) -> None:
    """Frames are handled in order: once a ``watch`` is acked, every frame sent before it was handled."""
    await staff.send({"type": "watch", "conversation_id": conversation_id})
    assert (await staff.receive_until("watch.ack"))["conversation_id"] == conversation_id


async def test_a_burst_of_typing_reaches_the_customer_once(
    connect: Connect, staff_connect: StaffConnect, tenant: Tenant, agent: User, settings: Any
) -> None:
    # given a customer in a handoff and bob on the inbox
    settings.INBOX_TYPING_INTERVAL_MS = 60_000
    customer, escalation = await _customer_in_handoff(connect, tenant)
    staff = await staff_connect(agent, tenant)
    # when bob's client sends ten typing frames at once
    for _ in range(10):
        await staff.send({"type": "typing", "escalation_id": escalation.pk})
    await _processed(staff, escalation.conversation_id)
    # then the customer is told once, and bob gets no error for the coalesced ones
    assert await customer.receive() == {"type": "agent.typing"}
    assert await customer.communicator.receive_nothing(timeout=0.5)
    assert await staff.communicator.receive_nothing(timeout=0.2)


async def test_typing_reaches_the_customer_again_after_the_interval(
    connect: Connect, staff_connect: StaffConnect, tenant: Tenant, agent: User, settings: Any
) -> None:
    settings.INBOX_TYPING_INTERVAL_MS = 200
    customer, escalation = await _customer_in_handoff(connect, tenant)
    staff = await staff_connect(agent, tenant)
    await staff.send({"type": "typing", "escalation_id": escalation.pk})
    assert await customer.receive() == {"type": "agent.typing"}
    await asyncio.sleep(0.3)
    await staff.send({"type": "typing", "escalation_id": escalation.pk})
    assert await customer.receive() == {"type": "agent.typing"}


@pytest.mark.parametrize("kind", ["watch", "typing"])
async def test_a_frame_flood_is_rate_limited_and_closes_with_4429(
    connect: Connect, staff_connect: StaffConnect, tenant: Tenant, agent: User, settings: Any, kind: str
) -> None:
    # given a limit of 5 frames a minute on one inbox socket
    settings.INBOX_FRAMES_PER_MINUTE_PER_CONNECTION = 5
    settings.INBOX_TYPING_INTERVAL_MS = 60_000
    _, escalation = await _customer_in_handoff(connect, tenant)
    staff = await staff_connect(agent, tenant)
    frame = (
        {"type": "watch", "conversation_id": escalation.conversation_id}
        if kind == "watch"
        else {"type": "typing", "escalation_id": escalation.pk}
    )
    # when bob's client sends 5 frames, then one more
    for _ in range(5):
        await staff.send(frame)
    await staff.send(frame)
    # then the sixth is refused and the socket closed
    frames = []
    while (output := await staff.communicator.receive_output(timeout=10))["type"] == "websocket.send":
        frames.append(output["text"])
    assert output == {"type": "websocket.close", "code": 4429}
    assert json.loads(frames[-1]) == {"type": "error", "code": "rate_limited", "message": FRAME_FLOOD}
    assert len([f for f in frames if "watch.ack" in f]) == (5 if kind == "watch" else 0)


async def test_the_frame_limit_is_per_connection(
    connect: Connect, staff_connect: StaffConnect, tenant: Tenant, agent: User, settings: Any
) -> None:
    # given bob's first socket was closed for a flood
    settings.INBOX_FRAMES_PER_MINUTE_PER_CONNECTION = 2
    _, escalation = await _customer_in_handoff(connect, tenant)
    flooded = await staff_connect(agent, tenant)
    for _ in range(3):
        await flooded.send({"type": "watch", "conversation_id": escalation.conversation_id})
    assert (await flooded.receive_until("error"))["code"] == "rate_limited"
    # when he opens another socket, then it works
    fresh = await staff_connect(agent, tenant)
    await _processed(fresh, escalation.conversation_id)
