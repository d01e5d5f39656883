"""Rate limits for public chat traffic: per connection (in memory) and per client IP (shared cache)."""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache

from chat.phrases import ErrorText, english_error
from supportai.client_address import limit_key
from supportai.shared_cache import CACHE_ERRORS

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60.0
# English, as every error before the customer has written (the language is theirs from their first message)
TOO_MANY_CONVERSATIONS = english_error(ErrorText.TOO_MANY_CHATS)


def _setting(name: str, default: int) -> int:
    value: int = getattr(settings, name, default)
    return value


def messages_per_connection() -> int:
    return _setting("CHAT_MESSAGES_PER_MINUTE_PER_CONNECTION", 20)


def messages_per_ip() -> int:
    return _setting("CHAT_MESSAGES_PER_MINUTE_PER_IP", 120)


def conversations_per_ip() -> int:
    return _setting("CHAT_CONVERSATIONS_PER_MINUTE_PER_IP", 60)


def frames_per_connection() -> int:
    """Any frame (pings included); far above human use, catches floods."""
    return _setting("CHAT_FRAMES_PER_MINUTE_PER_CONNECTION", 120)


@dataclass
class SlidingWindow:
    limit: int
    window: float = WINDOW_SECONDS
    hits: deque[float] = field(default_factory=deque)

    def allow(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        while self.hits and now - self.hits[0] > self.window:
            self.hits.popleft()
        if len(self.hits) >= self.limit:
            return False
        self.hits.append(now)
        return True


def wall_clock() -> float:
    """Seconds since the epoch: the minute buckets must agree across processes (tests pin it)."""
    return time.time()


def ip_allows_message(ip: str) -> bool:
    """Whether ``ip`` may send one more message this minute (``CHAT_MESSAGES_PER_MINUTE_PER_IP``)."""
    return _ip_allows("ip", ip, messages_per_ip())


def ip_allows_conversation(ip: str) -> bool:
    """Whether ``ip`` may open one more conversation this minute (``CHAT_CONVERSATIONS_PER_MINUTE_PER_IP``):
    each one is a stored row, and a socket needs no message to open one."""
    return _ip_allows("conversations", ip, conversations_per_ip())


def _ip_allows(counter: str, ip: str, limit: int) -> bool:
    """Fixed one-minute buckets in the shared cache, so every process counts the same IP (an IPv6 /64) together.

    Fails open: while the cache is down the message or conversation is let through (and a warning
    logged), as the socket's own limits still hold and refusing would stop every customer's chat for a
    counter.
    """
    if not ip:
        return True
    try:
        count = _count(counter, ip)
    except CACHE_ERRORS as exc:
        what = "message" if counter == "ip" else "conversation"
        logger.warning("per-IP %s limit not counted, it is let through (the cache failed: %r)", what, exc)
        return True
    return count <= limit


def _count(counter: str, ip: str) -> int:
    bucket = int(wall_clock() // WINDOW_SECONDS)
    key = f"chat:{counter}:{limit_key(ip)}:{bucket}"
    if cache.add(key, 1, timeout=int(WINDOW_SECONDS) * 2):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=int(WINDOW_SECONDS) * 2)
            count = 1
    return count
