"""Escalation limits.

The seed's escalation limiter: at most ``ESCALATIONS_PER_HOUR`` per client IP and per customer; its
counters live in the shared cache (Redis when ``REDIS_URL`` is set), so every process counts together.
The staff inbox socket's per-connection frame limits (in memory, ``chat.limits.SlidingWindow``) and
how often it re-reads the queue.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = 3600
RATE_LIMITED_MESSAGE = (
    "You have asked for a person several times in the last hour. Our team already has your request; "
    "please wait for them, or try again later."
)


def escalations_per_hour() -> int:
    limit: int = getattr(settings, "ESCALATIONS_PER_HOUR", 3)
    return limit


def inbox_frames_per_connection() -> int:
    """Any frame on one inbox socket a minute (typing included); far above human use, catches floods."""
    limit: int = getattr(settings, "INBOX_FRAMES_PER_MINUTE_PER_CONNECTION", 120)
    return limit


def inbox_typing_interval() -> float:
    """Seconds between two ``agent.typing`` frames one inbox socket sends the customer (more are dropped)."""
    milliseconds: int = getattr(settings, "INBOX_TYPING_INTERVAL_MS", 1_000)
    return milliseconds / 1000


def inbox_queue_refresh_interval() -> float:
    """Seconds between two reads of the queue one inbox socket makes for changes (a burst is coalesced)."""
    milliseconds: int = getattr(settings, "INBOX_QUEUE_REFRESH_MS", 500)
    return milliseconds / 1000


def _bucket_keys(*, tenant_id: int, ip: str, customer_key: str) -> list[str]:
    bucket = int(time.time() // WINDOW_SECONDS)
    keys = [f"esc:t{tenant_id}:customer:{customer_key}:{bucket}"]
    if ip:
        keys.append(f"esc:ip:{ip}:{bucket}")
    return keys


def escalation_allowed(*, tenant_id: int, ip: str, customer_key: str) -> bool:
    """Count one escalation for this IP and customer; False once either is over the hourly limit."""
    allowed = True
    for key in _bucket_keys(tenant_id=tenant_id, ip=ip, customer_key=customer_key):
        if cache.add(key, 1, timeout=WINDOW_SECONDS * 2):
            continue
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
            count = 1
        allowed = allowed and count <= escalations_per_hour()
    return allowed
