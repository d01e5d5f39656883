"""Anthropic Messages API adapter (streaming, tool use, prompt caching).

The stable system blocks carry ``cache_control: ephemeral`` so repeated turns read them from the
prompt cache; cache reads and writes come back in the usage and are priced separately. SDK retries
are off (``max_retries=0``): the router owns retries, and is told a refusal's ``retry-after`` as
``retry_after``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import anthropic

from routing.contracts import ThinkingBlock, ToolCall, ToolRound
from routing.providers.base import (
    Finish,
    KeyedProvider,
    PromptUsage,
    ProviderError,
    ProviderRequest,
    StreamEvent,
    TextChunk,
    ToolCallEvent,
    Usage,
    error_for_status,
    retry_after_s,
    streamed_order,
    tool_arguments,
)

VENDOR = "anthropic"


def _thinking_block(block: ThinkingBlock) -> dict[str, Any]:
    if block.redacted:
        return {"type": "redacted_thinking", "data": block.redacted_data}
    return {"type": "thinking", "thinking": block.thinking, "signature": block.signature}


def _tool_use(call: ToolCall) -> dict[str, Any]:
    return {"type": "tool_use", "id": call.id, "name": call.name, "input": dict(call.arguments)}


def _assistant_content(round_: ToolRound) -> list[dict[str, Any]]:
    """The round's assistant turn as the model streamed it (``streamed_order``): thinking first (a model that
    thinks refuses a tool round whose assistant turn starts otherwise), then the text, then each call after its
    own thinking."""
    return streamed_order(
        round_,
        before=lambda call: map(_thinking_block, call.thinking),
        text=lambda text: {"type": "text", "text": text},
        call=_tool_use,
    )


def tool_messages(request: ProviderRequest) -> list[dict[str, Any]]:
    """Each round: an assistant turn with ``tool_use`` blocks (after the thinking that preceded them), then a
    user turn of ``tool_result`` blocks."""
    messages: list[dict[str, Any]] = []
    for round_ in request.tool_rounds:
        content = _assistant_content(round_)
        results = [
            {"type": "tool_result", "tool_use_id": r.call_id, "content": r.content, "is_error": r.is_error}
            for r in round_.results
        ]
        messages += [{"role": "assistant", "content": content}, {"role": "user", "content": results}]
    return messages


def request_params(request: ProviderRequest) -> dict[str, Any]:
    system = []
    for block in request.system:
        item: dict[str, Any] = {"type": "text", "text": block.text}
        if block.cacheable:
            item["cache_control"] = {"type": "ephemeral"}
        system.append(item)
    params: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens,
        "system": system,
        "messages": [{"role": m.role, "content": m.text} for m in request.messages] + tool_messages(request),
    }
    if accepts_sampling_parameters(request.model):
        # This SDK release has no ``temperature`` argument; the Messages API still takes it in the body.
        params["extra_body"] = {"temperature": request.temperature}
    elif thinks_by_default(request.model):
        params["output_config"] = {"effort": CLAUDE_5_EFFORT}
    if request.tools:
        params["tools"] = [
            {"name": t.name, "description": t.description, "input_schema": dict(t.parameters)} for t in request.tools
        ]
    return params


# The generation is the first number of a Claude model ID: claude-sonnet-5-5 → 5, claude-3-5-sonnet-… → 3;
# also as Amazon Bedrock names it (anthropic.claude-sonnet-4-6-v1:0, with a cross-region profile's
# us./eu./apac./global. before it) and Vertex AI (claude-sonnet-5@20260301), which a gateway at
# ANTHROPIC_BASE_URL may pass on.
_GENERATION = re.compile(r"(?:(?:[a-z]+\.)?anthropic\.)?claude-(?:[a-z]+-)?(\d+)(?:[-@]|$)")
# From Claude 5 on, a non-default temperature, top_p or top_k answers HTTP 400 (Sonnet 5 and 5.5 model
# pages and migration guides, docs/routing.md).
SAMPLING_REFUSED_FROM_GENERATION = 5


# Claude 5 thinks (adaptive thinking, which cannot be switched off) at ``high`` effort unless asked, and its
# thinking spends the same ``max_tokens`` (1,024 at tier 3) as the answer. A support answer is composed from
# the passages we send, so ``low`` (GA, ``output_config.effort``, no beta header; docs/routing.md) keeps the
# thinking, the wait before the first word and the cost short; the model still thinks on a hard question.
CLAUDE_5_EFFORT = "low"


def _generation(model: str) -> int | None:
    match = _GENERATION.match(model)
    return int(match.group(1)) if match else None


def accepts_sampling_parameters(model: str) -> bool:
    """Whether ``model`` takes our ``temperature``: only a Claude ID of a generation before 5. Leaving the
    parameter out is never refused, so an ID we cannot read (a proxy's alias) gets the vendor default."""
    generation = _generation(model)
    return generation is not None and generation < SAMPLING_REFUSED_FROM_GENERATION


def thinks_by_default(model: str) -> bool:
    """Whether ``model`` reads as Claude 5 or later (adaptive thinking always on): only those are sent an
    effort. An ID we cannot read gets none, so the vendor default, as for the temperature."""
    generation = _generation(model)
    return generation is not None and generation >= SAMPLING_REFUSED_FROM_GENERATION


class AnthropicProvider(KeyedProvider):
    name = VENDOR

    key_setting = "ANTHROPIC_API_KEY"
    _client: anthropic.AsyncAnthropic | None = None

    def client(self) -> anthropic.AsyncAnthropic:
        if self._client is None:
            self._client = anthropic.AsyncAnthropic(api_key=self.api_key, base_url=self.base_url, max_retries=0)
        return self._client

    async def stream(self, request: ProviderRequest) -> AsyncIterator[StreamEvent]:
        usage = {"input": 0, "output": 0, "cache_read": 0, "cache_write": 0}
        tools: dict[int, dict[str, Any]] = {}
        # Thinking blocks being streamed (by index), and those finished since the last tool call: they go
        # back with the next call (Claude 5 refuses a tool round without them); after the last call, unused.
        thinking: dict[int, dict[str, str]] = {}
        before_call: list[ThinkingBlock] = []
        stop_reason = ""
        finished = False
        try:
            stream = await self.client().messages.create(
                **request_params(request), stream=True, timeout=request.timeout_s
            )
            async for event in stream:
                kind = event.type
                if kind == "message_start":
                    u = event.message.usage
                    usage["input"] = u.input_tokens or 0
                    usage["cache_read"] = getattr(u, "cache_read_input_tokens", 0) or 0
                    usage["cache_write"] = getattr(u, "cache_creation_input_tokens", 0) or 0
                    usage["output"] = u.output_tokens or 0
                    yield PromptUsage(Usage(usage["input"], 0, usage["cache_read"], usage["cache_write"]))
                elif kind == "content_block_start":
                    block = event.content_block
                    if block.type == "tool_use":
                        tools[event.index] = {"id": block.id, "name": block.name, "json": ""}
                    elif block.type == "thinking":
                        thinking[event.index] = {"thinking": block.thinking or "", "signature": block.signature or ""}
                    elif block.type == "redacted_thinking":
                        before_call.append(ThinkingBlock(redacted_data=block.data))
                elif kind == "content_block_delta":
                    # Only text reaches the customer; thinking (kept for the next round) never does, and its
                    # tokens are in the output usage.
                    delta = event.delta
                    if delta.type == "text_delta" and delta.text:
                        yield TextChunk(delta.text)
                    elif delta.type == "input_json_delta" and event.index in tools:
                        tools[event.index]["json"] += delta.partial_json
                    elif delta.type == "thinking_delta" and event.index in thinking:
                        thinking[event.index]["thinking"] += delta.thinking
                    elif delta.type == "signature_delta" and event.index in thinking:
                        thinking[event.index]["signature"] += delta.signature
                elif kind == "content_block_stop" and event.index in thinking:
                    before_call.append(ThinkingBlock(**thinking.pop(event.index)))
                elif kind == "content_block_stop" and event.index in tools:
                    tool = tools.pop(event.index)
                    call = ToolCall(tool["id"], tool["name"], tool_arguments(tool["json"]), thinking=tuple(before_call))
                    before_call.clear()
                    yield ToolCallEvent(call)
                elif kind == "message_delta":
                    usage["output"] = event.usage.output_tokens or usage["output"]
                    stop_reason = event.delta.stop_reason or ""
                elif kind == "message_stop":
                    finished = True
        except anthropic.APITimeoutError as exc:
            raise ProviderError(f"{VENDOR} timed out", retryable=True, timed_out=True) from exc
        except anthropic.APIStatusError as exc:
            if exc.status_code == 200:  # an ``error`` event inside a stream that had started fine
                raise ProviderError(f"{VENDOR} stream error: {exc.message}", retryable=_transient(exc)) from exc
            wait = retry_after_s(exc.response.headers)
            raise error_for_status(VENDOR, exc.status_code, str(exc.message), retry_after=wait) from exc
        except anthropic.APIConnectionError as exc:
            raise ProviderError(f"{VENDOR} connection failed: {exc}", retryable=True) from exc
        except anthropic.AnthropicError as exc:
            raise ProviderError(f"{VENDOR} failed: {exc}", retryable=_transient(exc)) from exc
        except Exception as exc:  # transport errors raised while iterating (a cut stream)
            raise ProviderError(f"{VENDOR} transport failed: {type(exc).__name__}", retryable=True) from exc
        if not finished:
            raise ProviderError(f"{VENDOR} stream ended before message_stop", retryable=True)
        yield Finish(
            Usage(usage["input"], usage["output"], usage["cache_read"], usage["cache_write"]), stop_reason=stop_reason
        )


def _transient(exc: Exception) -> bool:
    text = str(exc).lower()
    return "overloaded" in text or "rate_limit" in text or "api_error" in text
