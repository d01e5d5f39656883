"""The wait an HTTP answer asks for before trying again, read one way for every outbound caller:
routing's LLM vendors, knowledge's embedding APIs, escalations' Slack and webhook receivers. Each
caller passes the longest wait it can honour (``cap``). Google sends its wait in the body instead
(``supportai/google_errors.py``)."""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Mapping

# HTTP's delay-seconds, with the fraction some vendors send (Anthropic: "1.5"), in ASCII digits only:
# no sign, exponent, "nan" or "inf", nor the other digits float() would read.
SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def retry_after_seconds(headers: Mapping[str, str], *, cap: float) -> float | None:
    """The wait ``headers`` ask for, in seconds, at most ``cap``: ``retry-after-ms`` (OpenAI's, the
    precise one) before ``retry-after`` (seconds, fractions accepted, or an HTTP date). A value that is
    not a number of seconds or a date, or is a date gone by, is skipped; None when none is left.
    Header names are matched regardless of case."""
    named = {name.lower(): value.strip() for name, value in headers.items()}
    seconds = named.get("retry-after", "")
    for wait in (_seconds(named.get("retry-after-ms", ""), per_second=1000), _seconds(seconds), _until(seconds)):
        if wait is not None:
            return min(wait, cap)
    return None


def _seconds(value: str, *, per_second: int = 1) -> float | None:
    """``value`` read as a number of ``1 / per_second`` units, in seconds (one too long for a float
    reads as infinite, which any cap bounds); None when it is not such a number."""
    return float(value) / per_second if SECONDS.fullmatch(value) else None


def _until(date: str) -> float | None:
    """The seconds from now to the HTTP date ``date``; None when it is no date or one gone by."""
    parsed = email.utils.parsedate_tz(date) if date else None
    try:
        left = email.utils.mktime_tz(parsed) - time.time() if parsed else None
    except (OverflowError, ValueError):
        return None
    return left if left is not None and left >= 0 else None
