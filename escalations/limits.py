"""Escalation limits.

The seed's escalation limiter: at most ``ESCALATIONS_PER_HOUR`` per client IP (an IPv6 /64, see
``supportai.client_address.limit_key``) and per customer; its counters live in the shared cache
(Redis when ``REDIS_URL`` is set), so every process counts together.
The staff inbox socket's per-connection frame limits (in memory, ``chat.limits.SlidingWindow``) and
how often it re-reads the queue.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache

from chat.phrases import ErrorText, english_error
from supportai.client_address import limit_key
from supportai.shared_cache import CACHE_ERRORS

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 3600
RATE_LIMITED_MESSAGE = english_error(ErrorText.HANDOFF_TOO_OFTEN)


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
        keys.append(f"esc:ip:{limit_key(ip)}:{bucket}")
    return keys


def _count_one(key: str) -> int:
    if cache.add(key, 1, timeout=WINDOW_SECONDS * 2):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
        return 1


class EscalationSlots:
    """The slots of the hourly limits (this customer's, this IP's) that one raise holds.

    ``take`` counts the raise at once, one atomic increment per counter, so however many raises run at
    the same time no more than the limit are let through; ``give_back`` uncounts it when it opened no
    escalation (refused, or its transaction failed or rolled back), so a counter is the escalations
    opened this hour plus those being opened right now, and a customer who met a database error is
    not told they asked too often. A raise refused while others are still being opened may be one a
    failing one would have left room for: the limit errs on the side of refusing.
    """

    def __init__(self) -> None:
        self._keys: list[str] = []

    def take(self, *, tenant_id: int, ip: str, customer_key: str) -> bool:
        """Count one escalation for this IP and customer; False once either is over the hourly limit.

        Fails open: a counter the cache cannot reach is not counted (a warning is logged), as a customer
        asking for a person should reach one, and a conversation still holds one open handoff at most.
        """
        allowed = True
        for key in _bucket_keys(tenant_id=tenant_id, ip=ip, customer_key=customer_key):
            try:
                count = _count_one(key)
            except CACHE_ERRORS as exc:
                logger.warning(
                    "escalation limit %s not counted, the raise is let through (the cache failed: %r)", key, exc
                )
                continue
            self._keys.append(key)
            allowed = allowed and count <= escalations_per_hour()
        return allowed

    def keep(self) -> None:
        """The escalation committed: what ``take`` counted stays counted, whatever fails after."""
        self._keys = []

    def give_back(self) -> None:
        """Uncount what ``take`` counted (nothing once kept). Best effort: runs while another error is
        raised, which a cache failure here must not hide (the slot then stays used until its window ends)."""
        keys, self._keys = self._keys, []
        for key in keys:
            try:
                cache.decr(key)
            except ValueError:  # its window's counter expired meanwhile: nothing left to uncount
                pass
            except Exception as exc:
                logger.warning("escalation limit counter %s was not given back: %r", key, exc)
