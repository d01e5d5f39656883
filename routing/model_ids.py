"""Model IDs as the vendors write them.

A pinned ID is its base model fixed in time: OpenAI's dated snapshot ``<base>-YYYY-MM-DD`` (``gpt-5-2025-08-07``,
``o4-mini-2025-04-16``), Anthropic's ``<base>-YYYYMMDD`` (``claude-sonnet-4-5-20250929``,
``claude-haiku-4-5-20251001``), and a Gemini model's stable version ``<base>-NNN`` (``gemini-2.0-flash-001``: "the
three-digit number that's appended to the model name" of Google's model-versioning page, listed on the Gemini 2.0
Flash page as one of its versions and on the deprecations page with the base's dates). The vendor shuts a pinned ID
down with its base and bills it at its base's rates, so it is retired (``config.MODEL_SHUTDOWNS``) and priced
(``prices.PRICES``) as its base where it has no entry of its own.
"""

from __future__ import annotations

import re
from datetime import date

# The day with hyphens (OpenAI's) or without (Anthropic's), never half of each.
SNAPSHOT = re.compile(r"(?P<base>.+)-(?P<year>\d{4})(?P<sep>-?)(?P<month>\d{2})(?P=sep)(?P<day>\d{2})")
# Three digits are a version only in Google's Gemini IDs.
GEMINI_VERSION = re.compile(r"(?P<base>gemini-.+)-\d{3}")


def snapshot_base(model: str) -> str:
    """The base of a pinned ID (``gpt-5-mini-2025-08-07`` → ``gpt-5-mini``, ``claude-sonnet-4-5-20250929`` →
    ``claude-sonnet-4-5``, ``gemini-2.0-flash-001`` → ``gemini-2.0-flash``), any other ID as it is. Only a whole,
    real day or a whole version is taken off, never a part of the name: ``gpt-6.1-sol`` stays itself, not ``gpt-6``,
    ``claude-sonnet-4-5-20251301`` (no day) stays too, and ``gemini-2.0-flash-lite-001`` is Flash-Lite's."""
    dated = SNAPSHOT.fullmatch(model)
    if dated is not None and _is_day(dated):
        return dated["base"]
    version = GEMINI_VERSION.fullmatch(model)
    return model if version is None else version["base"]


def _is_day(dated: re.Match[str]) -> bool:
    try:
        date(int(dated["year"]), int(dated["month"]), int(dated["day"]))
    except ValueError:
        return False
    return True
