"""What a turn's provider calls cost, end to end: the real adapters (official SDKs) against the HTTP vendor
fakes, through ``turn_stream`` to the ``CostEvent`` ledger and the ``TurnResult``.

Prices per 1M tokens are ``routing/prices.py``'s; each expected cost is worked out in its test.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from routing import registry
from routing.contracts import TurnResult
from routing.models import CostEvent
from routing.providers.anthropic import AnthropicProvider
from routing.providers.base import Provider
from routing.providers.gemini import GeminiProvider
from routing.providers.openai import OpenAIProvider
from routing.services import turn_stream
from routing.tests.factories import make_router, request_for
from routing.tests.http_fake import Reply, gemini_chunk, openai_reasoning_rule, sse

QUESTION = "What are your opening hours?"
OPENAI_PATH = "/chat/completions"
GEMINI_PATH = ":streamGenerateContent"
ANTHROPIC_PATH = "/messages"
DONE = b"data: [DONE]\n\n"


@pytest.fixture(autouse=True)
def _no_keys(settings):
    """Only the vendors a test hands to ``_turn`` are planned: tier 1 gemini, 2 openai, 3 anthropic."""
    settings.GEMINI_API_KEY = settings.OPENAI_API_KEY = settings.ANTHROPIC_API_KEY = ""


def _providers(vendor, names: tuple[str, ...]) -> dict[str, Provider]:
    every: dict[str, Provider] = {
        "gemini": GeminiProvider(api_key="gem-test", base_url=vendor.url),
        "openai": OpenAIProvider(api_key="sk-test", base_url=f"{vendor.url}/v1"),
        "anthropic": AnthropicProvider(api_key="sk-ant-test", base_url=vendor.url),
    }
    return {name: every[name] for name in names}


async def _turn(tenant, vendor, *names: str, message_id: int = 1, **router_policy: Any) -> list[Any]:
    providers = _providers(vendor, names)
    router = make_router(providers, self_evaluate=False, **router_policy)
    request = request_for(QUESTION, conversation_id=1, message_id=message_id)
    with registry.override_providers(providers):
        return [event async for event in turn_stream(tenant=tenant, request=request, router=router)]


async def _ledger(tenant) -> list[CostEvent]:
    return await sync_to_async(lambda: list(CostEvent.objects.for_tenant(tenant).order_by("id")))()


def _openai_chunk(delta: dict[str, Any], finish: str | None = None) -> tuple[None, dict[str, Any]]:
    logprobs = {"content": [{"token": "x", "logprob": -0.01, "bytes": [120], "top_logprobs": []}]}
    choice = {"index": 0, "delta": delta, "logprobs": logprobs, "finish_reason": finish}
    return (None, {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-6-luna",
                   "choices": [choice]})  # fmt: skip


def _openai_answer(text: str, usage: dict[str, Any]) -> Reply:
    final = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-6-luna", "choices": [],
             "usage": usage}  # fmt: skip
    return Reply(body=[*sse([_openai_chunk({"content": text}), _openai_chunk({}, "stop"), (None, final)]), DONE])


def _anthropic_answer(text: str, usage: dict[str, int], output_tokens: int) -> Reply:
    message: dict[str, Any] = {"id": "msg_1", "type": "message", "role": "assistant", "content": [],
                               "model": "claude-sonnet-4-6", "stop_reason": None, "stop_sequence": None,
                               "usage": {**usage, "output_tokens": 1}}  # fmt: skip
    events = [
        ("message_start", {"type": "message_start", "message": message}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "text_delta", "text": text}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                           "usage": {"output_tokens": output_tokens}}),
        ("message_stop", {"type": "message_stop"}),
    ]  # fmt: skip
    return Reply(body=sse(events))


# (d) Cached input is billed at the vendor's cache prices, not the full input price.


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_openai_cache_reads_and_writes_are_booked_at_their_own_prices(tenant, vendor):
    # given tier 2 (gpt-6-luna) reporting 2,200 prompt tokens: 1,024 read from the cache, 1,100 written to it
    vendor.rules.append(openai_reasoning_rule)
    usage = {"prompt_tokens": 2200, "completion_tokens": 20, "total_tokens": 2220,
             "prompt_tokens_details": {"cached_tokens": 1024, "cache_write_tokens": 1100}}  # fmt: skip
    vendor.replies.append(_openai_answer("We open at 7am [1].", usage))

    # when
    result = (await _turn(tenant, vendor, "openai"))[-1]

    # then 76 x $0.10 + 20 x $0.50 + 1,024 x $0.01 (read) + 1,100 x $0.125 (write), per 1M tokens
    (row,) = await _ledger(tenant)
    assert (row.model, row.outcome, row.input_tokens, row.cached_tokens) == ("gpt-6-luna", "success", 76, 1024)
    assert row.cost_usd == Decimal("0.00016534")
    assert isinstance(result, TurnResult) and result.cost_usd == row.cost_usd


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_anthropic_cache_reads_and_writes_are_booked_at_their_own_prices(tenant, vendor):
    # given tier 3 (claude-sonnet-4-6): 25 uncached input tokens, 1,200 read from the cache, 300 written to it
    usage = {"input_tokens": 25, "cache_read_input_tokens": 1200, "cache_creation_input_tokens": 300}
    vendor.replies.append(_anthropic_answer("We open at 7am [1].", usage, output_tokens=15))

    # when
    result = (await _turn(tenant, vendor, "anthropic"))[-1]

    # then 25 x $3 + 15 x $15 + 1,200 x $0.30 (read) + 300 x $3.75 (5-minute write), per 1M tokens
    (row,) = await _ledger(tenant)
    assert (row.model, row.input_tokens, row.output_tokens, row.cached_tokens) == ("claude-sonnet-4-6", 25, 15, 1200)
    assert row.cost_usd == Decimal("0.00178500")
    assert isinstance(result, TurnResult) and result.cost_usd == row.cost_usd


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_gemini_cached_content_is_booked_at_the_cached_price(tenant, vendor):
    # given tier 1 (gemini-3.5-flash-lite): 900 prompt tokens, 512 of them cached; 12 output and 8 thinking tokens
    usage = {"promptTokenCount": 900, "candidatesTokenCount": 12, "thoughtsTokenCount": 8, "totalTokenCount": 920,
             "cachedContentTokenCount": 512}  # fmt: skip
    vendor.replies.append(Reply(body=sse([gemini_chunk([{"text": "We open at 7am [1]."}], "STOP", usage)])))

    # when
    result = (await _turn(tenant, vendor, "gemini"))[-1]

    # then 388 x $0.30 + 20 x $2.50 + 512 x $0.03 (cached), per 1M tokens
    (row,) = await _ledger(tenant)
    assert row.model == "gemini-3.5-flash-lite"
    assert (row.input_tokens, row.output_tokens, row.cached_tokens) == (388, 20, 512)
    assert row.cost_usd == Decimal("0.00018176")
    assert isinstance(result, TurnResult) and result.cost_usd == row.cost_usd
