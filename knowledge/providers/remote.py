"""Helpers shared by the hosted embedding adapters."""

from __future__ import annotations

import math
from collections.abc import Sequence

from knowledge.providers.base import ProviderError

# Hosted APIs cap inputs per request; we send at most this many texts at once.
REMOTE_BATCH = 96
TIMEOUT_S = 30.0
# What reading an answer that is not the documented JSON raises, in an SDK or in an adapter: a
# missing field, a string where a list belongs, a body that is not JSON at all (a proxy's page).
MALFORMED_ERRORS = (AttributeError, KeyError, IndexError, TypeError, ValueError)
MALFORMED = "{what}: the API answered with something other than its documented response ({error})"


def malformed(what: str, exc: Exception) -> ProviderError:
    """A ``ProviderError`` for an answer that could not be read; retryable, as a proxy's error page
    or a cut body usually pass."""
    return ProviderError(MALFORMED.format(what=what, error=f"{type(exc).__name__}: {exc}"), retryable=True)


def normalise(vector: Sequence[float]) -> list[float]:
    """Unit length (cosine = dot product); some APIs return unnormalised truncated vectors."""
    norm = math.sqrt(sum(value * value for value in vector))
    return [value / norm for value in vector] if norm else list(vector)


def count_check(what: str, vectors: Sequence[object], texts: Sequence[str]) -> None:
    """Raise ``ProviderError`` unless the API returned one vector per text (a missing one would shift
    every later vector onto the wrong text, or leave a query without one)."""
    if len(vectors) != len(texts):
        raise ProviderError(f"{what} returned {len(vectors)} vectors for {len(texts)} texts")


def batches(texts: Sequence[str], size: int = REMOTE_BATCH) -> list[Sequence[str]]:
    return [texts[start : start + size] for start in range(0, len(texts), size)]


def retryable_status(status: int | None) -> bool:
    return status is None or status == 429 or status >= 500
