"""Gemini explicit context caching (``cachedContents``) through google-genai against a local server
speaking the Gemini REST wire format: what we send, reuse, expiry, failures, and cached tokens in the cost."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from routing import registry
from routing.contracts import ContextPassage
from routing.models import CostEvent
from routing.prices import call_cost
from routing.providers import gemini_cache
from routing.providers.base import Finish, ProviderError, ProviderRequest, SystemBlock, TextChunk
from routing.providers.gemini import GeminiProvider
from routing.providers.gemini_cache import CacheRegistry
from routing.services import turn_stream
from routing.tests.factories import make_router, request_for
from routing.tests.http_fake import Reply, json_reply, sse
from routing.tests.test_provider_gemini import BASE, FINAL_USAGE, TOOL, _chunk, _events

INSTRUCTIONS = "You are the assistant of Alpha Clinic. " + "Answer only from the passages and cite them. " * 200
KNOWLEDGE = "# Knowledge passages\n[1] Hours\nOpen 7-9."
CACHED = replace(
    BASE,
    system=(SystemBlock(INSTRUCTIONS, cacheable=True), SystemBlock(KNOWLEDGE, cacheable=True)),
    timeout_s=3.0,
)
CACHE_NAME = "cachedContents/k3y9x1"
CACHE_TOKENS = 2304
CACHED_USAGE = {
    "promptTokenCount": 2400,
    "candidatesTokenCount": 20,
    "totalTokenCount": 2420,
    "cachedContentTokenCount": CACHE_TOKENS,
}


def _cache_created(name: str = CACHE_NAME, **reply: Any) -> Reply:
    created = json_reply(
        200,
        {
            "name": name,
            "displayName": "supportai",
            "model": "models/gemini-2.0-flash",
            "createTime": "2025-10-01T10:00:00.000000Z",
            "updateTime": "2025-10-01T10:00:00.000000Z",
            "expireTime": "2025-10-01T10:05:00.000000Z",
            "usageMetadata": {"totalTokenCount": CACHE_TOKENS},
        },
    )
    return replace(created, **reply)


def _answer(usage: dict[str, int] = CACHED_USAGE) -> Reply:
    return Reply(body=sse([_chunk([{"text": "We open at 7am [1]."}], finish="STOP", usage=usage)]))


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _provider(vendor, clock: _Clock | None = None) -> GeminiProvider:
    provider = GeminiProvider(api_key="gem-test", base_url=vendor.url)
    if clock is not None:
        provider.caches = CacheRegistry(clock=clock)
    return provider


async def _run(provider: GeminiProvider, request: ProviderRequest = CACHED) -> list[Any]:
    return [event async for event in provider.stream(request)]


def _paths(vendor) -> list[str]:
    return [seen.path.split("/")[-1] for seen in vendor.seen]


GENERATE = "gemini-2.0-flash:streamGenerateContent?alt=sse"


@pytest.mark.asyncio
async def test_gemini_small_prefix_is_not_cached(vendor):
    vendor.replies.append(_answer(FINAL_USAGE))

    await _events(vendor)

    assert _paths(vendor) == [GENERATE]
    assert "cachedContent" not in vendor.seen[0].body


@pytest.mark.asyncio
async def test_gemini_caches_a_large_prefix_and_names_the_cache_instead_of_resending_it(vendor):
    # given a request whose stable prefix is past the model's minimum, a per-turn block and a tool
    request = replace(CACHED, system=(*CACHED.system, SystemBlock("# About this customer\nAda")), tools=(TOOL,))
    vendor.replies += [_cache_created(), _answer()]

    # when
    events = await _run(_provider(vendor), request)

    # then the prefix (and the tools) go into a cache ...
    create, generate = vendor.seen
    assert create.path.endswith("/cachedContents")  # the SDK's API version: v1 in this release
    assert create.body["model"] == "models/gemini-2.0-flash"
    assert create.body["systemInstruction"]["parts"] == [{"text": INSTRUCTIONS}]
    assert create.body["contents"] == [{"role": "user", "parts": [{"text": KNOWLEDGE}]}]
    assert create.body["ttl"] == f"{gemini_cache.CACHE_TTL_S}s"
    assert create.body["tools"][0]["functionDeclarations"][0]["name"] == "book_class"
    # ... and the call names it, without the system instruction or tools it holds
    assert generate.path.endswith(f"/models/{GENERATE}")
    assert generate.body["cachedContent"] == CACHE_NAME
    assert "systemInstruction" not in generate.body and "tools" not in generate.body
    assert generate.body["contents"][0] == {"role": "user", "parts": [{"text": "# About this customer\nAda"}]}
    assert [c["role"] for c in generate.body["contents"][1:]] == ["user", "model", "user"]
    assert [e.text for e in events if isinstance(e, TextChunk)] == ["We open at 7am [1]."]


@pytest.mark.asyncio
async def test_gemini_reads_cached_tokens_back_and_prices_them(vendor):
    # given
    provider = _provider(vendor)
    vendor.replies += [_cache_created(), _answer(), _answer()]

    # when the same prefix is asked twice
    first = (await _run(provider))[-1]
    second = (await _run(provider))[-1]

    # then the creating call carries the cache's tokens as a write, both read them from the cache
    assert (first.usage.input_tokens, first.usage.output_tokens) == (96, 20)
    assert (first.usage.cached_tokens, first.usage.cache_write_tokens) == (CACHE_TOKENS, CACHE_TOKENS)
    assert (second.usage.cached_tokens, second.usage.cache_write_tokens) == (CACHE_TOKENS, 0)
    # 96 x $0.10 + 20 x $0.40 + 2304 x $0.025 (+ 2304 x $0.10 to create the cache) per 1M tokens
    assert call_cost("gemini-2.0-flash", **first.usage.__dict__) == Decimal("0.0003056")
    assert call_cost("gemini-2.0-flash", **second.usage.__dict__) == Decimal("0.0000752")


@pytest.mark.asyncio
async def test_gemini_reuses_one_cache_across_requests(vendor):
    provider = _provider(vendor)
    vendor.replies += [_cache_created(), _answer(), _answer()]

    await _run(provider)
    await _run(provider)

    assert _paths(vendor) == ["cachedContents", GENERATE, GENERATE]
    assert [seen.body.get("cachedContent") for seen in vendor.seen[1:]] == [CACHE_NAME, CACHE_NAME]


@pytest.mark.asyncio
async def test_gemini_concurrent_requests_create_one_cache(vendor):
    # given a slow cache creation
    provider = _provider(vendor)
    vendor.replies += [_cache_created(delay_s=0.3), _answer(), _answer(), _answer()]

    # when three turns with the same prefix arrive together
    results = await asyncio.gather(_run(provider), _run(provider), _run(provider))

    # then one cache, used by all three; only its creator is charged for writing it
    assert _paths(vendor) == ["cachedContents", GENERATE, GENERATE, GENERATE]
    assert {seen.body.get("cachedContent") for seen in vendor.seen[1:]} == {CACHE_NAME}
    assert sorted(events[-1].usage.cache_write_tokens for events in results) == [0, 0, CACHE_TOKENS]


@pytest.mark.asyncio
async def test_gemini_creates_a_new_cache_shortly_before_the_old_one_expires(vendor):
    # given a cache created at t=1000
    clock = _Clock()
    provider = _provider(vendor, clock)
    vendor.replies += [_cache_created(), _answer(), _answer(), _cache_created("cachedContents/n3w"), _answer()]
    await _run(provider)
    forget_at = clock.now + gemini_cache.CACHE_TTL_S - gemini_cache.EXPIRY_MARGIN_S

    # when it is still used just before the margin, and not at it
    clock.now = forget_at - 1
    await _run(provider)
    clock.now = forget_at
    await _run(provider)

    # then
    assert _paths(vendor) == ["cachedContents", GENERATE, GENERATE, "cachedContents", GENERATE]
    assert [seen.body.get("cachedContent") for seen in vendor.seen if "cachedContent" in seen.body] == [
        CACHE_NAME,
        CACHE_NAME,
        "cachedContents/n3w",
    ]


@pytest.mark.parametrize(
    ("failure", "backoff_s"),
    [
        (json_reply(400, {"error": {"code": 400, "message": "Cached content is too small.", "status": "INVALID_ARGUMENT"}}), gemini_cache.TOO_SMALL_BACKOFF_S),  # noqa: E501
        (json_reply(403, {"error": {"code": 403, "message": "denied", "status": "PERMISSION_DENIED"}}), gemini_cache.FAILURE_BACKOFF_S),  # noqa: E501
        (json_reply(429, {"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}}), gemini_cache.FAILURE_BACKOFF_S),  # noqa: E501
        (json_reply(500, {"error": {"code": 500, "message": "oops", "status": "INTERNAL"}}), gemini_cache.FAILURE_BACKOFF_S),  # noqa: E501
        (_cache_created(delay_s=1.5), gemini_cache.FAILURE_BACKOFF_S),  # timeout: 3 s call -> 1 s to create
    ],
    ids=["400-too-small", "403", "429", "500", "timeout"],
)  # fmt: skip
@pytest.mark.asyncio
async def test_gemini_cache_creation_failure_goes_uncached_and_backs_off(vendor, failure, backoff_s):
    # given a cache creation that fails
    clock = _Clock()
    provider = _provider(vendor, clock)
    vendor.replies += [failure, _answer(FINAL_USAGE), _answer(FINAL_USAGE)]

    # when two turns come within the backoff
    first = await _run(provider)
    clock.now += backoff_s - 1
    await _run(provider)

    # then both are answered uncached (the prefix sent in full) and creation was tried once
    assert isinstance(first[-1], Finish) and first[-1].usage.cache_write_tokens == 0
    assert _paths(vendor) == ["cachedContents", GENERATE, GENERATE]
    for seen in vendor.seen[1:]:
        assert "cachedContent" not in seen.body
        assert seen.body["systemInstruction"]["parts"][0]["text"] == f"{INSTRUCTIONS}\n\n{KNOWLEDGE}"

    # and after the backoff creation is tried again
    vendor.replies += [_cache_created(), _answer()]
    clock.now += 1
    await _run(provider)
    assert _paths(vendor)[3:] == ["cachedContents", GENERATE]
    assert vendor.seen[-1].body["cachedContent"] == CACHE_NAME


@pytest.mark.parametrize(
    ("status", "message", "state"),
    [
        (404, "CachedContent not found", "NOT_FOUND"),
        (403, "CachedContent not found (or permission denied)", "PERMISSION_DENIED"),
        (400, "Cache content 5 is expired.", "INVALID_ARGUMENT"),
    ],
)
@pytest.mark.asyncio
async def test_gemini_cache_gone_on_use_retries_once_uncached_and_forgets_it(vendor, status, message, state):
    # given a cache this process created, which Gemini has since dropped
    provider = _provider(vendor)
    vendor.replies += [_cache_created(), _answer()]
    await _run(provider)
    gone = json_reply(status, {"error": {"code": status, "message": message, "status": state}})
    vendor.replies += [gone, _answer(FINAL_USAGE)]

    # when
    events = await _run(provider)

    # then the turn is answered uncached ...
    assert [e.text for e in events if isinstance(e, TextChunk)] == ["We open at 7am [1]."]
    assert _paths(vendor)[2:] == [GENERATE, GENERATE]
    assert vendor.seen[2].body["cachedContent"] == CACHE_NAME
    assert "cachedContent" not in vendor.seen[3].body
    assert "systemInstruction" in vendor.seen[3].body
    # ... and the next turn creates a new cache
    vendor.replies += [_cache_created("cachedContents/n3w"), _answer()]
    await _run(provider)
    assert _paths(vendor)[4:] == ["cachedContents", GENERATE]
    assert vendor.seen[-1].body["cachedContent"] == "cachedContents/n3w"


@pytest.mark.asyncio
async def test_gemini_other_errors_on_a_cached_call_are_not_retried_here(vendor):
    provider = _provider(vendor)
    vendor.replies += [
        _cache_created(),
        json_reply(429, {"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}}),
        _answer(),
    ]

    with pytest.raises(ProviderError) as caught:
        await _run(provider)
    await _run(provider)

    assert (caught.value.status, caught.value.retryable) == (429, True)  # the router retries
    assert _paths(vendor) == ["cachedContents", GENERATE, GENERATE]
    assert vendor.seen[2].body["cachedContent"] == CACHE_NAME  # the cache is still ours to use


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_gemini_cached_tokens_reach_the_cost_ledger(tenant, settings, vendor):
    # given a tenant whose knowledge passage is large enough to cache
    settings.GEMINI_API_KEY, settings.OPENAI_API_KEY, settings.ANTHROPIC_API_KEY = "gem-test", "", ""
    hours = "The studio is open Monday to Friday from 7am to 9pm. "
    passage = ContextPassage(index=1, title="Opening hours", url="", text=hours + "Bring a towel to class. " * 400)
    gemini = _provider(vendor)
    vendor.replies += [_cache_created(), _answer(), _answer()]
    router = make_router({"gemini": gemini}, self_evaluate=False)

    # when two customers ask about the same passage
    with registry.override_providers({"gemini": gemini}):
        for message_id in (1, 2):
            request = request_for("What are your opening hours?", passages=(passage,), message_id=message_id)
            assert (await _turn(tenant, request, router))[-1].provider == "gemini"

    # then one cache; the cached tokens are priced at the cached rate, its creation at the input rate
    assert _paths(vendor) == ["cachedContents", GENERATE, GENERATE]
    rows = await sync_to_async(lambda: list(CostEvent.objects.for_tenant(tenant).order_by("message_id")))()
    assert [(r.input_tokens, r.cached_tokens) for r in rows] == [(96, CACHE_TOKENS), (96, CACHE_TOKENS)]
    assert [r.cost_usd for r in rows] == [Decimal("0.00030560"), Decimal("0.00007520")]


async def _turn(tenant, request, router):
    return [event async for event in turn_stream(tenant=tenant, request=request, router=router)]
