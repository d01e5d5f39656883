"""``make bench``: websocket load against a real daphne with the ``local`` provider.

The server runs with ``DEBUG`` off (what production runs) on its own process; the load client runs
in this process on the same two cores. Paced scenarios spread each session's questions evenly
(``chat.loadtest``), so 200 sessions with an 8 s pace offer 25 questions a second. After each
scenario the stored rows split the server's time per answer into the provider's own time (its
``CostEvent`` latency) and the pipeline's overhead around it (everything else the engine did).
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import psutil
from django.db.models import Sum
from django.utils import timezone

from chat.loadtest import LoadResult, run_load
from chat.models import Message, MessageRole
from routing.models import CostEvent
from supportai.benchmarks import BenchmarkResult, benchmark, percentile
from supportai.devserver import free_port, production_env, start_daphne, stop
from supportai.models import Tenant

QUESTIONS = [
    "What are your opening hours?",
    "How do I cancel my appointment?",
    "Do you sell gift cards?",
    "Where can I park?",
    "How much is a 60 minute massage?",
]
# (label, sessions, questions per session, pace in seconds; 0 = all at the same instant)
SCENARIOS = (
    ("50 sessions, 25 msg/s offered", 50, 3, 2.0),
    ("200 sessions, 25 msg/s offered", 200, 3, 8.0),
    ("burst: 200 questions at once", 200, 1, 0.0),
)
IDLE_SESSIONS = 1000

# The benchmark is one client IP opening hundreds of sessions: lift the per-IP guards.
LOAD_ENV = {
    "LOG_LEVEL": "WARNING",
    "CHAT_MESSAGES_PER_MINUTE_PER_IP": "1000000",
    "CHAT_CONVERSATIONS_PER_MINUTE_PER_IP": "1000000",
    "CHAT_MESSAGES_PER_MINUTE_PER_CONNECTION": "1000",
}


def server_split(*, tenant: Tenant, since: datetime) -> dict[str, float]:
    """p50/p95 of the provider's time and of the pipeline's overhead per answer stored since ``since``."""
    answers = dict(
        Message.objects.for_tenant(tenant)
        .filter(role=MessageRole.ASSISTANT, created_at__gte=since, latency_ms__isnull=False)
        .values_list("pk", "latency_ms")
    )
    provider_by_message = dict(
        CostEvent.objects.for_tenant(tenant)
        .filter(message_id__in=list(answers))
        .values("message_id")
        .annotate(total=Sum("latency_ms"))
        .values_list("message_id", "total")
    )
    provider = [provider_by_message.get(pk, 0.0) for pk in answers]
    overhead = [(total or 0.0) - provider_by_message.get(pk, 0.0) for pk, total in answers.items()]
    return {
        "provider_p50_ms": round(percentile(provider, 0.5), 1),
        "provider_p95_ms": round(percentile(provider, 0.95), 1),
        "pipeline_p50_ms": round(percentile(overhead, 0.5), 1),
        "pipeline_p95_ms": round(percentile(overhead, 0.95), 1),
    }


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


@benchmark("chat_load")
def chat_load_benchmark() -> BenchmarkResult:
    from supportai.demo import seed_demo_tenant

    tenant = seed_demo_tenant().tenant
    port = free_port()
    daphne = start_daphne(port, env={**LOAD_ENV, **production_env()})
    server = psutil.Process(daphne.pid)
    url = f"ws://127.0.0.1:{port}/ws/chat/?key={tenant.public_key}"
    origin = f"http://127.0.0.1:{port}"

    def load(sessions: int, questions: list[str], pace: float, hold: float = 0.0) -> LoadResult:
        return asyncio.run(
            run_load(url=url, origin=origin, sessions=sessions, questions=questions, pace_s=pace, hold_s=hold)
        )

    rows = []
    try:
        load(10, QUESTIONS[:2], 0.5)  # warm-up: model load and first connections stay out of the figures
        for label, sessions, count, pace in SCENARIOS:
            since, cpu_before = timezone.now(), _cpu_seconds(server)
            result = load(sessions, QUESTIONS[:count], pace)
            cpu_ms = (_cpu_seconds(server) - cpu_before) * 1000 / max(result.answers, 1)
            rows.append(
                {
                    "scenario": label,
                    **result.summary(),
                    **server_split(tenant=tenant, since=since),
                    "server_cpu_ms_per_answer": round(cpu_ms, 1),
                }
            )
        before = server.memory_info().rss
        idle = load(IDLE_SESSIONS, [], 0.0, hold=5.0)
        per_connection_kib = (server.memory_info().rss - before) / max(idle.connected, 1) / 1024
        rows.append(
            {
                "scenario": f"{IDLE_SESSIONS} idle connections",
                **idle.summary(),
                "rss_per_conn_kib": round(per_connection_kib, 1),
            }
        )
    finally:
        stop(daphne)
    return {"rows": rows, "provider": "local", "server": "one daphne process, DEBUG off"}
