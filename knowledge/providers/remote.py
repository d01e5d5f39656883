"""Helpers shared by the hosted embedding adapters."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from knowledge.providers.base import OPERATOR_KINDS, ProviderError, ProviderErrorKind
from supportai.retry_after import retry_after_seconds

# Hosted APIs cap inputs per request; we send at most this many texts at once.
REMOTE_BATCH = 96
# A document batch at ingest may take long; a search query is one short text that a chat turn waits
# for, so its call gives up much sooner and frees the embedding pool's worker (knowledge/retrieval.py).
TIMEOUT_S = 30.0
QUERY_TIMEOUT_S = 5.0
# What reading an answer that is not the documented JSON raises, in an SDK or in an adapter: a
# missing field, a string where a list belongs, a body that is not JSON at all (a proxy's page).
MALFORMED_ERRORS = (AttributeError, KeyError, IndexError, TypeError, ValueError)
MALFORMED = "{what}: the API answered with something other than its documented response ({error})"


def malformed(what: str, exc: Exception) -> ProviderError:
    """A ``ProviderError`` for an answer that could not be read; retryable, as a proxy's error page
    or a cut body usually pass."""
    return ProviderError(
        MALFORMED.format(what=what, error=f"{type(exc).__name__}: {exc}"),
        kind=ProviderErrorKind.MALFORMED,
        retryable=True,
    )


def unreachable(what: str, exc: Exception) -> ProviderError:
    """A ``ProviderError`` for a call that got no answer (no connection, a timeout); retryable."""
    return ProviderError(f"{what}: {exc}", kind=ProviderErrorKind.UNAVAILABLE, retryable=True)


def normalise(vector: Sequence[float]) -> list[float]:
    """Unit length (cosine = dot product); some APIs return unnormalised truncated vectors."""
    norm = math.sqrt(sum(value * value for value in vector))
    return [value / norm for value in vector] if norm else list(vector)


def count_check(what: str, vectors: Sequence[object], texts: Sequence[str]) -> None:
    """Raise ``ProviderError`` unless the API returned one vector per text (a missing one would shift
    every later vector onto the wrong text, or leave a query without one)."""
    if len(vectors) != len(texts):
        raise ProviderError(
            f"{what} returned {len(vectors)} vectors for {len(texts)} texts", kind=ProviderErrorKind.MALFORMED
        )


def batches(texts: Sequence[str], size: int = REMOTE_BATCH) -> list[Sequence[str]]:
    return [texts[start : start + size] for start in range(0, len(texts), size)]


def status_kind(status: int | None) -> ProviderErrorKind:
    """The kind of an HTTP error answer (no status: the SDK could not tell, taken for an outage; a
    success status: an SDK refusing a body it could not read)."""
    if status is not None and status < 300:
        return ProviderErrorKind.MALFORMED
    if status in (401, 403):
        return ProviderErrorKind.AUTH
    if status == 429:
        return ProviderErrorKind.RATE_LIMIT
    if status is None or status >= 500:
        return ProviderErrorKind.UNAVAILABLE
    return ProviderErrorKind.REFUSED


# A longer Retry-After is waited no longer: a document should not sit pending for hours.
MAX_RETRY_AFTER_S = 600.0


def retry_after_s(headers: Mapping[str, str] | None) -> float | None:
    """The wait an answer's headers ask for, in seconds, at most ``MAX_RETRY_AFTER_S``: its
    ``Retry-After`` (seconds or an HTTP date; ``retry-after-ms`` first), as ``supportai/retry_after.py``
    reads it; None when it has none or no readable one."""
    return retry_after_seconds(headers or {}, cap=MAX_RETRY_AFTER_S)


def status_error(
    what: str,
    status: int | None,
    detail: object,
    headers: Mapping[str, str] | None,
    *,
    kind: ProviderErrorKind | None = None,
    retry_after: float | None = None,
) -> ProviderError:
    """The ``ProviderError`` for an HTTP error answer, of the kind its status says (unless the
    vendor's answer tells better, ``kind``): retryable for a rate limit, an outage or an unreadable
    answer (as ``malformed``), after at least the wait the answer asks for (``retry_after`` when the
    vendor puts it in the body, else the ``Retry-After`` header). ``detail`` (the vendor's words)
    stays in the message, for the log."""
    kind = kind or status_kind(status)
    return ProviderError(
        f"{what}: HTTP {status}: {detail}",
        kind=kind,
        retryable=kind not in OPERATOR_KINDS,
        retry_after=retry_after if retry_after is not None else retry_after_s(headers),
    )
