"""Coalescing of an answer's text deltas into ``message.delta`` frames.

Providers stream a token or a word at a time. One websocket frame per token costs the server a
JSON encode, a trip through the channel layer and a frame write, for text a reader cannot tell
apart from the same words arriving 30 ms later in one frame. ``DeltaStream`` sends the first
delta at once (time to first delta is what customers feel), then at most one frame per
``CHAT_DELTA_INTERVAL_MS`` with everything that arrived meanwhile. A timer flushes text that is
waiting when the provider pauses, so nothing sits in the buffer while the model thinks. Any other
frame of the turn (a proposal, the end) goes out after the text before it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings

Emit = Callable[[dict[str, Any]], Awaitable[None]]


class DeltaStream:
    def __init__(self, emit: Emit, *, message_id: int, interval_s: float | None = None) -> None:
        self._emit = emit
        self._message_id = message_id
        self._interval = settings.CHAT_DELTA_INTERVAL_MS / 1000 if interval_s is None else interval_s
        self._buffer: list[str] = []
        self._sent_at: float | None = None  # monotonic time of the last delta frame
        self._lock = asyncio.Lock()
        self._timer: asyncio.TimerHandle | None = None
        self._timed_flush: asyncio.Task[None] | None = None

    async def delta(self, text: str) -> None:
        """Queue ``text``; sent now if the interval has passed, else by the next frame or the timer."""
        self._buffer.append(text)
        wait = 0.0 if self._sent_at is None else self._sent_at + self._interval - time.monotonic()
        if wait <= 0:
            await self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(wait, self._on_timer)

    async def frame(self, payload: dict[str, Any]) -> None:
        """Send a non-delta frame of this turn, after the text queued before it."""
        await self.flush()
        await self._emit(payload)

    async def flush(self) -> None:
        async with self._lock:
            self._cancel_timer()
            if not self._buffer:
                return
            text = "".join(self._buffer)
            self._buffer.clear()
            self._sent_at = time.monotonic()
            await self._emit({"type": "message.delta", "message_id": self._message_id, "text": text})

    def discard(self) -> None:
        """Stop the timer (the turn was cancelled or failed); queued text is not sent."""
        self._cancel_timer()
        if self._timed_flush is not None:
            self._timed_flush.cancel()
        self._buffer.clear()

    def _on_timer(self) -> None:
        self._timer = None
        self._timed_flush = asyncio.ensure_future(self.flush())

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
