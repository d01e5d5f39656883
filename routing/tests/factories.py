"""Test helpers for routing: passages, requests, and a router wired to scripted providers."""

from __future__ import annotations

import random
from collections.abc import Mapping

from routing.breaker import BreakerBoard
from routing.config import TierConfig
from routing.contracts import ContextPassage, ToolSpec, TurnRequest
from routing.providers.base import ChatMessage, Provider, ProviderRequest, SystemBlock
from routing.router import RequestBuilder, Router, RouteResult, RouterPolicy

PASSAGES = (
    ContextPassage(
        index=1,
        title="Opening hours",
        url="https://example.com/hours",
        text="The studio is open Monday to Friday from 7am to 9pm. On weekends we open from 8am to 4pm.",
    ),
    ContextPassage(
        index=2,
        title="Cancellations",
        url="https://example.com/cancel",
        text="You can cancel a class up to 12 hours before it starts without a fee. "
        "Late cancellations are charged 50% of the class price.",
    ),
)


def request_for(question: str, passages: tuple[ContextPassage, ...] = PASSAGES, **kwargs: object) -> TurnRequest:
    return TurnRequest(question=question, passages=passages, **kwargs)  # type: ignore[arg-type]


class FakeClock:
    """Virtual time: ``sleep`` advances it instantly."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def make_router(providers: Mapping[str, Provider], *, clock: FakeClock | None = None, **policy: object) -> Router:
    clock = clock or FakeClock()
    return Router(
        lookup=lambda name: providers[name],
        policy=RouterPolicy(**policy),  # type: ignore[arg-type]
        breakers=BreakerBoard(clock=clock),
        clock=clock,
        sleep=clock.sleep,
        rng=random.Random(1),
    )


async def route_on_virtual_time(
    providers: Mapping[str, Provider], plan: tuple[TierConfig, ...], build: RequestBuilder
) -> tuple[RouteResult, list[float]]:
    """One turn routed through ``plan`` on a ``FakeClock``: its result, and the waits it slept."""
    clock = FakeClock()
    events = [event async for event in make_router(providers, clock=clock).route(plan, build)]
    result = events[-1]
    assert isinstance(result, RouteResult)
    return result, clock.slept


# The function tool the provider tests offer the model (each vendor's adapter renders it its own way).
TOOL = ToolSpec("book_class", "Book a class", {"type": "object", "properties": {"class_id": {"type": "integer"}}})
# The OpenAI adapters' request: two cacheable system blocks and one question.
OPENAI_REQUEST = ProviderRequest(
    model="gpt-6-luna",
    system=(SystemBlock("You are helpful.", cacheable=True), SystemBlock("[1] Hours\nOpen 7-9.", cacheable=True)),
    messages=(ChatMessage("user", "When are you open?"),),
    temperature=0.2,
    max_tokens=768,
    want_logprobs=True,
    timeout_s=5.0,
)
