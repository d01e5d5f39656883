"""Outbound HTTP to URLs a tenant chose (webhooks, crawled websites) must not reach our own network.

``check_public_url`` is the pre-flight check (scheme, then every resolved address must be public).
``guarded_transport`` goes further for clients that follow redirects or fetch many URLs: the check
runs again at connect time on the very address the socket connects to, so neither a redirect to
``http://169.254.169.254/`` nor a DNS answer that changes between check and connect (rebinding)
gets through. It also bounds a request's total time: inside ``request_deadline(at)`` every host
name lookup, connect, read and write waits only until ``at``, so a server that dribbles its headers
or its body a byte at a time (each read within the read timeout), or a name server that never
answers, is cut off all the same; a name is looked up by one thread at a time however many
requests ask for it (``_lookup``), so lookups given up on cannot pile up.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

REFUSED_SCHEME = "refused: {url!r} is not an http(s) URL"
REFUSED_PRIVATE = "refused: {host} resolves to a non-public address"
UNRESOLVABLE = "cannot resolve {host}: {error}"
NO_DNS_ANSWER = "no answer within {timeout:g} s"
INVALID_HOST = "{host!r} is not a valid host name (an empty label, or one longer than 63 characters)"


# What a browser's URL parser drops before it reads an address (WHATWG URL standard): C0 control
# characters and spaces at either end, then every tab and newline wherever they are, so that
# " javascript:" and "java\tscript:" are javascript: to a browser.
_C0_CONTROL_OR_SPACE = "".join(map(chr, range(0x21)))
_DROP_TAB_AND_NEWLINE = str.maketrans("", "", "\t\n\r")


def browser_url_text(url: str) -> str:
    """``url`` as a browser's URL parser reads it before parsing."""
    return url.strip(_C0_CONTROL_OR_SPACE).translate(_DROP_TAB_AND_NEWLINE)


HTTP_SCHEMES = frozenset({"http", "https"})


def http_url(value: object) -> str:
    """``value`` as a browser would read it when that is an absolute http or https address with a
    host; otherwise "". What may become a link (the ``http_url`` template filter) or be stored as a
    document's address (knowledge uploads)."""
    if not isinstance(value, str):
        return ""
    url = browser_url_text(value)  # " javascript:" is javascript: to a browser, and so to this check
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket: no browser would follow it either
        return ""
    if parts.scheme.lower() not in HTTP_SCHEMES or not parts.netloc:
        return ""
    return url


class UnsafeUrl(Exception):
    """The URL may not be fetched. ``retryable`` is true only for resolution failures."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class InvalidHost(UnsafeUrl):
    """The host name cannot be looked up at all (never retryable)."""


# IPv6 ranges whose last 32 bits are an IPv4 address that a translator or the host's own stack
# delivers to: NAT64 well-known prefix (RFC 6052), IPv4-compatible (RFC 4291, deprecated),
# IPv4-translated (RFC 2765). Python 3.11 calls all of them global.
_LAST_32_BITS_IPV4 = (
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("::/96"),
    ipaddress.IPv6Network("::ffff:0:0:0/96"),
)
# Blocks that are not globally reachable but that ``is_global`` calls global in this Python (its
# tables differ between patch releases, so the guard does not rest on them): local-use NAT64
# (RFC 8215: the operator picks the prefix length, so the IPv4 part has no fixed position), IETF
# protocol assignments (192.0.0.0/24: no public service there is worth the risk), the deprecated
# site-local fec0::/10 (RFC 3879, still routed by some networks), documentation 3fff::/20, SRv6
# SIDs 5f00::/16 and the dummy prefix 100:0:0:1::/64 (IANA special-purpose registries).
_NON_GLOBAL = (
    ipaddress.IPv6Network("64:ff9b:1::/48"),
    ipaddress.IPv4Network("192.0.0.0/24"),
    ipaddress.IPv6Network("fec0::/10"),
    ipaddress.IPv6Network("3fff::/20"),
    ipaddress.IPv6Network("5f00::/16"),
    ipaddress.IPv6Network("100:0:0:1::/64"),
)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, 6to4, Teredo server and client, NAT64,
    compatible, translated): where a packet to ``ip`` may end up on the IPv4 side."""
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if any(ip in network for network in _LAST_32_BITS_IPV4):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def _is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_global and not ip.is_multicast and not any(ip in network for network in _NON_GLOBAL)


def is_public_address(address: str) -> bool:
    """True for globally routable unicast addresses (not private, loopback, link-local, multicast…).

    An IPv6 address that embeds an IPv4 address is public only if that IPv4 address is too:
    ``::ffff:127.0.0.1``, ``64:ff9b::a9fe:a9fe`` or ``2002:7f00:1::`` reach our own network.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv4Address):
        return _is_public(ip)
    if ip.ipv4_mapped is not None:
        return _is_public(ip.ipv4_mapped)  # ::ffff:8.8.8.8 is 8.8.8.8, whatever Python calls ::ffff:0:0/96
    return _is_public(ip) and all(_is_public(v4) for v4 in embedded_ipv4(ip))


# Host names are looked up on these threads, so that a lookup can be given up at its timeout:
# getaddrinfo cannot be interrupted, and a thread given up on ends when the system resolver does.
RESOLVER_THREADS = 8
_RESOLVER = ThreadPoolExecutor(max_workers=RESOLVER_THREADS, thread_name_prefix="outbound-dns")
RESOLVE_TIMEOUT_S = 10.0  # a lookup outside any request's deadline (the pre-flight check)
# Lookups given up on that may still hold a thread: once they hold every thread, a lookup of
# another name fails at once (queued behind them, it would only wait out its timeout).
MAX_UNANSWERED = RESOLVER_THREADS
RESOLVER_BUSY = "{count} earlier lookups are still unanswered (a name server that does not answer)"

# The lookup running for each (host, port): a request for a name already being looked up waits for
# that lookup instead of taking another thread, so a sync of many pages of a host whose name server
# never answers holds one thread, not one per page.
_running: dict[tuple[str, int], Future[list[tuple[Any, ...]]]] = {}
_unanswered: set[tuple[str, int]] = set()
_lookups_lock = threading.Lock()


def _lookup(host: str, port: int) -> Future[list[tuple[Any, ...]]]:
    """The running lookup of ``host``:``port``, started if there is none. Raises a retryable
    ``UnsafeUrl`` when ``MAX_UNANSWERED`` lookups given up on are still running."""
    key = (host, port)
    with _lookups_lock:
        running = _running.get(key)
        if running is not None:
            return running
        if len(_unanswered) >= MAX_UNANSWERED:
            error = RESOLVER_BUSY.format(count=len(_unanswered))
            raise UnsafeUrl(UNRESOLVABLE.format(host=host, error=error), retryable=True)
        lookup = _RESOLVER.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
        _running[key] = lookup

    def done(_: Future[list[tuple[Any, ...]]]) -> None:
        with _lookups_lock:
            _running.pop(key, None)
            _unanswered.discard(key)

    lookup.add_done_callback(done)
    return lookup


def resolved_addresses(host: str, port: int, *, timeout: float | None = None) -> list[str]:
    """Every address ``host`` resolves to, looked up for at most ``timeout`` seconds (by default
    ``RESOLVE_TIMEOUT_S``), one lookup at a time per name (``_lookup``). Raises ``InvalidHost`` if
    ``host`` is no host name at all, and a retryable ``UnsafeUrl`` if it cannot be resolved now."""
    wait = RESOLVE_TIMEOUT_S if timeout is None else timeout
    lookup = _lookup(host, port)
    try:
        infos = lookup.result(timeout=wait)
    except FutureTimeout as exc:
        with _lookups_lock:
            if not lookup.done():
                _unanswered.add((host, port))
        error = NO_DNS_ANSWER.format(timeout=round(wait, 1))
        raise UnsafeUrl(UNRESOLVABLE.format(host=host, error=error), retryable=True) from exc
    except UnicodeError as exc:  # the IDNA encoding of the name failed: an empty or over-long label
        raise InvalidHost(INVALID_HOST.format(host=host)) from exc
    except OSError as exc:
        raise UnsafeUrl(UNRESOLVABLE.format(host=host, error=exc), retryable=True) from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def public_addresses(host: str, port: int, *, timeout: float | None = None) -> list[str]:
    """``resolved_addresses``; raises ``UnsafeUrl`` if any of them is not public."""
    addresses = resolved_addresses(host, port, timeout=timeout)
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


_deadline: ContextVar[float | None] = ContextVar("outbound_request_deadline", default=None)
DEADLINE_PASSED = "no complete answer before the request's deadline"


@contextmanager
def request_deadline(at: float) -> Iterator[None]:
    """Requests made through ``guarded_transport`` in this block give up at ``at`` (``time.monotonic()``)."""
    token = _deadline.set(at)
    try:
        yield
    finally:
        _deadline.reset(token)


def _bounded(timeout: float | None, timeout_error: type[Exception]) -> float | None:
    """``timeout`` shortened to what is left of the deadline; ``timeout_error`` once none is."""
    at = _deadline.get()
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise timeout_error(DEADLINE_PASSED)
    return left if timeout is None else min(timeout, left)


@contextmanager
def _deadline_wait(timeout: float | None, timeout_error: type[Exception]) -> Iterator[float | None]:
    """A socket wait's timeout, ``_bounded``. A wait the deadline ended (not its own ``timeout``) raises
    ``timeout_error(DEADLINE_PASSED)``, as one the deadline leaves no time for does: the error says why,
    whether the deadline passed during a read or between two."""
    bounded = _bounded(timeout, timeout_error)
    try:
        yield bounded
    except httpcore.TimeoutException as exc:
        if bounded == timeout:
            raise
        raise timeout_error(DEADLINE_PASSED) from exc


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every wait ends at the current request's deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        with _deadline_wait(timeout, httpcore.ReadTimeout) as bounded:
            return self._stream.read(max_bytes, bounded)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        with _deadline_wait(timeout, httpcore.WriteTimeout) as bounded:
            self._stream.write(buffer, bounded)

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        with _deadline_wait(timeout, httpcore.ConnectTimeout) as bounded:
            return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> object:
        return self._stream.get_extra_info(info)


class _GuardedBackend(httpcore.SyncBackend):
    """Connects only to addresses that passed the check (it resolves the host itself) unless
    private targets are allowed, and bounds the host name lookup and every socket wait by the
    request's deadline."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        # The lookup, too, ends at the deadline; then each address in turn, as socket.create_connection would.
        lookup = resolved_addresses if self.allow_private else public_addresses
        addresses = lookup(host, port, timeout=_bounded(timeout, httpcore.ConnectTimeout))
        last_error: Exception | None = None
        for address in addresses:
            try:
                with _deadline_wait(timeout, httpcore.ConnectTimeout) as bounded:
                    stream = super().connect_tcp(address, port, bounded, local_address, socket_options)
                return _DeadlineStream(stream)
            except httpcore.ConnectError as exc:
                last_error = exc
        raise last_error or httpcore.ConnectError(f"cannot connect to {host}")


# Where a response's Location is once ``set_location_aside`` has taken it out of httpx's way.
REDIRECT_LOCATION = "supportai.location"


def set_location_aside(response: httpx.Response) -> None:
    """An httpx response hook for clients that do not let httpx follow redirects. httpx prepares
    the request of every redirect all the same, and fails on a ``Location`` it cannot parse (a
    protocol error, which reads as a network failure to retry) or build a request from (an
    ``InvalidURL``, which is no ``httpx.HTTPError``). The header is moved to the response's
    extensions (``REDIRECT_LOCATION``), where a client following redirects itself reads it."""
    if "Location" in response.headers:
        response.extensions[REDIRECT_LOCATION] = response.headers["Location"]
        del response.headers["Location"]


def guarded_transport(*, allow_private: bool) -> httpx.HTTPTransport:
    """An httpx transport that refuses (``UnsafeUrl``) to connect to non-public addresses (unless
    ``allow_private``) and honours ``request_deadline``.

    TLS still verifies the certificate against the URL's host name: only the TCP connect target
    is pinned to the checked address. Build the client with ``trust_env=False`` so that a proxy
    from the environment cannot do the connecting instead.
    """
    transport = httpx.HTTPTransport(trust_env=False)
    # httpx offers no hook for the network backend, so its connection pool is rebuilt with one.
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=100,
        max_keepalive_connections=20,
        keepalive_expiry=5.0,
        network_backend=_GuardedBackend(allow_private=allow_private),
    )
    return transport
