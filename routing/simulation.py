"""Routing simulation for ``make bench``: the analyzer + router over a realistic mix of questions,
with scripted providers, the real price table and a virtual clock (no network, no sleeping).
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from routing.breaker import BreakerBoard
from routing.complexity import analyze
from routing.config import DEFAULT_TIERS, TierConfig
from routing.prices import call_cost
from routing.providers.base import ProviderError, ProviderRequest, Usage
from routing.providers.fake import Script, ScriptedProvider
from routing.router import Router, RouteResult, RouterPolicy
from supportai.benchmarks import BenchmarkDataMissing, percentile
from supportai.datasets import BITEXT, COVID_FAQ

# A turn's prompt: ~900 tokens of instructions + 5 passages + history, ~140 tokens of answer.
PROMPT_TOKENS, ANSWER_TOKENS = 1500, 140
LOW_CONFIDENCE_SHARE = 0.08  # answers a tier doubts (escalated to the next tier)
PROVIDER_LATENCY_S = {"gemini": 0.6, "openai": 0.9, "anthropic": 1.6}


def questions() -> list[str]:
    """The Bitext instructions, then the covid-faq queries; ``BenchmarkDataMissing`` naming the file
    when one is missing or cannot be read as questions, so ``run_benchmarks`` goes on with the others."""
    bitext, covid = BITEXT / "bitext_sample.csv", COVID_FAQ / "queries.jsonl"
    texts = _read(bitext, _bitext_questions) + _read(covid, _covid_questions)
    if not texts:
        raise BenchmarkDataMissing(f"no questions in {bitext} or {covid}")
    return texts


def _read(path: Path, parse: Callable[[Path], list[str]]) -> list[str]:
    try:
        return parse(path)
    except UnicodeDecodeError:
        raise BenchmarkDataMissing(f"{path}: not UTF-8 text") from None
    except (OSError, csv.Error) as exc:
        raise BenchmarkDataMissing(f"{path}: {getattr(exc, 'strerror', None) or exc}") from exc


def _bitext_questions(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as handle:  # Excel writes a byte order mark
        reader = csv.DictReader(handle)
        if "instruction" not in (reader.fieldnames or ()):
            raise BenchmarkDataMissing(f"{path}: has no 'instruction' column (is it the Bitext CSV?)")
        return [text for row in reader if (text := row["instruction"])]


def _covid_questions(path: Path) -> list[str]:
    texts = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BenchmarkDataMissing(f"{path}: line {number}: not JSON ({exc.msg})") from None
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise BenchmarkDataMissing(f"{path}: line {number}: needs a string 'text'")
        texts.append(item["text"])
    return texts


def _unit(text: str, salt: str) -> float:
    digest = hashlib.sha256(f"{salt}:{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class VirtualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class Turn:
    result: RouteResult
    virtual_s: float
    overhead_ms: float


def _script_for(name: str, fault_rate: float, rng: random.Random) -> object:
    def script(request: ProviderRequest, number: int) -> Script:
        latency = PROVIDER_LATENCY_S[name]
        if request.max_tokens == 5:
            return Script(deltas=("9",), usage=Usage(PROMPT_TOKENS, 1), delay_s=latency / 3)
        if rng.random() < fault_rate:
            kind = rng.random()
            if kind < 0.4:
                return Script(error=ProviderError("429", retryable=True, status=429), delay_s=0.1)
            if kind < 0.65:
                return Script(error=ProviderError("500", retryable=True, status=500), delay_s=0.3)
            if kind < 0.8:
                return Script(error=ProviderError("529", retryable=True, status=529), delay_s=0.2)
            if kind < 0.9:
                return Script(error=ProviderError(f"{name} timed out", retryable=True, timed_out=True), delay_s=15.0)
            return Script(
                deltas=("Partial ", "answer "), error=ProviderError("cut", retryable=True), fail_after=1, delay_s=0.3
            )
        confident = _unit(request.question, f"{name}:{request.model}") >= LOW_CONFIDENCE_SHARE
        return Script(
            deltas=("An ", "answer ", "[1]."),
            usage=Usage(PROMPT_TOKENS, ANSWER_TOKENS),
            confidence=0.9 if confident else 0.5,
            delay_s=latency,
        )

    return script


def _router(fault_rate: float, seed: int) -> tuple[Router, VirtualClock]:
    clock = VirtualClock()
    rng = random.Random(seed)  # noqa: S311 - simulation, not security
    providers = {
        name: ScriptedProvider(name=name, scripts=_script_for(name, fault_rate, rng), sleep=clock.sleep)  # type: ignore[arg-type]
        for name in PROVIDER_LATENCY_S
    }
    router = Router(
        lookup=providers.__getitem__,
        policy=RouterPolicy(deadline_s=20.0, call_timeout_s=15.0),
        breakers=BreakerBoard(clock=clock),
        clock=clock,
        sleep=clock.sleep,
        rng=random.Random(seed + 1),  # noqa: S311
    )
    return router, clock


async def _run(texts: list[str], plan_for: object, *, fault_rate: float, seed: int = 7) -> list[Turn]:
    router, clock = _router(fault_rate, seed)
    turns = []
    for text in texts:
        plan: tuple[TierConfig, ...] = plan_for(text)  # type: ignore[operator]

        def build(tier: TierConfig, text: str = text) -> ProviderRequest:
            return ProviderRequest(tier.model, (), (), tier.temperature, tier.max_tokens, question=text)

        virtual_start = clock.now
        wall_start = time.perf_counter()
        result = None
        async for event in router.route(plan, build):
            if isinstance(event, RouteResult):
                result = event
        wall_ms = (time.perf_counter() - wall_start) * 1000
        assert result is not None
        turns.append(Turn(result, clock.now - virtual_start, max(0.0, wall_ms - result.provider_ms)))
    return turns


def cascade_plan(text: str) -> tuple[TierConfig, ...]:
    start = analyze(text).tier
    return tuple(t for t in DEFAULT_TIERS if t.tier >= start)


def tier3_plan(text: str) -> tuple[TierConfig, ...]:
    return (DEFAULT_TIERS[2],)


def _cost(turns: list[Turn]) -> Decimal:
    return sum((call_cost(c.model, **c.usage.__dict__) for t in turns for c in t.result.calls), Decimal("0"))


def routing_simulation(limit: int | None = None) -> dict[str, object]:
    texts = questions()[:limit]
    cascade = asyncio.run(_run(texts, cascade_plan, fault_rate=0.0))
    baseline = asyncio.run(_run(texts, tier3_plan, fault_rate=0.0))
    n = len(texts)
    start_tiers = Counter(analyze(text).tier for text in texts)
    answered_by = Counter(t.result.tier for t in cascade)
    cost, baseline_cost = _cost(cascade), _cost(baseline)
    overhead = [t.overhead_ms for t in cascade]
    first_tiers = [analyze(text).tier for text in texts]
    escalated = sum(t.result.tier != first for t, first in zip(cascade, first_tiers, strict=True))
    row: dict[str, object] = {"turns": n}
    for tier in (1, 2, 3):
        row[f"routed_t{tier}_%"] = round(100 * start_tiers[tier] / n, 1)
    for tier in (1, 2, 3):
        row[f"answered_t{tier}_%"] = round(100 * answered_by[tier] / n, 1)
    row |= {
        "escalated_%": round(100 * escalated / n, 1),
        "usd_per_turn": float(round(cost / n, 6)),
        "all_t3_usd_per_turn": float(round(baseline_cost / n, 6)),
        "saving_vs_all_t3_%": float(round(100 * (1 - cost / baseline_cost), 1)),
        "overhead_p50_ms": round(percentile(overhead, 0.5), 3),
        "overhead_p95_ms": round(percentile(overhead, 0.95), 3),
    }
    return {"rows": [row]}


def fault_injection(fault_rate: float = 0.2, sample: int = 2000) -> dict[str, object]:
    every = questions()
    texts = every[:: max(1, len(every) // sample)][:sample]
    clean = asyncio.run(_run(texts, cascade_plan, fault_rate=0.0))
    faulty = asyncio.run(_run(texts, cascade_plan, fault_rate=fault_rate, seed=11))
    answered = [t for t in faulty if t.result.outcome in {"success", "low_confidence"} and not t.result.interrupted]
    clean_s = [t.virtual_s for t in clean]
    faulty_s = [t.virtual_s for t in faulty]
    outcomes = Counter("interrupted" if t.result.interrupted else t.result.outcome for t in faulty)
    overhead = [t.overhead_ms for t in faulty]
    row = {
        "turns": len(texts),
        "fault_rate_%": round(100 * fault_rate),
        "answered_%": round(100 * len(answered) / len(texts), 2),
        "fallback": outcomes["fallback"],
        "interrupted": outcomes["interrupted"],
        "latency_p50_clean_s": round(percentile(clean_s, 0.5), 2),
        "latency_p50_faults_s": round(percentile(faulty_s, 0.5), 2),
        "latency_p95_clean_s": round(percentile(clean_s, 0.95), 2),
        "latency_p95_faults_s": round(percentile(faulty_s, 0.95), 2),
        "added_latency_mean_s": round(sum(faulty_s) / len(faulty_s) - sum(clean_s) / len(clean_s), 3),
        "router_overhead_p95_ms": round(percentile(overhead, 0.95), 3),
    }
    return {"rows": [row]}
