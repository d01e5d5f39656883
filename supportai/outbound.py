"""Outbound HTTP to URLs a tenant chose (webhooks, crawled websites) must not reach our own network.

``check_public_url`` is the pre-flight check (scheme, then every resolved address must be public).
``guarded_transport`` goes further for clients that follow redirects or fetch many URLs: the check
runs again at connect time on the very address the socket connects to, so neither a redirect to
``http://169.254.169.254/`` nor a DNS answer that changes between check and connect (rebinding)
gets through.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

import httpcore
import httpx

REFUSED_SCHEME = "refused: {url!r} is not an http(s) URL"
REFUSED_PRIVATE = "refused: {host} resolves to a non-public address"
UNRESOLVABLE = "cannot resolve {host}: {error}"


class UnsafeUrl(Exception):
    """The URL may not be fetched. ``retryable`` is true only for resolution failures."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


def is_public_address(address: str) -> bool:
    """True for globally routable unicast addresses (not private, loopback, link-local, multicast…)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback, whatever older Pythons say
    return ip.is_global and not ip.is_multicast


def public_addresses(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to; raises ``UnsafeUrl`` if any of them is not public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise UnsafeUrl(UNRESOLVABLE.format(host=host, error=exc), retryable=True) from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses or not all(is_public_address(address) for address in addresses):
        raise UnsafeUrl(REFUSED_PRIVATE.format(host=host))
    return addresses


def check_public_url(url: str, *, allow_private: bool) -> None:
    """Raise ``UnsafeUrl`` unless ``url`` is http(s) and (unless ``allow_private``) every address
    of its host is public."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise UnsafeUrl(REFUSED_SCHEME.format(url=url[:80]))
    if allow_private:
        return
    public_addresses(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))


class _PublicOnlyBackend(httpcore.SyncBackend):
    """Resolves the host itself and connects only to addresses that passed the check."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        last_error: Exception | None = None
        for address in public_addresses(host, port):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:  # next address, as socket.create_connection would
                last_error = exc
        raise last_error or httpcore.ConnectError(f"cannot connect to {host}")


def guarded_transport(*, allow_private: bool) -> httpx.HTTPTransport:
    """An httpx transport that refuses (``UnsafeUrl``) to connect to non-public addresses.

    TLS still verifies the certificate against the URL's host name: only the TCP connect target
    is pinned to the checked address. Build the client with ``trust_env=False`` so that a proxy
    from the environment cannot do the connecting instead.
    """
    transport = httpx.HTTPTransport(trust_env=False)
    if not allow_private:
        # httpx offers no hook for the network backend, so its connection pool is rebuilt with one.
        transport._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=_PublicOnlyBackend(),
        )
    return transport
