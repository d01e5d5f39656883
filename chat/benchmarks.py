"""``make bench``: websocket load against a real daphne with the ``local`` provider."""

from __future__ import annotations

import asyncio

import psutil

from chat.loadtest import run_load
from supportai.benchmarks import BenchmarkResult, benchmark
from supportai.devserver import free_port, start_daphne, stop

QUESTIONS = [
    "What are your opening hours?",
    "How do I cancel my appointment?",
    "Do you sell gift cards?",
    "Where can I park?",
    "How much is a 60 minute massage?",
]


# The benchmark is one client IP opening hundreds of sessions: lift the per-IP guard.
LOAD_ENV = {
    "LOG_LEVEL": "WARNING",
    "CHAT_MESSAGES_PER_MINUTE_PER_IP": "1000000",
    "CHAT_MESSAGES_PER_MINUTE_PER_CONNECTION": "1000",
}


@benchmark("chat_load")
def chat_load_benchmark() -> BenchmarkResult:
    from supportai.demo import seed_demo_tenant

    tenant = seed_demo_tenant().tenant
    port = free_port()
    daphne = start_daphne(port, env=LOAD_ENV)
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
        stop(daphne)
    return {"rows": rows, "provider": "local", "server": "one daphne process"}
