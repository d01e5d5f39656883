from __future__ import annotations

import asyncio

import pytest

from routing.breaker import CircuitBreaker
from routing.config import TierConfig
from routing.contracts import TextDelta, ToolCall
from routing.phrases import PHRASES
from routing.providers.base import ChatMessage, ProviderError, ProviderRequest, SystemBlock, Usage
from routing.providers.fake import Script, ScriptedProvider
from routing.router import RouteResult
from routing.tests.factories import FakeClock, make_router
from routing.tokens import estimate_tokens

T1 = TierConfig(1, "gemini", "gemini-2.0-flash", 0.1, 512)
T2 = TierConfig(2, "openai", "gpt-6-luna", 0.2, 768)
T3 = TierConfig(3, "anthropic", "claude-sonnet-4-5", 0.3, 1024)
RATE_LIMITED = ProviderError("429", retryable=True, status=429)
BAD_REQUEST = ProviderError("400", retryable=False, status=400)


def build(tier: TierConfig) -> ProviderRequest:
    return ProviderRequest(
        model=tier.model, system=(SystemBlock("Answer from the passages."),), messages=(ChatMessage("user", "q"),),
        temperature=tier.temperature, max_tokens=tier.max_tokens, question="q",
    )  # fmt: skip


async def run(router, plan, **kwargs):
    events = [event async for event in router.route(plan, build, **kwargs)]
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    result = events[-1]
    assert isinstance(result, RouteResult)
    assert sum(isinstance(e, RouteResult) for e in events) == 1
    return deltas, result


def good(text="Fine answer.", **kwargs) -> Script:
    return Script(deltas=tuple(w + " " for w in text.split()), confidence=0.9, **kwargs)


@pytest.mark.asyncio
async def test_router_retries_a_rate_limit_with_backoff_then_succeeds():
    clock = FakeClock()
    gemini = ScriptedProvider("gemini", (Script(error=RATE_LIMITED), good()))
    router = make_router({"gemini": gemini}, clock=clock)

    deltas, result = await run(router, (T1,))

    assert result.outcome == "success"
    assert "".join(deltas).strip() == "Fine answer."
    assert [c.outcome for c in result.calls] == ["error", "success"]
    assert len(clock.slept) == 1
    assert 0.1 <= clock.slept[0] <= 0.2


@pytest.mark.asyncio
async def test_router_does_not_retry_a_bad_request_and_moves_to_the_next_tier():
    gemini = ScriptedProvider("gemini", (Script(error=BAD_REQUEST),))
    openai = ScriptedProvider("openai", (good(),))
    router = make_router({"gemini": gemini, "openai": openai})

    _, result = await run(router, (T1, T2))

    assert (result.provider, result.tier, result.outcome) == ("openai", 2, "success")
    assert len(gemini.requests) == 1


@pytest.mark.asyncio
async def test_router_escalates_low_confidence_without_showing_the_weak_answer():
    gemini = ScriptedProvider("gemini", (Script(deltas=("Weak ", "guess."), confidence=0.4),))
    openai = ScriptedProvider("openai", (good("Strong answer."),))
    router = make_router({"gemini": gemini, "openai": openai})

    deltas, result = await run(router, (T1, T2))

    assert "".join(deltas).strip() == "Strong answer."
    assert [(c.provider, c.outcome) for c in result.calls] == [("gemini", "low_confidence"), ("openai", "success")]


@pytest.mark.asyncio
async def test_router_low_confidence_at_the_top_tier_is_kept_with_a_hedge():
    anthropic = ScriptedProvider("anthropic", (Script(deltas=("Maybe.",), confidence=0.5),))

    deltas, result = await run(make_router({"anthropic": anthropic}), (T3,))

    assert result.outcome == "low_confidence"
    assert result.suggest_human is True
    assert result.text == "Maybe.\n\n" + PHRASES["en"].low_confidence
    assert "".join(deltas) == result.text


@pytest.mark.asyncio
async def test_router_uses_logprobs_as_confidence():
    gemini = ScriptedProvider("gemini", (Script(deltas=("Sure.",), mean_logprob=-0.05),))

    _, result = await run(make_router({"gemini": gemini}), (T1, T2))

    assert result.confidence == pytest.approx(0.951, abs=0.001)
    assert result.provider == "gemini"


@pytest.mark.asyncio
async def test_router_asks_for_a_self_evaluation_when_there_are_no_logprobs():
    def script(request: ProviderRequest, number: int) -> Script:
        if request.max_tokens == 5:
            return Script(deltas=("3",))  # the self-evaluation says 3/10
        return Script(deltas=("Unsure ", "answer."))

    gemini = ScriptedProvider("gemini", script)
    openai = ScriptedProvider("openai", (good("Better."),))

    _, result = await run(make_router({"gemini": gemini, "openai": openai}), (T1, T2))

    assert result.provider == "openai"
    assert [(c.provider, c.purpose, c.outcome) for c in result.calls] == [
        ("gemini", "answer", "low_confidence"),
        ("gemini", "self_eval", "success"),
        ("openai", "answer", "success"),
    ]
    assert result.calls[0].confidence == 0.3


@pytest.mark.asyncio
async def test_router_self_evaluation_is_never_a_cache_sighting():
    def script(request: ProviderRequest, number: int) -> Script:
        return Script(deltas=("8",)) if request.max_tokens == 5 else Script(deltas=("Answer.",))

    gemini = ScriptedProvider("gemini", script)

    await run(make_router({"gemini": gemini, "openai": ScriptedProvider("openai")}), (T1, T2))

    answer, evaluation = gemini.requests
    assert (answer.cache_sighting, evaluation.cache_sighting) == (True, False)
    assert evaluation.system == answer.system  # same prefix: it may name the answer's live cache


@pytest.mark.asyncio
async def test_router_cancelled_during_self_evaluation_still_books_the_answer_and_the_evaluation():
    # given a tier-1 answer that is finished, and its self-evaluation still running
    def script(request: ProviderRequest, number: int) -> Script:
        if request.max_tokens == 5:
            return Script(hang=True)
        return Script(deltas=("Answer ",), usage=Usage(5000, 400))

    gemini = ScriptedProvider("gemini", script)
    openai = ScriptedProvider("openai", (good(),))
    router = make_router({"gemini": gemini, "openai": openai})
    ledger: list = []
    turn = asyncio.ensure_future(run(router, (T1, T2), ledger=ledger))
    while len(gemini.requests) < 2:
        await asyncio.sleep(0.001)

    # when the customer leaves
    turn.cancel()
    with pytest.raises(asyncio.CancelledError):
        await turn

    # then both calls are booked: the answer as reported, the evaluation estimated
    answer, evaluation = ledger
    assert (answer.purpose, answer.outcome, answer.usage) == ("answer", "success", Usage(5000, 400))
    assert answer.confidence is None  # never known
    assert (evaluation.purpose, evaluation.outcome) == ("self_eval", "cancelled")
    assert evaluation.usage.input_tokens == gemini.requests[1].estimated_prompt_tokens > 0
    assert "estimated" in evaluation.error


@pytest.mark.asyncio
async def test_router_marks_an_answer_cut_after_the_first_token_as_interrupted():
    anthropic = ScriptedProvider(
        "anthropic", (Script(deltas=("Part ", "one ", "two"), error=RATE_LIMITED, fail_after=2),)
    )

    deltas, result = await run(make_router({"anthropic": anthropic}), (T3,))

    assert result.interrupted is True
    assert result.outcome == "error"
    assert result.text == f"Part one \n\n({PHRASES['en'].interrupted})"
    assert "".join(deltas) == "Part one "  # the caller shows TurnResult.text, which adds the clear line
    assert len(anthropic.requests) == 1  # never retried after the customer saw text


@pytest.mark.asyncio
async def test_router_books_a_call_cut_after_output_at_its_estimated_usage():
    # given a buffered tier-1 answer whose connection resets after 299 words, and a working tier 2
    reset = ProviderError("gemini transport failed: RemoteProtocolError", retryable=True)
    gemini = ScriptedProvider("gemini", (Script(deltas=("word ",) * 300, error=reset, fail_after=299),))
    openai = ScriptedProvider("openai", (good(),))

    _, result = await run(make_router({"gemini": gemini, "openai": openai}, attempts_per_provider=1), (T1, T2))

    # then the vendor's bill for what it read and wrote is estimated, not booked as nothing
    cut = result.calls[0]
    assert (cut.provider, cut.outcome) == ("gemini", "error")
    prompt = gemini.requests[0].estimated_prompt_tokens
    assert (cut.usage.input_tokens, cut.usage.output_tokens) == (prompt, estimate_tokens("word " * 299))
    assert cut.error.startswith("gemini transport failed") and "usage estimated" in cut.error


@pytest.mark.asyncio
async def test_router_books_a_timed_out_call_at_its_estimated_prompt():
    hanging = ScriptedProvider("gemini", (Script(hang=True),))
    openai = ScriptedProvider("openai", (good(),))
    router = make_router({"gemini": hanging, "openai": openai}, call_timeout_s=0.05, attempts_per_provider=1)

    _, result = await asyncio.wait_for(run(router, (T1, T2)), timeout=5)

    timed_out = result.calls[0]
    assert (timed_out.usage.input_tokens, timed_out.usage.output_tokens) == (
        hanging.requests[0].estimated_prompt_tokens,
        0,
    )
    assert timed_out.usage.input_tokens > 0


@pytest.mark.asyncio
async def test_router_books_a_call_refused_before_output_at_zero():
    gemini = ScriptedProvider("gemini", (Script(error=BAD_REQUEST),))
    openai = ScriptedProvider("openai", (good(),))

    _, result = await run(make_router({"gemini": gemini, "openai": openai}), (T1, T2))

    assert result.calls[0].usage == Usage()
    assert result.calls[0].error == "400"


@pytest.mark.asyncio
async def test_router_says_an_answer_was_cut_off_in_the_given_language():
    anthropic = ScriptedProvider("anthropic", (Script(deltas=("Teil ", "eins"), error=RATE_LIMITED, fail_after=1),))

    _, result = await run(make_router({"anthropic": anthropic}), (T3,), phrases=PHRASES["de"])

    assert result.text == f"Teil \n\n({PHRASES['de'].interrupted})"


@pytest.mark.asyncio
async def test_router_fails_over_invisibly_before_the_first_token():
    anthropic = ScriptedProvider("anthropic", (Script(deltas=("x",), error=BAD_REQUEST, fail_after=0),))
    fallback_tier = TierConfig(3, "backup", "claude-haiku-4-5", 0.3, 1024)
    backup = ScriptedProvider("backup", (good("From backup."),))

    deltas, result = await run(make_router({"anthropic": anthropic, "backup": backup}), (T3, fallback_tier))

    assert "".join(deltas).strip() == "From backup."
    assert result.interrupted is False


@pytest.mark.asyncio
async def test_router_all_failing_ends_with_the_polite_fallback():
    failing = {n: ScriptedProvider(n, (Script(error=RATE_LIMITED),)) for n in ("gemini", "openai", "anthropic")}

    deltas, result = await run(make_router(failing, attempts_per_provider=2), (T1, T2, T3))

    assert result.outcome == "fallback"
    assert result.text == PHRASES["en"].fallback
    assert "".join(deltas) == PHRASES["en"].fallback
    assert result.suggest_human is True
    assert len(result.calls) == 6


@pytest.mark.asyncio
async def test_router_stops_retrying_at_the_turn_deadline():
    clock = FakeClock()
    slow_failure = Script(error=RATE_LIMITED, delay_s=4.0)
    gemini = ScriptedProvider("gemini", (slow_failure,), sleep=clock.sleep)
    openai = ScriptedProvider("openai", (slow_failure,), sleep=clock.sleep)
    router = make_router({"gemini": gemini, "openai": openai}, clock=clock, deadline_s=10.0, attempts_per_provider=3)

    _, result = await run(router, (T1, T2))

    assert result.outcome == "fallback"
    assert clock.now - 1000.0 <= 10.0 + 4.0
    assert len(gemini.requests) + len(openai.requests) < 6


@pytest.mark.asyncio
async def test_router_times_out_a_hanging_provider_and_fails_over():
    hanging = ScriptedProvider("gemini", (Script(hang=True),))
    openai = ScriptedProvider("openai", (good(),))
    router = make_router({"gemini": hanging, "openai": openai}, call_timeout_s=0.05, attempts_per_provider=1)

    _, result = await asyncio.wait_for(run(router, (T1, T2)), timeout=5)

    assert result.provider == "openai"
    assert "timed out" in result.calls[0].error


@pytest.mark.asyncio
async def test_router_skips_a_provider_whose_breaker_is_open():
    clock = FakeClock()
    gemini = ScriptedProvider("gemini", (Script(error=RATE_LIMITED),))
    openai = ScriptedProvider("openai", (good(),))
    router = make_router({"gemini": gemini, "openai": openai}, clock=clock, attempts_per_provider=1)
    for _ in range(5):
        await run(router, (T1, T2))
    calls_before = len(gemini.requests)

    _, result = await run(router, (T1, T2))

    assert len(gemini.requests) == calls_before  # open: not called
    assert result.provider == "openai"


def test_breaker_half_opens_after_cooldown_and_closes_on_success():
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, cooldown_s=30, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state == "open"
    assert not breaker.allow()

    clock.now += 30
    assert breaker.state == "half_open"
    assert breaker.allow()
    breaker.record_failure()  # the trial failed: open again for a full cooldown
    assert breaker.state == "open"

    clock.now += 30
    breaker.record_success()
    assert breaker.state == "closed"


@pytest.mark.asyncio
async def test_router_a_tenants_bad_request_never_opens_the_breaker_for_other_tenants():
    # given tenant A's tier override names a model that does not exist (404, not retryable)
    typo = TierConfig(2, "openai", "gpt-4o-mnii", 0.2, 768)
    missing = ProviderError("openai answered HTTP 404: model not found", retryable=False, status=404)

    def script(request: ProviderRequest, number: int) -> Script:
        return Script(error=missing) if request.model == "gpt-4o-mnii" else good()

    openai = ScriptedProvider("openai", script)
    router = make_router({"openai": openai}, attempts_per_provider=1)

    # when tenant A has many turns, then tenant B (defaults) asks
    for _ in range(10):
        _, a_result = await run(router, (typo,))
        assert a_result.outcome == "fallback"
    _, b_result = await run(router, (T2,))

    # then B is answered by the provider A's mistakes could not switch off
    assert router.breakers.for_provider("openai").state == "closed"
    assert (b_result.provider, b_result.outcome) == ("openai", "success")


@pytest.mark.asyncio
async def test_router_transient_failures_still_open_the_breaker():
    overloaded = ProviderError("openai answered HTTP 529", retryable=True, status=529)
    openai = ScriptedProvider("openai", (Script(error=overloaded),))
    router = make_router({"openai": openai}, attempts_per_provider=1)

    for _ in range(5):
        await run(router, (T2,))

    assert router.breakers.for_provider("openai").state == "open"


def test_breaker_half_open_admits_exactly_one_trial_call_until_it_reports():
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=30, clock=clock)
    breaker.record_failure()
    clock.now += 30

    assert breaker.allow() is True  # the trial call
    assert [breaker.allow() for _ in range(3)] == [False, False, False]  # everyone else waits for it
    breaker.record_failure()
    assert breaker.state == "open" and not breaker.allow()

    clock.now += 30
    assert breaker.allow() is True
    assert breaker.allow() is False
    breaker.record_success()
    assert [breaker.allow() for _ in range(3)] == [True, True, True]


def test_breaker_trial_call_that_gives_no_verdict_lets_the_next_caller_try():
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=30, clock=clock)
    breaker.record_failure()
    clock.now += 30
    assert breaker.allow() is True

    breaker.release_probe()  # e.g. the customer left, or the trial got a 4xx: says nothing about health

    assert breaker.state == "half_open"
    assert breaker.allow() is True
    assert breaker.allow() is False


def test_breaker_a_trial_call_that_never_reports_does_not_hold_the_breaker_forever():
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=30, clock=clock)
    breaker.record_failure()
    clock.now += 30
    assert breaker.allow() is True

    clock.now += 30  # the trial call's holder vanished without reporting

    assert breaker.allow() is True


@pytest.mark.asyncio
async def test_router_half_open_sends_one_trial_call_while_concurrent_turns_skip_the_provider():
    clock = FakeClock()
    down = ProviderError("503", retryable=True, status=503)
    gemini = ScriptedProvider("gemini", (Script(error=down), good("Trial.", delay_s=0.05)))
    openai = ScriptedProvider("openai", (good("Tier two."),))
    router = make_router({"gemini": gemini, "openai": openai}, clock=clock, attempts_per_provider=1)
    router.breakers.failure_threshold = 1
    await run(router, (T1, T2))  # opens the gemini breaker
    clock.now += 30  # cooldown over: half-open

    results = await asyncio.gather(*(run(router, (T1, T2)) for _ in range(4)))

    assert len(gemini.requests) == 2  # the failure, then exactly one trial call
    assert sorted(result.provider for _, result in results) == ["gemini", "openai", "openai", "openai"]
    assert router.breakers.for_provider("gemini").state == "closed"


@pytest.mark.asyncio
async def test_router_a_cancelled_trial_call_frees_the_half_open_breaker():
    clock = FakeClock()
    gemini = ScriptedProvider("gemini", (Script(error=RATE_LIMITED), Script(hang=True), good("Back.")))
    router = make_router({"gemini": gemini}, clock=clock, attempts_per_provider=1)
    router.breakers.failure_threshold = 1
    await run(router, (T1,))
    clock.now += 30

    trial = asyncio.ensure_future(run(router, (T1,)))
    await asyncio.sleep(0.01)
    trial.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trial
    _, result = await run(router, (T1,))

    assert (result.provider, result.outcome) == ("gemini", "success")


@pytest.mark.asyncio
async def test_router_passes_tool_calls_through():
    call = ToolCall(id="t1", name="book_class", arguments={"class_id": 4})
    gemini = ScriptedProvider("gemini", (Script(deltas=(), tool_calls=(call,)),))

    _, result = await run(make_router({"gemini": gemini}), (T1, T2))

    assert result.tool_calls == (call,)
    assert result.provider == "gemini"


@pytest.mark.asyncio
async def test_router_turns_an_adapter_bug_into_a_failover():
    class Broken:
        name = "gemini"

        def available(self) -> bool:
            return True

        async def stream(self, request):
            raise ValueError("bug")
            yield  # pragma: no cover

    openai = ScriptedProvider("openai", (good(),))

    _, result = await run(make_router({"gemini": Broken(), "openai": openai}), (T1, T2))

    assert result.provider == "openai"
    assert result.calls[0].error == "gemini failed: ValueError"
