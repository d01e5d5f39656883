"""The cascading router: tier plan, retries with backoff inside a per-turn deadline, circuit
breakers, confidence cascade, and the polite fallback.

It knows nothing about the database: it takes a plan and a request builder and yields
``TextDelta`` values, then one ``RouteResult`` that lists every provider call for the ledger.
Answers from a tier that may still be escalated are buffered until their confidence is known (so a
replaced answer is never shown); the last candidate streams straight through. A failure before the
first streamed token is invisible; after it, the answer is marked interrupted with a clear line.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace

from routing import confidence as conf
from routing.breaker import BREAKERS, BreakerBoard
from routing.config import DEFAULT_STREAM_LIMITS_S, TierConfig
from routing.contracts import TextDelta, ToolCall
from routing.language import DEFAULT
from routing.phrases import PHRASES, Phrases
from routing.providers.base import (
    ChatMessage,
    Finish,
    PromptUsage,
    Provider,
    ProviderError,
    ProviderRequest,
    TextChunk,
    ToolCallEvent,
    Usage,
)
from routing.terms import stream_pieces
from routing.tokens import estimate_tokens

logger = logging.getLogger(__name__)

# Usage of a call abandoned or failed mid-stream is estimated (vendors report it only at the end).
ESTIMATED_NOTE = "usage estimated (routing/tokens.py)"
CANCELLED_NOTE = f"cancelled mid-stream (customer left); {ESTIMATED_NOTE}"


@dataclass(frozen=True)
class RouterPolicy:
    confidence_threshold: float = 0.8
    deadline_s: float = 20.0
    call_timeout_s: float = 15.0
    attempts_per_provider: int = 3
    backoff_base_s: float = 0.2
    backoff_max_s: float = 2.0
    self_evaluate: bool = True
    # Seconds one call's whole stream may run, for tiers 1, 2 and 3 (``ROUTING_TIER<n>_STREAM_S``): the call
    # timeout bounds each wait for the vendor's next event, so a vendor writing slowly would otherwise hold the
    # turn past its deadline. Set far above a normal answer's time at its tier's max_tokens (see the default).
    stream_limits_s: tuple[float, float, float] = DEFAULT_STREAM_LIMITS_S

    def stream_limit_s(self, tier: int) -> float | None:
        """The whole-stream limit of ``tier``'s calls; None for the ``local`` tier, which streams nothing."""
        return self.stream_limits_s[tier - 1] if tier >= 1 else None


@dataclass(frozen=True)
class CallRecord:
    tier: int
    provider: str
    model: str
    purpose: str  # "answer" | "self_eval"
    outcome: str  # "success" | "low_confidence" | "error"
    usage: Usage
    latency_ms: float
    ttft_ms: float | None = None
    confidence: float | None = None
    error: str = ""


@dataclass(frozen=True)
class RouteResult:
    text: str
    tier: int
    provider: str
    model: str
    confidence: float
    outcome: str  # TurnResult outcome
    calls: tuple[CallRecord, ...]
    tool_calls: tuple[ToolCall, ...] = ()
    interrupted: bool = False
    suggest_human: bool = False
    provider_ms: float = 0.0  # wall time spent waiting on providers and backoff (for overhead figures)


RequestBuilder = Callable[[TierConfig], ProviderRequest]
ProviderLookup = Callable[[str], Provider]
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class _Attempt:
    text: list[str] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish: Finish | None = None
    prompt_usage: Usage | None = None  # as the vendor reported it at the start, if it did (``PromptUsage``)
    ttft_ms: float | None = None
    streamed: bool = False


class Router:
    def __init__(
        self,
        *,
        lookup: ProviderLookup,
        policy: RouterPolicy | None = None,
        breakers: BreakerBoard | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.lookup = lookup
        self.policy = policy or RouterPolicy()
        self.breakers = breakers or BREAKERS
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random(0)  # noqa: S311 - jitter, not security

    async def route(
        self,
        plan: tuple[TierConfig, ...],
        build: RequestBuilder,
        *,
        ledger: list[CallRecord] | None = None,
        phrases: Phrases = PHRASES[DEFAULT],
    ) -> AsyncGenerator[TextDelta | RouteResult, None]:
        """Try ``plan`` in order; yield deltas of the answer that is kept, then one ``RouteResult``.

        Every call is appended to ``ledger`` as it ends, so a caller whose turn is cancelled (the
        customer left mid-answer) can still book what was spent, including the call in flight. The
        hedge, the cut-off line and the fallback are in ``phrases``' language (the customer's).
        """
        low_confidence_line = f"\n\n{phrases.low_confidence}"
        started = self.clock()
        deadline = started + self.policy.deadline_s
        calls: list[CallRecord] = ledger if ledger is not None else []
        waited = [0.0]
        best_low: tuple[TierConfig, _Attempt, float] | None = None
        for position, candidate in enumerate(plan):
            is_last = position == len(plan) - 1
            breaker = self.breakers.for_provider(candidate.provider)
            probing = breaker.state == "half_open"  # admitted, this turn makes the one trial call
            if not breaker.allow():
                continue
            try:
                for attempt_number in range(self.policy.attempts_per_provider):
                    remaining = deadline - self.clock()
                    if remaining <= 0:
                        break
                    request = build(candidate)
                    request = _with_timeout(request, min(self.policy.call_timeout_s, remaining))
                    attempt = _Attempt()
                    call_started = self.clock()
                    try:
                        run = self._run(candidate, request, attempt, stream_through=is_last, waited=waited)
                        async for delta in run:
                            yield delta
                    except (asyncio.CancelledError, GeneratorExit):
                        calls.append(_cancelled_record(candidate, request, attempt, call_started, self.clock()))
                        raise
                    except ProviderError as error:
                        if error.retryable:  # transient; a bad request is this tenant's, not the provider's
                            breaker.record_failure()
                            probing = False
                        calls.append(_failed_record(candidate, request, attempt, call_started, self.clock(), error))
                        if attempt.streamed:  # the customer has seen part of this answer
                            yield self._interrupted(candidate, attempt, calls, waited[0], phrases)
                            return
                        # Never sooner than the vendor asked: a retry before then is refused again.
                        delay = max(self._backoff(attempt_number), error.retry_after or 0.0)
                        last_try = attempt_number + 1 == self.policy.attempts_per_provider
                        if not error.retryable or last_try or self.clock() + delay >= deadline:
                            break
                        probing = breaker.state == "half_open"
                        if not breaker.allow():
                            break
                        before = time.perf_counter()
                        await self.sleep(delay)
                        waited[0] += (time.perf_counter() - before) * 1000
                        continue
                    breaker.record_success()
                    probing = False
                    finish = attempt.finish or Finish(Usage())
                    text = "".join(attempt.text)
                    # Booked before its confidence is known: a turn cancelled during the
                    # self-evaluation still records the answer it paid for.
                    row = len(calls)
                    calls.append(_record(candidate, "success", attempt, call_started, self.clock()))
                    score = await self._confidence(
                        candidate, request, text, finish, calls, waited, escalate_possible=not is_last
                    )
                    good = score >= self.policy.confidence_threshold or bool(attempt.tool_calls)
                    outcome = "success" if good else "low_confidence"
                    calls[row] = replace(calls[row], outcome=outcome, confidence=score)
                    if good or is_last:
                        for piece in () if attempt.streamed else stream_pieces(text):
                            yield TextDelta(piece)
                        if not good and not finish.suggest_human:
                            yield TextDelta(low_confidence_line)
                            text += low_confidence_line
                        yield RouteResult(
                            text=text,
                            tier=candidate.tier,
                            provider=candidate.provider,
                            model=candidate.model,
                            confidence=score,
                            outcome=outcome,
                            calls=tuple(calls),
                            tool_calls=tuple(attempt.tool_calls),
                            suggest_human=finish.suggest_human or not good,
                            provider_ms=waited[0],
                        )
                        return
                    if best_low is None or score > best_low[2]:
                        best_low = (candidate, attempt, score)
                    break  # low confidence: escalate to the next tier
            finally:
                if probing:  # the trial call ended without a verdict on the provider's health
                    breaker.release_probe()
        if best_low is not None:  # higher tiers failed: a hedged answer beats no answer
            candidate, attempt, score = best_low
            text = "".join(attempt.text) + low_confidence_line
            for piece in stream_pieces(text):
                yield TextDelta(piece)
            yield RouteResult(
                text,
                candidate.tier,
                candidate.provider,
                candidate.model,
                score,
                "low_confidence",
                tuple(calls),
                tuple(attempt.tool_calls),
                suggest_human=True,
                provider_ms=waited[0],
            )
            return
        for piece in stream_pieces(phrases.fallback):
            yield TextDelta(piece)
        yield RouteResult(
            phrases.fallback,
            0,
            "none",
            "none",
            0.0,
            "fallback",
            tuple(calls),
            suggest_human=True,
            provider_ms=waited[0],
        )

    async def _run(
        self,
        candidate: TierConfig,
        request: ProviderRequest,
        attempt: _Attempt,
        *,
        stream_through: bool,
        waited: list[float],
    ) -> AsyncIterator[TextDelta]:
        provider = self.lookup(candidate.provider)
        call_started = self.clock()
        loop = asyncio.get_running_loop()
        limit = self.policy.stream_limit_s(candidate.tier)
        stream_ends = math.inf if limit is None else loop.time() + limit
        stream = provider.stream(request).__aiter__()
        try:
            while True:
                before = time.perf_counter()
                wait_ends = loop.time() + request.timeout_s
                try:
                    if loop.time() >= stream_ends:  # events arriving back to back never wait for a timeout
                        raise TimeoutError
                    async with asyncio.timeout_at(min(wait_ends, stream_ends)):
                        event = await anext(stream)
                except StopAsyncIteration:
                    break
                except TimeoutError as exc:
                    if stream_ends < wait_ends:
                        message = f"{candidate.provider} was still writing at the tier's {limit:g} s stream limit"
                        raise ProviderError(message, retryable=True, timed_out=True) from exc
                    raise ProviderError(f"{candidate.provider} timed out", retryable=True, timed_out=True) from exc
                except ProviderError:
                    raise
                except Exception as exc:  # an adapter bug must not crash the turn; it is logged and failed over
                    logger.exception("provider %s raised outside its contract", candidate.provider)
                    raise ProviderError(f"{candidate.provider} failed: {type(exc).__name__}", retryable=False) from exc
                finally:
                    waited[0] += (time.perf_counter() - before) * 1000
                if isinstance(event, TextChunk):
                    if attempt.ttft_ms is None:
                        attempt.ttft_ms = (self.clock() - call_started) * 1000
                    attempt.text.append(event.text)
                    if stream_through:
                        attempt.streamed = True
                        yield TextDelta(event.text)
                elif isinstance(event, ToolCallEvent):
                    attempt.tool_calls.append(event.call)
                elif isinstance(event, PromptUsage):
                    attempt.prompt_usage = event.usage
                elif isinstance(event, Finish):
                    attempt.finish = event
        finally:
            close = getattr(stream, "aclose", None)
            if close is not None:
                await close()
        if attempt.finish is None:
            raise ProviderError(f"{candidate.provider} stream ended without a finish event", retryable=True)

    async def _confidence(
        self,
        candidate: TierConfig,
        request: ProviderRequest,
        text: str,
        finish: Finish,
        calls: list[CallRecord],
        waited: list[float],
        *,
        escalate_possible: bool,
    ) -> float:
        if finish.confidence is not None:
            return finish.confidence
        if finish.mean_logprob is not None:
            return conf.from_logprob(finish.mean_logprob)
        if self.policy.self_evaluate and escalate_possible and text:
            score = await self._self_evaluate(candidate, request, text, calls, waited)
            if score is not None:
                return score
        return conf.from_grounding(text, request.passages)

    async def _self_evaluate(
        self, candidate: TierConfig, request: ProviderRequest, text: str, calls: list[CallRecord], waited: list[float]
    ) -> float | None:
        prompt = conf.SELF_EVAL_PROMPT.format(question=request.question, answer=text)
        eval_request = ProviderRequest(
            model=candidate.model,
            system=request.system,
            messages=(ChatMessage("user", prompt),),
            temperature=0.0,
            max_tokens=5,
            question=request.question,
            passages=request.passages,
            timeout_s=min(request.timeout_s, 5.0),
            cache_sighting=False,  # a prefix's cache is paid for by its answers' reuse, not by evaluations
        )
        attempt = _Attempt()
        started = self.clock()
        try:
            async for _ in self._run(candidate, eval_request, attempt, stream_through=False, waited=waited):
                pass
        except asyncio.CancelledError:
            ended = self.clock()
            calls.append(_cancelled_record(candidate, eval_request, attempt, started, ended, purpose="self_eval"))
            raise
        except ProviderError as error:
            calls.append(_failed_record(candidate, eval_request, attempt, started, self.clock(), error, "self_eval"))
            return None
        calls.append(_record(candidate, "success", attempt, started, self.clock(), purpose="self_eval"))
        return conf.from_self_eval("".join(attempt.text))

    def _backoff(self, attempt_number: int) -> float:
        ceiling = min(self.policy.backoff_max_s, self.policy.backoff_base_s * 2**attempt_number)
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def _interrupted(
        self, candidate: TierConfig, attempt: _Attempt, calls: list[CallRecord], waited: float, phrases: Phrases
    ) -> RouteResult:
        text = f"{''.join(attempt.text)}\n\n({phrases.interrupted})"
        return RouteResult(
            text,
            candidate.tier,
            candidate.provider,
            candidate.model,
            0.0,
            "error",
            tuple(calls),
            interrupted=True,
            suggest_human=True,
            provider_ms=waited,
        )


def _with_timeout(request: ProviderRequest, timeout_s: float) -> ProviderRequest:
    return replace(request, timeout_s=timeout_s)


def _cancelled_record(
    candidate: TierConfig,
    request: ProviderRequest,
    attempt: _Attempt,
    started: float,
    ended: float,
    *,
    purpose: str = "answer",
) -> CallRecord:
    """A call abandoned mid-stream: the vendor bills what it read and wrote, so estimate it."""
    _estimate_usage(request, attempt)
    return _record(candidate, "cancelled", attempt, started, ended, error=CANCELLED_NOTE, purpose=purpose)


def _failed_record(
    candidate: TierConfig,
    request: ProviderRequest,
    attempt: _Attempt,
    started: float,
    ended: float,
    error: ProviderError,
    purpose: str = "answer",
) -> CallRecord:
    """A failed call. One that wrote output before failing (a reset connection, an error event
    mid-stream) or timed out was read, and is billed, without a usage report: estimate it. One
    refused before any output (a 4xx) cost nothing."""
    message = error.message
    if attempt.finish is None and (attempt.text or error.timed_out):
        _estimate_usage(request, attempt)
        message = f"{message}; {ESTIMATED_NOTE}"
    return _record(candidate, "error", attempt, started, ended, error=message, purpose=purpose)


def _estimate_usage(request: ProviderRequest, attempt: _Attempt) -> None:
    """The prompt as the vendor reported it at the start (cache reads and writes apart), else estimated; the
    output so far, estimated."""
    if attempt.finish is None:
        prompt = attempt.prompt_usage or Usage(request.estimated_prompt_tokens)
        attempt.finish = Finish(replace(prompt, output_tokens=estimate_tokens("".join(attempt.text))))


def _record(
    candidate: TierConfig,
    outcome: str,
    attempt: _Attempt,
    started: float,
    ended: float,
    *,
    error: str = "",
    confidence: float | None = None,
    purpose: str = "answer",
) -> CallRecord:
    usage = attempt.finish.usage if attempt.finish else Usage()
    return CallRecord(
        candidate.tier,
        candidate.provider,
        candidate.model,
        purpose,
        outcome,
        usage,
        round((ended - started) * 1000, 3),
        attempt.ttft_ms,
        confidence,
        error[:300],
    )
