"""``make bench``: trigger quality on Bitext (dev and held-out halves) and agent-reply latency.

The latency benchmark drives a real daphne: a customer socket on ``/ws/chat/`` asks for a human,
a staff socket on ``/ws/inbox/`` (session cookie of the demo agent) sends replies, and we time each
reply from the staff ``send`` to the ``agent.message`` frame on the customer socket — with the
in-memory channel layer and with Redis (when reachable).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import connect

from escalations.evaluation import EvaluationError, Line, bitext_lines, evaluate
from supportai.benchmarks import BenchmarkDataMissing, BenchmarkResult, benchmark, percentile
from supportai.datasets import BITEXT
from supportai.devserver import free_port, start_daphne, stop

BITEXT_CSV = Path(os.environ.get("BITEXT_CSV", BITEXT / "bitext_sample.csv"))
TARGETS = {"human_request_recall": 0.95, "complaint_recall": 0.85, "ordinary_fp_rate_max": 0.02}
REPLIES = 200
WARMUP = 10
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def _bitext_lines(split: str) -> list[dict[str, Any]]:
    """The Bitext CSV's lines of ``split``; ``BenchmarkDataMissing`` when the file is missing or unreadable."""
    if not BITEXT_CSV.is_file():
        raise BenchmarkDataMissing(f"{BITEXT_CSV}: no such file (set BITEXT_CSV)")
    try:
        return list(bitext_lines(BITEXT_CSV, split=split))
    except (EvaluationError, UnicodeDecodeError, OSError) as exc:
        raise BenchmarkDataMissing(f"{BITEXT_CSV}: {exc}") from exc


@benchmark("escalation_bitext")
def escalation_bitext_benchmark() -> BenchmarkResult:
    rows = []
    for split in ("dev", "holdout"):
        lines = [
            Line(item["text"], item["escalate"], item["reason"], item["group"])
            for item in _bitext_lines(split)
            if not item["ambiguous"]
        ]
        started = time.perf_counter()
        report = evaluate(lines)
        elapsed_ms = (time.perf_counter() - started) * 1000
        reasons = report["reasons"]
        rows.append(
            {
                "split": split,
                "lines": report["lines"],
                "precision": report["precision"],
                "recall": report["recall"],
                "human_request_recall": reasons["human_request"]["recall"],
                "complaint_recall": reasons["complaint"]["recall"],
                "ordinary_fp_rate": report["fp_rate"],
                "us_per_line": round(elapsed_ms * 1000 / max(report["lines"], 1), 1),
            }
        )
    return {"rows": rows, "targets": TARGETS, "dataset": str(BITEXT_CSV)}


def _redis_reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=1):
            return True
    except OSError:
        return False


def _staff_cookie() -> tuple[int, str, str]:
    """The demo tenant id, its public key and a session cookie for the demo agent."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from supportai.demo import seed_demo_tenant

    tenant = seed_demo_tenant().tenant
    agent = get_user_model().objects.get(username="demo-agent")
    session = SessionStore()
    session[SESSION_KEY] = str(agent.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = agent.get_session_auth_hash()
    session.create()
    return tenant.pk, tenant.public_key, f"sessionid={session.session_key}"


async def _frame(ws: Any, kind: str, timeout: float = 30) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if frame["type"] == kind:
            return frame


async def _measure(base: str, tenant_id: int, key: str, cookie: str) -> list[float]:
    origin = base.replace("ws://", "http://")
    async with connect(f"{base}/ws/chat/?key={key}", origin=origin, open_timeout=30) as customer:  # type: ignore[arg-type]
        await _frame(customer, "session.ready")
        await customer.send(json.dumps({"type": "escalate", "reason": "latency benchmark"}))
        escalation = await _frame(customer, "escalation")
        async with connect(
            f"{base}/ws/inbox/?tenant={tenant_id}",
            origin=origin,  # type: ignore[arg-type]
            additional_headers={"Cookie": cookie},
            open_timeout=30,
        ) as staff:
            await _frame(staff, "queue")
            samples = []
            for number in range(WARMUP + REPLIES):
                text = f"reply {number} {uuid.uuid4().hex[:6]}"
                started = time.perf_counter()
                await staff.send(
                    json.dumps({"type": "reply", "escalation_id": escalation["escalation_id"], "text": text})
                )
                while (await _frame(customer, "agent.message"))["text"] != text:
                    pass
                if number >= WARMUP:
                    samples.append((time.perf_counter() - started) * 1000)
            await staff.send(json.dumps({"type": "resolve", "escalation_id": escalation["escalation_id"], "notes": ""}))
            await _frame(customer, "escalation")
    return samples


@benchmark("agent_reply_latency")
def agent_reply_latency_benchmark() -> BenchmarkResult:
    tenant_id, key, cookie = _staff_cookie()
    layers: list[tuple[str, dict[str, str]]] = [("in-memory", {})]
    if _redis_reachable(BENCH_REDIS_URL):
        layers.append(("redis", {"REDIS_URL": BENCH_REDIS_URL, "CHANNELS_PREFIX": f"bench-{uuid.uuid4().hex[:6]}"}))
    rows = []
    for name, env in layers:
        port = free_port()
        daphne = start_daphne(port, env={"LOG_LEVEL": "WARNING", "ESCALATIONS_PER_HOUR": "1000", **env})
        try:
            samples = asyncio.run(_measure(f"ws://127.0.0.1:{port}", tenant_id, key, cookie))
        finally:
            stop(daphne)
        rows.append(
            {
                "channel_layer": name,
                "replies": len(samples),
                "p50_ms": round(percentile(samples, 0.5), 2),
                "p95_ms": round(percentile(samples, 0.95), 2),
                "max_ms": round(max(samples), 2),
            }
        )
    return {"rows": rows, "target_p95_ms": 200, "server": "one daphne process", "redis": len(layers) > 1}
