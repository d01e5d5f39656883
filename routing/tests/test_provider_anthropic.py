"""The Anthropic adapter through the official SDK against a local server speaking the Messages SSE format."""

from __future__ import annotations

from dataclasses import replace

import pytest

from routing.contracts import ToolCall, ToolResult, ToolRound, ToolSpec
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
from routing.tests.http_fake import Reply, json_reply, sse

TOOL = ToolSpec("book_class", "Book a class", {"type": "object", "properties": {"class_id": {"type": "integer"}}})


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
