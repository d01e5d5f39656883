"""With the channel layer down, a committed handoff change stands and its caller goes on: the events of
the change are a warning (``realtime.publish_committed``), never the customer's or the agent's error."""

from __future__ import annotations

from typing import Any

import pytest
from channels.layers import get_channel_layer
from django.contrib.auth.models import User

from chat.models import Message, MessageRole
from chat.tests.conftest import Connect
from escalations.models import Escalation, EscalationPolicy
from escalations.tests.conftest import StaffConnect
from supportai.models import Tenant

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def _layer_down(group: str, message: dict[str, Any]) -> None:
    raise ConnectionError("channel layer unreachable")


async def test_a_customer_asking_for_a_person_with_the_channel_layer_down_gets_the_handoff_line(
    connect: Connect, tenant: Tenant, always_open: EscalationPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a customer chatting, and a channel layer that then refuses every send
    customer = await connect(tenant)
    monkeypatch.setattr(get_channel_layer(), "group_send", _layer_down)
    # when they ask for a person
    frames = await customer.ask("I want to talk to a real person please", "c-1")
    following = await customer.receive()
    # then the escalation stands and their turn ends with the handoff line and its escalation frame
    assert frames[-1]["type"] == "message.end" and frames[-1]["escalated"] is True
    assert following["type"] == "escalation" and following["position"] == 1
    assert await Escalation.objects.filter(conversation_id=customer.ready["conversation_id"]).aexists()


async def test_an_agent_reply_with_the_channel_layer_down_is_acked_and_not_an_error(
    connect: Connect,
    staff_connect: StaffConnect,
    tenant: Tenant,
    agent: User,
    always_open: EscalationPolicy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a customer waiting for a person, and a channel layer that then refuses every send
    customer = await connect(tenant)
    await customer.send({"type": "escalate", "reason": "help"})
    raised = await customer.receive()
    staff = await staff_connect(agent, tenant)
    monkeypatch.setattr(get_channel_layer(), "group_send", _layer_down)
    # when the agent replies
    await staff.send({"type": "reply", "escalation_id": raised["escalation_id"], "text": "On it"})
    ack = await staff.receive()
    # then the reply is stored once and acked, and no error follows that would have them send it again
    assert ack["type"] == "reply.ack"
    assert await staff.communicator.receive_nothing(timeout=1)
    stored = Message.objects.filter(conversation_id=customer.ready["conversation_id"], role=MessageRole.AGENT)
    assert await stored.acount() == 1
