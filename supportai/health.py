"""``/healthz``: is each backing component reachable? JSON, HTTP 503 when one is down.

The endpoint is public, so a failed check answers only ``UNAVAILABLE``: exception texts name
hosts, addresses and database users. The full exception goes to the server log instead.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

BROKER_TIMEOUT_SECONDS = 2
# The channel layer's Redis sockets have no read timeout (supportai/channel_layer.py), so a Redis that
# accepts connections and never answers would hold the check, and the probe's request, for ever.
CHANNEL_LAYER_TIMEOUT_SECONDS = 2
UNAVAILABLE = "unavailable"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    detail: str
    latency_ms: float


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        row = cursor.fetchone()
    if row is None:
        raise RuntimeError("pgvector extension is not installed")
    return f"{connection.vendor} ok, pgvector {row[0]}"


def check_cache() -> str:
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    value = cache.get(key)
    cache.delete(key)
    if value != "1":
        raise RuntimeError("cache did not return the value just written")
    return str(settings.CACHES["default"]["BACKEND"]).rsplit(".", 1)[-1]


def check_channel_layer() -> str:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")

    async def round_trip() -> None:
        channel = await layer.new_channel("healthz.")
        await layer.send(channel, {"type": "healthz.ping"})
        message = await layer.receive(channel)
        if message.get("type") != "healthz.ping":
            raise RuntimeError("channel layer returned an unexpected message")

    async def within_deadline() -> None:
        try:
            await asyncio.wait_for(round_trip(), CHANNEL_LAYER_TIMEOUT_SECONDS)
        except TimeoutError:
            raise RuntimeError(f"channel layer did not answer within {CHANNEL_LAYER_TIMEOUT_SECONDS} s") from None

    async_to_sync(within_deadline)()
    return type(layer).__name__


def check_broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager (no broker; tasks run in-process)"
    from supportai.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
        transport = conn.transport_cls
    return f"{transport} broker reachable"


CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "cache": check_cache,
    "channel_layer": check_channel_layer,
    "celery_broker": check_broker,
}


def run_checks() -> dict[str, CheckResult]:
    results: dict[str, CheckResult] = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            detail, ok = check(), True
        except Exception:  # a health check reports every failure instead of raising it
            logger.warning("healthz: the %s check failed", name, exc_info=True)
            detail, ok = UNAVAILABLE, False
        results[name] = CheckResult(ok=ok, detail=detail, latency_ms=round((time.perf_counter() - started) * 1000, 2))
    return results


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    results = run_checks()
    healthy = all(result.ok for result in results.values())
    body = {"status": "ok" if healthy else "fail", "checks": {name: asdict(result) for name, result in results.items()}}
    return JsonResponse(body, status=200 if healthy else 503)
