"""Gemini adapter through google-genai (``streamGenerateContent?alt=sse``, tools, cached tokens).

The system blocks go in ``system_instruction``; Gemini's implicit context caching bills repeated
prefixes as ``cached_content_token_count`` (subtracted from input so each is priced once). SDK
retries stay off (no ``retry_options``): the router owns retries.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from google import genai
from google.genai import errors, types

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
    tool_arguments,
)

VENDOR = "gemini"


def request_config(request: ProviderRequest) -> types.GenerateContentConfig:
    config: dict[str, Any] = {
        "system_instruction": "\n\n".join(block.text for block in request.system) or None,
        "temperature": request.temperature,
        "max_output_tokens": request.max_tokens,
    }
    if request.tools:
        config["tools"] = [
            types.Tool(
                function_declarations=[
                    types.FunctionDeclaration(
                        name=t.name, description=t.description, parameters_json_schema=dict(t.parameters)
                    )
                    for t in request.tools
                ]
            )
        ]
    return types.GenerateContentConfig(**config)


def _vendor_id(call_id: str) -> str | None:
    """Gemini's own call id, or None for ids we made up for calls that came without one."""
    return None if call_id.startswith(f"{VENDOR}-call-") else call_id


def request_contents(request: ProviderRequest) -> list[types.Content]:
    contents = [
        types.Content(role="model" if m.role == "assistant" else "user", parts=[types.Part(text=m.text)])
        for m in request.messages
    ]
    for round_ in request.tool_rounds:  # a model turn of function calls, then a user turn of responses
        calls = [types.Part(text=round_.text)] if round_.text.strip() else []
        calls += [
            types.Part(function_call=types.FunctionCall(id=_vendor_id(c.id), name=c.name, args=dict(c.arguments)))
            for c in round_.calls
        ]
        responses = [
            types.Part(
                function_response=types.FunctionResponse(
                    id=_vendor_id(r.call_id), name=r.name, response={"error" if r.is_error else "output": r.content}
                )
            )
            for r in round_.results
        ]
        contents += [types.Content(role="model", parts=calls), types.Content(role="user", parts=responses)]
    return contents


class GeminiProvider(KeyedProvider):
    name = VENDOR

    key_setting = "GEMINI_API_KEY"

    def client(self, timeout_s: float) -> genai.Client:
        # The timeout lives in the client's http options (milliseconds); one client per timeout value.
        options = types.HttpOptions(base_url=self.base_url, timeout=int(timeout_s * 1000))
        return genai.Client(api_key=self.api_key, http_options=options)

    async def stream(self, request: ProviderRequest) -> AsyncIterator[StreamEvent]:
        usage = Usage()
        finish_reason = ""
        calls = 0
        try:
            stream = await self.client(request.timeout_s).aio.models.generate_content_stream(
                model=request.model, contents=request_contents(request), config=request_config(request)
            )
            async for chunk in stream:
                if chunk.usage_metadata is not None:
                    meta = chunk.usage_metadata
                    cached = meta.cached_content_token_count or 0
                    usage = Usage((meta.prompt_token_count or 0) - cached, meta.candidates_token_count or 0, cached)
                for candidate in chunk.candidates or ():
                    for part in (candidate.content.parts if candidate.content else None) or ():
                        if part.text and not part.thought:
                            yield TextChunk(part.text)
                        elif part.function_call is not None:
                            calls += 1
                            call = part.function_call
                            call_id = call.id or f"{VENDOR}-call-{calls}"
                            yield ToolCallEvent(ToolCall(call_id, call.name or "", tool_arguments(call.args)))
                    if candidate.finish_reason is not None:
                        finish_reason = str(candidate.finish_reason.value)
        except errors.APIError as exc:
            raise error_for_status(VENDOR, exc.code or 0, exc.message or str(exc)) from exc
        except Exception as exc:  # httpx/httpx2 transport errors: timeouts, resets, a cut stream
            if type(exc).__name__ in {
                "ReadTimeout",
                "ConnectTimeout",
                "TimeoutException",
                "WriteTimeout",
                "PoolTimeout",
            }:
                raise ProviderError(f"{VENDOR} timed out", retryable=True) from exc
            raise ProviderError(f"{VENDOR} transport failed: {type(exc).__name__}", retryable=True) from exc
        if not finish_reason:
            raise ProviderError(f"{VENDOR} stream ended without a finish reason", retryable=True)
        yield Finish(usage, stop_reason=finish_reason)
