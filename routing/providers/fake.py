"""A scripted provider for tests and benchmarks: emits given deltas, tool calls, errors and delays.

Each call to ``stream`` takes the next ``Script`` (the last one repeats). ``sleep`` is injectable so
that benchmarks run delays on a virtual clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from routing.contracts import ToolCall
from routing.providers.base import (
    Finish,
    ProviderError,
    ProviderRequest,
    StreamEvent,
    TextChunk,
    ToolCallEvent,
    Usage,
)

DEFAULT_USAGE = Usage(100, 20)


@dataclass(frozen=True)
class Script:
    """What one call does: wait ``delay_s``, stream ``deltas`` (raising ``error`` after ``fail_after``
    deltas, or before any when ``fail_after`` is 0), emit ``tool_calls``, finish with usage/logprob."""

    deltas: tuple[str, ...] = ("Hello ", "there.")
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = DEFAULT_USAGE
    mean_logprob: float | None = None
    confidence: float | None = None
    error: ProviderError | None = None
    fail_after: int = 0
    delay_s: float = 0.0
    hang: bool = False  # never finishes (the caller's timeout must fire)


@dataclass
class ScriptedProvider:
    name: str = "fake"
    scripts: Sequence[Script] | Callable[[ProviderRequest, int], Script] = (Script(),)
    is_available: bool = True
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    requests: list[ProviderRequest] = field(default_factory=list)

    def available(self) -> bool:
        return self.is_available

    def _script(self, request: ProviderRequest) -> Script:
        number = len(self.requests)
        self.requests.append(request)
        if callable(self.scripts):
            return self.scripts(request, number)
        return self.scripts[min(number, len(self.scripts) - 1)]

    async def stream(self, request: ProviderRequest) -> AsyncIterator[StreamEvent]:
        script = self._script(request)
        if script.delay_s:
            await self.sleep(script.delay_s)
        if script.hang:
            await asyncio.Event().wait()
        for position, delta in enumerate(script.deltas):
            if script.error is not None and position == script.fail_after:
                raise script.error
            yield TextChunk(delta)
        if script.error is not None:
            raise script.error
        for call in script.tool_calls:
            yield ToolCallEvent(call)
        yield Finish(script.usage, "end", script.mean_logprob, script.confidence)
