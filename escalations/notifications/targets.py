"""Outbound HTTP to notification targets: the shared SSRF guard, failures as ``DeliveryError``."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import httpx
from django.conf import settings

from escalations.notifications.base import DeliveryError, TargetGone
from supportai import retry_after
from supportai.outbound import UnsafeUrl, guarded_transport, request_deadline, set_location_aside
from supportai.outbound import check_public_url as check_outbound_url

# A whole attempt (connect, send, the answer) ends by then: far inside the row's lease (5 min), after
# which another copy of the task would send the notification again.
ATTEMPT_DEADLINE_S = 30.0
# What is read of an answer's body (its start goes into the delivery's last error); the rest is left unread.
MAX_ANSWER_BYTES = 4096


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


@dataclass(frozen=True)
class Answer:
    """A receiver's answer: its status, the wait it asks for before a retry (``Retry-After``, whole
    seconds) and the start of its body (at most ``MAX_ANSWER_BYTES``, as text)."""

    status_code: int
    retry_after: int | None
    text: str


def post(url: str, *, content: bytes, headers: dict[str, str], timeout_s: float, channel: str) -> Answer:
    """POST ``content`` to a tenant-chosen URL and return the answer, whatever its status.

    The pre-flight check refuses bad schemes and private hosts with a clear message; the guarded
    transport then checks the address it actually connects to (DNS rebinding), and
    ``trust_env=False`` keeps an environment proxy from connecting on our behalf. Redirects are not
    followed. ``timeout_s`` bounds each wait, ``ATTEMPT_DEADLINE_S`` the whole attempt (a receiver
    that dribbles its answer byte by byte is cut off), and only the start of the answer's body is
    read. Refusals and network errors become ``DeliveryError`` (network errors retryable).
    """
    check_public_url(url)
    client = httpx.Client(
        transport=guarded_transport(allow_private=private_targets_allowed()),
        trust_env=False,
        timeout=httpx.Timeout(timeout_s),
        follow_redirects=False,
        event_hooks={"response": [set_location_aside]},  # a redirect is the target's answer, never a crash
    )
    # Uncompressed, so what is read of the body is its start as sent, not a chunk to inflate.
    headers = {**headers, "Accept-Encoding": "identity"}
    try:
        with (
            client,
            request_deadline(time.monotonic() + ATTEMPT_DEADLINE_S),
            client.stream("POST", url, content=content, headers=headers) as response,
        ):
            return Answer(response.status_code, retry_after_seconds(response), _start_of(response))
    except UnsafeUrl as exc:
        raise DeliveryError(str(exc), retryable=exc.retryable) from exc
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{channel}: {exc}", retryable=True) from exc


def refuse_gone(answer: Answer, *, url: str, channel: str) -> None:
    """Raise ``TargetGone`` for a 410: the receiver says it is gone for good, unlike other client errors,
    which fail the one delivery."""
    if answer.status_code == 410:
        raise TargetGone(f"{channel} answered 410 Gone: {answer.text[:200]}", url=url)


def _start_of(response: httpx.Response) -> str:
    body = bytearray()
    for chunk in response.iter_raw():
        body += chunk
        if len(body) >= MAX_ANSWER_BYTES:
            break
    return bytes(body[:MAX_ANSWER_BYTES]).decode("utf-8", errors="replace")


MAX_RETRY_AFTER_S = 3600


def retry_after_seconds(response: httpx.Response) -> int | None:
    """The wait the response asks for, rounded up to whole seconds, at most an hour: its
    ``Retry-After`` (seconds or an HTTP date; ``retry-after-ms`` first), as ``supportai/retry_after.py``
    reads it; None when absent or unreadable."""
    wait = retry_after.retry_after_seconds(response.headers, cap=MAX_RETRY_AFTER_S)
    return None if wait is None else math.ceil(wait)
