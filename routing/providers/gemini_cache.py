"""Explicit context caching for the Gemini adapter (``cachedContents``): what to cache, when, and a registry.

The stable prefix of a request is its leading run of ``cacheable`` system blocks (the ones the
Anthropic adapter marks with ``cache_control``): the first becomes the cache's system instruction, the
rest (the knowledge passages) its contents. A prefix is cached only when its estimated size reaches
the model's documented minimum; each process keeps a registry from ``cache_key`` to the cache's name
that forgets an entry ``EXPIRY_MARGIN_S`` before Gemini deletes it, creates at most one cache per key
at a time, and after a failed creation backs off instead of trying again on every call. This module
knows no SDK types: ``gemini.py`` passes in the call that creates a cache.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from routing.providers.base import ProviderError, ProviderRequest

logger = logging.getLogger(__name__)

# Smallest prefix (tokens) Gemini accepts in a cache; a smaller one is refused with HTTP 400. Sources:
# ai.google.dev/gemini-api/docs/caching (2.5 Flash 1,024; 2.5 Pro 4,096) and, for the 2.0 models the
# Gemini API page does not list, cloud.google.com/vertex-ai/generative-ai/docs/context-cache/
# context-cache-overview#limits (Gemini 2.0 models: 2,048), both read 2025-10-01. Longest prefix wins.
MIN_CACHE_TOKENS: dict[str, int] = {
    "gemini-2.0-flash": 2048,
    "gemini-2.0-flash-lite": 2048,
    "gemini-2.5-flash": 1024,
    "gemini-2.5-pro": 4096,
}
MIN_CACHE_TOKENS_DEFAULT = 4096  # unlisted models: the largest documented minimum
# "A token is equivalent to about 4 characters" (ai.google.dev/gemini-api/docs/tokens). An estimate that
# is off only costs one refused creation per prefix (then ``TOO_SMALL_BACKOFF_S``), never the turn.
CHARS_PER_TOKEN = 4
# Storage is billed for the whole TTL (gemini-2.0-flash: $1.00 per 1M tokens per hour), so keep it short:
# at 0.10 input / 0.025 cached per 1M, a cache pays for its five minutes of storage after about two reuses.
CACHE_TTL_S = 300
EXPIRY_MARGIN_S = 30  # forget a cache this long before Gemini does, so no call starts on a dying cache
CREATE_TIMEOUT_S = 5.0  # at most this much (and a third of the call's timeout) is spent creating a cache
FAILURE_BACKOFF_S = 60.0  # 403/429/5xx/timeouts: no creation for any prefix for this long
TOO_SMALL_BACKOFF_S = float(CACHE_TTL_S)  # a 400 (e.g. "too small") for one prefix: not for that prefix
ANY_KEY = "*"


@dataclass(frozen=True)
class StablePrefix:
    """What a cache holds, and the per-turn system blocks that must then travel in the contents."""

    system_instruction: str
    contents: tuple[str, ...]
    rest: tuple[str, ...]

    @property
    def chars(self) -> int:
        return len(self.system_instruction) + sum(len(text) for text in self.contents)


def stable_prefix(request: ProviderRequest) -> StablePrefix | None:
    """The leading cacheable system blocks, or None when the request starts with none."""
    stable = 0
    while stable < len(request.system) and request.system[stable].cacheable:
        stable += 1
    if stable == 0:
        return None
    texts = [block.text for block in request.system]
    return StablePrefix(texts[0], tuple(texts[1:stable]), tuple(texts[stable:]))


def min_cache_tokens(model: str) -> int:
    model = model.removeprefix("models/")
    matches = [name for name in MIN_CACHE_TOKENS if model.startswith(name)]
    return MIN_CACHE_TOKENS[max(matches, key=len)] if matches else MIN_CACHE_TOKENS_DEFAULT


def worth_caching(model: str, prefix: StablePrefix) -> bool:
    return prefix.chars // CHARS_PER_TOKEN >= min_cache_tokens(model)


def cache_key(request: ProviderRequest, prefix: StablePrefix) -> str:
    """Model + prefix (+ tools, which a cache must hold too: a call using a cache cannot send them)."""
    tools = [[t.name, t.description, dict(t.parameters)] for t in request.tools]
    material = [request.model, prefix.system_instruction, list(prefix.contents), tools]
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class CreatedCache:
    name: str
    tokens: int  # what creating it cost (usage_metadata.total_token_count)


@dataclass(frozen=True)
class CacheUse:
    name: str
    write_tokens: int  # the creation's tokens for the call that created the cache, else 0


@dataclass
class CacheRegistry:
    """Cache names by key for one API key in one process; safe across tasks and threads."""

    clock: Callable[[], float] = time.monotonic
    ttl_s: int = CACHE_TTL_S
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _live: dict[str, tuple[str, float]] = field(default_factory=dict, init=False)  # key -> (name, forget at)
    _backoff: dict[str, float] = field(default_factory=dict, init=False)  # key or ANY_KEY -> no creation until
    _pending: dict[str, asyncio.Task[CreatedCache | None]] = field(default_factory=dict, init=False)

    async def use(self, key: str, create: Callable[[], Awaitable[CreatedCache]]) -> CacheUse | None:
        """A live cache for ``key``, created if needed; None means "go uncached" (never raises)."""
        now = self.clock()
        loop = asyncio.get_running_loop()
        with self._lock:
            live = self._live.get(key)
            if live is not None and live[1] > now:
                return CacheUse(live[0], 0)
            if max(self._backoff.get(key, 0.0), self._backoff.get(ANY_KEY, 0.0)) > now:
                return None
            task = self._pending.get(key)
            owner = task is None
            if task is None:
                task = loop.create_task(self._create(key, create, started=now))
                self._pending[key] = task
        if task.get_loop() is not loop:
            return None  # being created from another event loop (a sync caller's thread): don't wait on it
        # Shielded: a caller cancelled mid-creation (customer left, deadline) leaves the cache to the others.
        created = await asyncio.shield(task)
        if created is None:
            return None
        return CacheUse(created.name, created.tokens if owner else 0)

    def drop(self, key: str, name: str) -> None:
        """Forget ``name`` (Gemini no longer knows it); the next call for ``key`` creates a new cache."""
        with self._lock:
            if key in self._live and self._live[key][0] == name:
                del self._live[key]

    async def _create(
        self, key: str, create: Callable[[], Awaitable[CreatedCache]], *, started: float
    ) -> CreatedCache | None:
        try:
            created = await create()
        except Exception as exc:  # caching is an optimisation: whatever went wrong, the call goes uncached
            too_small = isinstance(exc, ProviderError) and exc.status == 400
            scope, pause = (key, TOO_SMALL_BACKOFF_S) if too_small else (ANY_KEY, FAILURE_BACKOFF_S)
            logger.warning("gemini context cache not created (%s); uncached for %.0f s", _describe(exc), pause)
            with self._lock:
                self._backoff[scope] = self.clock() + pause
            return None
        else:
            now = self.clock()
            with self._lock:
                for stale in [k for k, (_, until) in self._live.items() if until <= now]:
                    del self._live[stale]
                self._live[key] = (created.name, started + self.ttl_s - EXPIRY_MARGIN_S)
            return created
        finally:  # after the entry is in place, so no caller sees neither (and creates a second cache)
            with self._lock:
                self._pending.pop(key, None)


def is_stale_cache_error(status: int | None, message: str) -> bool:
    """Gemini no longer has the cache we named: 404, or its "CachedContent not found (or permission
    denied)" 403, or a 400 saying the cache expired."""
    text = message.lower()
    about_cache = "cache" in text
    return status == 404 or (about_cache and ("not found" in text or "expired" in text))


def _describe(exc: Exception) -> str:
    return exc.message if isinstance(exc, ProviderError) else type(exc).__name__
