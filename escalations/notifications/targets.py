"""Outbound URL guard: tenant-configured webhooks must not reach our private network (SSRF)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from escalations.notifications.base import DeliveryError


def private_targets_allowed() -> bool:
    allowed: bool = getattr(settings, "ESCALATIONS_ALLOW_PRIVATE_WEBHOOKS", False)
    return allowed


def check_public_url(url: str) -> None:
    """Raise a non-retryable ``DeliveryError`` unless every address of the URL's host is public."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise DeliveryError(f"refused: {url[:80]!r} is not an http(s) URL", retryable=False)
    if private_targets_allowed():
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except OSError as exc:
        raise DeliveryError(f"cannot resolve {parts.hostname}: {exc}", retryable=True) from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise DeliveryError(f"refused: {parts.hostname} resolves to a non-public address", retryable=False)
