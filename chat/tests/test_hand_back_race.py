"""A hand-back arriving while this socket's turn for the same question is still finding the handoff live."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import User

from chat.models import Message, MessageRole
from chat.tests.conftest import Connect
from escalations import handoff
from escalations.models import EscalationPolicy
from escalations.tests.conftest import StaffConnect, always_open, staff_connect  # noqa: F401  (fixtures)
from supportai.models import Tenant

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@dataclass
class SilentTurnGate:
    """The first turn that finds a person on the conversation waits, still claimed, until ``release``."""

    entered: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)


@pytest.fixture
def silent_turn_held(monkeypatch: pytest.MonkeyPatch) -> Iterator[SilentTurnGate]:
    gate = SilentTurnGate()
    real_intercept = handoff.intercept_turn

    async def intercept(**kwargs: Any) -> handoff.TurnHandling:
        handled = await real_intercept(**kwargs)
        if handled.done and handled.reply is None and not gate.entered.is_set():
            gate.entered.set()
            await gate.release.wait()
        return handled

    monkeypatch.setattr(handoff, "intercept_turn", intercept)
    yield gate
    gate.release.set()


async def test_a_hand_back_while_the_turn_finds_the_handoff_live_still_gets_the_question_answered(
    connect: Connect,
    staff_connect: StaffConnect,  # noqa: F811
    tenant: Tenant,
    other_tenant: Tenant,
    agent: User,
    always_open: EscalationPolicy,  # noqa: F811
    silent_turn_held: SilentTurnGate,
) -> None:
    # given a live handoff claimed by an agent, and another tenant's widget open
    theirs = await connect(other_tenant, origin="https://bravo.example.com")
    customer = await connect(tenant)
    await customer.send({"type": "escalate", "reason": "help"})
    escalation_id = (await customer.receive())["escalation_id"]
    staff = await staff_connect(agent, tenant)
    await staff.send({"type": "claim", "escalation_id": escalation_id})
    assert (await customer.receive())["status"] == "acknowledged"
    # and the customer's question, whose turn found the handoff live and has not let go of it yet
    await customer.send({"type": "message.send", "client_id": "late", "text": "What are your opening hours?"})
    ack = await customer.receive()
    assert ack["type"] == "message.ack"
    await asyncio.wait_for(silent_turn_held.entered.wait(), timeout=20)

    # when the agent hands back in that window (the socket has handled the event: a ping answers after it)
    await staff.send({"type": "hand_back", "escalation_id": escalation_id})
    assert (await customer.receive())["status"] == "returned"
    await customer.send({"type": "ping"})
    assert await customer.receive() == {"type": "pong"}
    silent_turn_held.release.set()

    # then the assistant answers the question once the silent turn is over
    frames = await customer.receive_until("message.end", timeout=30)
    assert frames[0]["type"] == "message.start" and frames[-1]["status"] == "complete"
    answer = await Message.objects.aget(pk=frames[-1]["message_id"])
    assert answer.role == MessageRole.ASSISTANT and answer.reply_to_id == ack["message_id"]
    assert await Message.objects.filter(reply_to_id=ack["message_id"]).acount() == 1
    # and the other tenant's widget heard nothing
    assert await theirs.communicator.receive_nothing(timeout=0.5)
