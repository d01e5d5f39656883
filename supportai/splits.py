"""A stable dev/holdout split of a dataset's rows, by a hash of their text."""

from __future__ import annotations

import hashlib

SPLITS = ("dev", "holdout", "all")


def split_of(text: str) -> str:
    """A stable half of the data: tune rules on ``dev``, report ``holdout`` untouched."""
    return "dev" if hashlib.sha256(text.encode()).digest()[0] % 2 == 0 else "holdout"
