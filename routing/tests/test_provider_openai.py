"""The OpenAI adapter through the official SDK against a local server speaking chat-completion chunks."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest

from routing.contracts import ToolCall, ToolResult, ToolRound
from routing.providers.base import (
    Finish,
    ProviderError,
    ProviderRequest,
    TextChunk,
    ToolCallEvent,
    Usage,
)
from routing.providers.openai import OpenAIProvider, request_params
from routing.tests.factories import OPENAI_REQUEST, TOOL
from routing.tests.http_fake import Reply, json_reply, openai_reasoning_rule, sse

BASE = OPENAI_REQUEST
DONE = b"data: [DONE]\n\n"


@pytest.fixture(autouse=True)
def _reasoning_rules(vendor):
    """The fake refuses what OpenAI refuses from a reasoning model (gpt-6-luna is one)."""
    vendor.rules.append(openai_reasoning_rule)


def _chunk(delta: dict[str, Any], finish: str | None = None, logprob: float | None = None) -> dict[str, Any]:
    logprobs = None
    if logprob is not None:
        logprobs = {"content": [{"token": "x", "logprob": logprob, "bytes": [120], "top_logprobs": []}]}
    choice = {"index": 0, "delta": delta, "logprobs": logprobs, "finish_reason": finish}
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-6-luna",
            "choices": [choice]}  # fmt: skip


USAGE = {
    "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-6-luna", "choices": [],
    "usage": {"prompt_tokens": 1100, "completion_tokens": 20, "total_tokens": 1120,
              "prompt_tokens_details": {"cached_tokens": 1024}},
}  # fmt: skip


def _text_stream(*pieces: str) -> list[bytes]:
    events = [(None, _chunk({"role": "assistant", "content": ""}))]
    events += [(None, _chunk({"content": p}, logprob=-0.1)) for p in pieces]
    events += [(None, _chunk({}, finish="stop")), (None, USAGE)]
    return [*sse(events), DONE]


async def _events(vendor, request: ProviderRequest = BASE):
    provider = OpenAIProvider(api_key="sk-test", base_url=f"{vendor.url}/v1")
    return [event async for event in provider.stream(request)]


@pytest.mark.asyncio
async def test_openai_streams_text_with_usage_and_logprobs(vendor):
    vendor.replies.append(Reply(body=_text_stream("We open ", "at 7am [1].")))

    events = await _events(vendor)

    assert [e.text for e in events if isinstance(e, TextChunk)] == ["We open ", "at 7am [1]."]
    finish = events[-1]
    assert isinstance(finish, Finish)
    assert (finish.usage.input_tokens, finish.usage.output_tokens, finish.usage.cached_tokens) == (76, 20, 1024)
    assert finish.mean_logprob is not None
    assert math.isclose(finish.mean_logprob, -0.1)


@pytest.mark.asyncio
async def test_openai_request_carries_model_sampling_usage_option_logprobs_and_tools(vendor):
    vendor.replies.append(Reply(body=_text_stream("ok")))

    await _events(vendor, replace(BASE, tools=(TOOL,)))

    seen = vendor.seen[0]
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["authorization"] == "Bearer sk-test"
    body = seen.body
    assert (body["model"], body["temperature"], body["max_completion_tokens"]) == ("gpt-6-luna", 0.2, 768)
    # function tools, temperature and logprobs are taken only at no reasoning effort
    assert body["reasoning_effort"] == "none"
    assert "max_tokens" not in body
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["logprobs"] is True
    assert body["messages"][0] == {"role": "system", "content": "You are helpful.\n\n[1] Hours\nOpen 7-9."}
    assert body["tools"][0]["function"]["name"] == "book_class"


@pytest.mark.asyncio
async def test_openai_assembles_streamed_tool_calls(vendor):
    first = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "book_class", "arguments": ""}}
    events = [
        (None, _chunk({"role": "assistant", "content": None, "tool_calls": [first]})),
        (None, _chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"class_'}}]})),
        (None, _chunk({"tool_calls": [{"index": 0, "function": {"arguments": 'id": 4}'}}]})),
        (None, _chunk({}, finish="tool_calls")),
        (None, USAGE),
    ]
    vendor.replies.append(Reply(body=[*sse(events), DONE]))

    result = await _events(vendor, replace(BASE, tools=(TOOL,)))

    calls = [e.call for e in result if isinstance(e, ToolCallEvent)]
    assert [(c.id, c.name, dict(c.arguments)) for c in calls] == [("call_1", "book_class", {"class_id": 4})]


@pytest.mark.parametrize(("status", "retryable"), [(400, False), (401, False), (429, True), (500, True), (529, True)])
@pytest.mark.asyncio
async def test_openai_http_errors_map_to_provider_errors(vendor, status, retryable):
    vendor.replies.append(json_reply(status, {"error": {"message": "nope", "type": "x", "param": None, "code": None}}))

    with pytest.raises(ProviderError) as caught:
        await _events(vendor)

    assert (caught.value.status, caught.value.retryable) == (status, retryable)
    assert len(vendor.seen) == 1  # SDK retries are off


@pytest.mark.asyncio
async def test_openai_stream_cut_midway_is_retryable(vendor):
    vendor.replies.append(Reply(body=sse([(None, _chunk({"content": "We open"}))]), cut=True))

    with pytest.raises(ProviderError) as caught:
        await _events(vendor)

    assert caught.value.retryable is True


@pytest.mark.asyncio
async def test_openai_timeout_is_retryable(vendor):
    vendor.replies.append(Reply(body=_text_stream("late"), delay_s=1.0))

    with pytest.raises(ProviderError) as caught:
        await _events(vendor, replace(BASE, timeout_s=0.2))

    assert caught.value.retryable is True


@pytest.mark.asyncio
async def test_openai_renders_tool_results_as_tool_messages(vendor):
    vendor.replies.append(Reply(body=_text_stream("Booked.")))
    round_ = ToolRound(
        text="",
        calls=(ToolCall("call_1", "book_class", {"class_id": 4}),),
        results=(ToolResult("call_1", "book_class", '{"free": true}'),),
    )

    await _events(vendor, replace(BASE, tools=(TOOL,), tool_rounds=(round_,)))

    messages = vendor.seen[0].body["messages"]
    assert messages[-2] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "book_class", "arguments": '{"class_id": 4}'}}
        ],
    }
    assert messages[-1] == {"role": "tool", "tool_call_id": "call_1", "content": '{"free": true}'}


@pytest.mark.parametrize(
    ("model", "effort", "sampling"),
    [
        ("gpt-6-luna", "none", True),
        ("gpt-6-sol", "none", True),
        ("gpt-6-luna-2026-09-22", "none", True),
        ("gpt-4o-mini", None, True),
        ("gpt-4.1-mini", None, True),
        # reasoning families without "none" and unknown IDs: test_provider_openai_responses.py
    ],
)
def test_openai_request_follows_the_model_familys_capabilities(model, effort, sampling):
    params = request_params(replace(BASE, model=model))

    assert params.get("reasoning_effort") == effort
    assert ("temperature" in params, "logprobs" in params) == (sampling, sampling)
    assert params["max_completion_tokens"] == 768 and "max_tokens" not in params


@pytest.mark.asyncio
async def test_openai_gpt_4o_mini_override_still_streams(vendor):
    # given a deployment that keeps ROUTING_TIER2=openai:gpt-4o-mini until its shutdown
    vendor.replies.append(Reply(body=_text_stream("We open at 7am.")))

    events = await _events(vendor, replace(BASE, model="gpt-4o-mini", tools=(TOOL,)))

    assert [e.text for e in events if isinstance(e, TextChunk)] == ["We open at 7am."]
    assert "reasoning_effort" not in vendor.seen[0].body


@pytest.mark.asyncio
async def test_openai_fake_refuses_a_gpt_6_request_with_reasoning_and_tools(vendor):
    # the rule the adapter is tested against: OpenAI's refusal at the default (medium) effort
    refused = openai_reasoning_rule({"model": "gpt-6-luna", "messages": [], "tools": [{"type": "function"}]})

    assert refused is not None and refused.status == 400


@pytest.mark.asyncio
async def test_openai_reads_cache_writes_apart_from_input_and_cache_reads(vendor):
    # given GPT-5.6 and later, which bill a prompt's cache writes at 1.25 x input and report them apart
    usage = {"prompt_tokens": 2200, "completion_tokens": 20, "total_tokens": 2220,
             "prompt_tokens_details": {"cached_tokens": 1024, "cache_write_tokens": 1100}}  # fmt: skip
    events = [(None, _chunk({"content": "We open at 7am."}, logprob=-0.1)), (None, _chunk({}, finish="stop"))]
    vendor.replies.append(Reply(body=[*sse([*events, (None, {**USAGE, "usage": usage})]), DONE]))

    finish = (await _events(vendor))[-1]

    # then each prompt token is counted once: uncached input, cache read, cache write
    assert isinstance(finish, Finish)
    assert finish.usage == Usage(input_tokens=76, output_tokens=20, cached_tokens=1024, cache_write_tokens=1100)
