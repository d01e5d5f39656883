"""The shared SSRF guard: pre-flight URL check and the transport that checks again at connect time."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from supportai import outbound
from supportai.outbound import (
    InvalidHost,
    UnsafeUrl,
    check_public_url,
    guarded_transport,
    is_public_address,
    request_deadline,
)


@pytest.fixture
def local_server() -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("10.0.0.5", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("::ffff:127.0.0.1", False),
        ("224.0.0.1", False),
        ("0.0.0.0", False),
        # IPv6 forms that carry an IPv4 address are only as public as that address
        ("::ffff:93.184.215.14", True),
        ("::ffff:0:7f00:1", False),  # IPv4-translated 127.0.0.1
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 169.254.169.254
        ("64:ff9b::a00:5", False),  # NAT64 10.0.0.5
        ("64:ff9b::5db8:d70e", True),  # NAT64 93.184.215.14
        ("64:ff9b:1::5db8:d70e", False),  # local-use NAT64: not globally reachable
        ("::127.0.0.1", False),  # IPv4-compatible
        ("::a9fe:a9fe", False),
        ("::a00:5", False),
        ("2002:7f00:1::", False),  # 6to4 127.0.0.1
        ("2002:a9fe:a9fe::1", False),  # 6to4 169.254.169.254
        ("2002:c0a8:101::1", False),  # 6to4 192.168.1.1
        ("2002:5db8:d70e::1", True),  # 6to4 93.184.215.14
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", False),  # Teredo, client 127.0.0.1
        ("2001:0:7f00:1:8000:63bf:a2e4:28f1", False),  # Teredo, server 127.0.0.1
        # special-purpose blocks not globally reachable that this Python's ipaddress calls global
        ("192.0.0.8", False),  # IETF protocol assignments (IPv4 dummy address)
        ("192.0.0.171", False),
        ("::ffff:192.0.0.8", False),
        ("fec0::1", False),  # site-local (deprecated, still routed by some networks)
        ("3fff::1", False),  # documentation
        ("5f00::1", False),  # SRv6 SIDs
        ("100:0:0:1::1", False),  # dummy prefix
    ],
)
def test_is_public_address(address: str, public: bool) -> None:
    assert is_public_address(address) is public


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1/", "http://localhost:8000/x", "http://[::1]/", "http://10.1.2.3/", "http://[fec0::1]/"],
)
def test_private_urls_are_refused_unless_allowed(url: str) -> None:
    with pytest.raises(UnsafeUrl, match="non-public address") as raised:
        check_public_url(url, allow_private=False)
    assert raised.value.retryable is False
    check_public_url(url, allow_private=True)


@pytest.mark.parametrize("url", ["ftp://example.com/", "file:///etc/passwd", "http:///nohost"])
def test_non_http_urls_are_refused_even_when_private_targets_are_allowed(url: str) -> None:
    with pytest.raises(UnsafeUrl, match="not an http"):
        check_public_url(url, allow_private=True)


def test_guarded_transport_refuses_to_connect_to_loopback(local_server: tuple[str, list[str]]) -> None:
    url, hits = local_server
    client = httpx.Client(transport=guarded_transport(allow_private=False), trust_env=False)
    with client, pytest.raises(UnsafeUrl, match="non-public address"):
        client.get(f"{url}/secret")
    assert hits == []


def test_guarded_transport_checks_the_address_it_connects_to_not_an_earlier_answer(
    local_server: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a name that resolved to a public address at check time and to loopback at connect time
    import socket

    url, hits = local_server
    port = int(url.rsplit(":", 1)[1])
    real_getaddrinfo = socket.getaddrinfo
    answers = iter(["93.184.215.14", "127.0.0.1"])

    def rebinding(host: str, *args: object, **kwargs: object) -> list:
        if host != "rebind.test":
            return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    check_public_url(f"http://rebind.test:{port}/", allow_private=False)  # passes: first answer is public
    # when the client connects, then the second (loopback) answer is refused
    client = httpx.Client(transport=guarded_transport(allow_private=False), trust_env=False)
    with client, pytest.raises(UnsafeUrl, match="non-public address"):
        client.get(f"http://rebind.test:{port}/secret")
    assert hits == []


def test_allowed_transport_reaches_local_servers(local_server: tuple[str, list[str]]) -> None:
    url, hits = local_server
    with httpx.Client(transport=guarded_transport(allow_private=True), trust_env=False) as client:
        assert client.get(f"{url}/hello").text == "ok"
    assert hits == ["/hello"]


@pytest.mark.parametrize(
    "url", ["https://help..example.com/", f"https://{'a' * 64}.example.com/", "https://.example.com/"]
)
def test_a_host_name_that_cannot_be_looked_up_is_refused_plainly(url: str) -> None:
    # socket.getaddrinfo raises UnicodeError (its IDNA encoding fails), not an OSError
    with pytest.raises(InvalidHost, match="is not a valid host name") as raised:
        check_public_url(url, allow_private=False)
    assert isinstance(raised.value, UnsafeUrl) and raised.value.retryable is False


@pytest.fixture
def silent_name_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """``slow.test`` resolves only once the returned event is set (a name server that never
    answers); other names resolve as usual."""
    import socket

    real_getaddrinfo = socket.getaddrinfo
    answer = threading.Event()

    def stalled(host: str, *args: object, **kwargs: object) -> list:
        if host == "slow.test":
            answer.wait(30)
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", stalled)
    yield answer
    answer.set()  # lets the abandoned lookup's thread end


@pytest.mark.parametrize("allow_private", [False, True])
def test_a_host_name_lookup_ends_at_the_request_deadline(silent_name_server: threading.Event, allow_private: bool):
    # given a client with a 10 s connect timeout inside a deadline 0.5 s away
    client = httpx.Client(transport=guarded_transport(allow_private=allow_private), trust_env=False, timeout=10)
    started = time.monotonic()
    # when the host's name server never answers
    with client, request_deadline(started + 0.5), pytest.raises(UnsafeUrl, match="no answer within") as raised:
        client.get("http://slow.test/")
    # then the request gives up at the deadline, with an error to retry later
    assert time.monotonic() - started < 5 and raised.value.retryable is True


def test_the_pre_flight_check_gives_up_on_a_silent_name_server(
    silent_name_server: threading.Event, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(outbound, "RESOLVE_TIMEOUT_S", 0.3)
    started = time.monotonic()
    with pytest.raises(UnsafeUrl, match=r"cannot resolve slow\.test: no answer within 0\.3 s"):
        check_public_url("https://slow.test/", allow_private=False)
    assert time.monotonic() - started < 5


@pytest.fixture
def silent_names(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Names ending in ``.silent.test`` never get an answer (until the test ends); ``ok.test`` is
    127.0.0.1. Returns the names the system resolver was asked for, in order."""
    import socket

    asked: list[str] = []
    release = threading.Event()

    def resolver(host: str, port: int, *args: object, **kwargs: object) -> list:
        asked.append(host)
        if host.endswith(".silent.test"):
            release.wait(30)
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    yield asked
    release.set()
    ends = time.monotonic() + 5  # the lookups given up on end, and leave no state to the next test
    while outbound._running and time.monotonic() < ends:
        time.sleep(0.01)


def test_a_name_already_being_looked_up_is_not_looked_up_again(silent_names: list[str]) -> None:
    # when a silent name is asked for three times, each time given up on
    for _ in range(3):
        with pytest.raises(UnsafeUrl, match="no answer within"):
            outbound.resolved_addresses("a.silent.test", 443, timeout=0.05)
    # then the system resolver was asked once: one thread waits for it, not three
    assert silent_names == ["a.silent.test"]


def test_once_every_resolver_thread_waits_for_a_silent_name_a_lookup_fails_at_once(silent_names: list[str]) -> None:
    # given every resolver thread held by a lookup given up on
    for n in range(outbound.RESOLVER_THREADS):
        with pytest.raises(UnsafeUrl, match="no answer within"):
            outbound.resolved_addresses(f"{n}.silent.test", 443, timeout=0.05)
    # when another name is looked up, with a timeout no loaded machine comes near (the silent names hold for 30 s)
    timeout = 20.0
    started = time.monotonic()
    with pytest.raises(UnsafeUrl, match=r"cannot resolve ok\.test: 8 earlier lookups are still unanswered") as raised:
        outbound.resolved_addresses("ok.test", 443, timeout=timeout)
    # then it fails at once, to be retried, without queueing behind them for its whole timeout: it was never
    # handed to a resolver thread
    assert time.monotonic() - started < timeout and raised.value.retryable is True
    assert "ok.test" not in silent_names


def test_a_name_that_answers_is_looked_up_while_other_names_are_silent(silent_names: list[str]) -> None:
    with pytest.raises(UnsafeUrl, match="no answer within"):
        outbound.resolved_addresses("a.silent.test", 443, timeout=0.05)
    assert outbound.resolved_addresses("ok.test", 443, timeout=2) == ["127.0.0.1"]
