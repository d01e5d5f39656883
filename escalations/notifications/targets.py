"""Outbound HTTP to notification targets: the shared SSRF guard, failures as ``DeliveryError``."""

from __future__ import annotations

import math

import httpx
from django.conf import settings

from escalations.notifications.base import DeliveryError
from supportai import retry_after
from supportai.outbound import UnsafeUrl, guarded_transport, set_location_aside
from supportai.outbound import check_public_url as check_outbound_url


def private_targets_allowed() -> bool:
    allowed: bool = getattr(settings, "ESCALATIONS_ALLOW_PRIVATE_WEBHOOKS", False)
    return allowed


def check_public_url(url: str) -> None:
    """Raise a ``DeliveryError`` unless every address of the URL's host is public (retryable only
    when the host could not be resolved)."""
    try:
        check_outbound_url(url, allow_private=private_targets_allowed())
    except UnsafeUrl as exc:
        raise DeliveryError(str(exc), retryable=exc.retryable) from exc


def post(url: str, *, content: bytes, headers: dict[str, str], timeout_s: float, channel: str) -> httpx.Response:
    """POST ``content`` to a tenant-chosen URL and return the response, whatever its status.

    The pre-flight check refuses bad schemes and private hosts with a clear message; the guarded
    transport then checks the address it actually connects to (DNS rebinding), and
    ``trust_env=False`` keeps an environment proxy from connecting on our behalf. Redirects are not
    followed. Refusals and network errors become ``DeliveryError`` (network errors retryable).
    """
    check_public_url(url)
    client = httpx.Client(
        transport=guarded_transport(allow_private=private_targets_allowed()),
        trust_env=False,
        timeout=httpx.Timeout(timeout_s),
        follow_redirects=False,
        event_hooks={"response": [set_location_aside]},  # a redirect is the target's answer, never a crash
    )
    try:
        with client:
            return client.post(url, content=content, headers=headers)
    except UnsafeUrl as exc:
        raise DeliveryError(str(exc), retryable=exc.retryable) from exc
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{channel}: {exc}", retryable=True) from exc


MAX_RETRY_AFTER_S = 3600


def retry_after_seconds(response: httpx.Response) -> int | None:
    """The wait the response asks for, rounded up to whole seconds, at most an hour: its
    ``Retry-After`` (seconds or an HTTP date; ``retry-after-ms`` first), as ``supportai/retry_after.py``
    reads it; None when absent or unreadable."""
    wait = retry_after.retry_after_seconds(response.headers, cap=MAX_RETRY_AFTER_S)
    return None if wait is None else math.ceil(wait)
