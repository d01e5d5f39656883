"""Model IDs as the vendors write them.

A dated snapshot is its base model pinned to one day: OpenAI writes it ``<base>-YYYY-MM-DD`` (``gpt-5-2025-08-07``,
``o4-mini-2025-04-16``), Anthropic ``<base>-YYYYMMDD`` (``claude-sonnet-4-5-20250929``, ``claude-haiku-4-5-20251001``).
The vendor shuts a snapshot down with its base and bills it at its base's rates, so it is retired
(``config.MODEL_SHUTDOWNS``) and priced (``prices.PRICES``) as its base where it has no entry of its own.
"""

from __future__ import annotations

import re
from datetime import date

# The day with hyphens (OpenAI's) or without (Anthropic's), never half of each.
SNAPSHOT = re.compile(r"(?P<base>.+)-(?P<year>\d{4})(?P<sep>-?)(?P<month>\d{2})(?P=sep)(?P<day>\d{2})")


def snapshot_base(model: str) -> str:
    """The base of a dated snapshot (``gpt-5-mini-2025-08-07`` → ``gpt-5-mini``, ``claude-sonnet-4-5-20250929`` →
    ``claude-sonnet-4-5``), any other ID as it is. Only a whole, real day is taken off, never a part of the name:
    ``gpt-6.1-sol`` stays itself, not ``gpt-6``, and ``claude-sonnet-4-5-20251301`` (no day) stays too."""
    match = SNAPSHOT.fullmatch(model)
    if match is None:
        return model
    try:
        date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError:
        return model
    return match["base"]
