"""The hops a reverse-proxy header lists, left to right, as addresses (``None``: not one).

``X-Forwarded-For: 198.51.100.7, 10.0.0.1:443`` and RFC 7239
``Forwarded: for=198.51.100.7;proto=https, for="[2001:db8::1]:4711"`` both list one hop per entry,
each appended by the proxy that received the request from it. A hop that names no address (RFC
7239's ``unknown`` and obfuscated ``_name`` identifiers, a missing ``for``, anything malformed) is
``None``: the caller decides what it means (``supportai/client_address.py``). Parsing is strict and
linear in the header's length; nothing here raises.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv6Address, ip_address

Address = IPv4Address | IPv6Address
# The headers ``TRUSTED_PROXIES_HEADER`` may name, as HTTP spells them in lower case.
X_FORWARDED_FOR = "x-forwarded-for"
FORWARDED = "forwarded"
PROXY_HEADERS = (X_FORWARDED_FOR, FORWARDED)

# An address with an optional port: 198.51.100.7:5123, [2001:db8::1]:443, [2001:db8::1];
# RFC 7239 also allows obfuscated ports (:_abc).
_NODE = re.compile(r"(?:\[(?P<v6>[^\[\]]+)\]|(?P<v4>[0-9.]+))(?::(?P<port>[0-9]{1,5}|_[A-Za-z0-9._-]+))?")
MAX_PORT = 65535
# name=value; the value a token or a quoted string (RFC 7239 section 4, RFC 9110 section 5.6).
_PAIR = re.compile(r'[ \t]*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)=([^\s",;=]+|"(?:[^"\\]|\\.)*")[ \t]*')
_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)
_QUOTE_OR_COMMA = re.compile(r'[",]')


def x_forwarded_for_hops(header: str) -> list[Address | None]:
    """Every entry of an ``X-Forwarded-For`` list (repeated lines already joined with commas)."""
    return [node_address(entry) for entry in header.split(",")]


def forwarded_hops(header: str) -> list[Address | None]:
    """The ``for`` of every element of a ``Forwarded`` list (repeated lines already joined with commas)."""
    return [_forwarded_for(element) for element in _elements(header)]


def node_address(text: str) -> Address | None:
    """The address in ``text`` (surrounding spaces and a port taken off), an IPv4-mapped IPv6 one as
    IPv4 (one client, however the socket saw it)."""
    text = text.strip()
    address = _ip(text)
    if address is None:
        match = _NODE.fullmatch(text)
        if match is None or not _valid_port(match["port"]):
            return None
        address = _ip(match["v6"] or match["v4"])
        if address is None or (match["v6"] is not None) != isinstance(address, IPv6Address):
            return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _ip(text: str) -> Address | None:
    try:
        return ip_address(text)
    except ValueError:
        return None


def _valid_port(port: str | None) -> bool:
    return port is None or port.startswith("_") or int(port) <= MAX_PORT


def _elements(header: str) -> list[str]:
    """``header`` split at the commas outside quoted strings, the quotes paired from the right.

    The elements our proxies append are on the right and well-formed, the client's on the left and
    anything at all: a quote or backslash it leaves open must not reach across what the proxies wrote
    (read from the left, ``for="x, for=203.0.113.5`` would be one broken element, and the client
    would choose between its own bucket and the peer's). Paired from the right, an element's quotes
    are its own whatever stands left of it; a quote whose opening is missing runs to the start. Within
    a quoted string a quote after an odd run of backslashes is escaped (RFC 9110 quoted-pair).
    """
    elements: list[str] = []
    end = len(header)
    quoted = False
    for match in reversed(list(_QUOTE_OR_COMMA.finditer(header))):
        position = match.start()
        if match[0] == '"':
            if not (quoted and _escaped(header, position)):  # a quoted string's last quote is never escaped
                quoted = not quoted
        elif not quoted:
            elements.append(header[position + 1 : end])
            end = position
    elements.append(header[:end])
    return elements[::-1]


def _escaped(text: str, position: int) -> bool:
    """Whether the character at ``position`` follows an odd run of backslashes."""
    start = position
    while start > 0 and text[start - 1] == "\\":
        start -= 1
    return (position - start) % 2 == 1


def _forwarded_for(element: str) -> Address | None:
    """The address of the element's one ``for`` parameter; ``None`` when it has none, names none or
    the element is malformed (a parameter twice, text outside ``name=value`` pairs)."""
    parameters: dict[str, str] = {}
    position = 0
    while True:
        match = _PAIR.match(element, position)
        if match is None:
            return None
        name, value = match[1].lower(), match[2]
        if name in parameters:
            return None
        if value.startswith('"'):
            value = _QUOTED_PAIR.sub(r"\1", value[1:-1])
        parameters[name] = value
        position = match.end()
        if position == len(element):
            break
        if element[position] != ";":
            return None
        position += 1
    return node_address(parameters.get("for", ""))
