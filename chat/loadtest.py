"""A websocket load client for the chat protocol (used by ``manage.py chat_load`` and ``make bench``).

Each session connects and waits for ``session.ready``; once every session is connected, they ask
their questions on a schedule. With a pace, session ``i`` of ``n`` asks its ``q``-th question at
``i * pace / n + q * pace`` seconds: arrivals are spread evenly, so ``n`` sessions offer ``n / pace``
questions per second in total (a session whose previous answer is still streaming asks right after
it ends, as a person would). Without a pace every session asks at the same instant (a burst). The
client times the first ``message.delta`` (time to first delta) and ``message.end`` (full answer)
from the moment each question was sent. Idle mode only connects and holds the sockets.
Loopback targets only: the client is for load-testing our own server on this machine.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect

from supportai.benchmarks import percentile

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass
class LoadResult:
    sessions: int
    connected: int = 0
    errors: int = 0
    answers: int = 0
    sent_at: list[float] = field(default_factory=list)  # time.monotonic() of every question sent
    ttfd_ms: list[float] = field(default_factory=list)
    full_ms: list[float] = field(default_factory=list)
    duration_s: float = 0.0

    def summary(self) -> dict[str, float | int]:
        return {
            "sessions": self.sessions,
            "connect_success": round(self.connected / self.sessions, 4) if self.sessions else 0.0,
            "answers": self.answers,
            "errors": self.errors,
            "messages_per_s": round(self.answers / self.duration_s, 1) if self.duration_s else 0.0,
            "ttfd_p50_ms": round(percentile(self.ttfd_ms, 0.5), 1),
            "ttfd_p95_ms": round(percentile(self.ttfd_ms, 0.95), 1),
            "full_p50_ms": round(percentile(self.full_ms, 0.5), 1),
            "full_p95_ms": round(percentile(self.full_ms, 0.95), 1),
        }


def _check_target(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK_HOSTS:
        raise ValueError(f"the load client only targets this machine (loopback), not {host!r}")


@dataclass(frozen=True)
class _Schedule:
    """When a session asks: ``offset_s`` after the start, then every ``pace_s``."""

    offset_s: float
    pace_s: float


async def _session(
    url: str,
    origin: str,
    questions: list[str],
    schedule: _Schedule,
    gate: asyncio.Event,
    limiter: asyncio.Semaphore,
    result: LoadResult,
    hold_s: float,
) -> None:
    try:
        async with limiter:
            socket = await connect(url, origin=origin, open_timeout=60, ping_interval=None, max_queue=None)  # type: ignore[arg-type]
            ready = json.loads(await asyncio.wait_for(socket.recv(), 60))
    except Exception:  # refused, timed out, closed: all count as failed connects
        result.errors += 1
        return
    try:
        if ready.get("type") != "session.ready":
            result.errors += 1
            return
        result.connected += 1
        await gate.wait()
        started = time.monotonic()
        for number, question in enumerate(questions):
            due = started + schedule.offset_s + number * schedule.pace_s
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            await _ask(socket, f"q{number}", question, result)
        if hold_s:
            await asyncio.sleep(hold_s)
    except Exception:
        result.errors += 1
    finally:
        await socket.close()


async def _ask(socket: ClientConnection, client_id: str, question: str, result: LoadResult) -> None:
    result.sent_at.append(time.monotonic())
    sent = time.perf_counter()
    await socket.send(json.dumps({"type": "message.send", "client_id": client_id, "text": question}))
    first_seen = False
    while True:
        frame = json.loads(await asyncio.wait_for(socket.recv(), 120))
        if frame["type"] == "message.delta" and not first_seen:
            first_seen = True
            result.ttfd_ms.append((time.perf_counter() - sent) * 1000)
        elif frame["type"] == "message.end":
            result.full_ms.append((time.perf_counter() - sent) * 1000)
            result.answers += 1
            return
        elif frame["type"] == "error":
            result.errors += 1
            return


async def run_load(
    *,
    url: str,
    origin: str,
    sessions: int,
    questions: list[str],
    pace_s: float = 0.0,
    hold_s: float = 0.0,
    connect_concurrency: int = 100,
) -> LoadResult:
    """Open ``sessions`` connections (``connect_concurrency`` at a time), then run the schedule."""
    _check_target(url)
    result = LoadResult(sessions=sessions)
    gate = asyncio.Event()
    limiter = asyncio.Semaphore(connect_concurrency)

    tasks = [
        asyncio.create_task(
            _session(
                url, origin, questions, _Schedule(index * pace_s / sessions, pace_s), gate, limiter, result, hold_s
            )
        )
        for index in range(sessions)
    ]
    deadline = time.monotonic() + 120
    while result.connected + result.errors < sessions and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    started = time.perf_counter()
    gate.set()
    await asyncio.gather(*tasks)
    result.duration_s = time.perf_counter() - started
    return result
