"""What Google's API error bodies say beyond the status, for the Gemini adapters of ``knowledge``
(embeddings) and ``routing`` (generation), both through google-genai.

Google's errors are ``{"error": {"code", "message", "status", "details": [...]}}``; each detail is a
``google.rpc`` message named by its ``@type``.
"""

from __future__ import annotations

import math

from google.genai import errors

RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"


def error_details(exc: errors.APIError) -> list[dict[str, object]]:
    """The ``details`` of the error body, the objects only."""
    error = exc.details.get("error") if isinstance(exc.details, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    return [detail for detail in details if isinstance(detail, dict)] if isinstance(details, list) else []


def retry_delay_s(exc: errors.APIError) -> float | None:
    """The wait a 429 asks for, in seconds: Google sends no ``Retry-After`` header but a ``RetryInfo``
    detail whose ``retryDelay`` is a Duration (``"37s"``, ``"37.5s"``); None without a readable one.
    Uncapped: each caller bounds it by what it can wait."""
    delay = next((d.get("retryDelay") for d in error_details(exc) if d.get("@type") == RETRY_INFO), None)
    if not isinstance(delay, str) or not delay.endswith("s"):
        return None
    try:
        seconds = float(delay.removesuffix("s"))
    except ValueError:
        return None
    return max(seconds, 0.0) if math.isfinite(seconds) else None
