"""The OpenAI adapter on the reasoning families asked through the Responses API (gpt-5, gpt-6 Astra, gpt-6.1 Sol,
o-series): the official SDK against a local server speaking the Responses API's SSE events and refusing what the
API refuses (``http_fake.openai_responses_rule``)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from routing.contracts import ReasoningItem, ToolCall, ToolResult, ToolRound
from routing.providers.base import (
    Finish,
    ProviderError,
    ProviderRequest,
    TextChunk,
    ToolCallEvent,
    Usage,
)
from routing.providers.openai import OpenAIProvider, model_family
from routing.tests.factories import OPENAI_REQUEST, TOOL
from routing.tests.http_fake import (
    Reply,
    json_reply,
    openai_reasoning_rule,
    openai_responses_rule,
    responses_call,
    responses_error,
    responses_events,
    responses_failed,
    responses_reasoning,
    responses_text,
    responses_usage,
    sse,
)

BASE = replace(OPENAI_REQUEST, model="gpt-6.1-sol")
USAGE = responses_usage(1100, 20, cached=1024)


@pytest.fixture(autouse=True)
def _openai_rules(vendor):
    """The fake refuses what OpenAI refuses, in either API."""
    vendor.rules += [openai_reasoning_rule, openai_responses_rule]


def _answer(*pieces: str) -> Reply:
    return Reply(body=sse(responses_events(responses_text(*pieces), usage=USAGE)))


async def _events(vendor, request: ProviderRequest = BASE):
    provider = OpenAIProvider(api_key="sk-test", base_url=f"{vendor.url}/v1")
    return [event async for event in provider.stream(request)]


async def _stream_into(vendor, texts: list[str]) -> None:
    """Stream ``BASE``, keeping each text as it arrives (a stream that fails keeps what came before)."""
    async for event in OpenAIProvider(api_key="sk-test", base_url=f"{vendor.url}/v1").stream(BASE):
        texts += [event.text] if isinstance(event, TextChunk) else []


@pytest.mark.parametrize("model", ["gpt-6.1-sol", "gpt-6-astra", "gpt-5", "gpt-5-mini", "o3", "o4-mini-2025-04-16"])
@pytest.mark.asyncio
async def test_responses_family_streams_text_with_usage_through_the_responses_api(vendor, model):
    # given a reasoning model that does not take reasoning_effort "none"
    vendor.replies.append(_answer("We open ", "at 7am [1]."))

    # when
    events = await _events(vendor, replace(BASE, model=model))

    # then the text streams as written, and the usage counts each prompt token once
    assert [e.text for e in events if isinstance(e, TextChunk)] == ["We open ", "at 7am [1]."]
    finish = events[-1]
    assert isinstance(finish, Finish)
    assert finish.usage == Usage(input_tokens=76, output_tokens=20, cached_tokens=1024)
    assert finish.mean_logprob is None  # no logprobs from a reasoning model: the router asks for a self-evaluation
    assert vendor.seen[0].path == "/v1/responses"


@pytest.mark.asyncio
async def test_responses_request_stores_nothing_asks_for_encrypted_reasoning_and_sends_no_sampling(vendor):
    vendor.replies.append(_answer("ok"))

    await _events(vendor, replace(BASE, tools=(TOOL,)))

    seen = vendor.seen[0]
    assert seen.headers["authorization"] == "Bearer sk-test"
    body = seen.body
    assert (body["model"], body["max_output_tokens"], body["stream"]) == ("gpt-6.1-sol", 768, True)
    assert body["store"] is False
    assert body["include"] == ["reasoning.encrypted_content"]
    assert body["instructions"] == "You are helpful.\n\n[1] Hours\nOpen 7-9."
    assert body["input"] == [{"role": "user", "content": "When are you open?"}]
    assert not {"temperature", "top_p", "reasoning", "messages", "max_completion_tokens"} & body.keys()
    assert body["tools"] == [
        {"type": "function", "name": "book_class", "description": "Book a class", "strict": False,
         "parameters": {"type": "object", "properties": {"class_id": {"type": "integer"}}}},
    ]  # fmt: skip


@pytest.mark.asyncio
async def test_responses_usage_books_reasoning_tokens_as_output_and_cache_writes_apart(vendor):
    # given 2,200 input tokens (1,024 read from the cache, 1,100 written to it) and 300 output, 280 of them reasoning
    usage = responses_usage(2200, 300, cached=1024, written=1100, reasoning=280)
    vendor.replies.append(Reply(body=sse(responses_events(responses_reasoning(), responses_text("Hi."), usage=usage))))

    finish = (await _events(vendor))[-1]

    # then the reasoning tokens are output (they are part of output_tokens, billed at the output price)
    assert isinstance(finish, Finish)
    assert finish.usage == Usage(input_tokens=76, output_tokens=300, cached_tokens=1024, cache_write_tokens=1100)


@pytest.mark.asyncio
async def test_responses_tool_call_round_trip_sends_the_reasoning_back_before_its_call(vendor):
    # given a model that reasons, then calls a tool; then, given the result, answers
    reasoning = responses_reasoning("rs_1", "gAAAAB-enc-1")
    first = responses_events(reasoning, responses_call("call_1", "book_class", {"class_id": 4}), usage=USAGE)
    vendor.replies += [Reply(body=sse(first)), _answer("Booked [1].")]
    request = replace(BASE, tools=(TOOL,))

    # when the first round streams
    events = await _events(vendor, request)

    # then the call carries its reasoning item, whole, and its output item's ID
    (call,) = [e.call for e in events if isinstance(e, ToolCallEvent)]
    assert (call.id, call.name, dict(call.arguments), call.item_id) == ("call_1", "book_class", {"class_id": 4}, "fc_1")
    assert call.reasoning == (ReasoningItem("rs_1", "gAAAAB-enc-1"),)

    # when the next round sends our result (the fake refuses a round without the reasoning, as OpenAI does)
    round_ = ToolRound(text="", calls=(call,), results=(ToolResult("call_1", "book_class", '{"free": true}'),))
    events = await _events(vendor, replace(request, tool_rounds=(round_,)))

    # then it is answered, and the round went back as the model wrote it: reasoning, call, then our output
    assert [e.text for e in events if isinstance(e, TextChunk)] == ["Booked [1]."]
    assert vendor.seen[1].body["input"][1:] == [
        {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "gAAAAB-enc-1"},
        {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "book_class",
         "arguments": '{"class_id": 4}'},
        {"type": "function_call_output", "call_id": "call_1", "output": '{"free": true}'},
    ]  # fmt: skip


@pytest.mark.asyncio
async def test_responses_parallel_calls_after_text_keep_each_calls_reasoning_in_place(vendor):
    # given a round that reasoned, wrote a line, called twice (reasoning again before the second call)
    first = responses_events(
        responses_reasoning("rs_1", "enc-1"),
        responses_text("Let me check."),
        responses_call("call_1", "book_class", {"class_id": 4}, item_id="fc_1"),
        responses_reasoning("rs_2", "enc-2"),
        responses_call("call_2", "book_class", {"class_id": 5}, item_id="fc_2"),
        usage=USAGE,
    )
    vendor.replies += [Reply(body=sse(first)), _answer("Both booked.")]
    request = replace(BASE, tools=(TOOL,))
    calls = tuple(e.call for e in await _events(vendor, request) if isinstance(e, ToolCallEvent))
    results = tuple(ToolResult(c.id, c.name, "{}") for c in calls)

    # when the next round sends both results
    round_ = ToolRound(text="Let me check.", calls=calls, results=results)
    events = await _events(vendor, replace(request, tool_rounds=(round_,)))

    # then it is answered; each call follows its own reasoning, the text after the first reasoning
    assert [e.text for e in events if isinstance(e, TextChunk)] == ["Both booked."]
    kinds = [item.get("id") or item.get("role") or item["call_id"] for item in vendor.seen[1].body["input"][1:]]
    assert kinds == ["rs_1", "assistant", "fc_1", "rs_2", "fc_2", "call_1", "call_2"]


@pytest.mark.asyncio
async def test_responses_round_whose_calls_another_vendor_made_is_accepted(vendor):
    # given a round answered by a lower tier earlier in the turn: its calls have no reasoning and no item ID
    vendor.replies.append(_answer("Booked."))
    round_ = ToolRound(
        text="",
        calls=(ToolCall("toolu_1", "book_class", {"class_id": 4}),),
        results=(ToolResult("toolu_1", "book_class", '{"free": true}'),),
    )

    events = await _events(vendor, replace(BASE, tools=(TOOL,), tool_rounds=(round_,)))

    assert [e.text for e in events if isinstance(e, TextChunk)] == ["Booked."]
    assert "id" not in vendor.seen[0].body["input"][1]


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        # the reasoning without its encrypted content, which a request storing nothing cannot name
        (lambda call: replace(call, reasoning=(ReasoningItem("rs_1", ""),)), "Items are not persisted"),
        # the call with its item ID but without the reasoning that preceded it
        (lambda call: replace(call, reasoning=()), "without its required 'reasoning' item"),
    ],
)
@pytest.mark.asyncio
async def test_responses_fake_refuses_a_round_without_its_reasoning_as_openai_does(vendor, broken, message):
    # the rule the round trip is tested against: without it the tests above could not fail
    call = ToolCall("call_1", "book_class", {"class_id": 4}, reasoning=(ReasoningItem("rs_1", "enc"),), item_id="fc_1")
    round_ = ToolRound(text="", calls=(broken(call),), results=(ToolResult("call_1", "book_class", "{}"),))

    with pytest.raises(ProviderError) as caught:
        await _events(vendor, replace(BASE, tools=(TOOL,), tool_rounds=(round_,)))

    assert (caught.value.status, caught.value.retryable) == (400, False)
    assert message in caught.value.message


@pytest.mark.asyncio
async def test_responses_self_evaluation_asks_for_the_apis_minimum_of_output_tokens(vendor):
    # given the router's 5-token self-evaluation, which the Responses API would refuse (it takes 16 and more)
    vendor.replies.append(_answer("0.9"))

    events = await _events(vendor, replace(BASE, max_tokens=5))

    assert [e.text for e in events if isinstance(e, TextChunk)] == ["0.9"]
    assert vendor.seen[0].body["max_output_tokens"] == 16


@pytest.mark.asyncio
async def test_responses_incomplete_at_max_output_tokens_ends_with_what_was_written(vendor):
    usage = responses_usage(900, 768, reasoning=700)
    events = responses_events(responses_text("We open at"), usage=usage, incomplete="max_output_tokens")
    vendor.replies.append(Reply(body=sse(events)))

    result = await _events(vendor)

    assert [e.text for e in result if isinstance(e, TextChunk)] == ["We open at"]
    assert result[-1] == Finish(Usage(900, 768), stop_reason="max_output_tokens")


@pytest.mark.parametrize(("status", "retryable"), [(400, False), (401, False), (429, True), (500, True), (503, True)])
@pytest.mark.asyncio
async def test_responses_http_errors_map_to_provider_errors(vendor, status, retryable):
    vendor.replies.append(json_reply(status, {"error": {"message": "nope", "type": "x", "param": None, "code": None}}))

    with pytest.raises(ProviderError) as caught:
        await _events(vendor)

    assert (caught.value.status, caught.value.retryable) == (status, retryable)
    assert len(vendor.seen) == 1  # SDK retries are off


@pytest.mark.asyncio
async def test_responses_rate_limit_hands_the_router_its_retry_after(vendor):
    error = {"message": "Rate limit reached for gpt-6.1-sol. Please try again in 1.5s.", "type": "requests",
             "param": None, "code": "rate_limit_exceeded"}  # fmt: skip
    refusal = json_reply(429, {"error": error})
    refusal.headers = {"retry-after-ms": "1500", "retry-after": "2", "x-ratelimit-remaining-requests": "0"}
    vendor.replies.append(refusal)

    with pytest.raises(ProviderError) as caught:
        await _events(vendor)

    assert (caught.value.status, caught.value.retryable, caught.value.retry_after) == (429, True, 1.5)


@pytest.mark.asyncio
async def test_responses_stream_cut_midway_is_retryable(vendor):
    # given a stream whose connection drops after the first text delta, before response.completed
    events = responses_events(responses_text("We open ", "at 7am."), usage=USAGE)
    first_delta = next(i for i, (name, _) in enumerate(events) if name == "response.output_text.delta")
    vendor.replies.append(Reply(body=sse(events[: first_delta + 1]), cut=True))

    streamed: list[str] = []
    with pytest.raises(ProviderError) as caught:
        await _stream_into(vendor, streamed)

    assert streamed == ["We open "]
    assert caught.value.retryable is True


@pytest.mark.asyncio
async def test_responses_stream_ending_without_response_completed_is_retryable(vendor):
    events = responses_events(responses_text("We open"), usage=USAGE)
    vendor.replies.append(Reply(body=sse(events[:-1])))

    with pytest.raises(ProviderError) as caught:
        await _events(vendor)

    assert caught.value.retryable is True and "before response.completed" in caught.value.message


@pytest.mark.parametrize(
    ("code", "retryable"), [("server_error", True), ("rate_limit_exceeded", True), ("invalid_prompt", False)]
)
@pytest.mark.asyncio
async def test_responses_failed_maps_its_error_code(vendor, code, retryable):
    vendor.replies.append(Reply(body=sse(responses_failed(code, "The model failed."))))

    with pytest.raises(ProviderError) as caught:
        await _events(vendor)

    assert caught.value.retryable is retryable
    assert code in caught.value.message and "The model failed." in caught.value.message


@pytest.mark.parametrize(
    ("code", "retryable"), [(None, True), ("server_error", True), ("context_length_exceeded", False)]
)
@pytest.mark.asyncio
async def test_responses_error_event_mid_stream_maps_its_code(vendor, code, retryable):
    events = responses_events(responses_text("We open"), usage=USAGE)
    vendor.replies.append(Reply(body=sse([*events[:5], responses_error(code, "Something went wrong.")])))

    with pytest.raises(ProviderError) as caught:
        await _events(vendor)

    assert caught.value.retryable is retryable and "Something went wrong." in caught.value.message


@pytest.mark.asyncio
async def test_responses_timeout_is_retryable(vendor):
    vendor.replies.append(Reply(body=_answer("late").body, delay_s=1.0))

    with pytest.raises(ProviderError) as caught:
        await _events(vendor, replace(BASE, timeout_s=0.2))

    assert (caught.value.retryable, caught.value.timed_out) == (True, True)


@pytest.mark.parametrize(
    ("model", "responses"),
    [
        ("gpt-6-luna", False),
        ("gpt-6-sol", False),
        ("gpt-4o-mini", False),
        ("gpt-4.1-mini", False),
        ("gpt-6.1-sol", True),
        ("gpt-6-astra", True),
        ("gpt-5-mini", True),
        ("o1", True),
        ("o3", True),
        ("o4-mini", True),
        ("gpt-7-nova", True),  # IDs the table does not know
        ("gpt-6-solar", True),
    ],
)
def test_openai_family_decides_the_api(model, responses):
    assert model_family(model).responses is responses
