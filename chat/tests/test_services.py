"""Stored assistant answers: their usage is the usage the budget was charged."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chat.models import Message, MessageStatus
from chat.services import (
    AssistantOutcome,
    assistant_message_finish,
    assistant_message_start,
    conversation_open,
    message_receive,
)
from routing.models import CostEvent
from supportai.models import Tenant

pytestmark = pytest.mark.django_db


def _started_reply(tenant: Tenant) -> Message:
    conversation = conversation_open(tenant=tenant).conversation
    question = message_receive(tenant=tenant, conversation=conversation, client_id="q-1", text="Hi").message
    return assistant_message_start(tenant=tenant, conversation=conversation, reply_to=question)


def _event(tenant: Tenant, reply: Message, **fields: object) -> CostEvent:
    defaults: dict[str, object] = {
        "provider": "gemini",
        "model": "gemini-3.5-flash-lite",
        "tier": 1,
        "outcome": "success",
        "input_tokens": 100,
        "output_tokens": 20,
        "cost_usd": Decimal("0.00008"),
    }
    return CostEvent.objects.create(
        tenant=tenant, conversation_id=reply.conversation_id, message_id=reply.pk, **(defaults | fields)
    )


def test_assistant_message_finish_stores_the_usage_of_the_messages_own_cost_events(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    # given a tool round that finished, a second round on another tier cut short, and another
    # tenant's row naming the same message id
    reply = _started_reply(tenant)
    _event(tenant, reply)
    _event(tenant, reply, provider="openai", model="gpt-4o-mini", tier=2, outcome="cancelled", cost_usd=Decimal("1"))
    _event(other_tenant, reply, input_tokens=5000, cost_usd=Decimal("9"))
    # when the answer is stored as interrupted
    outcome = AssistantOutcome(text="Refunds take", status=MessageStatus.INTERRUPTED, sources=[], latency_ms=12.0)
    stored = assistant_message_finish(tenant=tenant, message_id=reply.pk, outcome=outcome)
    # then
    stored.refresh_from_db()
    assert (stored.input_tokens, stored.output_tokens, stored.cost_usd) == (200, 40, Decimal("1.000080"))
    assert (stored.tier, stored.provider, stored.model) == (2, "openai", "gpt-4o-mini")
    assert stored.latency_ms == 12.0


def test_assistant_message_finish_keeps_the_model_an_outcome_names(tenant: Tenant) -> None:
    # given the handoff line, which no model wrote and no call was charged for
    reply = _started_reply(tenant)
    outcome = AssistantOutcome(text="A person will help.", status=MessageStatus.COMPLETE, sources=[], model="handoff")
    # when
    stored = assistant_message_finish(tenant=tenant, message_id=reply.pk, outcome=outcome)
    # then
    assert (stored.tier, stored.model, stored.input_tokens, stored.cost_usd) == (None, "handoff", 0, Decimal("0"))
