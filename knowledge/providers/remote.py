"""Helpers shared by the hosted embedding adapters."""

from __future__ import annotations

import math
from collections.abc import Sequence

# Hosted APIs cap inputs per request; we send at most this many texts at once.
REMOTE_BATCH = 96
TIMEOUT_S = 30.0


def normalise(vector: Sequence[float]) -> list[float]:
    """Unit length (cosine = dot product); some APIs return unnormalised truncated vectors."""
    norm = math.sqrt(sum(value * value for value in vector))
    return [value / norm for value in vector] if norm else list(vector)


def batches(texts: Sequence[str], size: int = REMOTE_BATCH) -> list[Sequence[str]]:
    return [texts[start : start + size] for start in range(0, len(texts), size)]


def retryable_status(status: int | None) -> bool:
    return status is None or status == 429 or status >= 500
