"""A circuit breaker per provider: after consecutive failures, skip the provider for a cooldown."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]


@dataclass
class CircuitBreaker:
    failure_threshold: int = 5
    cooldown_s: float = 30.0
    clock: Clock = time.monotonic
    failures: int = 0
    opened_at: float | None = None

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "half_open" if self.clock() - self.opened_at >= self.cooldown_s else "open"

    def allow(self) -> bool:
        """Closed or half-open (cooldown over: one trial call decides) → True."""
        return self.state != "open"

    def record_success(self) -> None:
        self.failures = 0
        self.opened_at = None

    def record_failure(self) -> None:
        self.failures += 1
        if self.state == "half_open" or self.failures >= self.failure_threshold:
            self.opened_at = self.clock()


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
