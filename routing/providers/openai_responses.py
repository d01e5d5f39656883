"""OpenAI's Responses API, for the reasoning models that Chat Completions refuses function tools from.

Chat Completions take function tools from a reasoning model only at ``reasoning_effort: "none"``; the families
that do not take ``"none"`` (``openai.MODEL_FAMILIES``) are asked here instead, at their default effort. Nothing
is kept on OpenAI's side (``store=False``), so the reasoning a model writes before a function call comes back
encrypted (``include=["reasoning.encrypted_content"]``) and goes back, unchanged and in order before its call, in
the next round of the turn (``ToolCall.reasoning``). Usage arrives with ``response.completed`` (or
``response.incomplete``); ``output_tokens`` already counts the reasoning tokens, billed as output.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from openai.types.responses import ResponseStreamEvent, ResponseUsage

from routing.contracts import ReasoningItem, ToolCall, ToolRound
from routing.providers.base import (
    Finish,
    ProviderError,
    ProviderRequest,
    StreamEvent,
    TextChunk,
    ToolCallEvent,
    Usage,
    streamed_order,
    tool_arguments,
)

VENDOR = "openai"

# The Responses API refuses a ``max_output_tokens`` below 16 (400 ``integer_below_min_value``); a self-evaluation
# asks for 5, so it is given 16 (a reasoning model may spend them all on reasoning and answer nothing, which the
# router reads as no confidence).
MIN_OUTPUT_TOKENS = 16
# Failures a later attempt may not meet (``response.failed``'s ``error.code``, an ``error`` event's ``code``); any
# other code is about the request itself. An ``error`` event without a code is taken as transient, like a cut stream.
TRANSIENT_CODES = frozenset({"server_error", "rate_limit_exceeded", "vector_store_timeout"})


def _reasoning_item(item: ReasoningItem) -> dict[str, Any]:
    summary = [{"type": "summary_text", "text": text} for text in item.summary]
    return {"type": "reasoning", "id": item.id, "summary": summary, "encrypted_content": item.encrypted_content}


def _function_call(call: ToolCall) -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": "function_call",
        "call_id": call.id,
        "name": call.name,
        "arguments": json.dumps(dict(call.arguments)),
    }
    if call.item_id:  # a call another vendor made (a lower tier earlier in the turn) has none, nor reasoning
        item["id"] = call.item_id
    return item


def round_items(round_: ToolRound) -> list[dict[str, Any]]:
    """A round as the model streamed it (``streamed_order``: each call after its own reasoning), then our
    results."""
    items = streamed_order(
        round_,
        before=lambda call: map(_reasoning_item, call.reasoning),
        text=lambda text: {"role": "assistant", "content": text},
        call=_function_call,
    )
    items += [{"type": "function_call_output", "call_id": r.call_id, "output": r.content} for r in round_.results]
    return items


def request_params(request: ProviderRequest) -> dict[str, Any]:
    """The ``responses.create`` arguments: no temperature or logprobs (refused from a reasoning model at its
    default effort), nothing stored, the reasoning returned encrypted."""
    items: list[dict[str, Any]] = [{"role": m.role, "content": m.text} for m in request.messages]
    for round_ in request.tool_rounds:
        items += round_items(round_)
    params: dict[str, Any] = {
        "model": request.model,
        "input": items,
        # Caps reasoning plus text, as ``max_completion_tokens`` does in Chat Completions.
        "max_output_tokens": max(request.max_tokens, MIN_OUTPUT_TOKENS),
        "store": False,
        "include": ["reasoning.encrypted_content"],
        "stream": True,
    }
    instructions = "\n\n".join(block.text for block in request.system)
    if instructions:
        params["instructions"] = instructions
    if request.tools:
        # ``strict`` defaults to true in this API, which refuses a schema that does not list every property as
        # required and forbid others; ours are the Chat Completions ones, validated by our tools, not by OpenAI.
        params["tools"] = [
            {
                "type": "function",
                "name": t.name,
                "description": t.description,
                "parameters": dict(t.parameters),
                "strict": False,
            }
            for t in request.tools
        ]
    return params


def _usage(reported: ResponseUsage | None) -> Usage:
    """``input_tokens`` counts every prompt token; cache reads and writes come out of it, so each is priced once.
    ``output_tokens`` includes the reasoning tokens (``output_tokens_details.reasoning_tokens`` is a part of it)."""
    if reported is None:
        return Usage()
    details = reported.input_tokens_details
    cached = (getattr(details, "cached_tokens", 0) if details else 0) or 0
    written = (getattr(details, "cache_write_tokens", 0) if details else 0) or 0
    return Usage(reported.input_tokens - cached - written, reported.output_tokens, cached, written)


def _failure(kind: str, code: str | None, message: str) -> ProviderError:
    retryable = not code or code in TRANSIENT_CODES
    return ProviderError(f"{VENDOR} {kind}: {code or 'error'}: {message[:200]}", retryable=retryable)


async def stream_events(stream: AsyncIterator[ResponseStreamEvent]) -> AsyncIterator[StreamEvent]:
    """Text deltas as they come, each function call once its item is done (with the reasoning items done since
    the previous call), then ``Finish`` from ``response.completed`` or ``response.incomplete`` (cut at
    ``max_output_tokens``: the answer so far stands, as a Chat Completions ``length`` finish does)."""
    reasoning: list[ReasoningItem] = []
    finish: Finish | None = None
    async for event in stream:
        if event.type == "response.output_text.delta":
            if event.delta:
                yield TextChunk(event.delta)
        elif event.type == "response.output_item.done":
            item = event.item
            if item.type == "reasoning":
                summary = tuple(part.text for part in item.summary or ())
                reasoning.append(ReasoningItem(item.id, item.encrypted_content or "", summary))
            elif item.type == "function_call":
                arguments = tool_arguments(item.arguments)
                call = ToolCall(item.call_id, item.name, arguments, reasoning=tuple(reasoning), item_id=item.id or "")
                reasoning.clear()
                yield ToolCallEvent(call)
        elif event.type in ("response.completed", "response.incomplete"):
            response = event.response
            details = response.incomplete_details
            stop_reason = (details.reason if details else None) or response.status or "completed"
            finish = Finish(_usage(response.usage), stop_reason=stop_reason)
        elif event.type == "response.failed":
            error = event.response.error
            raise _failure("response failed", error.code if error else None, error.message if error else "")
        elif event.type == "error":
            raise _failure("stream error", event.code, event.message)
    if finish is None:
        raise ProviderError(f"{VENDOR} stream ended before response.completed", retryable=True)
    yield finish
