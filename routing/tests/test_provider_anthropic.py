"""The Anthropic adapter through the official SDK against a local server speaking the Messages SSE format."""

from __future__ import annotations

from dataclasses import replace

import pytest

from routing.contracts import ToolCall, ToolResult, ToolRound
from routing.providers.anthropic import AnthropicProvider, request_params
from routing.providers.base import (
    ChatMessage,
    Finish,
    ProviderError,
    ProviderRequest,
    SystemBlock,
    TextChunk,
    ToolCallEvent,
)
from routing.tests.factories import TOOL
from routing.tests.http_fake import Reply, claude_thinking_rule, json_reply, sse

BASE = ProviderRequest(
    model="claude-sonnet-4-6",
    system=(
        SystemBlock("You are helpful.", cacheable=True),
        SystemBlock("[1] Hours\nOpen 7-9.", cacheable=True),
        SystemBlock("Customer: Ann"),
    ),
    messages=(ChatMessage("user", "When are you open?"),),
    temperature=0.3,
    max_tokens=1024,
    timeout_s=5.0,
)


def _request(**kwargs) -> ProviderRequest:
    return replace(BASE, **kwargs)


def _message_start(read=1200, write=0, input_tokens=25):
    usage = {"input_tokens": input_tokens, "cache_creation_input_tokens": write, "cache_read_input_tokens": read,
             "output_tokens": 1}  # fmt: skip
    message: dict[str, object] = {"id": "msg_1", "type": "message", "role": "assistant", "content": [],
                                  "model": "claude-sonnet-4-6", "stop_reason": None, "stop_sequence": None,
                                  "usage": usage}  # fmt: skip
    return ("message_start", {"type": "message_start", "message": message})


def _text_events(*pieces):
    events = [("content_block_start", {"type": "content_block_start", "index": 0,
                                       "content_block": {"type": "text", "text": ""}})]  # fmt: skip
    events.append(("ping", {"type": "ping"}))
    events += [
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}})
        for p in pieces
    ]
    events.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
    return events


END = [
    ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                       "usage": {"output_tokens": 15}}),
    ("message_stop", {"type": "message_stop"}),
]  # fmt: skip


async def _events(vendor, request=None):
    provider = AnthropicProvider(api_key="sk-ant-test", base_url=vendor.url)
    return [event async for event in provider.stream(request or _request())]


@pytest.mark.asyncio
async def test_anthropic_streams_text_and_reads_cached_usage(vendor):
    vendor.replies.append(Reply(body=sse([_message_start(), *_text_events("We open ", "at 7am [1]."), *END])))

    events = await _events(vendor)

    assert [e.text for e in events if isinstance(e, TextChunk)] == ["We open ", "at 7am [1]."]
    finish = events[-1]
    assert isinstance(finish, Finish)
    assert (finish.usage.input_tokens, finish.usage.output_tokens, finish.usage.cached_tokens) == (25, 15, 1200)
    assert finish.stop_reason == "end_turn"


@pytest.mark.asyncio
async def test_anthropic_request_carries_model_sampling_cache_markers_and_tools(vendor):
    vendor.replies.append(Reply(body=sse([_message_start(), *_text_events("ok"), *END])))

    await _events(vendor, _request(tools=(TOOL,)))

    seen = vendor.seen[0]
    assert seen.path == "/v1/messages"
    assert seen.headers["authorization"] == "Bearer sk-ant-test"
    body = seen.body
    assert (body["model"], body["temperature"], body["max_tokens"], body["stream"]) == (
        "claude-sonnet-4-6", 0.3, 1024, True,
    )  # fmt: skip
    assert [block.get("cache_control") for block in body["system"]] == [{"type": "ephemeral"}] * 2 + [None]
    assert body["messages"] == [{"role": "user", "content": "When are you open?"}]
    assert body["tools"] == [
        {"name": "book_class", "description": "Book a class", "input_schema": dict(TOOL.parameters)}
    ]
    assert "x-stainless-retry-count" not in seen.headers or seen.headers["x-stainless-retry-count"] == "0"


@pytest.mark.asyncio
async def test_anthropic_assembles_a_streamed_tool_call(vendor):
    tool_use = {"type": "tool_use", "id": "toolu_1", "name": "book_class", "input": {}}
    tool_events = [
        ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": tool_use}),
        ("content_block_delta", {"type": "content_block_delta", "index": 1,
                                 "delta": {"type": "input_json_delta", "partial_json": "{\"class_"}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 1,
                                 "delta": {"type": "input_json_delta", "partial_json": "id\": 4}"}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 1}),
    ]  # fmt: skip
    vendor.replies.append(Reply(body=sse([_message_start(), *_text_events("Booking."), *tool_events, *END])))

    events = await _events(vendor, _request(tools=(TOOL,)))

    calls = [e.call for e in events if isinstance(e, ToolCallEvent)]
    assert [(c.id, c.name, dict(c.arguments)) for c in calls] == [("toolu_1", "book_class", {"class_id": 4})]


@pytest.mark.parametrize(
    ("status", "error_type", "retryable"),
    [
        (400, "invalid_request_error", False),
        (401, "authentication_error", False),
        (429, "rate_limit_error", True),
        (500, "api_error", True),
        (529, "overloaded_error", True),
    ],
)
@pytest.mark.asyncio
async def test_anthropic_http_errors_map_to_provider_errors(vendor, status, error_type, retryable):
    vendor.replies.append(json_reply(status, {"type": "error", "error": {"type": error_type, "message": "nope"}}))

    with pytest.raises(ProviderError) as caught:
        await _events(vendor)

    assert caught.value.status == status
    assert caught.value.retryable is retryable
    assert len(vendor.seen) == 1  # SDK retries are off


@pytest.mark.asyncio
async def test_anthropic_overloaded_error_event_inside_the_stream_is_retryable(vendor):
    error = ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    vendor.replies.append(Reply(body=sse([_message_start(), *_text_events("Hal"), error])))

    with pytest.raises(ProviderError) as caught:
        await _events(vendor)

    assert caught.value.retryable is True


@pytest.mark.asyncio
async def test_anthropic_stream_cut_midway_is_a_retryable_error(vendor):
    vendor.replies.append(Reply(body=sse([_message_start(), *_text_events("We open")]), cut=True))

    with pytest.raises(ProviderError) as caught:
        await _events(vendor)

    assert caught.value.retryable is True


@pytest.mark.asyncio
async def test_anthropic_timeout_is_a_retryable_error(vendor):
    vendor.replies.append(Reply(body=sse([_message_start(), *END]), delay_s=1.0))

    with pytest.raises(ProviderError) as caught:
        await _events(vendor, _request(timeout_s=0.2))

    assert caught.value.retryable is True
    assert caught.value.timed_out is True  # the router books it at its estimated prompt
    assert "timed out" in caught.value.message


ROUND = ToolRound(
    text="Let me check.",
    calls=(ToolCall("toolu_1", "book_class", {"class_id": 4}),),
    results=(ToolResult("toolu_1", "book_class", '{"free": true}'),),
)


@pytest.mark.asyncio
async def test_anthropic_renders_tool_results_as_tool_result_blocks(vendor):
    vendor.replies.append(Reply(body=sse([_message_start(), *_text_events("Booked."), *END])))

    await _events(vendor, _request(tools=(TOOL,), tool_rounds=(ROUND,)))

    messages = vendor.seen[0].body["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == [
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "toolu_1", "name": "book_class", "input": {"class_id": 4}},
    ]
    assert messages[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": '{"free": true}', "is_error": False}
    ]


# Claude 5 and later (claude-sonnet-5-5, for a tenant or deployment that chooses it): adaptive thinking is
# on by default, so a stream can carry thinking blocks before the text, and non-default sampling
# parameters answer 400.
CURRENT = _request(model="claude-sonnet-5-5")


def _thinking_events(index=0, thought="The customer asks about hours; passage [1] has them."):
    return [
        ("content_block_start", {"type": "content_block_start", "index": index,
                                 "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": index,
                                 "delta": {"type": "thinking_delta", "thinking": thought}}),
        ("content_block_delta", {"type": "content_block_delta", "index": index,
                                 "delta": {"type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA"}}),
        ("content_block_stop", {"type": "content_block_stop", "index": index}),
    ]  # fmt: skip


def _text_block_at(index, *pieces):
    return [
        (name, {**data, "index": index}) if "index" in data else (name, data) for name, data in _text_events(*pieces)
    ]


@pytest.mark.parametrize(
    ("model", "sends_temperature"),
    [
        ("claude-sonnet-5-5", False),
        ("claude-sonnet-5", False),
        ("claude-opus-5-5", False),
        ("claude-sonnet-5-5-20260928", False),
        ("claude-sonnet-4-6", True),
        ("claude-sonnet-4-5", True),
        ("claude-haiku-4-5", True),
        ("claude-3-5-sonnet-20241022", True),
        ("eu-proxy-sonnet", False),
        # Amazon Bedrock's IDs and cross-region profiles, and Vertex AI's, as a gateway may pass them on
        ("anthropic.claude-sonnet-5-5-v1:0", False),
        ("us.anthropic.claude-sonnet-4-6-v1:0", True),
        ("apac.anthropic.claude-3-5-sonnet-20241022-v2:0", True),
        ("claude-sonnet-4-5@20250929", True),
        ("claude-sonnet-5@20260301", False),
        ("my-anthropic.claude-sonnet-4-6", False),
    ],
)
def test_anthropic_sends_sampling_parameters_only_to_models_before_claude_5(model, sends_temperature):
    params = request_params(_request(model=model))

    assert ("temperature" in params.get("extra_body", {})) is sends_temperature


@pytest.mark.asyncio
async def test_anthropic_claude_5_request_leaves_out_temperature(vendor):
    vendor.replies.append(Reply(body=sse([_message_start(), *_text_events("ok"), *END])))

    await _events(vendor, CURRENT)

    body = vendor.seen[0].body
    assert (body["model"], body["max_tokens"]) == ("claude-sonnet-5-5", 1024)
    assert not {"temperature", "top_p", "top_k", "thinking"} & body.keys()


@pytest.mark.asyncio
async def test_anthropic_streams_only_the_text_after_a_thinking_block_and_counts_its_tokens(vendor):
    # given Claude 5's stream: a thinking block (with its signature), then the text block
    events = [_message_start(), *_thinking_events(0), *_text_block_at(1, "We open ", "at 7am [1]."), *END]
    vendor.replies.append(Reply(body=sse(events)))

    # when
    events_out = await _events(vendor, CURRENT)

    # then only the answer reaches the customer; the output usage (thinking included) is still counted
    assert [e.text for e in events_out if isinstance(e, TextChunk)] == ["We open ", "at 7am [1]."]
    finish = events_out[-1]
    assert isinstance(finish, Finish)
    assert (finish.usage.input_tokens, finish.usage.output_tokens, finish.usage.cached_tokens) == (25, 15, 1200)


@pytest.mark.asyncio
async def test_anthropic_skips_a_redacted_thinking_block(vendor):
    redacted = [
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
    ]  # fmt: skip
    vendor.replies.append(Reply(body=sse([_message_start(), *redacted, *_text_block_at(1, "Hello."), *END])))

    events = await _events(vendor, CURRENT)

    assert [e.text for e in events if isinstance(e, TextChunk)] == ["Hello."]


SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZA"
REDACTED = "EmwKAhgBEgy3va3pzix"


def _redacted_events(index):
    return [
        ("content_block_start", {"type": "content_block_start", "index": index,
                                 "content_block": {"type": "redacted_thinking", "data": REDACTED}}),
        ("content_block_stop", {"type": "content_block_stop", "index": index}),
    ]  # fmt: skip


def _tool_use_events(index, call_id="toolu_1", arguments='{"class_id": 4}'):
    block = {"type": "tool_use", "id": call_id, "name": "book_class", "input": {}}
    return [
        ("content_block_start", {"type": "content_block_start", "index": index, "content_block": block}),
        ("content_block_delta", {"type": "content_block_delta", "index": index,
                                 "delta": {"type": "input_json_delta", "partial_json": arguments}}),
        ("content_block_stop", {"type": "content_block_stop", "index": index}),
    ]  # fmt: skip


TOOL_END = [
    ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                       "usage": {"output_tokens": 40}}),
    ("message_stop", {"type": "message_stop"}),
]  # fmt: skip


@pytest.mark.asyncio
async def test_anthropic_claude_5_refuses_a_tool_round_without_the_thinking_before_its_calls(vendor):
    # given Claude 5, which checks tool rounds, and a round whose calls carry no thinking (e.g. made by another
    # vendor's tier earlier in the turn)
    vendor.rules.append(claude_thinking_rule)

    # when
    with pytest.raises(ProviderError) as caught:
        await _events(vendor, replace(CURRENT, tools=(TOOL,), tool_rounds=(ROUND,)))

    # then the vendor's 400 is a non-retryable error naming what is missing
    assert (caught.value.status, caught.value.retryable) == (400, False)
    assert "Expected `thinking` or `redacted_thinking`, but found `text`" in caught.value.message


@pytest.mark.asyncio
async def test_anthropic_sends_the_thinking_before_a_tool_call_back_first_in_the_next_round(vendor):
    # given Claude 5, which refuses a tool round without its thinking, answering round 1 with thinking, redacted
    # thinking, text and a tool call, and round 2 with text
    vendor.rules.append(claude_thinking_rule)
    first = [_message_start(), *_thinking_events(0, thought="Book class 4."), *_redacted_events(1),
             *_text_block_at(2, "Let me check."), *_tool_use_events(3), *TOOL_END]  # fmt: skip
    vendor.replies += [Reply(body=sse(first)), Reply(body=sse([_message_start(), *_text_events("Booked."), *END]))]
    request = replace(CURRENT, tools=(TOOL,))

    # when round 1 streams and its call comes back with our result in round 2
    calls = [e.call for e in await _events(vendor, request) if isinstance(e, ToolCallEvent)]
    done = ToolRound("Let me check.", tuple(calls), (ToolResult("toolu_1", "book_class", '{"free": true}'),))
    second = await _events(vendor, replace(request, tool_rounds=(done,)))

    # then round 2 is answered, and its assistant turn holds the blocks as streamed, thinking first
    assert [e.text for e in second if isinstance(e, TextChunk)] == ["Booked."]
    assistant = vendor.seen[1].body["messages"][1]
    assert assistant == {"role": "assistant", "content": [
        {"type": "thinking", "thinking": "Book class 4.", "signature": SIGNATURE},
        {"type": "redacted_thinking", "data": REDACTED},
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "toolu_1", "name": "book_class", "input": {"class_id": 4}},
    ]}  # fmt: skip


@pytest.mark.asyncio
async def test_anthropic_sends_each_calls_thinking_before_it_across_parallel_calls_and_rounds(vendor):
    # given Claude 5 thinking before each of two parallel calls in round 1, then before one call in round 2
    vendor.rules.append(claude_thinking_rule)
    round_1 = [_message_start(), *_thinking_events(0, thought="Two classes."), *_tool_use_events(1),
               *_thinking_events(2, thought="And the second."), *_tool_use_events(3, "toolu_2", '{"class_id": 5}'),
               *TOOL_END]  # fmt: skip
    round_2 = [_message_start(), *_redacted_events(0), *_tool_use_events(1, "toolu_3", '{"class_id": 6}'), *TOOL_END]
    vendor.replies += [Reply(body=sse(round_1)), Reply(body=sse(round_2)),
                       Reply(body=sse([_message_start(), *_text_events("Done."), *END]))]  # fmt: skip
    request = replace(CURRENT, tools=(TOOL,))

    # when the two rounds run and their results go back
    rounds: list[ToolRound] = []
    for _ in range(2):
        events = await _events(vendor, replace(request, tool_rounds=tuple(rounds)))
        calls = tuple(e.call for e in events if isinstance(e, ToolCallEvent))
        rounds.append(ToolRound("", calls, tuple(ToolResult(c.id, c.name, "{}") for c in calls)))
    final = await _events(vendor, replace(request, tool_rounds=tuple(rounds)))

    # then each call's thinking goes back right before it, in both rounds
    assert [e.text for e in final if isinstance(e, TextChunk)] == ["Done."]
    messages = vendor.seen[2].body["messages"]
    assert [[b["type"] for b in m["content"]] for m in messages[1::2]] == [
        ["thinking", "tool_use", "thinking", "tool_use"],
        ["redacted_thinking", "tool_use"],
    ]
    assert [b.get("thinking") for b in messages[1]["content"]] == ["Two classes.", None, "And the second.", None]
    assert [b["id"] for b in messages[1]["content"] if b["type"] == "tool_use"] == ["toolu_1", "toolu_2"]


@pytest.mark.asyncio
async def test_anthropic_claude_4_tool_round_is_unchanged_and_not_checked_for_thinking(vendor):
    # given the legacy model, which answers without thinking unless asked
    vendor.rules.append(claude_thinking_rule)
    vendor.replies.append(Reply(body=sse([_message_start(), *_text_events("Booked."), *END])))

    # when a round without thinking goes back
    events = await _events(vendor, _request(tools=(TOOL,), tool_rounds=(ROUND,)))

    # then it is answered and the assistant turn is text then tool_use, as before
    assert [e.text for e in events if isinstance(e, TextChunk)] == ["Booked."]
    assert [b["type"] for b in vendor.seen[0].body["messages"][1]["content"]] == ["text", "tool_use"]


@pytest.mark.parametrize(
    ("model", "effort"),
    [
        ("claude-sonnet-5-5", "low"),
        ("claude-sonnet-5", "low"),
        ("claude-opus-5-5", "low"),
        ("claude-sonnet-4-6", None),
        ("claude-3-5-sonnet-20241022", None),
        ("eu-proxy-sonnet", None),
        ("global.anthropic.claude-sonnet-5-5-v1:0", "low"),
        ("claude-opus-5-5@20260901", "low"),
        ("claude-sonnet-5@20260301", "low"),
        ("us.anthropic.claude-sonnet-4-6-v1:0", None),
    ],
)
def test_anthropic_asks_claude_5_for_low_effort_and_older_or_unknown_models_for_none(model, effort):
    params = request_params(_request(model=model))

    assert params.get("output_config", {}).get("effort") == effort


@pytest.mark.asyncio
async def test_anthropic_claude_5_request_carries_low_effort_through_the_sdk(vendor):
    vendor.replies.append(Reply(body=sse([_message_start(), *_text_events("ok"), *END])))

    await _events(vendor, CURRENT)

    body = vendor.seen[0].body
    assert body["output_config"] == {"effort": "low"}
    assert "thinking" not in body  # adaptive thinking stays on: "disabled" is refused on Claude 5
