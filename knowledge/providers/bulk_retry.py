"""Bounded retries of a hosted provider's requests, for the operators' bulk commands.

The vendors' SDKs run with their own retries off (``max_retries=0``): serving's query embedding has
the turn's deadline, and the Celery task ``knowledge.index_document`` retries a failed document
itself. A bulk command (``ingest``, ``reindex``, ``evaluate_retrieval``, ``tune_retrieval``,
``sync_sources``) has no such layer, and one 429 or 503 would end a run of thousands of batches or
questions. Such a command runs its work inside ``bulk_retries``: then each request of
``embed_documents`` (one batch of at most ``remote.REMOTE_BATCH`` texts) or of ``embed_query`` (a
batch of one text) that fails with a passing error (``rate_limit``, ``unavailable``, a retryable
``malformed``) is sent again, alone, after a backoff with jitter and never before the provider's
``Retry-After``, up to ``ATTEMPTS`` tries and ``MAX_WAIT_S`` of waiting per call. The batches
already answered are kept. Errors the operators must act on (``auth``, ``refused``,
``misconfigured``) are never retried. The Celery tasks ``knowledge.reindex_documents`` and
``knowledge.sync_source`` run inside ``bulk_retries`` too when a worker runs them, with their time
limit (``time_limit_s``): a wait that would end past it ends the run instead.

Outside ``bulk_retries`` (serving, ``knowledge.index_document``, tasks run eagerly inside a web
request) nothing here retries: one retry layer per path. The run is a context variable, so work the
bulk run hands to another thread reaches it only through ``contextvars.copy_context`` (as retrieval
hands its query embedding to its pool).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from knowledge.providers.base import ProviderError, ProviderErrorKind

# Tries of one request, the first included.
ATTEMPTS = 5
# The backoff before the second try, doubled before each later one (2, 4, 8, 16 s); each wait is
# drawn from its upper half (jitter), and is never shorter than the provider's Retry-After (at most
# remote.MAX_RETRY_AFTER_S).
BACKOFF_S = 2.0
# The most one call (``embed_documents``' batches, or one query) waits in all; a wait that would pass
# it ends the run instead. A URL sync renews its claim on the source before each batch (SYNC_LEASE 600 s).
MAX_WAIT_S = 300.0

Notify = Callable[[str], None]

# The line an operator reads while a run waits, by the error's kind.
WAITING: dict[ProviderErrorKind, str] = {
    ProviderErrorKind.RATE_LIMIT: "rate limited by {provider}",
    ProviderErrorKind.UNAVAILABLE: "{provider} is unavailable",
    ProviderErrorKind.MALFORMED: "{provider} sent an answer that could not be read",
}
RETRYING = "{why}; retrying batch {batch} in {seconds} s (attempt {attempt} of {attempts})"
GAVE_UP = "{error} (batch {batch}: gave up after {attempts} attempts and {waited} s of waiting)"
WAIT_TOO_LONG = (
    "{error} (batch {batch}: gave up at attempt {attempt}: waiting {seconds} s more would pass the "
    "{limit} s a batch may wait)"
)
PAST_TIME_LIMIT = (
    "{error} (batch {batch}: gave up at attempt {attempt}: waiting {seconds} s more would pass the "
    "{limit} s time limit of the run)"
)


def _seconds(value: float) -> str:
    """``8``, ``8.5``, ``0.3``: a wait as an operator reads it."""
    return f"{value:.1f}".removesuffix(".0")


def pause(seconds: float) -> None:
    """Wait before a retry (the tests replace it)."""
    time.sleep(seconds)


def retried(error: ProviderError) -> bool:
    """Whether a failed request is sent again: a passing error, never one the operators must fix."""
    return error.retryable and error.kind in WAITING


def backoff_s(attempt: int, error: ProviderError) -> float:
    """The wait after the ``attempt``-th try failed with ``error``: exponential with jitter (its upper
    half), no shorter than the provider asked for."""
    ceiling = BACKOFF_S * 2 ** (attempt - 1)
    jittered = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not security
    return max(jittered, error.retry_after or 0.0)


@dataclass
class BulkRetries:
    """A bulk run's retry state: ``notify`` hears each wait; no wait ends more than ``time_limit_s``
    after the run ``started`` (``time.monotonic()``); ``batch`` counts the requests sent."""

    notify: Notify
    time_limit_s: float | None = None
    started: float = field(default_factory=time.monotonic)
    batch: int = 0

    def embed(
        self,
        provider: str,
        batches: Sequence[Sequence[str]],
        embed_batch: Callable[[Sequence[str]], list[list[float]]],
    ) -> list[list[float]]:
        """The vectors of every batch in order, each batch retried on its own (see the module)."""
        vectors: list[list[float]] = []
        waited = 0.0
        for texts in batches:
            self.batch += 1
            batch_vectors, waited = self._batch(provider, texts, embed_batch, waited=waited)
            vectors.extend(batch_vectors)
        return vectors

    def _batch(
        self,
        provider: str,
        texts: Sequence[str],
        embed_batch: Callable[[Sequence[str]], list[list[float]]],
        *,
        waited: float,
    ) -> tuple[list[list[float]], float]:
        """One batch's vectors, tried up to ``ATTEMPTS`` times, and the call's wait so far."""
        attempt = 1
        while True:
            try:
                return embed_batch(texts), waited
            except ProviderError as exc:
                wait = self._wait(exc, attempt=attempt, waited=waited)
                why = WAITING[exc.kind].format(provider=provider)
            attempt += 1
            self.notify(
                RETRYING.format(why=why, batch=self.batch, seconds=_seconds(wait), attempt=attempt, attempts=ATTEMPTS)
            )
            pause(wait)
            waited += wait

    def _wait(self, error: ProviderError, *, attempt: int, waited: float) -> float:
        """How long to wait before trying again after the ``attempt``-th try failed with ``error``;
        raises ``error`` when it is not retried, and a ``ProviderError`` of its kind saying why the
        run stopped when the tries, the batch's waiting or the run's time are used up."""
        if not retried(error):
            raise error
        if attempt == ATTEMPTS:
            raise self._gave_up(error, GAVE_UP, attempts=attempt, waited=_seconds(waited)) from error
        wait = backoff_s(attempt, error)
        if waited + wait > MAX_WAIT_S:
            raise self._gave_up(
                error, WAIT_TOO_LONG, attempt=attempt, seconds=_seconds(wait), limit=_seconds(MAX_WAIT_S)
            ) from error
        if self.time_limit_s is not None and time.monotonic() + wait > self.started + self.time_limit_s:
            raise self._gave_up(
                error, PAST_TIME_LIMIT, attempt=attempt, seconds=_seconds(wait), limit=_seconds(self.time_limit_s)
            ) from error
        return wait

    def _gave_up(self, error: ProviderError, template: str, **figures: object) -> ProviderError:
        """``error`` (its kind, its wait) with why the run stopped retrying it."""
        return ProviderError(
            template.format(error=error, batch=self.batch, **figures),
            kind=error.kind,
            retryable=error.retryable,
            retry_after=error.retry_after,
        )


_RUN: ContextVar[BulkRetries | None] = ContextVar("knowledge_bulk_retries", default=None)


@contextmanager
def bulk_retries(notify: Notify, *, time_limit_s: float | None = None) -> Iterator[BulkRetries]:
    """Retry hosted providers' document batches within the block (a bulk run), telling ``notify``
    before each wait; with ``time_limit_s``, no wait ends later than that after the block began."""
    run = BulkRetries(notify=notify, time_limit_s=time_limit_s)
    token = _RUN.set(run)
    try:
        yield run
    finally:
        _RUN.reset(token)


def embed_batches(
    provider: str, batches: Sequence[Sequence[str]], embed_batch: Callable[[Sequence[str]], list[list[float]]]
) -> list[list[float]]:
    """The vectors of ``batches`` in order: retried within ``bulk_retries``, else each tried once."""
    run = _RUN.get()
    if run is None:
        return [vector for texts in batches for vector in embed_batch(texts)]
    return run.embed(provider, batches, embed_batch)


def embed_text(provider: str, text: str, embed_batch: Callable[[Sequence[str]], list[list[float]]]) -> list[float]:
    """The vector of one text (a query), sent as a batch of one: retried within ``bulk_retries``
    (a command measuring retrieval), else tried once (serving, which has the turn's deadline)."""
    [vector] = embed_batches(provider, [[text]], embed_batch)
    return vector
