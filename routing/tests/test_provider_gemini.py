"""The Gemini adapter through google-genai against a local server speaking streamGenerateContent SSE."""

from __future__ import annotations

from dataclasses import replace

import pytest

from routing.config import TierConfig
from routing.contracts import ToolCall, ToolResult, ToolRound
from routing.providers.base import (
    ChatMessage,
    Finish,
    Provider,
    ProviderError,
    ProviderRequest,
    SystemBlock,
    TextChunk,
    ToolCallEvent,
)
from routing.providers.fake import Script, ScriptedProvider
from routing.providers.gemini import GeminiProvider
from routing.router import RouteResult
from routing.tests.factories import TOOL, make_router, route_on_virtual_time
from routing.tests.http_fake import Reply, gemini_call, gemini_chunk, gemini_thought, json_reply, sse

BASE = ProviderRequest(
    model="gemini-2.0-flash",
    system=(SystemBlock("You are helpful.", cacheable=True), SystemBlock("[1] Hours\nOpen 7-9.", cacheable=True)),
    messages=(ChatMessage("user", "Hi"), ChatMessage("assistant", "Hello!"), ChatMessage("user", "When are you open?")),
    temperature=0.1,
    max_tokens=512,
    timeout_s=5.0,
)


_chunk = gemini_chunk


FINAL_USAGE = {
    "promptTokenCount": 900,
    "candidatesTokenCount": 12,
    "totalTokenCount": 912,
    "cachedContentTokenCount": 512,
}


async def _events(vendor, request: ProviderRequest = BASE):
    provider = GeminiProvider(api_key="gem-test", base_url=vendor.url)
    return [event async for event in provider.stream(request)]


@pytest.mark.asyncio
async def test_gemini_streams_text_and_reads_cached_usage(vendor):
    vendor.replies.append(
        Reply(
            body=sse([
                _chunk([{"text": "We open "}], usage={"promptTokenCount": 900, "candidatesTokenCount": 2}),
                _chunk([{"text": "at 7am [1]."}], finish="STOP", usage=FINAL_USAGE),
            ])
        )
    )  # fmt: skip

    events = await _events(vendor)

    assert [e.text for e in events if isinstance(e, TextChunk)] == ["We open ", "at 7am [1]."]
    finish = events[-1]
    assert isinstance(finish, Finish)
    assert (finish.usage.input_tokens, finish.usage.output_tokens, finish.usage.cached_tokens) == (388, 12, 512)
    assert finish.stop_reason == "STOP"


@pytest.mark.asyncio
async def test_gemini_request_carries_model_config_history_and_tools(vendor):
    vendor.replies.append(Reply(body=sse([_chunk([{"text": "ok"}], finish="STOP", usage=FINAL_USAGE)])))

    await _events(vendor, replace(BASE, tools=(TOOL,)))

    seen = vendor.seen[0]
    assert seen.path.endswith("/models/gemini-2.0-flash:streamGenerateContent?alt=sse")
    assert seen.headers["x-goog-api-key"] == "gem-test"
    body = seen.body
    assert body["generationConfig"]["temperature"] == 0.1
    assert body["generationConfig"]["maxOutputTokens"] == 512
    assert body["systemInstruction"]["parts"][0]["text"] == "You are helpful.\n\n[1] Hours\nOpen 7-9."
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    assert body["tools"][0]["functionDeclarations"][0]["name"] == "book_class"


@pytest.mark.asyncio
async def test_gemini_function_call_becomes_a_tool_call(vendor):
    call = {"functionCall": {"name": "book_class", "args": {"class_id": 4}}}
    vendor.replies.append(Reply(body=sse([_chunk([call], finish="STOP", usage=FINAL_USAGE)])))

    events = await _events(vendor, replace(BASE, tools=(TOOL,)))

    calls = [e.call for e in events if isinstance(e, ToolCallEvent)]
    assert [(c.name, dict(c.arguments)) for c in calls] == [("book_class", {"class_id": 4})]


@pytest.mark.parametrize(
    ("status", "state", "retryable"),
    [
        (400, "INVALID_ARGUMENT", False),
        (401, "UNAUTHENTICATED", False),
        (429, "RESOURCE_EXHAUSTED", True),
        (500, "INTERNAL", True),
        (503, "UNAVAILABLE", True),
    ],
)
@pytest.mark.asyncio
async def test_gemini_http_errors_map_to_provider_errors(vendor, status, state, retryable):
    vendor.replies.append(json_reply(status, {"error": {"code": status, "message": "nope", "status": state}}))

    with pytest.raises(ProviderError) as caught:
        await _events(vendor)

    assert (caught.value.status, caught.value.retryable) == (status, retryable)
    assert len(vendor.seen) == 1  # no SDK retries


def _rate_limited(retry_delay: str) -> Reply:
    """Google's 429 as the Gemini API sends it: no Retry-After header, the wait in a ``RetryInfo``
    detail of the body (a Duration), next to the quota that ran out."""
    details = [
        {
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [
                {
                    "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                    "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                    "quotaDimensions": {"location": "global", "model": "gemini-2.0-flash"},
                    "quotaValue": "15",
                }
            ],
        },
        {
            "@type": "type.googleapis.com/google.rpc.Help",
            "links": [{"url": "https://ai.google.dev/gemini-api/docs/rate-limits"}],
        },
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay},
    ]
    message = (
        f"You exceeded your current quota, please check your plan and billing details. Please retry in {retry_delay}."
    )
    return json_reply(
        429, {"error": {"code": 429, "message": message, "status": "RESOURCE_EXHAUSTED", "details": details}}
    )


@pytest.mark.parametrize(("retry_delay", "wait"), [("37s", 37.0), ("1.5s", 1.5), ("soon", None)])
@pytest.mark.asyncio
async def test_gemini_rate_limit_carries_the_wait_retry_info_asks_for(vendor, retry_delay, wait):
    vendor.replies.append(_rate_limited(retry_delay))

    with pytest.raises(ProviderError) as caught:
        await _events(vendor)

    assert (caught.value.status, caught.value.retryable, caught.value.retry_after) == (429, True, wait)


def _tiers_gemini_then_openai(vendor) -> tuple[tuple[TierConfig, TierConfig], dict[str, Provider]]:
    tiers = (TierConfig(1, "gemini", "gemini-2.0-flash", 0.1, 512), TierConfig(2, "openai", "gpt-6-luna", 0.2, 768))
    providers: dict[str, Provider] = {
        "gemini": GeminiProvider(api_key="gem-test", base_url=vendor.url),
        "openai": ScriptedProvider("openai", (Script(deltas=("Open 7-9.",), confidence=0.9),)),
    }
    return tiers, providers


def _build(tier: TierConfig) -> ProviderRequest:
    return replace(BASE, model=tier.model, temperature=tier.temperature, max_tokens=tier.max_tokens)


@pytest.mark.asyncio
async def test_router_waits_what_gemini_retry_info_asks_before_retrying(vendor):
    # given: Gemini, the only tier, rate-limits the first call asking for 1.5 s (more than the
    # router's own backoff)
    vendor.replies.append(_rate_limited("1.5s"))
    vendor.replies.append(Reply(body=sse([_chunk([{"text": "Open 7-9."}], finish="STOP", usage=FINAL_USAGE)])))
    tiers, providers = _tiers_gemini_then_openai(vendor)
    # when
    result, slept = await route_on_virtual_time(providers, tiers[:1], _build)
    # then: it waited the 1.5 s, and Gemini answered the retry
    assert slept == [1.5]
    assert (result.tier, len(vendor.seen)) == (1, 2)
    assert result.text.startswith("Open 7-9.")
    assert (len(result.calls), result.calls[0].outcome) == (2, "error")


@pytest.mark.asyncio
async def test_router_moves_on_when_gemini_asks_to_wait_past_the_turn_deadline(vendor):
    # given: Gemini asks for 37 s, longer than the turn's 20 s deadline
    vendor.replies.append(_rate_limited("37s"))
    tiers, providers = _tiers_gemini_then_openai(vendor)
    # when
    result, slept = await route_on_virtual_time(providers, tiers, _build)
    # then: no retry that Google would refuse again, no waiting: the next tier answers at once
    assert slept == []
    assert len(vendor.seen) == 1
    assert (result.tier, result.outcome) == (2, "success")
    assert result.calls[0].error.startswith("gemini answered HTTP 429: You exceeded your current quota")


@pytest.mark.asyncio
async def test_gemini_stream_cut_midway_is_retryable(vendor):
    vendor.replies.append(Reply(body=sse([_chunk([{"text": "We open"}])]), cut=True))

    with pytest.raises(ProviderError) as caught:
        await _events(vendor)

    assert caught.value.retryable is True


@pytest.mark.asyncio
async def test_gemini_timeout_is_retryable(vendor):
    vendor.replies.append(Reply(body=sse([_chunk([{"text": "late"}], finish="STOP")]), delay_s=1.5))

    with pytest.raises(ProviderError) as caught:
        await _events(vendor, replace(BASE, timeout_s=0.3))

    assert caught.value.retryable is True


@pytest.mark.asyncio
async def test_gemini_renders_tool_results_as_function_responses(vendor):
    vendor.replies.append(Reply(body=sse([_chunk([{"text": "Booked."}], finish="STOP", usage=FINAL_USAGE)])))
    round_ = ToolRound(
        text="",
        calls=(ToolCall("gemini-call-1", "book_class", {"class_id": 4}),),
        results=(ToolResult("gemini-call-1", "book_class", '{"free": true}'),),
    )

    await _events(vendor, replace(BASE, tools=(TOOL,), tool_rounds=(round_,)))

    contents = vendor.seen[0].body["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user", "model", "user"]
    assert contents[3]["parts"] == [{"functionCall": {"name": "book_class", "args": {"class_id": 4}}}]
    assert contents[4]["parts"] == [
        {"functionResponse": {"name": "book_class", "response": {"output": '{"free": true}'}}}
    ]


MODEL_GONE = {
    "error": {
        "code": 404,
        "message": "models/gemini-2.0-flash is not found for API version v1beta, or is not supported for "
        "generateContent. Call ListModels to see the list of available models and their supported methods.",
        "status": "NOT_FOUND",
    }
}


@pytest.mark.asyncio
async def test_gemini_model_gone_escalates_without_retry_and_never_opens_the_breaker(vendor):
    # given tier 1 on a Gemini model Google has shut down (404 NOT_FOUND) and a working tier 2
    tier1 = TierConfig(1, "gemini", "gemini-2.0-flash", 0.1, 512)
    tier2 = TierConfig(2, "openai", "gpt-6-luna", 0.2, 768)
    vendor.replies.extend(json_reply(404, MODEL_GONE) for _ in range(6))
    gemini = GeminiProvider(api_key="gem-test", base_url=vendor.url)
    openai = ScriptedProvider("openai", (Script(deltas=("Open ", "7-9."), confidence=0.9),))
    router = make_router({"gemini": gemini, "openai": openai})

    def build(tier: TierConfig) -> ProviderRequest:
        return replace(BASE, model=tier.model, temperature=tier.temperature, max_tokens=tier.max_tokens)

    # when six turns run
    results: list[RouteResult] = []
    for _ in range(6):
        events = [event async for event in router.route((tier1, tier2), build)]
        assert isinstance(events[-1], RouteResult)
        results.append(events[-1])

    # then each asks Gemini once (404 is not retryable), books the error and is answered by tier 2;
    # a 404 is about this request's model, not Gemini's health, so the breaker (which would switch
    # Gemini off for every tenant) stays closed
    assert all((r.tier, r.outcome) == (2, "success") for r in results)
    assert len(vendor.seen) == 6
    first = results[0].calls[0]
    assert (first.tier, first.outcome) == (1, "error")
    assert first.error.startswith("gemini answered HTTP 404: models/gemini-2.0-flash is not found")
    assert [c.provider for c in results[5].calls] == ["gemini", "openai"]
    assert router.breakers.for_provider("gemini").state == "closed"


@pytest.mark.asyncio
async def test_gemini_thinking_tokens_are_booked_as_output_and_thoughts_stay_out_of_the_text(vendor):
    # given a model that thinks: a thought-summary part, then the answer; thoughtsTokenCount is billed as
    # output on top of candidatesTokenCount
    usage = {"promptTokenCount": 900, "candidatesTokenCount": 12, "thoughtsTokenCount": 40, "totalTokenCount": 952}
    vendor.replies.append(
        Reply(
            body=sse([
                _chunk([gemini_thought("The customer asks about hours; passage [1] has them.")]),
                _chunk([{"text": "We open at 7am [1]."}], finish="STOP", usage=usage),
            ])
        )
    )  # fmt: skip

    # when
    events = await _events(vendor, replace(BASE, model="gemini-3.5-flash-lite"))

    # then the customer sees only the answer, and all 52 output tokens are booked
    assert [e.text for e in events if isinstance(e, TextChunk)] == ["We open at 7am [1]."]
    finish = events[-1]
    assert isinstance(finish, Finish)
    assert (finish.usage.input_tokens, finish.usage.output_tokens, finish.usage.cached_tokens) == (900, 52, 0)


@pytest.mark.asyncio
async def test_gemini_passes_a_function_call_signature_back_with_the_call_in_the_next_round(vendor):
    # given a Gemini 3 model that signs its function call (it refuses the next round without the signature)
    signed = gemini_call("book_class", {"class_id": 4}, signature="c2lnbmF0dXJlLTE=")
    vendor.replies.append(Reply(body=sse([_chunk([signed], finish="STOP", usage=FINAL_USAGE)])))
    vendor.replies.append(Reply(body=sse([_chunk([{"text": "Booked."}], finish="STOP", usage=FINAL_USAGE)])))
    request = replace(BASE, model="gemini-3.5-flash-lite", tools=(TOOL,))
    [call] = [e.call for e in await _events(vendor, request) if isinstance(e, ToolCallEvent)]

    # when the tool's result goes back in the next round of the turn
    round_ = ToolRound(text="", calls=(call,), results=(ToolResult(call.id, "book_class", '{"free": true}'),))
    await _events(vendor, replace(request, tool_rounds=(round_,)))

    # then the call is sent back exactly as signed
    contents = vendor.seen[1].body["contents"]
    assert contents[3] == {"role": "model", "parts": [signed]}
