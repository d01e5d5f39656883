"""Turns on an OpenAI reasoning family asked through the Responses API (tier 2 overridden to ``gpt-6.1-sol``): the
official SDK against the HTTP fake, through ``turn_stream`` to the ``CostEvent`` ledger and the ``TurnResult``."""

from __future__ import annotations

from decimal import Decimal

import pytest

from routing import registry
from routing.contracts import ReasoningItem, TurnResult
from routing.prices import call_cost
from routing.services import turn_stream
from routing.tests.factories import TOOL, make_router, request_for
from routing.tests.http_fake import (
    Reply,
    openai_reasoning_rule,
    openai_responses_rule,
    responses_call,
    responses_events,
    responses_reasoning,
    responses_text,
    responses_usage,
    sse,
)
from routing.tests.test_cost_audit import QUESTION, _estimated_prompt_floor, _leave_after, _ledger, _providers, _turn
from routing.tokens import estimate_tokens

MODEL = "gpt-6.1-sol"
ANSWER = "The studio is open Monday to Friday from 7am to 9pm [1]."  # grounded: no logprobs to judge it by


@pytest.fixture(autouse=True)
def _tier2_reasoning_model(settings, vendor):
    """Tier 2 on a reasoning model without reasoning_effort "none"; the fake refuses what OpenAI refuses."""
    settings.ROUTING = {**settings.ROUTING, "TIER_MODELS": ("", f"openai:{MODEL}", "")}
    vendor.rules += [openai_reasoning_rule, openai_responses_rule]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_reasoning_tokens_and_cache_are_booked_at_their_prices(tenant, vendor):
    # given 2,200 input tokens (1,024 read from the cache, 1,100 written to it), 300 output (280 of them reasoning)
    usage = responses_usage(2200, 300, cached=1024, written=1100, reasoning=280)
    answer = responses_events(responses_reasoning(), responses_text(ANSWER), usage=usage)
    vendor.replies.append(Reply(body=sse(answer)))

    # when
    result = (await _turn(tenant, vendor, "openai"))[-1]

    # then the reasoning tokens are booked as output (once: 300, not 300 + 280); each prompt token once, at its own
    # price: gpt-6.1-sol's $2 input, $10 output, $0.10 cached input, $2.50 cache write per 1M tokens
    (row,) = await _ledger(tenant)
    assert (row.tier, row.model, row.outcome) == (2, MODEL, "success")
    assert (row.input_tokens, row.output_tokens, row.cached_tokens, row.cache_write_tokens) == (76, 300, 1024, 1100)
    # 76 x 2 + 300 x 10 + 1,024 x 0.10 + 1,100 x 2.50 = 6,004.4 dollars per 1M tokens
    assert row.cost_usd == Decimal("0.0060044")
    assert isinstance(result, TurnResult) and result.text == ANSWER
    assert (result.output_tokens, result.cost_usd) == (300, row.cost_usd)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_turn_with_tools_is_answered_by_the_reasoning_model_instead_of_refused(tenant, vendor):
    # given a turn with a tool: Chat Completions refused it from this model (400, the turn lost the tier)
    calls = responses_events(
        responses_reasoning("rs_1", "enc-1"), responses_call("call_1", "book_class", {"class_id": 4}),
        usage=responses_usage(900, 40, reasoning=30),
    )  # fmt: skip
    vendor.replies.append(Reply(body=sse(calls)))
    request = request_for(QUESTION, conversation_id=1, message_id=1, tools=(TOOL,))

    # when
    providers = _providers(vendor, ("openai",))
    with registry.override_providers(providers):
        router = make_router(providers, self_evaluate=False)
        result = [event async for event in turn_stream(tenant=tenant, request=request, router=router)][-1]

    # then tier 2 answers with its call, the reasoning kept for the next round of the turn
    assert isinstance(result, TurnResult) and (result.tier, result.outcome) == (2, "success")
    (call,) = result.tool_calls
    assert (call.id, call.item_id, call.reasoning) == ("call_1", "fc_1", (ReasoningItem("rs_1", "enc-1"),))
    assert [seen.path for seen in vendor.seen] == ["/v1/responses"]
    (row,) = await _ledger(tenant)
    assert (row.outcome, row.input_tokens, row.output_tokens) == ("success", 900, 40)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_answer_cancelled_mid_stream_is_booked_at_its_estimated_usage(tenant, vendor):
    # given tier 2 streaming straight to the customer, stalled after two pieces
    streamed = ("We open at 7am ", "on weekdays [1].")
    events = sse(responses_events(responses_text(*streamed, "More."), usage=responses_usage(900, 20)))
    second_delta = [i for i, piece in enumerate(events) if b"response.output_text.delta" in piece][1]
    vendor.replies.append(Reply(body=[b"".join(events[: second_delta + 1]), *events[second_delta + 1 :]], pause_s=30))
    providers = _providers(vendor, ("openai",))
    request = request_for(QUESTION, conversation_id=1, message_id=1)

    # when the customer leaves once both pieces arrived
    await _leave_after(tenant, request, providers, written="".join(streamed))

    # then the call is booked as cancelled: the prompt and the text streamed so far, estimated and priced
    (row,) = await _ledger(tenant)
    assert (row.model, row.outcome, row.message_id) == (MODEL, "cancelled", 1)
    assert row.output_tokens == estimate_tokens("".join(streamed))
    assert row.input_tokens > _estimated_prompt_floor()
    assert row.cost_usd == call_cost(MODEL, input_tokens=row.input_tokens, output_tokens=row.output_tokens)
    assert row.cost_usd > 0 and "estimated" in row.error
