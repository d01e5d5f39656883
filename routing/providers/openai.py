"""OpenAI adapter: Chat Completions (streaming with usage, tools, logprobs), and the Responses API
(``openai_responses.py``) for the reasoning families that Chat Completions refuses function tools from.

``stream_options.include_usage`` makes the last chunk carry the usage (cache reads and writes
included, which we subtract from input so each is priced once). Token logprobs give the router a
confidence estimate. SDK retries are off: the router owns retries, and is told a refusal's
``retry-after-ms`` (or ``retry-after``) as ``retry_after``. Both APIs' failures leave as the same
``ProviderError``s.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import openai
from openai.types import CompletionUsage

from routing.contracts import ToolCall
from routing.providers.base import (
    Finish,
    KeyedProvider,
    ProviderError,
    ProviderRequest,
    StreamEvent,
    TextChunk,
    ToolCallEvent,
    Usage,
    error_for_status,
    retry_after_s,
    tool_arguments,
)
from routing.providers.openai_responses import request_params as responses_params
from routing.providers.openai_responses import stream_events as responses_events

VENDOR = "openai"


@dataclass(frozen=True)
class ModelFamily:
    """What a family of OpenAI models takes. ``sampling``: a temperature and logprobs are accepted as we send
    them; ``no_reasoning``: only once asked for ``reasoning_effort: "none"``; ``responses``: asked through the
    Responses API instead of Chat Completions."""

    sampling: bool
    no_reasoning: bool = False
    responses: bool = False


SAMPLING = ModelFamily(sampling=True)  # not a reasoning model (GPT-4 generation)
NO_REASONING = ModelFamily(sampling=True, no_reasoning=True)
# A reasoning model that does not take "none": it reasons at its default effort (``medium``), and refuses a
# temperature and logprobs there, so neither is sent; Chat Completions would refuse its function tools too, so it
# is asked through the Responses API (docs/routing.md).
REASONING = ModelFamily(sampling=False, responses=True)

# Families by ID prefix; an ID belongs to the longest prefix it starts with that ends at its end, a "-" or a "."
# (so ``gpt-6-luna-2026-09-22`` is Luna, ``gpt-6.1-sol`` is not ``gpt-6-sol``). Reasoning models default to medium
# effort, and Chat Completions takes function tools, a temperature and logprobs from them only at ``none`` (OpenAI's
# deployment checklist): at none, Luna and Sol answer like gpt-4o-mini did, no reasoning tokens before the first
# word and logprobs for the router. Sources and dates: docs/routing.md "Default models".
MODEL_FAMILIES: dict[str, ModelFamily] = {
    "gpt-3.5": SAMPLING,
    "gpt-4": SAMPLING,
    "gpt-4o": SAMPLING,
    "gpt-5": REASONING,
    "gpt-6": REASONING,  # GPT-6 Astra and others: no "none"
    "gpt-6-luna": NO_REASONING,
    "gpt-6-sol": NO_REASONING,
    "gpt-6.1": REASONING,  # 6.1 Sol does not take "none"
    "o1": REASONING,
    "o3": REASONING,
    "o4": REASONING,
}
# An ID the table does not know is sent what every model takes: no temperature, logprobs or reasoning effort (a
# reasoning model refuses the first two, an older model the last), through the Responses API, which takes function
# tools from every current OpenAI model. New OpenAI models are reasoning models, and a refused parameter costs the
# turn a tier; an unknown non-reasoning model only loses its temperature and logprob confidence (the router asks it
# for a self-evaluation instead). Add its family above to give it back.
UNKNOWN_FAMILY = REASONING


def model_family(model: str) -> ModelFamily:
    """The capabilities of ``model``'s family in ``MODEL_FAMILIES``, else ``UNKNOWN_FAMILY``."""
    matches = [prefix for prefix in MODEL_FAMILIES if re.match(rf"{re.escape(prefix)}(?:[-.]|$)", model)]
    return MODEL_FAMILIES[max(matches, key=len)] if matches else UNKNOWN_FAMILY


def tool_messages(request: ProviderRequest) -> list[dict[str, Any]]:
    """Each round: an assistant message with ``tool_calls``, then one ``tool`` message per result."""
    messages: list[dict[str, Any]] = []
    for round_ in request.tool_rounds:
        calls = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": json.dumps(dict(c.arguments))}}
            for c in round_.calls
        ]
        messages.append({"role": "assistant", "content": round_.text or None, "tool_calls": calls})
        messages += [{"role": "tool", "tool_call_id": r.call_id, "content": r.content} for r in round_.results]
    return messages


def request_params(request: ProviderRequest) -> dict[str, Any]:
    system_text = "\n\n".join(block.text for block in request.system)
    messages: list[dict[str, Any]] = [{"role": "system", "content": system_text}] if system_text else []
    messages += [{"role": m.role, "content": m.text} for m in request.messages]
    messages += tool_messages(request)
    params: dict[str, Any] = {
        "model": request.model,
        "messages": messages,
        # Caps reasoning plus text; every current chat model takes it, reasoning models refuse ``max_tokens``.
        "max_completion_tokens": request.max_tokens,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    family = model_family(request.model)
    if family.no_reasoning:
        params["reasoning_effort"] = "none"
    if family.sampling:
        params["temperature"] = request.temperature
        if request.want_logprobs:
            params["logprobs"] = True
    if request.tools:
        params["tools"] = [
            {
                "type": "function",
                "function": {"name": t.name, "description": t.description, "parameters": dict(t.parameters)},
            }
            for t in request.tools
        ]
    return params


def _usage(reported: CompletionUsage) -> Usage:
    """``prompt_tokens`` counts every prompt token; cache reads (``cached_tokens``) and, on GPT-5.6 and later,
    cache writes (``cache_write_tokens``, billed at 1.25 x input) come out of it, so each is priced once."""
    details = reported.prompt_tokens_details
    cached = (details.cached_tokens if details else 0) or 0
    written = (details.cache_write_tokens if details else 0) or 0
    return Usage(reported.prompt_tokens - cached - written, reported.completion_tokens, cached, written)


class OpenAIProvider(KeyedProvider):
    name = VENDOR

    key_setting = "OPENAI_API_KEY"
    _client: openai.AsyncOpenAI | None = None

    def client(self) -> openai.AsyncOpenAI:
        if self._client is None:
            self._client = openai.AsyncOpenAI(api_key=self.api_key, base_url=self.base_url, max_retries=0)
        return self._client

    async def stream(self, request: ProviderRequest) -> AsyncIterator[StreamEvent]:
        with _vendor_errors():
            if model_family(request.model).responses:
                # Closed on leaving, however (an error event, a cancelled turn): the connection is not left open.
                async with await self.client().responses.create(
                    **responses_params(request), timeout=request.timeout_s
                ) as stream:
                    async for event in responses_events(stream):
                        yield event
            else:
                async for event in self._chat_stream(request):
                    yield event

    async def _chat_stream(self, request: ProviderRequest) -> AsyncIterator[StreamEvent]:
        tools: dict[int, dict[str, str]] = {}
        logprobs: list[float] = []
        usage = Usage()
        finish_reason = ""
        stream = await self.client().chat.completions.create(**request_params(request), timeout=request.timeout_s)
        async for chunk in stream:
            if chunk.usage is not None:
                usage = _usage(chunk.usage)
            for choice in chunk.choices:
                delta = choice.delta
                if delta.content:
                    yield TextChunk(delta.content)
                for call in delta.tool_calls or ():
                    slot = tools.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
                    slot["id"] = call.id or slot["id"]
                    if call.function is not None:
                        slot["name"] = call.function.name or slot["name"]
                        slot["arguments"] += call.function.arguments or ""
                if choice.logprobs is not None and choice.logprobs.content:
                    logprobs.extend(item.logprob for item in choice.logprobs.content)
                finish_reason = choice.finish_reason or finish_reason
        if not finish_reason:
            raise ProviderError(f"{VENDOR} stream ended without a finish reason", retryable=True)
        for slot in tools.values():
            yield ToolCallEvent(ToolCall(slot["id"], slot["name"], tool_arguments(slot["arguments"])))
        mean = sum(logprobs) / len(logprobs) if logprobs else None
        yield Finish(usage, stop_reason=finish_reason, mean_logprob=mean)


@contextmanager
def _vendor_errors() -> Iterator[None]:
    """Every failure of a call, from either API, as a ``ProviderError`` (the adapter's own pass through)."""
    try:
        yield
    except ProviderError:
        raise
    except openai.APITimeoutError as exc:
        raise ProviderError(f"{VENDOR} timed out", retryable=True, timed_out=True) from exc
    except openai.APIStatusError as exc:
        wait = retry_after_s(exc.response.headers)
        raise error_for_status(VENDOR, exc.status_code, str(exc.message), retry_after=wait) from exc
    except openai.APIConnectionError as exc:
        raise ProviderError(f"{VENDOR} connection failed: {exc}", retryable=True) from exc
    except (openai.OpenAIError, json.JSONDecodeError) as exc:
        raise ProviderError(f"{VENDOR} failed: {exc}", retryable=True) from exc
    except Exception as exc:  # transport errors raised while iterating (a cut stream)
        raise ProviderError(f"{VENDOR} transport failed: {type(exc).__name__}", retryable=True) from exc
