"""Explicit context caching for the Gemini adapter (``cachedContents``): what to cache, when, and a registry.

What is cached. The request's leading ``cacheable`` system blocks (the ones the Anthropic adapter marks
with ``cache_control``) give the candidate prefixes, longest first: the instructions plus the knowledge
passages, then the instructions alone (a cache may hold only a system instruction; whatever it does not
hold travels at the head of the contents). A call names the longest candidate that has a live cache.
The instructions are identical for every turn of a tenant (per tier and modality), so a cache of them
alone would be reused by nearly every turn; but with our templates they are about 500 tokens, below
every model's documented minimum, so in practice the candidate that qualifies is instructions plus
passages, whose key changes whenever retrieval returns other passages. It is reused only when the same
passages come back (the same question asked again, which support traffic does often), so:

When. A prefix is cached only on its second sighting within ``CACHE_TTL_S`` (a one-off prefix never
pays for a cache it would use once), and never on the critical path: the sighting that qualifies
starts the creation as a background task and its own turn goes uncached; later turns with that prefix
name the cache once it exists. The first token never waits for ``caches.create``. A call starts at
most one creation, for the longest candidate seen twice: a repeated question caches its passages too,
and the instructions alone are cached (when they qualify) on a turn whose passages are new.

What it costs. A creation's tokens (``usage_metadata.total_token_count``) are owed to the prefix's
family (model + instructions + tools: in practice one tenant at one tier and modality) and the next
call of that family to finish claims them as its ``cache_write_tokens``, so they are booked once in the
cost ledger however the turn that started the creation ended (usually that turn itself claims them).
A creation that failed with an HTTP answer created nothing and owes nothing; one that timed out, lost
its connection or was cancelled (its event loop shut down) may have been created and billed, so it
owes an estimate (``routing/tokens.py``), as the router does for a call abandoned mid-stream.

The registry (one per API key and process) forgets a cache ``EXPIRY_MARGIN_S`` before Gemini deletes it,
creates at most one cache per key at a time, and after a failed creation backs off instead of trying
again on every call. This module knows no SDK types: ``gemini.py`` passes in the call that creates a cache.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from routing.model_ids import snapshot_base
from routing.providers.base import ProviderError, ProviderRequest
from routing.tokens import estimate_tokens

logger = logging.getLogger(__name__)

# Smallest prefix (tokens) Gemini accepts in a cache; a smaller one is refused with HTTP 400. Sources:
# ai.google.dev/gemini-api/docs/caching (2.5 Flash 1,024; 2.5 Pro 4,096) and, for the 2.0 models the
# Gemini API page does not list, cloud.google.com/vertex-ai/generative-ai/docs/context-cache/
# context-cache-overview#limits (Gemini 2.0 models: 2,048), both read 2025-10-01. A pinned ID takes its base's
# (``model_ids.snapshot_base``: ``gemini-2.5-flash-001`` is 2.5 Flash's), as prices and shutdowns do; another model
# whose name only starts with a listed one (``gemini-2.5-flash-lite`` is not 2.5 Flash) is unlisted.
MIN_CACHE_TOKENS: dict[str, int] = {
    "gemini-2.0-flash": 2048,
    "gemini-2.0-flash-lite": 2048,
    "gemini-2.5-flash": 1024,
    "gemini-2.5-pro": 4096,
}
MIN_CACHE_TOKENS_DEFAULT = 4096  # unlisted models: the largest documented minimum
# Sizes are estimated (routing/tokens.py). An estimate that is off only costs one refused creation per
# prefix (then ``TOO_SMALL_BACKOFF_S``), never the turn.
# Storage is billed for the whole TTL (gemini-2.0-flash: $1.00 per 1M tokens per hour), so keep it short:
# at 0.10 input / 0.025 cached per 1M, a cache pays for its five minutes of storage after about two reuses.
CACHE_TTL_S = 300
EXPIRY_MARGIN_S = 30  # forget a cache this long before Gemini does, so no call starts on a dying cache
CREATE_TIMEOUT_S = 5.0  # a creation runs in the background; past this it is abandoned (and backed off)
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
    def estimated_tokens(self) -> int:
        return estimate_tokens(self.system_instruction) + sum(estimate_tokens(text) for text in self.contents)


def stable_prefixes(request: ProviderRequest) -> list[StablePrefix]:
    """The candidate prefixes, longest first: every leading run of cacheable system blocks."""
    stable = 0
    while stable < len(request.system) and request.system[stable].cacheable:
        stable += 1
    texts = [block.text for block in request.system]
    return [StablePrefix(texts[0], tuple(texts[1:end]), tuple(texts[end:])) for end in range(stable, 0, -1)]


def min_cache_tokens(model: str) -> int:
    """``model``'s entry in ``MIN_CACHE_TOKENS``, or its base's for a pinned ID; ``MIN_CACHE_TOKENS_DEFAULT``
    when neither has one."""
    model = model.removeprefix("models/")
    return MIN_CACHE_TOKENS.get(model) or MIN_CACHE_TOKENS.get(snapshot_base(model), MIN_CACHE_TOKENS_DEFAULT)


def worth_caching(model: str, prefix: StablePrefix) -> bool:
    return prefix.estimated_tokens >= min_cache_tokens(model)


def cache_key(request: ProviderRequest, prefix: StablePrefix) -> str:
    """Model + prefix (+ tools, which a cache must hold too: a call using a cache cannot send them)."""
    tools = [[t.name, t.description, dict(t.parameters)] for t in request.tools]
    material = [request.model, prefix.system_instruction, list(prefix.contents), tools]
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def cache_family(request: ProviderRequest, prefixes: list[StablePrefix]) -> str:
    """The key of the shortest candidate (the instructions): whose calls pay for its caches' creation."""
    return cache_key(request, prefixes[-1])


@dataclass(frozen=True)
class CreatedCache:
    name: str
    tokens: int  # what creating it cost (usage_metadata.total_token_count)


@dataclass(frozen=True)
class Sighting:
    name: str | None  # a live cache to name in this call, else go uncached
    creating: bool  # a cache for this prefix is being created (by this call or an earlier one)


@dataclass
class CacheRegistry:
    """Cache names by key for one API key in one process; safe across tasks and threads."""

    clock: Callable[[], float] = time.monotonic
    ttl_s: int = CACHE_TTL_S
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _live: dict[str, tuple[str, float]] = field(default_factory=dict, init=False)  # key -> (name, forget at)
    _seen: OrderedDict[str, float] = field(default_factory=OrderedDict, init=False)  # key -> last sighting
    _backoff: dict[str, float] = field(default_factory=dict, init=False)  # key or ANY_KEY -> no creation until
    _pending: dict[str, asyncio.Task[None]] = field(default_factory=dict, init=False)
    _owed: dict[str, int] = field(default_factory=dict, init=False)  # family -> creation tokens not yet booked

    def use(
        self,
        key: str,
        create: Callable[[], Awaitable[CreatedCache]] | None,
        *,
        family: str,
        estimated_tokens: int,
    ) -> Sighting:
        """Record a sighting of ``key``: the name of its live cache, if any; on the second sighting within
        the TTL, start creating the cache in the background (not when ``create`` is None: a longer prefix
        of the same call is being created). Never waits, never raises."""
        now = self.clock()
        with self._lock:
            live = self._live.get(key)
            previous = self._sighted(key, now)
            if live is not None and live[1] > now:
                return Sighting(live[0], creating=False)
            pending = self._pending.get(key)
            if pending is not None and not pending.get_loop().is_closed():
                return Sighting(None, creating=True)
            backoff = max(self._backoff.get(key, 0.0), self._backoff.get(ANY_KEY, 0.0))
            if create is None or previous is None or backoff > now:
                return Sighting(None, creating=False)
            # Held here until done (the loop keeps only a weak reference to a task).
            self._pending[key] = asyncio.get_running_loop().create_task(
                self._create(key, create, family=family, estimated_tokens=estimated_tokens, started=now)
            )
        return Sighting(None, creating=True)

    def live(self, key: str) -> str | None:
        """The name of ``key``'s live cache, if any, without counting a sighting."""
        with self._lock:
            live = self._live.get(key)
            return live[0] if live is not None and live[1] > self.clock() else None

    def claim_owed(self, family: str) -> int:
        """Creation tokens of ``family``'s caches not yet booked; the caller books them (once)."""
        with self._lock:
            return self._owed.pop(family, 0)

    def drop(self, key: str, name: str) -> None:
        """Forget ``name`` (Gemini no longer knows it); a later sighting of ``key`` creates a new cache."""
        with self._lock:
            if key in self._live and self._live[key][0] == name:
                del self._live[key]

    async def settle(self) -> None:
        """Wait for the creations in flight on this event loop (tests, a graceful shutdown)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            tasks = [task for task in self._pending.values() if task.get_loop() is loop]
        await asyncio.gather(*tasks, return_exceptions=True)

    def _sighted(self, key: str, now: float) -> float | None:
        """Record a sighting of ``key``; the previous one within the TTL, if any. Call under the lock."""
        while self._seen and next(iter(self._seen.values())) <= now - self.ttl_s:
            self._seen.popitem(last=False)
        previous = self._seen.pop(key, None)
        self._seen[key] = now
        return previous

    async def _create(
        self,
        key: str,
        create: Callable[[], Awaitable[CreatedCache]],
        *,
        family: str,
        estimated_tokens: int,
        started: float,
    ) -> None:
        owed = estimated_tokens  # until we know otherwise, Gemini may have created (and billed) it
        try:
            created = await create()
        except Exception as exc:  # caching is an optimisation: whatever went wrong, calls go uncached
            status = exc.status if isinstance(exc, ProviderError) else None
            if status is not None:  # Gemini answered with an error: nothing was created
                owed = 0
            scope, pause = (key, TOO_SMALL_BACKOFF_S) if status == 400 else (ANY_KEY, FAILURE_BACKOFF_S)
            logger.warning("gemini context cache not created (%s); none for %.0f s", _describe(exc), pause)
            with self._lock:
                self._backoff[scope] = self.clock() + pause
        else:
            owed = created.tokens
            now = self.clock()
            with self._lock:
                for stale in [k for k, (_, until) in self._live.items() if until <= now]:
                    del self._live[stale]
                self._live[key] = (created.name, started + self.ttl_s - EXPIRY_MARGIN_S)
        finally:  # also when cancelled (the loop is shutting down): the cost is owed all the same
            with self._lock:
                if owed:
                    self._owed[family] = self._owed.get(family, 0) + owed
                if self._pending.get(key) is asyncio.current_task():
                    del self._pending[key]


def is_stale_cache_error(status: int | None, message: str) -> bool:
    """Gemini no longer has the cache we named: 404, or its "CachedContent not found (or permission
    denied)" 403, or a 400 saying the cache expired."""
    text = message.lower()
    about_cache = "cache" in text
    return status == 404 or (about_cache and ("not found" in text or "expired" in text))


def _describe(exc: Exception) -> str:
    return exc.message if isinstance(exc, ProviderError) else type(exc).__name__
