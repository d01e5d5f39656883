"""Outbound URL guard for notification targets: the shared SSRF check, as a ``DeliveryError``."""

from __future__ import annotations

from django.conf import settings

from escalations.notifications.base import DeliveryError
from supportai.outbound import UnsafeUrl
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
