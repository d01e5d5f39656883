"""Gemini adapter through google-genai (``streamGenerateContent?alt=sse``, tools, context caching).

The system blocks go in ``system_instruction``. Once a stable prefix (cacheable blocks) big enough to
cache has been seen twice (by requests with ``cache_sighting``; a self-evaluation only names a live
cache), it is put in an explicit context cache (``caches.create``, in the background;
see ``gemini_cache``) and later calls name it in ``cached_content`` instead of sending it again; the
cache then holds the system instruction and the tools, and the system blocks it does not hold travel at
the head of the contents. Cached tokens come back as ``cached_content_token_count`` (subtracted from
input so each is priced once); a cache's creation tokens are added to ``cache_write_tokens`` of the next
call of its family to finish. A cache that cannot be created or has gone away never fails or delays the
call: it goes uncached. SDK retries stay off (no ``retry_options``): the router owns retries, and is
told the wait a 429 asks for (Google's ``RetryInfo``, not a ``Retry-After`` header) as ``retry_after``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import replace
from functools import partial
from typing import Any

from google import genai
from google.genai import errors, types

from routing.contracts import ToolCall
from routing.providers import gemini_cache
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
from routing.providers.gemini_cache import CacheRegistry, CreatedCache, Sighting
from supportai.google_errors import retry_delay_s

VENDOR = "gemini"


def request_tools(request: ProviderRequest) -> list[types.Tool] | None:
    if not request.tools:
        return None
    declarations = [
        types.FunctionDeclaration(name=t.name, description=t.description, parameters_json_schema=dict(t.parameters))
        for t in request.tools
    ]
    return [types.Tool(function_declarations=declarations)]


def request_config(request: ProviderRequest, cache_name: str | None = None) -> types.GenerateContentConfig:
    config: dict[str, Any] = {"temperature": request.temperature, "max_output_tokens": request.max_tokens}
    if cache_name:  # the cache holds the system instruction and tools; Gemini refuses them alongside it
        config["cached_content"] = cache_name
    else:
        config["system_instruction"] = "\n\n".join(block.text for block in request.system) or None
        config["tools"] = request_tools(request)
    return types.GenerateContentConfig(**config)


def _text_content(role: str, texts: Iterable[str]) -> types.Content:
    return types.Content(role=role, parts=[types.Part(text=text) for text in texts])


def _vendor_id(call_id: str) -> str | None:
    """Gemini's own call id, or None for ids we made up for calls that came without one."""
    return None if call_id.startswith(f"{VENDOR}-call-") else call_id


def request_contents(request: ProviderRequest, uncached_system: tuple[str, ...] = ()) -> list[types.Content]:
    """The conversation, after ``uncached_system`` (system blocks a cached call cannot send as such)."""
    contents = [_text_content("user", uncached_system)] if uncached_system else []
    contents += [_text_content("model" if m.role == "assistant" else "user", [m.text]) for m in request.messages]
    for round_ in request.tool_rounds:  # a model turn of function calls, then a user turn of responses
        calls = [types.Part(text=round_.text)] if round_.text.strip() else []
        calls += [  # with its thought signature: Gemini 3 refuses a round whose signed calls come back without
            types.Part(
                function_call=types.FunctionCall(id=_vendor_id(c.id), name=c.name, args=dict(c.arguments)),
                thought_signature=c.signature or None,
            )
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


def _usage(meta: types.GenerateContentResponseUsageMetadata) -> Usage:
    """Cached tokens out of the input (priced once, at their own rate); thinking tokens
    (``thoughts_token_count``, not part of ``candidates_token_count``) billed as output."""
    cached = meta.cached_content_token_count or 0
    output = (meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0)
    return Usage((meta.prompt_token_count or 0) - cached, output, cached)


class _StaleCache(Exception):
    """The named cache is gone (expired, deleted); raised before any event was yielded."""


class GeminiProvider(KeyedProvider):
    name = VENDOR

    key_setting = "GEMINI_API_KEY"

    def __init__(self, *, api_key: str | None = None, base_url: str | None = None) -> None:
        super().__init__(api_key=api_key, base_url=base_url)
        self.caches = CacheRegistry()

    def client(self, timeout_s: float) -> genai.Client:
        # The timeout lives in the client's http options (milliseconds); one client per timeout value.
        options = types.HttpOptions(base_url=self.base_url, timeout=int(timeout_s * 1000))
        return genai.Client(api_key=self.api_key, http_options=options)

    async def stream(self, request: ProviderRequest) -> AsyncIterator[StreamEvent]:
        client = self.client(request.timeout_s)
        prefixes = gemini_cache.stable_prefixes(request)
        if not prefixes:
            async for event in self._generate(client, request):
                yield event
            return
        family = gemini_cache.cache_family(request, prefixes)
        async for event in self._stream_cached(client, request, prefixes, family):
            if isinstance(event, Finish):
                # Claimed only here, as the Finish leaves: a call cut short leaves them to the next one.
                owed = self.caches.claim_owed(family)
                if owed:
                    usage = replace(event.usage, cache_write_tokens=event.usage.cache_write_tokens + owed)
                    event = replace(event, usage=usage)
            yield event

    async def _stream_cached(
        self,
        client: genai.Client,
        request: ProviderRequest,
        prefixes: list[gemini_cache.StablePrefix],
        family: str,
    ) -> AsyncIterator[StreamEvent]:
        """Name the longest candidate prefix with a live cache, else go uncached (see ``gemini_cache``)."""
        creating = False  # one creation per call: the longest prefix seen twice
        for prefix in prefixes:
            if not gemini_cache.worth_caching(request.model, prefix):
                continue
            key = gemini_cache.cache_key(request, prefix)
            if not request.cache_sighting:  # e.g. a self-evaluation: a live cache only
                sighting = Sighting(self.caches.live(key), creating=False)
            else:
                sighting = self.caches.use(
                    key,
                    None if creating else partial(self._create_cache, client, request, prefix, key),
                    family=family,
                    estimated_tokens=prefix.estimated_tokens,
                )
            creating = creating or sighting.creating
            if sighting.name is None:
                continue
            try:
                async for event in self._generate(client, request, sighting.name, prefix.rest):
                    yield event
                return
            except _StaleCache:
                self.caches.drop(key, sighting.name)  # answer this turn uncached; a later sighting re-creates
                break
        async for event in self._generate(client, request):
            yield event

    async def _create_cache(
        self, client: genai.Client, request: ProviderRequest, prefix: gemini_cache.StablePrefix, key: str
    ) -> CreatedCache:
        config = types.CreateCachedContentConfig(
            display_name=f"supportai-{key[:16]}",
            system_instruction=prefix.system_instruction,
            contents=[_text_content("user", prefix.contents)] if prefix.contents else None,
            tools=request_tools(request),
            ttl=f"{gemini_cache.CACHE_TTL_S}s",
            http_options=types.HttpOptions(timeout=int(gemini_cache.CREATE_TIMEOUT_S * 1000)),
        )
        try:
            cached = await client.aio.caches.create(model=request.model, config=config)
        except errors.APIError as exc:
            raise error_for_status(VENDOR, exc.code or 0, exc.message or str(exc)) from exc
        if not cached.name:
            raise ProviderError(f"{VENDOR} created a cache without a name", retryable=False)
        tokens = cached.usage_metadata.total_token_count if cached.usage_metadata else None
        return CreatedCache(cached.name, tokens or 0)

    async def _generate(
        self,
        client: genai.Client,
        request: ProviderRequest,
        cache: str | None = None,
        uncached_system: tuple[str, ...] = (),
    ) -> AsyncIterator[StreamEvent]:
        """One ``streamGenerateContent`` call, naming the cache ``cache`` if given (then raises
        ``_StaleCache`` if Gemini no longer has it); ``uncached_system``: the blocks it does not hold."""
        usage = Usage()
        finish_reason = ""
        calls = 0
        started = False
        try:
            stream = await client.aio.models.generate_content_stream(
                model=request.model,
                contents=request_contents(request, uncached_system if cache is not None else ()),
                config=request_config(request, cache),
            )
            async for chunk in stream:
                if chunk.usage_metadata is not None:
                    usage = _usage(chunk.usage_metadata)
                for candidate in chunk.candidates or ():
                    for part in (candidate.content.parts if candidate.content else None) or ():
                        if part.text and not part.thought:
                            started = True
                            yield TextChunk(part.text)
                        elif part.function_call is not None:
                            started = True
                            calls += 1
                            call = part.function_call
                            call_id = call.id or f"{VENDOR}-call-{calls}"
                            signature = part.thought_signature or b""
                            yield ToolCallEvent(
                                ToolCall(call_id, call.name or "", tool_arguments(call.args), signature)
                            )
                    if candidate.finish_reason is not None:
                        finish_reason = str(candidate.finish_reason.value)
        except errors.APIError as exc:
            message = exc.message or str(exc)
            if cache is not None and not started and gemini_cache.is_stale_cache_error(exc.code, message):
                raise _StaleCache(message) from exc
            raise error_for_status(VENDOR, exc.code or 0, message, retry_after=retry_delay_s(exc)) from exc
        except Exception as exc:  # httpx/httpx2 transport errors: timeouts, resets, a cut stream
            if type(exc).__name__ in {
                "ReadTimeout",
                "ConnectTimeout",
                "TimeoutException",
                "WriteTimeout",
                "PoolTimeout",
            }:
                raise ProviderError(f"{VENDOR} timed out", retryable=True, timed_out=True) from exc
            raise ProviderError(f"{VENDOR} transport failed: {type(exc).__name__}", retryable=True) from exc
        if not finish_reason:
            raise ProviderError(f"{VENDOR} stream ended without a finish reason", retryable=True)
        yield Finish(usage, stop_reason=finish_reason)
