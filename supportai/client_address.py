"""The client's address for the per-IP limits, seen through the reverse proxies we trust.

Behind nginx or a load balancer the peer of every request (``REMOTE_ADDR``, a websocket scope's
``client``) is the proxy, so per-IP limits would count all customers as one. When the peer is one of
``settings.TRUSTED_PROXIES``, ``X-Forwarded-For`` is read from the right: each proxy appends the
address it received the request from, so the first address that is not a trusted proxy's is the
client's. Entries left of it were written by the client and may be forged: they are never read. An
untrusted peer's header (and, with no trusted proxies, every header) is ignored, and a malformed
entry met on the way gives the peer's address, never an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Any

from django.conf import settings
from django.http import HttpRequest

FORWARDED_FOR = b"x-forwarded-for"


def client_ip_from_request(request: HttpRequest) -> str:
    """The client's address of an HTTP request ("" when the server does not know the peer)."""
    meta = request.META
    return client_ip(peer=meta.get("REMOTE_ADDR", ""), forwarded_for=meta.get("HTTP_X_FORWARDED_FOR", ""))


def client_ip_from_scope(scope: Mapping[str, Any]) -> str:
    """The client's address of an ASGI (websocket) scope ("" when the server does not know the peer)."""
    peer = (scope.get("client") or ["", 0])[0] or ""
    return client_ip(peer=str(peer), forwarded_for=_header(scope.get("headers", ()), FORWARDED_FOR))


def client_ip(*, peer: str, forwarded_for: str) -> str:
    """``peer``, or the client a chain of trusted proxies reports in ``forwarded_for``, normalised.

    A peer that is not an IP address (a Unix socket's) is returned as it is: it cannot be trusted.
    """
    peer_address = _address(peer)
    if peer_address is None:
        return peer
    address = peer_address
    for entry in reversed(forwarded_for.split(",")):
        if not _trusted(address):
            break
        forwarded = _address(entry)
        if forwarded is None:
            return str(peer_address)
        address = forwarded
    return str(address)


def _address(text: str) -> IPv4Address | IPv6Address | None:
    """The address in ``text``, an IPv4-mapped IPv6 one as IPv4 (one client, however the socket saw it)."""
    try:
        address = ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPv4Address | IPv6Address) -> bool:
    return any(address in network for network in settings.TRUSTED_PROXIES)


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str:
    """Every line of header ``name`` in order, joined with commas as HTTP combines repeated headers."""
    return ",".join(value.decode("latin-1") for key, value in headers if key.lower() == name)
