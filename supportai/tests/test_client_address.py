"""The client's address for per-IP limits: ``X-Forwarded-For`` (or, when configured, RFC 7239
``Forwarded``) is read only through trusted proxies."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

import pytest
from django.test import RequestFactory, override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from supportai.client_address import client_ip, client_ip_from_request, client_ip_from_scope
from supportai.tests.input_strategies import PROPERTY_SETTINGS

PROXY = "10.0.0.2"
CUSTOMER = "198.51.100.7"
TRUSTED = [ip_network("10.0.0.0/8"), ip_network("2001:db8:ffff::/48")]


@pytest.fixture
def behind_proxies(settings) -> None:
    settings.TRUSTED_PROXIES = TRUSTED


def test_without_trusted_proxies_the_header_is_never_read() -> None:
    assert client_ip(peer=PROXY, forwarded_for=CUSTOMER) == PROXY


def test_a_header_sent_by_an_untrusted_peer_is_ignored(behind_proxies: None) -> None:
    # a client connecting directly cannot choose its address by writing the header itself
    assert client_ip(peer="203.0.113.9", forwarded_for=CUSTOMER) == "203.0.113.9"


def test_the_address_a_trusted_proxy_appended_is_the_client(behind_proxies: None) -> None:
    assert client_ip(peer=PROXY, forwarded_for=CUSTOMER) == CUSTOMER


def test_the_chain_is_read_from_the_right_up_to_the_first_untrusted_address(behind_proxies: None) -> None:
    # given a client that forged two entries; our proxies appended the rest (each its own peer)
    chain = f"1.1.1.1, 10.0.0.99, {CUSTOMER}, 10.0.0.1,10.0.0.3"
    # when / then the forged entries left of the first untrusted address are never read
    assert client_ip(peer=PROXY, forwarded_for=chain) == CUSTOMER


def test_a_chain_of_trusted_addresses_only_gives_the_furthest(behind_proxies: None) -> None:
    # an internal caller (a health check behind the load balancer) is its own client
    assert client_ip(peer=PROXY, forwarded_for="10.9.9.9, 10.0.0.1") == "10.9.9.9"


def test_ipv6_addresses_are_normalised_and_matched(behind_proxies: None) -> None:
    assert client_ip(peer="2001:db8:ffff::1", forwarded_for="2001:DB8:0::0:1") == "2001:db8::1"
    assert client_ip(peer="2001:DB8:FFFF:0::5", forwarded_for="") == "2001:db8:ffff::5"


def test_ipv4_mapped_ipv6_addresses_are_the_ipv4_address(behind_proxies: None) -> None:
    # a dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d: still the trusted proxy, and one client
    assert client_ip(peer=f"::ffff:{PROXY}", forwarded_for=f"::FFFF:{CUSTOMER}") == CUSTOMER
    assert client_ip(peer=f"::ffff:{CUSTOMER}", forwarded_for="") == CUSTOMER


@pytest.mark.parametrize(
    "header",
    [
        "",
        "  ",
        "unknown",
        "198.51.100.7:",
        "198.51.100.7:65536",
        "198.51.100.7:80:80",
        "198.51.100.7: 80",
        "[198.51.100.7]:80",
        "[2001:db8::1",
        "2001:db8::1]:443",
        "[2001:db8::1]443",
        "[2001:db8::1]:",
        "[[2001:db8::1]]",
        f"{CUSTOMER},",
        f"{CUSTOMER}, ,10.0.0.1",
        "198.51.100.300",
        "2001:db8::/32",
        "\x00",
        "🙂",
        "," * 10_000,
    ],
)
def test_a_malformed_header_gives_the_peer(behind_proxies: None, header: str) -> None:
    assert client_ip(peer=PROXY, forwarded_for=header) == PROXY


@pytest.mark.parametrize(
    ("entry", "client"),
    [
        ("203.0.113.7:5123", "203.0.113.7"),
        ("203.0.113.7:0", "203.0.113.7"),
        ("203.0.113.7:65535", "203.0.113.7"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("[2001:DB8::1]", "2001:db8::1"),
        ("[::ffff:203.0.113.7]:80", "203.0.113.7"),
        (" 203.0.113.7:5123 ", "203.0.113.7"),
    ],
)
def test_a_port_after_a_forwarded_for_address_is_taken_off(behind_proxies: None, entry: str, client: str) -> None:
    # some proxies (Azure's, IIS ARR, ...) append the client's address with its source port
    assert client_ip(peer=PROXY, forwarded_for=entry) == client


def test_a_trusted_proxy_written_with_its_port_is_passed_through(behind_proxies: None) -> None:
    chain = f"1.1.1.1:1, {CUSTOMER}:4711, 10.0.0.1:443, [2001:db8:ffff::9]:8443"
    assert client_ip(peer=PROXY, forwarded_for=chain) == CUSTOMER


def test_junk_left_of_the_client_is_never_read(behind_proxies: None) -> None:
    assert client_ip(peer=PROXY, forwarded_for=f"<script>, {CUSTOMER}") == CUSTOMER


def test_a_peer_that_is_not_an_address_is_counted_as_it_is(behind_proxies: None) -> None:
    assert client_ip(peer="", forwarded_for=CUSTOMER) == ""
    assert client_ip(peer="/run/daphne.sock", forwarded_for=CUSTOMER) == "/run/daphne.sock"


HEADERS = ["x-forwarded-for", "forwarded"]


@pytest.mark.parametrize("read", HEADERS)
@given(peer=st.sampled_from([PROXY, "2001:db8:ffff::1", "203.0.113.9", ""]), header=st.text())
@settings(PROPERTY_SETTINGS, max_examples=300)
def test_any_header_gives_the_peer_or_an_address(read: str, peer: str, header: str) -> None:
    with override_settings(TRUSTED_PROXIES=TRUSTED, TRUSTED_PROXIES_HEADER=read):
        found = client_ip(peer=peer, forwarded_for=header, forwarded=header)
    assert found == peer or ip_address(found)
    if peer in {"203.0.113.9", ""}:  # not a trusted proxy: the header is not read
        assert found == peer


def _untrusted(address: IPv4Address | IPv6Address) -> bool:
    return not any(_normalised(address) in network for network in TRUSTED)


def _normalised(address: IPv4Address | IPv6Address) -> IPv4Address | IPv6Address:
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


# What a header is made of, so that quotes, escapes and separators meet each other often.
HEADER_PARTS = ['"', "\\", ",", ";", "=", " ", "for", "1.2.3.4", "[", "]", ":", "_"]
HEADER_SYNTAX = st.lists(st.sampled_from(HEADER_PARTS)).map("".join)
PORTS = st.integers(min_value=0, max_value=65535)
TRUSTED_HOPS = st.lists(
    st.one_of(st.ip_addresses(network="10.0.0.0/8"), st.ip_addresses(network="2001:db8:ffff::/48")),
    max_size=3,
)


@st.composite
def _entry(draw: st.DrawFn, address: IPv4Address | IPv6Address, read: str) -> str:
    """``address`` as a proxy writes it into the header ``read``, with or without a port."""
    port = draw(st.none() | PORTS)
    text = draw(st.sampled_from([str(address), address.exploded, str(address).upper()]))
    if isinstance(address, IPv6Address) and (port is not None or read == "forwarded"):
        text = f"[{text}]"
    node = text if port is None else f"{text}:{port}"
    if read == "x-forwarded-for":
        return draw(st.sampled_from([node, f" {node}", f"{node} "]))
    quoted = draw(st.booleans()) or node != str(address)
    value = f'"{node}"' if quoted else node
    pairs = [f"{draw(st.sampled_from(['for', 'For', 'FOR']))}={value}"]
    pairs += draw(st.lists(st.sampled_from(["proto=https", "by=_lb1", 'host="example.com"']), max_size=2, unique=True))
    return ";".join(draw(st.permutations(pairs)))


@pytest.mark.parametrize("read", HEADERS)
@given(data=st.data())
@settings(PROPERTY_SETTINGS, max_examples=300)
def test_the_client_is_the_right_most_untrusted_hop_whatever_it_wrote_itself(read: str, data: st.DataObject) -> None:
    # given whatever a client wrote into the header, then its address and our proxies' as they append them
    written = data.draw(st.none() | st.text() | HEADER_SYNTAX, label="written by the client")
    client = data.draw(st.ip_addresses().filter(_untrusted), label="client")
    hops = [client, *data.draw(TRUSTED_HOPS, label="our proxies")]
    entries = [data.draw(_entry(hop, read)) for hop in hops]
    header = data.draw(st.sampled_from([",", ", "])).join(entries if written is None else [written, *entries])
    # when
    with override_settings(TRUSTED_PROXIES=TRUSTED, TRUSTED_PROXIES_HEADER=read):
        if read == "x-forwarded-for":
            found = client_ip(peer=PROXY, forwarded_for=header)
        else:
            found = client_ip(peer=PROXY, forwarded=header)
    # then it is the client's address, whatever it wrote: a quote it left open in Forwarded cannot
    # swallow what our proxies appended, so malforming the header never moves it to another bucket
    assert found == str(_normalised(client))


def test_requests_read_remote_addr_and_the_header(behind_proxies: None) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"1.1.1.1, {CUSTOMER}")
    assert client_ip_from_request(request) == CUSTOMER
    assert client_ip_from_request(RequestFactory().get("/", REMOTE_ADDR=PROXY)) == PROXY


def test_websocket_scopes_read_the_client_and_every_header_line_in_order(behind_proxies: None) -> None:
    # given two X-Forwarded-For lines (one header split by a proxy) in the ASGI scope
    headers = [(b"x-forwarded-for", b"1.1.1.1"), (b"host", b"x"), (b"X-Forwarded-For", f"{CUSTOMER}".encode())]
    scope = {"type": "websocket", "client": [PROXY, 50000], "headers": headers}
    # when / then they are read as one list, the last line last
    assert client_ip_from_scope(scope) == CUSTOMER
    assert client_ip_from_scope({**scope, "client": ["203.0.113.9", 1]}) == "203.0.113.9"


@pytest.mark.parametrize("client", [None, [], ["", 0], [None, None]])
def test_a_scope_without_a_client_address_gives_an_empty_address(behind_proxies: None, client: object) -> None:
    scope = {"type": "websocket", "client": client, "headers": [(b"x-forwarded-for", CUSTOMER.encode())]}
    assert client_ip_from_scope(scope) == ""
