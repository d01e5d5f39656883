"""Model IDs as the vendors write them.

OpenAI's dated snapshots (``<base>-YYYY-MM-DD``: ``gpt-5-2025-08-07``, ``o4-mini-2025-04-16``) are their base model
pinned to one day: OpenAI shuts a snapshot down with its base and bills it at its base's rates, so it is retired
(``config.MODEL_SHUTDOWNS``) and priced (``prices.PRICES``) as its base where it has no entry of its own.
"""

from __future__ import annotations

import re
from datetime import date

SNAPSHOT = re.compile(r"(?P<base>.+)-(?P<day>\d{4}-\d{2}-\d{2})")


def snapshot_base(model: str) -> str:
    """The base of an OpenAI dated snapshot (``gpt-5-mini-2025-08-07`` → ``gpt-5-mini``), any other ID as it is.
    Only a whole day is taken off, never a part of the name: ``gpt-6.1-sol`` stays itself, not ``gpt-6``."""
    match = SNAPSHOT.fullmatch(model)
    if match is None:
        return model
    try:
        date.fromisoformat(match["day"])
    except ValueError:
        return model
    return match["base"]
