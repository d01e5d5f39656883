"""The client's address for the per-IP limits, seen through the reverse proxies we trust.

Behind nginx or a load balancer the peer of every request (``REMOTE_ADDR``, a websocket scope's
``client``) is the proxy, so per-IP limits would count all customers as one. When the peer is one of
``settings.TRUSTED_PROXIES``, the header of ``settings.TRUSTED_PROXIES_HEADER`` is read from the
right: ``X-Forwarded-For`` (the default) or RFC 7239 ``Forwarded`` (its ``for=`` parameters). Each
proxy appends the address it received the request from, so the first address that is not a trusted
proxy's is the client's; a port written after an address is taken off. Entries left of it were
written by the client and may be forged: they are never read.

Only the configured header is read, never both: a proxy that appends to one passes the other on as
the client wrote it, so whichever header it does not write could name any address. An untrusted
peer's header (and, with no trusted proxies, every header) is ignored, and a hop met on the way that
names no address (malformed, or ``Forwarded``'s ``unknown`` and obfuscated ``_name``) gives the
peer's address, never an error and never an address further left.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from ipaddress import IPv6Address, ip_address, ip_network
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from supportai.proxy_headers import (
    FORWARDED,
    X_FORWARDED_FOR,
    Address,
    forwarded_hops,
    node_address,
    x_forwarded_for_hops,
)


def client_ip_from_request(request: HttpRequest) -> str:
    """The client's address of an HTTP request ("" when the server does not know the peer)."""
    meta = request.META
    return client_ip(
        peer=meta.get("REMOTE_ADDR", ""),
        forwarded_for=meta.get("HTTP_X_FORWARDED_FOR", ""),
        forwarded=meta.get("HTTP_FORWARDED", ""),
    )


def client_ip_from_scope(scope: Mapping[str, Any]) -> str:
    """The client's address of an ASGI (websocket) scope ("" when the server does not know the peer)."""
    peer = (scope.get("client") or ["", 0])[0] or ""
    headers = scope.get("headers", ())
    return client_ip(
        peer=str(peer),
        forwarded_for=_header(headers, X_FORWARDED_FOR.encode()),
        forwarded=_header(headers, FORWARDED.encode()),
    )


def client_ip(*, peer: str, forwarded_for: str = "", forwarded: str = "") -> str:
    """``peer``, or the client a chain of trusted proxies reports in ``forwarded_for``
    (``X-Forwarded-For``) or ``forwarded`` (``Forwarded``), whichever ``TRUSTED_PROXIES_HEADER``
    names, normalised.

    A peer that is not an IP address (a Unix socket's) is returned as it is: it cannot be trusted.
    """
    peer_address = node_address(peer)
    if peer_address is None:
        return peer
    if not _trusted(peer_address):  # the headers are not parsed for a client that connects directly
        return str(peer_address)
    if settings.TRUSTED_PROXIES_HEADER == FORWARDED:
        hops = forwarded_hops(forwarded)
    else:
        hops = x_forwarded_for_hops(forwarded_for)
    address = peer_address
    for hop in reversed(hops):
        if not _trusted(address):
            break
        if hop is None:
            return str(peer_address)
        address = hop
    return str(address)


IPV6_CLIENT_PREFIX = 64


def limit_key(ip: str) -> str:
    """The client the per-IP limits count for address ``ip`` (as ``client_ip`` gives it; "" stays "").

    An IPv6 address counts as its /64: a subscriber (a home line, a server) is given a /64 or more
    whole and may send each request from another of its 2^64 addresses, so counting addresses would
    limit nothing.
    """
    try:
        address = ip_address(ip)
    except ValueError:  # "" or a Unix socket's peer: counted as it is
        return ip
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:  # one IPv4 client, however the socket saw it
            return str(address.ipv4_mapped)
        return str(ip_network(f"{address}/{IPV6_CLIENT_PREFIX}", strict=False))
    return ip


def _trusted(address: Address) -> bool:
    return any(address in network for network in settings.TRUSTED_PROXIES)


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str:
    """Every line of header ``name`` in order, joined with commas as HTTP combines repeated headers."""
    return ",".join(value.decode("latin-1") for key, value in headers if key.lower() == name)
