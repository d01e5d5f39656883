"""A circuit breaker per provider: after consecutive failures, skip the provider for a cooldown."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]


@dataclass
class CircuitBreaker:
    """Counts only transient failures (the caller decides which): a request one tenant got wrong
    must not switch the provider off for every tenant. Once the cooldown is over (half-open),
    exactly one trial call is let through; its success closes the breaker, its failure reopens it.
    A trial that ends without a verdict (cancelled, refused as a bad request) hands the trial to the
    next caller (``release_probe``); one that never reports is given up after another cooldown."""

    failure_threshold: int = 5
    cooldown_s: float = 30.0
    clock: Clock = time.monotonic
    failures: int = 0
    opened_at: float | None = None
    probe_started: float | None = None

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "half_open" if self.clock() - self.opened_at >= self.cooldown_s else "open"

    def allow(self) -> bool:
        """Closed → True; open → False; half-open → True for the one trial call only."""
        state = self.state
        if state != "half_open":
            return state == "closed"
        now = self.clock()
        if self.probe_started is not None and now - self.probe_started < self.cooldown_s:
            return False
        self.probe_started = now
        return True

    def release_probe(self) -> None:
        """The trial call ended without telling whether the provider is healthy."""
        self.probe_started = None

    def record_success(self) -> None:
        self.failures = 0
        self.opened_at = None
        self.probe_started = None

    def record_failure(self) -> None:
        self.failures += 1
        if self.state == "half_open" or self.failures >= self.failure_threshold:
            self.opened_at = self.clock()
        self.probe_started = None


@dataclass
class BreakerBoard:
    """The breakers of one process, keyed by provider name."""

    failure_threshold: int = 5
    cooldown_s: float = 30.0
    clock: Clock = time.monotonic
    breakers: dict[str, CircuitBreaker] = field(default_factory=dict)

    def for_provider(self, name: str) -> CircuitBreaker:
        if name not in self.breakers:
            self.breakers[name] = CircuitBreaker(self.failure_threshold, self.cooldown_s, self.clock)
        return self.breakers[name]


BREAKERS = BreakerBoard()
