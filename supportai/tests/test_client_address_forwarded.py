"""The client's address from RFC 7239 ``Forwarded``, read (instead of ``X-Forwarded-For``) when
``TRUSTED_PROXIES_HEADER=forwarded``, and only through trusted proxies."""

from __future__ import annotations

from ipaddress import ip_network

import pytest
from django.test import RequestFactory

from supportai.client_address import client_ip, client_ip_from_request, client_ip_from_scope

PROXY = "10.0.0.2"
CUSTOMER = "198.51.100.7"
SPOOFED = "1.1.1.1"


@pytest.fixture
def behind_forwarding_proxies(settings) -> None:
    settings.TRUSTED_PROXIES = [ip_network("10.0.0.0/8"), ip_network("2001:db8:ffff::/48")]
    settings.TRUSTED_PROXIES_HEADER = "forwarded"


@pytest.mark.parametrize(
    ("header", "client"),
    [
        (f"for={CUSTOMER}", CUSTOMER),
        (f"for={CUSTOMER};proto=http;by=10.0.0.2", CUSTOMER),
        (f"proto=https;For={CUSTOMER}", CUSTOMER),
        (f'for="{CUSTOMER}"', CUSTOMER),
        (f'for="{CUSTOMER}:4711"', CUSTOMER),
        (f'for="{CUSTOMER}:_port1"', CUSTOMER),
        ('for="[2001:db8::1]:4711"', "2001:db8::1"),
        ('for="[2001:DB8::1]"', "2001:db8::1"),
        ('for="[::ffff:198.51.100.7]"', CUSTOMER),
        ('for=192.0.2.60;proto=http, for="[2001:db8::1]:4711"', "2001:db8::1"),
        (f'for={SPOOFED}, for={CUSTOMER}, for=10.0.0.1, for="[2001:db8:ffff::9]:443"', CUSTOMER),
        (f'for="\\{CUSTOMER[0]}{CUSTOMER[1:]}"', CUSTOMER),  # a quoted-pair is its character
        (f" for={CUSTOMER} ; proto=https ", CUSTOMER),
    ],
)
def test_the_for_a_trusted_proxy_appended_is_the_client(
    behind_forwarding_proxies: None, header: str, client: str
) -> None:
    assert client_ip(peer=PROXY, forwarded=header) == client


@pytest.mark.parametrize(
    "header",
    [
        "",
        "for=unknown",
        "for=UNKNOWN",
        "for=_hidden",
        'for="_gazonk"',
        'for="unknown:80"',
        "proto=https",
        f"for={CUSTOMER};for={SPOOFED}",  # a parameter twice in one element
        f"for={CUSTOMER};",
        f"for={CUSTOMER} proto=https",
        f'for="{CUSTOMER}',
        f"for={CUSTOMER}:99999",
        "for=[2001:db8::1",
        'for="[198.51.100.7]"',
        "for=",
        "=198.51.100.7",
        f'for="{CUSTOMER}"x',
        f'for={CUSTOMER}"',
    ],
)
def test_an_unknown_hidden_or_malformed_hop_gives_the_peer(behind_forwarding_proxies: None, header: str) -> None:
    # the proxy cannot or will not say who sent the request: the peer is counted, never an earlier entry
    assert client_ip(peer=PROXY, forwarded=f"for={SPOOFED}, {header}") == PROXY


def test_an_unknown_hop_left_of_the_client_is_never_read(behind_forwarding_proxies: None) -> None:
    assert client_ip(peer=PROXY, forwarded=f"for=unknown, for=<script>, for={CUSTOMER}") == CUSTOMER


@pytest.mark.parametrize(
    "written",
    [
        f'for="{SPOOFED}',  # a quote its proxy's element would close
        f'for="{SPOOFED}, for="',  # a quote opened for each of the proxy's quotes
        f'for="{SPOOFED}\\',  # a backslash that would escape the proxy's comma
        '"',
    ],
)
def test_a_quote_a_client_leaves_open_cannot_hide_the_proxys_element(
    behind_forwarding_proxies: None, written: str
) -> None:
    # given a client that left a quoted string open, and the element its proxy appended after it
    header = f'{written}, for="[2001:db8::1]:4711"'
    # then the proxy's element is read as written: the client gets no other bucket, its own or the peer's
    assert client_ip(peer=PROXY, forwarded=header) == "2001:db8::1"
    assert client_ip(peer=PROXY, forwarded=f"{written}, for={CUSTOMER}, for=10.0.0.1") == CUSTOMER


def test_the_header_of_an_untrusted_peer_is_ignored(behind_forwarding_proxies: None) -> None:
    assert client_ip(peer="203.0.113.9", forwarded=f"for={CUSTOMER}") == "203.0.113.9"


def test_without_trusted_proxies_forwarded_is_never_read(settings) -> None:
    settings.TRUSTED_PROXIES_HEADER = "forwarded"
    assert client_ip(peer=PROXY, forwarded=f"for={CUSTOMER}") == PROXY


def test_by_default_forwarded_is_ignored_and_x_forwarded_for_wins(settings) -> None:
    # given proxies that append X-Forwarded-For (nginx's $proxy_add_x_forwarded_for) and pass any
    # Forwarded the client wrote through untouched
    settings.TRUSTED_PROXIES = [ip_network("10.0.0.0/8")]
    # when / then the client's own Forwarded is never read, whether X-Forwarded-For is there or not
    assert client_ip(peer=PROXY, forwarded_for=CUSTOMER, forwarded=f"for={SPOOFED}") == CUSTOMER
    assert client_ip(peer=PROXY, forwarded=f"for={SPOOFED}") == PROXY


def test_with_forwarded_configured_x_forwarded_for_is_ignored(behind_forwarding_proxies: None) -> None:
    # a proxy that writes Forwarded passes on the X-Forwarded-For the client wrote: it is never read
    assert client_ip(peer=PROXY, forwarded_for=SPOOFED, forwarded=f"for={CUSTOMER}") == CUSTOMER
    assert client_ip(peer=PROXY, forwarded_for=SPOOFED) == PROXY


def test_requests_read_the_forwarded_header(behind_forwarding_proxies: None) -> None:
    request = RequestFactory().get(
        "/", REMOTE_ADDR=PROXY, HTTP_FORWARDED=f'for={SPOOFED}, for="{CUSTOMER}:5123"', HTTP_X_FORWARDED_FOR=SPOOFED
    )
    assert client_ip_from_request(request) == CUSTOMER


def test_websocket_scopes_read_every_forwarded_line_in_order(behind_forwarding_proxies: None) -> None:
    # given two Forwarded lines in the ASGI scope, the proxy's last, and a forged X-Forwarded-For
    headers = [
        (b"forwarded", f"for={SPOOFED}".encode()),
        (b"x-forwarded-for", SPOOFED.encode()),
        (b"Forwarded", b'for="[2001:db8::1]:4711";proto=https'),
    ]
    scope = {"type": "websocket", "client": [PROXY, 50000], "headers": headers}
    # when / then they are read as one list, the last line last
    assert client_ip_from_scope(scope) == "2001:db8::1"
    assert client_ip_from_scope({**scope, "client": ["203.0.113.9", 1]}) == "203.0.113.9"
