"""The wait OpenAI's and Anthropic's refusals ask for (``retry-after-ms``, ``retry-after``), read by their
adapters through the official SDKs against a local server (with ``supportai/retry_after.py``, whose
cases ``supportai/tests/test_retry_after.py`` tests), and honoured by the router."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import pytest

from routing.config import TierConfig
from routing.providers.anthropic import AnthropicProvider
from routing.providers.base import (
    MAX_RETRY_AFTER_S,
    ChatMessage,
    Provider,
    ProviderError,
    ProviderRequest,
    SystemBlock,
)
from routing.providers.fake import Script, ScriptedProvider
from routing.providers.openai import OpenAIProvider
from routing.tests.factories import route_on_virtual_time
from routing.tests.http_fake import FakeVendor, Reply, json_reply, sse
from routing.tests.test_provider_anthropic import END, _message_start, _text_events
from routing.tests.test_provider_openai import _text_stream

BASE = ProviderRequest(
    model="",
    system=(SystemBlock("You are helpful.", cacheable=True), SystemBlock("[1] Hours\nOpen 7-9.", cacheable=True)),
    messages=(ChatMessage("user", "When are you open?"),),
    temperature=0.0,
    max_tokens=0,
    timeout_s=5.0,
)


def _openai_refusal(status: int, headers: dict[str, str]) -> Reply:
    """OpenAI's 429 (or 503) as its API sends it: the wait in ``retry-after-ms``, next to its rate-limit headers."""
    message = (
        "Rate limit reached for gpt-6-luna in organization org-test on requests per min (RPM): Limit 3, Used 3, "
        "Requested 1. Please try again in 1.5s. Visit https://platform.openai.com/account/rate-limits to learn more."
    )
    error = {"message": message, "type": "requests", "param": None, "code": "rate_limit_exceeded"}
    reply = json_reply(status, {"error": error})
    reply.headers = {
        "x-request-id": "req_fake_0001",
        "x-ratelimit-limit-requests": "3",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "1.5s",
        **headers,
    }
    return reply


def _anthropic_refusal(status: int, headers: dict[str, str]) -> Reply:
    """Anthropic's 429 (or 529 overloaded) as its API sends it: the wait in ``retry-after`` (seconds)."""
    limited = "This request would exceed the rate limit for your organization of 50 requests per minute."
    kind, message = {429: ("rate_limit_error", limited), 529: ("overloaded_error", "Overloaded")}[status]
    reply = json_reply(status, {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_1"})
    reply.headers = {
        "request-id": "req_1",
        "x-should-retry": "true",
        "anthropic-ratelimit-requests-limit": "50",
        "anthropic-ratelimit-requests-remaining": "0",
        **headers,
    }
    return reply


@dataclass(frozen=True)
class VendorCase:
    tier: TierConfig
    provider: Callable[[str], Provider]  # from the fake's URL
    refusal: Callable[[int, dict[str, str]], Reply]
    answer: Callable[[], Reply]


OPENAI = VendorCase(
    TierConfig(1, "openai", "gpt-6-luna", 0.2, 768),
    lambda url: OpenAIProvider(api_key="sk-test", base_url=f"{url}/v1"),
    _openai_refusal,
    lambda: Reply(body=_text_stream("Open 7-9.")),
)
ANTHROPIC = VendorCase(
    TierConfig(1, "anthropic", "claude-sonnet-4-6", 0.3, 1024),
    lambda url: AnthropicProvider(api_key="sk-ant-test", base_url=url),
    _anthropic_refusal,
    lambda: Reply(body=sse([_message_start(), *_text_events("Open 7-9."), *END])),
)


def _build(tier: TierConfig) -> ProviderRequest:
    return replace(BASE, model=tier.model, temperature=tier.temperature, max_tokens=tier.max_tokens)


async def _refusal_of(vendor: FakeVendor, case: VendorCase, status: int, headers: dict[str, str]) -> ProviderError:
    vendor.replies.append(case.refusal(status, headers))
    with pytest.raises(ProviderError) as caught:
        [event async for event in case.provider(vendor.url).stream(_build(case.tier))]
    assert len(vendor.seen) == 1  # the SDK does not wait and retry on its own
    return caught.value


# A day's wait, asked for the way each vendor asks: more than any turn can wait.
A_DAY = {
    OPENAI: lambda: {"retry-after-ms": str(86_400_000)},
    ANTHROPIC: lambda: {"retry-after": email.utils.formatdate(time.time() + 86_400, usegmt=True)},
}


@pytest.mark.parametrize("case", [OPENAI, ANTHROPIC], ids=["openai", "anthropic"])
@pytest.mark.asyncio
async def test_refusal_carries_the_wait_its_headers_ask_for_capped_at_the_longest_turn(vendor, case):
    # given: a 429 asking for a day (read by supportai/retry_after.py, whose cases it tests)
    # when
    error = await _refusal_of(vendor, case, 429, A_DAY[case]())
    # then: retryable, after the longest wait a turn could honour
    assert (error.status, error.retryable, error.retry_after) == (429, True, MAX_RETRY_AFTER_S)


def _tiers(case: VendorCase, vendor: FakeVendor) -> tuple[tuple[TierConfig, TierConfig], dict[str, Provider]]:
    """``case``'s vendor at tier 1, a scripted Gemini at tier 2."""
    tiers = (case.tier, TierConfig(2, "gemini", "gemini-3.5-flash-lite", 0.1, 512))
    providers: dict[str, Provider] = {
        case.tier.provider: case.provider(vendor.url),
        "gemini": ScriptedProvider("gemini", (Script(deltas=("Open 7-9.",), confidence=0.9),)),
    }
    return tiers, providers


WAIT_1_5_S = {OPENAI: {"retry-after-ms": "1500"}, ANTHROPIC: {"retry-after": "1.5"}}


@pytest.mark.parametrize("case", [OPENAI, ANTHROPIC], ids=["openai", "anthropic"])
@pytest.mark.asyncio
async def test_router_waits_what_the_refusal_asks_before_retrying(vendor, case):
    # given: the only tier rate-limits the first call asking for 1.5 s (more than the router's own backoff)
    vendor.replies += [case.refusal(429, WAIT_1_5_S[case]), case.answer()]
    tiers, providers = _tiers(case, vendor)
    # when
    result, slept = await route_on_virtual_time(providers, tiers[:1], _build)
    # then: it waited the 1.5 s, and the vendor answered the retry
    assert slept == [1.5]
    assert (result.tier, len(vendor.seen)) == (1, 2)
    assert result.text.startswith("Open 7-9.")
    assert [call.outcome for call in result.calls][:1] == ["error"]


@pytest.mark.parametrize("case", [OPENAI, ANTHROPIC], ids=["openai", "anthropic"])
@pytest.mark.asyncio
async def test_router_moves_on_when_the_refusal_asks_to_wait_past_the_turn_deadline(vendor, case):
    # given: the vendor asks for 60 s, longer than the turn's 20 s deadline
    vendor.replies.append(case.refusal(429, {"retry-after": "60"}))
    tiers, providers = _tiers(case, vendor)
    # when
    result, slept = await route_on_virtual_time(providers, tiers, _build)
    # then: no retry the vendor would refuse again, no waiting: the next tier answers at once
    assert slept == []
    assert len(vendor.seen) == 1
    assert (result.tier, result.outcome) == (2, "success")
    assert result.calls[0].error.startswith(f"{case.tier.provider} answered HTTP 429")


@pytest.mark.parametrize("case", [OPENAI, ANTHROPIC], ids=["openai", "anthropic"])
@pytest.mark.asyncio
async def test_router_backs_off_as_usual_when_the_wait_is_unreadable(vendor, case):
    # given: a refusal whose wait is junk
    vendor.replies += [case.refusal(429, {"retry-after": "soon", "retry-after-ms": "later"}), case.answer()]
    tiers, providers = _tiers(case, vendor)
    # when
    result, slept = await route_on_virtual_time(providers, tiers[:1], _build)
    # then: the router's own first backoff (0.1 to 0.2 s), then the retry answers
    assert len(slept) == 1
    assert 0.1 <= slept[0] <= 0.2
    assert (result.tier, len(vendor.seen)) == (1, 2)
