"""What a turn's provider calls cost, end to end: the real adapters (official SDKs) against the HTTP vendor
fakes, through ``turn_stream`` to the ``CostEvent`` ledger and the ``TurnResult``.

Prices per 1M tokens are ``routing/prices.py``'s; each expected cost is worked out in its test.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from routing import registry
from routing.breaker import BreakerBoard
from routing.contracts import TextDelta, TurnResult
from routing.models import CostEvent
from routing.prices import call_cost
from routing.providers.anthropic import AnthropicProvider
from routing.providers.base import Provider
from routing.providers.gemini import GeminiProvider
from routing.providers.openai import OpenAIProvider
from routing.router import Router, RouterPolicy
from routing.services import turn_stream
from routing.tests.factories import make_router, request_for
from routing.tests.http_fake import Reply, gemini_chunk, json_reply, openai_reasoning_rule, sse
from routing.tokens import estimate_tokens

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


def _anthropic_events(text: str, usage: dict[str, int], output_tokens: int) -> list[bytes]:
    """A Messages stream: ``message_start`` (the prompt's ``usage``), one text block, then its end."""
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
    return sse(events)


def _anthropic_answer(text: str, usage: dict[str, int], output_tokens: int) -> Reply:
    return Reply(body=_anthropic_events(text, usage, output_tokens))


# 25 uncached input tokens, 1,200 read from the cache, 300 written to it (a 5-minute write)
CLAUDE_PROMPT = {"input_tokens": 25, "cache_read_input_tokens": 1200, "cache_creation_input_tokens": 300}


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
    assert row.cache_write_tokens == 1100
    assert row.cost_usd == Decimal("0.00016534")
    assert isinstance(result, TurnResult) and result.cost_usd == row.cost_usd
    assert (result.cached_tokens, result.cache_write_tokens) == (1024, 1100)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_anthropic_cache_reads_and_writes_are_booked_at_their_own_prices(tenant, vendor):
    # given tier 3 (claude-sonnet-4-6): 25 uncached input tokens, 1,200 read from the cache, 300 written to it
    vendor.replies.append(_anthropic_answer("We open at 7am [1].", CLAUDE_PROMPT, output_tokens=15))

    # when
    result = (await _turn(tenant, vendor, "anthropic"))[-1]

    # then 25 x $3 + 15 x $15 + 1,200 x $0.30 (read) + 300 x $3.75 (5-minute write), per 1M tokens
    (row,) = await _ledger(tenant)
    assert (row.model, row.input_tokens, row.output_tokens, row.cached_tokens) == ("claude-sonnet-4-6", 25, 15, 1200)
    assert row.cache_write_tokens == 300
    assert row.cost_usd == Decimal("0.00178500")
    assert isinstance(result, TurnResult) and result.cost_usd == row.cost_usd
    assert (result.cached_tokens, result.cache_write_tokens) == (1200, 300)


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
    assert row.cache_write_tokens == 0  # no cache was created on this call: Gemini reports no writes
    assert row.cost_usd == Decimal("0.00018176")
    assert isinstance(result, TurnResult) and result.cost_usd == row.cost_usd
    assert result.cache_write_tokens == 0


def _openai_pieces(*pieces: str) -> list[bytes]:
    """An answer's text in ``pieces``, one SSE event each, without its end (a stream still being written)."""
    return sse([_openai_chunk({"content": piece}) for piece in pieces])


def _estimated_prompt_floor() -> int:
    """Fewer tokens than any rendered prompt for ``QUESTION`` (instructions alone are several hundred)."""
    return 200


def _real_time_router(providers: dict[str, Provider], *, deadline_s: float) -> Router:
    policy = RouterPolicy(deadline_s=deadline_s, call_timeout_s=15.0, self_evaluate=False)
    return Router(lookup=providers.__getitem__, policy=policy, breakers=BreakerBoard())


# (a) The customer leaves while the answer streams.


async def _leave_after(tenant: Any, request: Any, providers: Any, *, written: str) -> None:
    """Stream a turn to a customer who leaves (the turn's task cancelled) once ``written`` has arrived."""
    arrived = asyncio.Event()

    async def customer() -> None:
        text = ""
        async for event in turn_stream(tenant=tenant, request=request, router=make_router(providers)):
            text += event.text if isinstance(event, TextDelta) else ""
            if text == written:
                arrived.set()

    with registry.override_providers(providers):
        turn = asyncio.create_task(customer())
        await asyncio.wait_for(arrived.wait(), 10)
        turn.cancel()
        with pytest.raises(asyncio.CancelledError):
            await turn


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_answer_cancelled_mid_stream_is_booked_at_its_estimated_usage(tenant, vendor):
    # given tier 2 streaming straight to the customer, stalled after two pieces
    vendor.rules.append(openai_reasoning_rule)
    streamed = ("We open at 7am ", "on weekdays [1].")
    vendor.replies.append(Reply(body=[b"".join(_openai_pieces(*streamed)), DONE], pause_s=30.0))
    providers = _providers(vendor, ("openai",))
    request = request_for(QUESTION, conversation_id=1, message_id=1)
    # when the customer leaves once both pieces arrived
    await _leave_after(tenant, request, providers, written="".join(streamed))

    # then the call is booked as cancelled: the prompt and the text streamed so far, estimated and priced
    (row,) = await _ledger(tenant)
    assert (row.model, row.outcome, row.message_id) == ("gpt-6-luna", "cancelled", 1)
    assert row.output_tokens == estimate_tokens("".join(streamed))
    assert row.input_tokens > _estimated_prompt_floor()
    assert row.cost_usd == call_cost("gpt-6-luna", input_tokens=row.input_tokens, output_tokens=row.output_tokens)
    assert row.cost_usd > 0 and "estimated" in row.error


# (b) A failed attempt on tier N, then tier N+1 answers.


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_attempt_broken_after_output_is_booked_before_the_next_tier_answers(tenant, vendor):
    # given tier 1 (Gemini) whose stream breaks after some output, then refuses (model gone), and tier 2 that answers
    broken = "We open at 7am on"
    gone = {"error": {"code": 404, "message": "models/gemini-3.5-flash-lite is not found", "status": "NOT_FOUND"}}
    vendor.replies_for[GEMINI_PATH] = [
        Reply(body=sse([gemini_chunk([{"text": broken}])]), cut=True),
        json_reply(404, gone),
    ]
    vendor.rules.append(openai_reasoning_rule)
    usage = {"prompt_tokens": 900, "completion_tokens": 12, "total_tokens": 912}
    vendor.replies_for[OPENAI_PATH] = [_openai_answer("We open at 7am [1].", usage)]

    # when
    result = (await _turn(tenant, vendor, "gemini", "openai"))[-1]

    # then the broken attempt is booked at its estimated usage, the refusal at zero, tier 2 as reported
    cut, refused, answer = await _ledger(tenant)
    assert (cut.tier, cut.outcome, cut.output_tokens) == (1, "error", estimate_tokens(broken))
    assert cut.input_tokens > _estimated_prompt_floor() and "usage estimated" in cut.error
    assert cut.cost_usd == call_cost("gemini-3.5-flash-lite", input_tokens=cut.input_tokens,
                                     output_tokens=cut.output_tokens)  # fmt: skip
    assert cut.cost_usd > 0
    assert (refused.tier, refused.outcome, refused.input_tokens, refused.cost_usd) == (1, "error", 0, 0)
    assert (answer.tier, answer.outcome, answer.input_tokens, answer.output_tokens) == (2, "success", 900, 12)
    # and the answer carries the whole turn's tokens and dollars, the failed attempt's included
    assert isinstance(result, TurnResult) and (result.tier, result.model) == (2, "gpt-6-luna")
    assert result.input_tokens == cut.input_tokens + 900
    assert result.output_tokens == cut.output_tokens + 12
    assert result.cost_usd == cut.cost_usd + answer.cost_usd


# (c) The turn deadline.


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_call_cut_by_the_turn_deadline_before_any_output_is_booked_at_its_estimated_prompt(tenant, vendor):
    # given tier 1 that answers only after the whole 1-second turn deadline, and tier 2 behind it
    vendor.replies_for[GEMINI_PATH] = [Reply(body=sse([gemini_chunk([{"text": "late"}], "STOP")]), delay_s=3.0)]
    providers = _providers(vendor, ("gemini", "openai"))
    request = request_for(QUESTION, conversation_id=1, message_id=1)

    # when
    with registry.override_providers(providers):
        router = _real_time_router(providers, deadline_s=1.0)
        result = [event async for event in turn_stream(tenant=tenant, request=request, router=router)][-1]

    # then the timed-out call is booked at its estimated prompt, no time is left for tier 2: the fallback
    timed_out, fallback = await _ledger(tenant)
    assert (timed_out.tier, timed_out.outcome, timed_out.output_tokens) == (1, "error", 0)
    assert timed_out.input_tokens > _estimated_prompt_floor() and "usage estimated" in timed_out.error
    assert timed_out.cost_usd > 0
    assert (fallback.outcome, fallback.cost_usd) == ("fallback", 0)
    assert not [seen for seen in vendor.seen if seen.path.endswith(OPENAI_PATH)]
    assert isinstance(result, TurnResult) and result.outcome == "fallback"
    assert (result.input_tokens, result.cost_usd) == (timed_out.input_tokens, timed_out.cost_usd)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_answer_stalled_mid_stream_past_the_turn_deadline_is_booked_with_its_output_so_far(tenant, vendor):
    # given tier 2 streaming to the customer, then silent past the 1-second turn deadline
    vendor.rules.append(openai_reasoning_rule)
    streamed = "We open at 7am "
    vendor.replies.append(Reply(body=[*_openai_pieces(streamed, "on weekdays."), DONE], pause_s=3.0))
    providers = _providers(vendor, ("openai",))
    request = request_for(QUESTION, conversation_id=1, message_id=1)

    # when
    with registry.override_providers(providers):
        router = _real_time_router(providers, deadline_s=1.0)
        result = [event async for event in turn_stream(tenant=tenant, request=request, router=router)][-1]

    # then the answer is cut off, and the call booked at its estimated prompt plus the text streamed
    (row,) = await _ledger(tenant)
    assert (row.tier, row.outcome, row.output_tokens) == (2, "error", estimate_tokens(streamed))
    assert row.input_tokens > _estimated_prompt_floor() and "usage estimated" in row.error
    assert row.cost_usd == call_cost("gpt-6-luna", input_tokens=row.input_tokens, output_tokens=row.output_tokens)
    assert isinstance(result, TurnResult) and result.interrupted and result.text.startswith(streamed)
    assert (result.output_tokens, result.cost_usd) == (row.output_tokens, row.cost_usd)


def _slow_writer_router(providers: dict[str, Provider], *, stream_limit_s: float) -> Router:
    """A real-time router whose every tier's whole stream is bounded by ``stream_limit_s``, far inside the
    call timeout (15 s, each wait for the next event) and the turn deadline (20 s)."""
    limits = (stream_limit_s, stream_limit_s, stream_limit_s)
    policy = RouterPolicy(deadline_s=20.0, call_timeout_s=15.0, self_evaluate=False, stream_limits_s=limits)
    return Router(lookup=providers.__getitem__, policy=policy, breakers=BreakerBoard())


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_answer_written_slowly_past_its_tiers_stream_limit_ends_cut_short_and_is_booked(tenant, vendor):
    # given tier 2 streaming to the customer a piece every 0.5 s: each wait well inside the call timeout, the
    # whole answer (2 s) past the tier's 1-second stream limit
    vendor.rules.append(openai_reasoning_rule)
    pieces = ("We open ", "at 7am ", "on weekdays ", "and at 8am ", "on weekends.")
    vendor.replies.append(Reply(body=[*_openai_pieces(*pieces), DONE], pause_s=0.5))
    providers = _providers(vendor, ("openai",))
    request = request_for(QUESTION, conversation_id=1, message_id=1)

    # when
    with registry.override_providers(providers):
        router = _slow_writer_router(providers, stream_limit_s=1.0)
        events = [event async for event in turn_stream(tenant=tenant, request=request, router=router)]

    # then the answer ends with what was streamed, marked cut short, before the vendor finished writing
    streamed = "".join(event.text for event in events if isinstance(event, TextDelta))
    result = events[-1]
    assert streamed.startswith("We open ") and "on weekends." not in streamed
    assert isinstance(result, TurnResult) and result.interrupted and result.outcome == "error"
    assert result.text.startswith(streamed) and "cut off" in result.text
    assert result.latency_ms < 1900
    # and the call is booked at its estimated prompt plus the text streamed
    (row,) = await _ledger(tenant)
    assert (row.tier, row.outcome, row.output_tokens) == (2, "error", estimate_tokens(streamed))
    assert "stream limit" in row.error and "usage estimated" in row.error
    assert row.input_tokens > _estimated_prompt_floor()
    assert row.cost_usd == call_cost("gpt-6-luna", input_tokens=row.input_tokens, output_tokens=row.output_tokens)
    assert (result.output_tokens, result.cost_usd) == (row.output_tokens, row.cost_usd)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_buffered_answer_written_slowly_past_its_tiers_stream_limit_gives_way_to_the_next_tier(tenant, vendor):
    # given tier 1 (buffered: it may still escalate) writing a piece every 0.5 s past its 1-second stream limit,
    # then refusing (model gone), and tier 2 behind it
    slow = [gemini_chunk([{"text": piece}]) for piece in ("We open ", "at 7am ", "on weekdays ", "and at 8am ")]
    gone = {"error": {"code": 404, "message": "models/gemini-3.5-flash-lite is not found", "status": "NOT_FOUND"}}
    vendor.replies_for[GEMINI_PATH] = [Reply(body=sse([*slow, gemini_chunk([{"text": "."}], "STOP")]), pause_s=0.5),
                                       json_reply(404, gone)]  # fmt: skip
    vendor.rules.append(openai_reasoning_rule)
    usage = {"prompt_tokens": 900, "completion_tokens": 12, "total_tokens": 912}
    vendor.replies_for[OPENAI_PATH] = [_openai_answer("We open at 7am [1].", usage)]
    providers = _providers(vendor, ("gemini", "openai"))
    request = request_for(QUESTION, conversation_id=1, message_id=1)

    # when
    with registry.override_providers(providers):
        router = _slow_writer_router(providers, stream_limit_s=1.0)
        result = [event async for event in turn_stream(tenant=tenant, request=request, router=router)][-1]

    # then the customer gets tier 2's answer, and the cut tier-1 call is booked at its estimated usage
    assert isinstance(result, TurnResult) and (result.tier, result.text) == (2, "We open at 7am [1].")
    cut, refused, answer = await _ledger(tenant)
    assert (cut.tier, cut.outcome) == (1, "error") and "stream limit" in cut.error
    assert cut.output_tokens > 0 and cut.cost_usd > 0 and "usage estimated" in cut.error
    assert (refused.outcome, refused.cost_usd, answer.outcome) == ("error", 0, "success")
    assert result.cost_usd == cut.cost_usd + answer.cost_usd


# A stream that ends early after the vendor reported its prompt's usage (Anthropic's message_start): the prompt is
# booked as reported, cache reads and writes at their own prices, only the output so far is estimated.


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_anthropic_stream_broken_after_message_start_books_the_reported_prompt(tenant, vendor):
    # given tier 3 streaming to the customer, its stream broken after its first text (start, block, delta)
    first = _anthropic_events("We open at 7am", CLAUDE_PROMPT, output_tokens=15)[:3]
    vendor.replies.append(Reply(body=first, cut=True))

    # when
    result = (await _turn(tenant, vendor, "anthropic"))[-1]

    # then the answer is cut off, and its prompt booked as message_start reported it
    (broken,) = await _ledger(tenant)
    assert (broken.outcome, broken.input_tokens, broken.cached_tokens) == ("error", 25, 1200)
    assert broken.cache_write_tokens == 300
    assert broken.output_tokens == estimate_tokens("We open at 7am") and "estimated" in broken.error
    assert broken.cost_usd == call_cost("claude-sonnet-4-6", input_tokens=25, output_tokens=broken.output_tokens,
                                        cached_tokens=1200, cache_write_tokens=300)  # fmt: skip
    assert isinstance(result, TurnResult) and result.interrupted
    assert (result.input_tokens, result.cached_tokens, result.cost_usd) == (25, 1200, broken.cost_usd)
    assert result.cache_write_tokens == 300


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_anthropic_answer_cancelled_after_message_start_books_the_reported_prompt(tenant, vendor):
    # given tier 3 streaming to the customer, stalled after its first text
    events = _anthropic_events("We open at 7am", CLAUDE_PROMPT, output_tokens=15)
    vendor.replies.append(Reply(body=[b"".join(events[:3]), *events[3:]], pause_s=30.0))
    providers = _providers(vendor, ("anthropic",))
    request = request_for(QUESTION, conversation_id=1, message_id=1)
    # when the customer leaves once the first text arrived
    await _leave_after(tenant, request, providers, written="We open at 7am")

    # then
    (row,) = await _ledger(tenant)
    assert (row.outcome, row.input_tokens, row.cached_tokens) == ("cancelled", 25, 1200)
    assert row.cost_usd == call_cost("claude-sonnet-4-6", input_tokens=25, output_tokens=row.output_tokens,
                                     cached_tokens=1200, cache_write_tokens=300)  # fmt: skip
