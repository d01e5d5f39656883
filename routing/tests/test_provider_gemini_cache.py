"""Gemini explicit context caching (``cachedContents``) through google-genai against a local server
speaking the Gemini REST wire format: when a cache is created (second sighting, in the background), what
we send, reuse, expiry, failures, and the creation and cached tokens in the cost."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
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
from routing.tests.test_provider_gemini import BASE, FINAL_USAGE, TOOL, _chunk

# As rendered for a real turn: short instructions (below every minimum alone), long passages.
INSTRUCTIONS = "You are the assistant of Alpha Clinic. Answer only from the passages and cite them."
KNOWLEDGE = "# Knowledge passages\n[1] Hours\n" + "Open 7-9 on weekdays. " * 400
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
UNCACHED_USAGE = {"promptTokenCount": 2400, "candidatesTokenCount": 20, "totalTokenCount": 2420}
CREATE = "cachedContents"
GENERATE = "gemini-2.0-flash:streamGenerateContent"


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


def _answer(usage: dict[str, int] = CACHED_USAGE, **reply: Any) -> Reply:
    return Reply(body=sse([_chunk([{"text": "We open at 7am [1]."}], finish="STOP", usage=usage)]), **reply)


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


def _script(vendor, *, creates: Sequence[Reply] = (), answers: Sequence[Reply] = ()) -> None:
    """Creations and generations are sent concurrently: each endpoint gets its own replies."""
    vendor.replies_for.setdefault(CREATE, []).extend(creates)
    vendor.replies_for.setdefault(GENERATE, []).extend(answers)


async def _run(provider: GeminiProvider, request: ProviderRequest = CACHED) -> list[Any]:
    events = [event async for event in provider.stream(request)]
    await provider.caches.settle()  # a creation this turn started is done before the next turn
    return events


def _creates(vendor) -> list[dict[str, Any]]:
    return [seen.body for seen in vendor.seen if seen.path.split("?")[0].endswith(CREATE)]


def _generates(vendor) -> list[dict[str, Any]]:
    return [seen.body for seen in vendor.seen if seen.path.split("?")[0].endswith(GENERATE)]


def _named(vendor) -> list[str | None]:
    return [body.get("cachedContent") for body in _generates(vendor)]


@pytest.mark.asyncio
async def test_gemini_small_prefix_is_not_cached(vendor):
    provider = _provider(vendor)
    vendor.replies += [_answer(FINAL_USAGE)] * 3

    for _ in range(3):
        await _run(provider, BASE)

    assert not _creates(vendor)
    assert _named(vendor) == [None, None, None]


@pytest.mark.parametrize(
    ("model", "minimum"),
    [
        ("gemini-2.5-flash", 1024),
        ("models/gemini-2.5-pro", 4096),
        # a pinned ID is its base's (``model_ids.snapshot_base``), as it is priced and retired
        ("gemini-2.5-flash-001", 1024),
        ("models/gemini-2.0-flash-lite-001", 2048),
        ("gemini-2.5-pro-20250617", 4096),
        # another model is not the listed one its name starts with: unlisted, it gets the largest minimum
        ("gemini-2.5-flash-lite", gemini_cache.MIN_CACHE_TOKENS_DEFAULT),
        ("gemini-2.5-flash-lite-001", gemini_cache.MIN_CACHE_TOKENS_DEFAULT),
        ("gemini-2.5-flash-image", gemini_cache.MIN_CACHE_TOKENS_DEFAULT),
        ("gemini-2.5-flash-2025-02-31", gemini_cache.MIN_CACHE_TOKENS_DEFAULT),  # no day: no pinned ID
    ],
)
def test_gemini_cache_minimum_is_the_models_own_or_its_bases(model: str, minimum: int) -> None:
    assert gemini_cache.min_cache_tokens(model) == minimum


@pytest.mark.asyncio
async def test_gemini_caches_a_japanese_prefix_that_passes_the_minimum_in_tokens_though_not_in_characters_over_4(
    vendor,
):
    # given Japanese passages of 2,300 characters: ~2,300 tokens, past gemini-2.0-flash's 2,048
    knowledge = "# Knowledge passages\n[1] 営業時間\n" + "平日は七時から九時まで営業しています" * 128
    japanese = replace(CACHED, system=(CACHED.system[0], SystemBlock(knowledge, cacheable=True)))
    provider = _provider(vendor)
    _script(vendor, creates=[_cache_created()], answers=[_answer(FINAL_USAGE), _answer(FINAL_USAGE), _answer()])

    # when the same prefix is asked three times
    for _ in range(3):
        await _run(provider, japanese)

    # then it is cached like an English prefix of that many tokens
    assert len(_creates(vendor)) == 1
    assert _named(vendor) == [None, None, CACHE_NAME]


@pytest.mark.asyncio
async def test_gemini_caches_a_prefix_on_its_second_sighting_and_names_it_from_then_on(vendor):
    # given
    provider = _provider(vendor)
    _script(vendor, creates=[_cache_created()], answers=[_answer(FINAL_USAGE)] * 2 + [_answer()] * 2)

    # when the same prefix is asked once, twice, three and four times
    await _run(provider)
    assert not _creates(vendor)  # seen once: no cache (it might never be asked again)
    await _run(provider)
    await _run(provider)
    await _run(provider)

    # then the second sighting created the cache and went uncached; the third and fourth name it
    assert len(_creates(vendor)) == 1
    assert _named(vendor) == [None, None, CACHE_NAME, CACHE_NAME]


@pytest.mark.asyncio
async def test_gemini_a_call_that_is_no_cache_sighting_never_creates_a_cache_but_names_a_live_one(vendor):
    # given a self-evaluation of an answer whose prefix is new (it names no sighting)
    provider = _provider(vendor)
    _script(vendor, creates=[_cache_created()], answers=[_answer(FINAL_USAGE)] * 3 + [_answer()] * 2)
    evaluation = replace(CACHED, cache_sighting=False)

    # when the answer and its self-evaluation run, then the same prefix is answered again
    await _run(provider)
    await _run(provider, evaluation)
    assert not _creates(vendor)  # the self-evaluation did not count: still one real sighting
    await _run(provider)  # the second real sighting: created in the background

    # then a self-evaluation names the live cache
    await _run(provider, evaluation)
    await _run(provider)
    assert len(_creates(vendor)) == 1
    assert _named(vendor) == [None, None, None, CACHE_NAME, CACHE_NAME]


@pytest.mark.asyncio
async def test_gemini_cache_creation_never_delays_the_first_token(vendor):
    # given a prefix seen once, and a cache creation that takes 1.5 s
    creation_s = 1.5
    provider = _provider(vendor)
    _script(vendor, creates=[_cache_created(delay_s=creation_s)], answers=[_answer(FINAL_USAGE)] * 3 + [_answer()])
    await _run(provider)

    # when it is seen again, and again while the cache is still being created
    started = time.perf_counter()
    stream = provider.stream(CACHED)
    first = await anext(stream)
    first_token_s = time.perf_counter() - started
    second = [first, *[event async for event in stream]]
    third = [event async for event in provider.stream(CACHED)]
    done_s = time.perf_counter() - started

    # then both were answered uncached, without waiting for the creation in flight (which the second
    # sighting started after ``started``: waiting for it, either turn would end creation_s after that at
    # the earliest, however fast a loaded machine runs the rest)
    assert isinstance(first, TextChunk) and first_token_s < creation_s
    assert done_s < creation_s and isinstance(second[-1], Finish) and isinstance(third[-1], Finish)
    assert len(_creates(vendor)) == 1
    assert _named(vendor) == [None, None, None]
    # and once the cache exists, the next turn names it
    await provider.caches.settle()
    await _run(provider)
    assert _named(vendor)[-1] == CACHE_NAME


@pytest.mark.asyncio
async def test_gemini_caches_a_large_prefix_and_names_the_cache_instead_of_resending_it(vendor):
    # given a request whose stable prefix is past the model's minimum, a per-turn block and a tool
    request = replace(CACHED, system=(*CACHED.system, SystemBlock("# About this customer\nAda")), tools=(TOOL,))
    provider = _provider(vendor)
    _script(vendor, creates=[_cache_created()], answers=[_answer(FINAL_USAGE)] * 2 + [_answer()])

    # when it is asked three times
    await _run(provider, request)
    await _run(provider, request)
    events = await _run(provider, request)

    # then the prefix (and the tools) went into a cache ...
    [create] = [seen for seen in vendor.seen if seen.path.endswith(f"/{CREATE}")]  # v1 in this SDK release
    assert create.body["model"] == "models/gemini-2.0-flash"
    assert create.body["systemInstruction"]["parts"] == [{"text": INSTRUCTIONS}]
    assert create.body["contents"] == [{"role": "user", "parts": [{"text": KNOWLEDGE}]}]
    assert create.body["ttl"] == f"{gemini_cache.CACHE_TTL_S}s"
    assert create.body["tools"][0]["functionDeclarations"][0]["name"] == "book_class"
    # ... and the third call names it, without the system instruction or tools it holds
    generate = _generates(vendor)[-1]
    assert generate["cachedContent"] == CACHE_NAME
    assert "systemInstruction" not in generate and "tools" not in generate
    assert generate["contents"][0] == {"role": "user", "parts": [{"text": "# About this customer\nAda"}]}
    assert [c["role"] for c in generate["contents"][1:]] == ["user", "model", "user"]
    assert [e.text for e in events if isinstance(e, TextChunk)] == ["We open at 7am [1]."]


@pytest.mark.asyncio
async def test_gemini_caches_the_instructions_alone_when_they_qualify_and_the_passages_differ(vendor):
    # given instructions past the minimum on their own, and a different (small) passage every turn
    instructions = INSTRUCTIONS + " Be brief and kind." * 500
    turns = [
        replace(CACHED, system=(SystemBlock(instructions, True), SystemBlock(f"[1] Topic {n}", True))) for n in range(3)
    ]
    provider = _provider(vendor)
    _script(vendor, creates=[_cache_created()], answers=[_answer(FINAL_USAGE)] * 2 + [_answer()])

    # when
    for request in turns:
        await _run(provider, request)

    # then the second turn cached the instructions alone; the third names that cache, its passage in the contents
    [create] = _creates(vendor)
    assert create["systemInstruction"]["parts"] == [{"text": instructions}]
    assert "contents" not in create
    assert _named(vendor) == [None, None, CACHE_NAME]
    assert _generates(vendor)[-1]["contents"][0] == {"role": "user", "parts": [{"text": "[1] Topic 2"}]}


@pytest.mark.asyncio
async def test_gemini_prefers_the_longest_live_cache(vendor):
    # given instructions that qualify alone, a cache of them, and then the same passage asked twice
    instructions = INSTRUCTIONS + " Be brief and kind." * 500
    other, same, new = (replace(CACHED, system=(SystemBlock(instructions, True), SystemBlock(k, True))) for k in "ABC")
    provider = _provider(vendor)
    _script(
        vendor,
        creates=[_cache_created("cachedContents/instr"), _cache_created("cachedContents/full")],
        answers=[_answer(FINAL_USAGE)] * 2 + [_answer()] * 3,
    )
    await _run(provider, other)
    await _run(provider, same)  # the instructions: seen twice -> cached

    # when the same passage comes back
    await _run(provider, same)  # instructions + passage "B": seen twice -> cached (this turn: instructions cache)
    await _run(provider, same)
    await _run(provider, new)

    # then one creation per turn, the longest prefix seen twice; each call names the longest live cache
    assert [len(body.get("contents", [])) for body in _creates(vendor)] == [0, 1]
    assert _named(vendor) == [None, None, "cachedContents/instr", "cachedContents/full", "cachedContents/instr"]


@pytest.mark.asyncio
async def test_gemini_creation_tokens_go_to_the_turn_that_started_it_when_ready_in_time(vendor):
    # given a quick creation and a slow answer
    provider = _provider(vendor)
    _script(
        vendor,
        creates=[_cache_created()],
        answers=[_answer(UNCACHED_USAGE), _answer(UNCACHED_USAGE, delay_s=0.5), _answer(), _answer()],
    )

    # when the prefix is asked four times
    finishes = [(await _run(provider))[-1] for _ in range(4)]

    # then the turn that started the creation books it; the cached turns read it at the cached rate
    assert [f.usage.cache_write_tokens for f in finishes] == [0, CACHE_TOKENS, 0, 0]
    assert [f.usage.cached_tokens for f in finishes] == [0, 0, CACHE_TOKENS, CACHE_TOKENS]
    # 2400 x $0.10 + 20 x $0.40 (+ 2304 x $0.10 to create the cache) per 1M tokens
    assert call_cost("gemini-2.0-flash", **finishes[1].usage.__dict__) == Decimal("0.0004784")
    # 96 x $0.10 + 20 x $0.40 + 2304 x $0.025 per 1M tokens
    assert call_cost("gemini-2.0-flash", **finishes[2].usage.__dict__) == Decimal("0.0000752")


@pytest.mark.asyncio
async def test_gemini_creation_tokens_are_owed_to_the_next_call_when_the_starter_is_gone(vendor):
    # given a slow creation, started by a turn the customer leaves before its answer ends
    provider = _provider(vendor)
    _script(
        vendor,
        creates=[_cache_created(delay_s=0.3)],
        answers=[_answer(FINAL_USAGE), _answer(FINAL_USAGE, delay_s=1.0), _answer(), _answer()],
    )
    await _run(provider)
    leaving = asyncio.create_task(_run(provider))
    await asyncio.sleep(0.1)
    leaving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leaving

    # when the creation ends after that, and the prefix is asked twice more
    await provider.caches.settle()
    finishes = [(await _run(provider))[-1] for _ in range(2)]

    # then the next call to finish books the creation, once
    assert [f.usage.cache_write_tokens for f in finishes] == [CACHE_TOKENS, 0]
    assert _named(vendor)[-2:] == [CACHE_NAME, CACHE_NAME]


@pytest.mark.asyncio
async def test_gemini_concurrent_requests_create_one_cache(vendor):
    # given a prefix seen once, and a slow cache creation
    provider = _provider(vendor)
    _script(vendor, creates=[_cache_created(delay_s=0.3)], answers=[_answer(FINAL_USAGE)] * 4 + [_answer()])
    await _run(provider)

    # when three turns with the same prefix arrive together, and one after the creation
    results = list(await asyncio.gather(_run(provider), _run(provider), _run(provider)))
    results.append(await _run(provider))

    # then one cache; its creation is charged once
    assert len(_creates(vendor)) == 1
    assert _named(vendor) == [None, None, None, None, CACHE_NAME]
    assert sum(events[-1].usage.cache_write_tokens for events in results) == CACHE_TOKENS


@pytest.mark.asyncio
async def test_gemini_creates_a_new_cache_shortly_before_the_old_one_expires(vendor):
    # given a cache created at t=1000
    clock = _Clock()
    provider = _provider(vendor, clock)
    _script(
        vendor,
        creates=[_cache_created(), _cache_created("cachedContents/n3w")],
        answers=[_answer(FINAL_USAGE)] * 2 + [_answer()] * 2 + [_answer(FINAL_USAGE), _answer()],
    )
    await _run(provider)
    await _run(provider)
    forget_at = clock.now + gemini_cache.CACHE_TTL_S - gemini_cache.EXPIRY_MARGIN_S

    # when it is used just before the margin, and not at it (that turn re-creates it in the background)
    clock.now = forget_at - 1
    await _run(provider)
    clock.now = forget_at
    await _run(provider)
    await _run(provider)

    # then
    assert len(_creates(vendor)) == 2
    assert _named(vendor) == [None, None, CACHE_NAME, None, "cachedContents/n3w"]


@pytest.mark.parametrize(
    ("failure", "backoff_s", "owed"),
    [
        (json_reply(400, {"error": {"code": 400, "message": "Cached content is too small.", "status": "INVALID_ARGUMENT"}}), gemini_cache.TOO_SMALL_BACKOFF_S, 0),  # noqa: E501
        (json_reply(403, {"error": {"code": 403, "message": "denied", "status": "PERMISSION_DENIED"}}), gemini_cache.FAILURE_BACKOFF_S, 0),  # noqa: E501
        (json_reply(429, {"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}}), gemini_cache.FAILURE_BACKOFF_S, 0),  # noqa: E501
        (json_reply(500, {"error": {"code": 500, "message": "oops", "status": "INTERNAL"}}), gemini_cache.FAILURE_BACKOFF_S, 0),  # noqa: E501
        # it may have been created (and billed): the estimate is owed
        (_cache_created(delay_s=1.0), gemini_cache.FAILURE_BACKOFF_S, -(-(len(INSTRUCTIONS) + len(KNOWLEDGE)) // 4)),
    ],
    ids=["400-too-small", "403", "429", "500", "timeout"],
)  # fmt: skip
@pytest.mark.asyncio
async def test_gemini_cache_creation_failure_goes_uncached_and_backs_off(vendor, monkeypatch, failure, backoff_s, owed):
    # given a cache creation that fails
    monkeypatch.setattr(gemini_cache, "CREATE_TIMEOUT_S", 0.3)
    clock = _Clock()
    provider = _provider(vendor, clock)
    _script(vendor, creates=[failure], answers=[_answer(FINAL_USAGE)] * 3)
    await _run(provider)
    await _run(provider)

    # when a turn comes within the backoff
    clock.now += backoff_s - 1
    finish = (await _run(provider))[-1]

    # then all are answered uncached (the prefix sent in full), creation was tried once, and only a
    # creation that may have happened is booked
    assert len(_creates(vendor)) == 1
    assert _named(vendor) == [None, None, None]
    for body in _generates(vendor):
        assert body["systemInstruction"]["parts"][0]["text"] == f"{INSTRUCTIONS}\n\n{KNOWLEDGE}"
    assert finish.usage.cache_write_tokens == owed

    # and after the backoff creation is tried again
    _script(vendor, creates=[_cache_created()], answers=[_answer(FINAL_USAGE), _answer()])
    clock.now += 1
    await _run(provider)
    await _run(provider)
    assert len(_creates(vendor)) == 2
    assert _named(vendor)[3:] == [None, CACHE_NAME]


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
    _script(vendor, creates=[_cache_created()], answers=[_answer(FINAL_USAGE)] * 2)
    await _run(provider)
    await _run(provider)
    gone = json_reply(status, {"error": {"code": status, "message": message, "status": state}})
    _script(vendor, answers=[gone, _answer(FINAL_USAGE)])

    # when
    events = await _run(provider)

    # then the turn is answered uncached ...
    assert [e.text for e in events if isinstance(e, TextChunk)] == ["We open at 7am [1]."]
    assert _named(vendor)[2:] == [CACHE_NAME, None]
    assert "systemInstruction" in _generates(vendor)[3]
    # ... and the next turn creates a new cache (in the background), which the one after names
    _script(vendor, creates=[_cache_created("cachedContents/n3w")], answers=[_answer(FINAL_USAGE), _answer()])
    await _run(provider)
    await _run(provider)
    assert len(_creates(vendor)) == 2
    assert _named(vendor)[4:] == [None, "cachedContents/n3w"]


@pytest.mark.asyncio
async def test_gemini_other_errors_on_a_cached_call_are_not_retried_here(vendor):
    provider = _provider(vendor)
    quota = json_reply(429, {"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}})
    _script(vendor, creates=[_cache_created()], answers=[_answer(FINAL_USAGE)] * 2 + [quota, _answer()])
    await _run(provider)
    await _run(provider)

    with pytest.raises(ProviderError) as caught:
        await _run(provider)
    await _run(provider)

    assert (caught.value.status, caught.value.retryable) == (429, True)  # the router retries
    assert _named(vendor)[2:] == [CACHE_NAME, CACHE_NAME]  # the cache is still ours to use


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_gemini_cache_creation_and_cached_tokens_reach_the_cost_ledger(tenant, settings, vendor):
    # given a tenant whose knowledge passage is large enough to cache
    settings.GEMINI_API_KEY, settings.OPENAI_API_KEY, settings.ANTHROPIC_API_KEY = "gem-test", "", ""
    # on the model this file's fake answers for (its 2,048-token minimum, its prices): the cache mechanics,
    # not the default, are under test; gemini-3.5-flash-lite's minimum is not documented (4,096 assumed)
    settings.ROUTING = {**settings.ROUTING, "TIER_MODELS": ("gemini:gemini-2.0-flash", "", "")}
    hours = "The studio is open Monday to Friday from 7am to 9pm. "
    passage = ContextPassage(index=1, title="Opening hours", url="", text=hours + "Bring a towel to class. " * 400)
    gemini = _provider(vendor)
    answers = [_answer(UNCACHED_USAGE), _answer(UNCACHED_USAGE, delay_s=0.3), _answer()]
    _script(vendor, creates=[_cache_created()], answers=answers)
    router = make_router({"gemini": gemini}, self_evaluate=False)

    # when three customers ask about the same passage
    with registry.override_providers({"gemini": gemini}):
        for message_id in (1, 2, 3):
            request = request_for("What are your opening hours?", passages=(passage,), message_id=message_id)
            assert (await _turn(tenant, request, router))[-1].provider == "gemini"
            await gemini.caches.settle()

    # then one cache, created by the second turn; its creation is booked at the input rate with that
    # turn, and the third turn's cached tokens at the cached rate
    assert len(_creates(vendor)) == 1
    assert _named(vendor) == [None, None, CACHE_NAME]
    rows = await sync_to_async(lambda: list(CostEvent.objects.for_tenant(tenant).order_by("message_id")))()
    assert [(r.input_tokens, r.cached_tokens) for r in rows] == [(2400, 0), (2400, 0), (96, CACHE_TOKENS)]
    assert [r.cache_write_tokens for r in rows] == [0, CACHE_TOKENS, 0]
    # 2400 x $0.10 + 20 x $0.40 (+ 2304 x $0.10) per 1M tokens; then 96 x 0.10 + 20 x 0.40 + 2304 x 0.025
    assert [r.cost_usd for r in rows] == [Decimal("0.00024800"), Decimal("0.00047840"), Decimal("0.00007520")]


async def _turn(tenant, request, router):
    return [event async for event in turn_stream(tenant=tenant, request=request, router=router)]


def test_gemini_cache_creation_cut_short_by_its_event_loop_ending_is_still_owed():
    # given a registry used from a short-lived event loop (a synchronous caller's), and a slow creation
    caches = CacheRegistry()
    never = asyncio.Event()

    async def create() -> gemini_cache.CreatedCache:
        await never.wait()
        raise AssertionError("unreachable")

    async def two_sightings() -> None:
        for _ in range(2):
            assert caches.use("key", create, family="family", estimated_tokens=2300).name is None
        await asyncio.sleep(0)  # the creation has started (its request may be on its way)

    # when the loop ends with the creation in flight (asyncio.run cancels it)
    asyncio.run(two_sightings())

    # then its estimated cost is owed to the family's next call, once
    assert caches.claim_owed("family") == 2300
    assert caches.claim_owed("family") == 0
