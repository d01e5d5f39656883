"""``make bench``: websocket load against a real daphne with the ``local`` provider."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

from chat.loadtest import run_load
from supportai.benchmarks import BenchmarkResult, benchmark

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "What are your opening hours?",
    "How do I cancel my appointment?",
    "Do you sell gift cards?",
    "Where can I park?",
    "How much is a 60 minute massage?",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_daphne(port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DEBUG": "1",
        "LOG_LEVEL": "WARNING",
        # The benchmark is one client IP opening hundreds of sessions: lift the per-IP guard.
        "CHAT_MESSAGES_PER_MINUTE_PER_IP": "1000000",
        "CHAT_MESSAGES_PER_MINUTE_PER_CONNECTION": "1000",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "supportai.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("daphne did not start")


@benchmark("chat_load")
def chat_load_benchmark() -> BenchmarkResult:
    from supportai.demo import seed_demo_tenant

    tenant = seed_demo_tenant().tenant
    port = _free_port()
    daphne = _start_daphne(port)
    server = psutil.Process(daphne.pid)
    url = f"ws://127.0.0.1:{port}/ws/chat/?key={tenant.public_key}"
    origin = f"http://127.0.0.1:{port}"
    rows = []
    try:
        for sessions, questions, pace in ((50, 3, 1.0), (200, 3, 8.0)):
            result = asyncio.run(
                run_load(url=url, origin=origin, sessions=sessions, questions=QUESTIONS[:questions], pace_s=pace)
            )
            rows.append({"scenario": f"{sessions} sessions, paced", **result.summary()})
        burst = asyncio.run(run_load(url=url, origin=origin, sessions=200, questions=QUESTIONS[:1]))
        rows.append({"scenario": "burst: 200 questions at once", **burst.summary()})
        before = server.memory_info().rss
        idle = asyncio.run(run_load(url=url, origin=origin, sessions=1000, questions=[], hold_s=5.0))
        per_connection_kib = (server.memory_info().rss - before) / max(idle.connected, 1) / 1024
        rows.append(
            {"scenario": "1000 idle connections", **idle.summary(), "rss_per_conn_kib": round(per_connection_kib, 1)}
        )
    finally:
        daphne.terminate()
        daphne.wait(timeout=30)
    return {"rows": rows, "provider": "local", "server": "one daphne process"}
