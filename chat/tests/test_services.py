"""Stored assistant answers: their usage is the usage the budget was charged; one answer per question."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from chat.models import Message, MessageStatus
from chat.services import (
    ANSWER_CLAIM_TIMEOUT,
    AssistantOutcome,
    assistant_message_finish,
    assistant_message_start,
    conversation_open,
    message_answer_claim,
    message_answer_release,
    message_receive,
    reply_abandoned_after,
)
from chat.tests.conftest import reply_left_streaming
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
    _event(tenant, reply, cache_write_tokens=300)
    _event(tenant, reply, provider="openai", model="gpt-4o-mini", tier=2, outcome="cancelled", cost_usd=Decimal("1"))
    _event(other_tenant, reply, input_tokens=5000, cache_write_tokens=7000, cost_usd=Decimal("9"))
    # when the answer is stored as interrupted
    outcome = AssistantOutcome(text="Refunds take", status=MessageStatus.INTERRUPTED, sources=[], latency_ms=12.0)
    stored = assistant_message_finish(tenant=tenant, message_id=reply.pk, outcome=outcome)
    # then
    stored.refresh_from_db()
    assert (stored.input_tokens, stored.output_tokens, stored.cost_usd) == (200, 40, Decimal("1.000080"))
    assert stored.cache_write_tokens == 300
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


def _question(tenant: Tenant, client_id: str = "q-1") -> Message:
    conversation = conversation_open(tenant=tenant).conversation
    return message_receive(tenant=tenant, conversation=conversation, client_id=client_id, text="Hi").message


def test_message_answer_claim_lets_one_caller_answer_until_released(tenant: Tenant) -> None:
    question = _question(tenant)
    assert message_answer_claim(tenant=tenant, question=question) is True
    assert message_answer_claim(tenant=tenant, question=question) is False
    message_answer_release(tenant=tenant, question=question)
    assert message_answer_claim(tenant=tenant, question=question) is True


def test_message_answer_claim_refuses_a_question_with_a_reply_row(tenant: Tenant) -> None:
    # given a question answered by a turn whose claim has since run out
    question = _question(tenant)
    assert message_answer_claim(tenant=tenant, question=question)
    assistant_message_start(tenant=tenant, conversation=question.conversation, reply_to=question)
    Message.objects.filter(pk=question.pk).update(answer_claimed_at=timezone.now() - 2 * ANSWER_CLAIM_TIMEOUT)
    # then the reply row, not the claim, decides
    assert message_answer_claim(tenant=tenant, question=question) is False


def test_a_claim_left_by_a_server_that_died_runs_out(tenant: Tenant) -> None:
    question = _question(tenant)
    stale = timezone.now() - ANSWER_CLAIM_TIMEOUT - timedelta(seconds=1)
    Message.objects.filter(pk=question.pk).update(answer_claimed_at=stale)
    assert message_answer_claim(tenant=tenant, question=question) is True
    assert message_answer_claim(tenant=tenant, question=question) is False


def test_another_tenant_can_neither_claim_nor_release_a_question(tenant: Tenant, other_tenant: Tenant) -> None:
    # given tenant's question, claimed, and another tenant's with the same client_id
    question = _question(tenant, "same")
    theirs = _question(other_tenant, "same")
    assert message_answer_claim(tenant=tenant, question=question)
    # when the other tenant names tenant's question
    refused = message_answer_claim(tenant=other_tenant, question=question)
    message_answer_release(tenant=other_tenant, question=question)
    # then nothing of tenant's changed, and the other tenant's own question is independent
    assert refused is False
    assert message_answer_claim(tenant=tenant, question=question) is False
    assert message_answer_claim(tenant=other_tenant, question=theirs) is True


def test_a_resend_finishes_a_reply_left_streaming_by_a_server_that_died(tenant: Tenant) -> None:
    # given a reply row left streaming longer than the claim timeout
    question = _question(tenant, "dead")
    reply = reply_left_streaming(tenant, question, age=reply_abandoned_after() + timedelta(seconds=1))
    _event(tenant, reply)  # the call it was charged for before it died
    # when the question is resent, twice
    first = message_receive(tenant=tenant, conversation=question.conversation, client_id="dead", text="Hi")
    again = message_receive(tenant=tenant, conversation=question.conversation, client_id="dead", text="Hi")
    # then the first resend finishes it as interrupted (nothing it streamed was stored), once
    assert first.reply is not None and again.reply is not None
    assert (first.reply.pk, first.reply.status, first.reply.text) == (reply.pk, MessageStatus.INTERRUPTED, "")
    assert first.finished_reply == first.reply and again.finished_reply is None
    assert again.reply.status == MessageStatus.INTERRUPTED
    stored = Message.objects.get(pk=reply.pk)
    assert stored.status == MessageStatus.INTERRUPTED
    assert (stored.input_tokens, stored.model) == (100, "gemini-3.5-flash-lite")  # as any interrupted answer
    assert Message.objects.filter(reply_to=question).count() == 1


def test_a_reply_streaming_within_the_timeout_is_left_to_its_turn(tenant: Tenant) -> None:
    question = _question(tenant, "live")
    reply = reply_left_streaming(tenant, question, age=reply_abandoned_after() - timedelta(seconds=5))
    received = message_receive(tenant=tenant, conversation=question.conversation, client_id="live", text="Hi")
    assert received.reply is not None and received.reply.status == MessageStatus.STREAMING
    assert received.finished_reply is None
    assert Message.objects.get(pk=reply.pk).status == MessageStatus.STREAMING


def test_another_tenants_resend_leaves_a_dead_reply_alone(tenant: Tenant, other_tenant: Tenant) -> None:
    # given tenant's reply left streaming, and another tenant's question with the same client_id
    question = _question(tenant, "same")
    reply = reply_left_streaming(tenant, question, age=2 * reply_abandoned_after())
    theirs = _question(other_tenant, "same")
    # when the other tenant's customer resends theirs
    received = message_receive(tenant=other_tenant, conversation=theirs.conversation, client_id="same", text="Hi")
    # then only their own question is found, and tenant's reply is untouched
    assert received.message.pk == theirs.pk and received.reply is None
    assert Message.objects.get(pk=reply.pk).status == MessageStatus.STREAMING
