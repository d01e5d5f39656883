"""Fetching websites for URL knowledge sources: polite, bounded, and unable to reach our own network.

Every request carries our User-Agent, a timeout and a body size limit (of the body as decoded, which
is decoded a bounded piece at a time: ``knowledge.content_coding``); connections go through the
shared SSRF guard (``supportai.outbound``); robots.txt is honoured per RFC 9309 (a missing file
allows everything, an unreachable one allows nothing; its first 500 KiB are read, and up to five
redirects are followed, to other hosts too); pages are fetched conditionally with the ETag /
Last-Modified of the previous sync, so an unchanged page costs a 304; cookies are neither kept nor
sent. Redirects of pages are followed by hand, only within the same host, to paths robots.txt
allows and, when the caller gives one, within its scope. Links are normalised as browsers read
them (those that surely lie off the source, ``LinkScope.excludes``, are dropped first, unread); one
that cannot be requested is dropped, and an address the network stack still refuses is that page's
error.
"""

from __future__ import annotations

import codecs
import ipaddress
import re
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from http.cookiejar import CookieJar, DefaultCookiePolicy
from itertools import chain, islice
from types import TracebackType
from typing import cast
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit
from xml.etree import ElementTree

import httpx
import idna

from knowledge import conf
from knowledge.content_coding import ACCEPTED as ACCEPTED_ENCODINGS
from knowledge.content_coding import ContentCutShort, ContentDecodingError, decoded
from knowledge.parsed import EXTERNAL_ID_MAX_LENGTH
from knowledge.parsing import TolerantHTMLParser
from knowledge.robots import MAX_PARSE_BYTES, RobotsRules, product_token
from supportai.outbound import (
    REDIRECT_LOCATION,
    InvalidHost,
    UnsafeUrl,
    browser_url_text,
    guarded_transport,
    request_deadline,
    set_location_aside,
)


class PageError(StrEnum):
    NOT_FOUND = "not_found"
    HTTP_ERROR = "http_error"
    SERVER_ERROR = "server_error"
    TIMEOUT = "timeout"
    NETWORK = "network"
    CUT_OFF = "cut_off"
    TOO_LARGE = "too_large"
    NOT_HTML = "not_html"
    EMPTY = "empty"
    REFUSED = "refused"
    OFF_SITE = "off_site"
    OUT_OF_SCOPE = "out_of_scope"
    MALFORMED = "malformed"
    BAD_URL = "bad_url"
    BAD_REDIRECT = "bad_redirect"
    DISALLOWED = "disallowed"
    ROBOTS_UNREADABLE = "robots_unreadable"
    INTERNAL = "internal"


MESSAGES = {
    PageError.NOT_FOUND: "The page answered HTTP {status}: it no longer exists.",
    PageError.HTTP_ERROR: "The page answered HTTP {status}.",
    PageError.SERVER_ERROR: "The site answered HTTP {status}; it is retried at the next sync.",
    PageError.TIMEOUT: "No complete answer within {timeout} seconds; it is retried at the next sync.",
    PageError.NETWORK: "Could not connect ({detail}); it is retried at the next sync.",
    PageError.CUT_OFF: (
        "The server closed the connection before its answer was complete ({detail}); it is retried at the next sync."
    ),
    PageError.TOO_LARGE: "The answer is larger than the {limit}-byte limit ({setting}).",
    PageError.NOT_HTML: "The page is {content_type!r}, not HTML; only HTML pages are indexed from websites.",
    PageError.EMPTY: "The page has no main text to index.",
    PageError.REFUSED: "{detail} (only public addresses are fetched; see KNOWLEDGE_CRAWL_ALLOW_PRIVATE).",
    PageError.OFF_SITE: "The page redirects to {location}, outside this source's host.",
    PageError.OUT_OF_SCOPE: "The page redirects to {location}, outside this source's path prefix.",
    PageError.MALFORMED: "{detail}",
    PageError.BAD_URL: "The address cannot be requested: {detail}.",
    PageError.BAD_REDIRECT: "The page redirects to {location!r}, which is not an http(s) URL that can be requested.",
    PageError.DISALLOWED: "The page redirects to {location}, which robots.txt disallows for our User-Agent.",
    PageError.ROBOTS_UNREADABLE: (
        "The robots.txt for {location} (another scheme or port of the site) could not be read ({detail}), "
        "so it may not be fetched; it is retried at the next sync."
    ),
    PageError.INTERNAL: "This page could not be processed; the error was logged. It is retried at the next sync.",
}
# Errors that say nothing about the page itself: the text fetched earlier stays searchable.
TRANSIENT = frozenset(
    {
        *(PageError.SERVER_ERROR, PageError.TIMEOUT, PageError.NETWORK, PageError.CUT_OFF),
        *(PageError.ROBOTS_UNREADABLE, PageError.INTERNAL),
    }
)
# A robots.txt answer that means "no robots.txt" (RFC 9309 §2.3.1.3): every page may be fetched. A
# redirect to an address that cannot be requested (BAD_URL: robots.txt's own address always can) is one.
ROBOTS_UNAVAILABLE = frozenset({PageError.NOT_FOUND, PageError.HTTP_ERROR, PageError.BAD_REDIRECT, PageError.BAD_URL})

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
# Honour robots.txt Crawl-delay, but never let one site stall a worker for long per page.
MAX_CRAWL_DELAY_S = 5.0
# Links that are never HTML pages are not worth a request.
SKIP_SUFFIXES = (
    *(".pdf", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".ico", ".css", ".js", ".json", ".xml"),
    *(".zip", ".gz", ".tgz", ".mp3", ".mp4", ".webm", ".woff", ".woff2"),
)
MAX_URL_LENGTH = EXTERNAL_ID_MAX_LENGTH  # a page's URL is its document's external id
# robots.txt is read to MAX_PARSE_BYTES and a little over, so that the parser sees a cut last line
# (and drops it) even after taking off a UTF-8 BOM.
ROBOTS_READ_BYTES = MAX_PARSE_BYTES + 4
MAX_HOST_LENGTH = 253  # DNS, without the final dot
# What the WHATWG URL parser percent-encodes in a path and in an http(s) query besides controls (a
# link written "a b" and one written "a%20b" are one address). Non-ASCII characters are left as
# written (httpx encodes them as UTF-8 on the wire): encoded, a long address in Cyrillic or Japanese
# would outgrow the 500 characters a page's address may have. The query's "'", which browsers differ
# on, is left too, as robots.txt rules write it.
_PATH_ENCODED = frozenset(' "<>`{}')
_QUERY_ENCODED = frozenset(' "<>')
_HEX_DIGITS = frozenset("0123456789ABCDEFabcdef")
_RAW_PERCENT_AND_HEX = re.compile("%[0-9A-Fa-f]?$")
_SURROGATE = re.compile("[\ud800-\udfff]")
# WHATWG's forbidden domain code points (controls and space are checked apart).
_FORBIDDEN_IN_HOST = frozenset("#%/:<>?@[\\]^|")


# What h11 (under httpx) says of an answer whose status line and headers pass httpcore's 100 KiB.
H11_HEADERS_TOO_LARGE = "Receive buffer too long"
HEADERS_TOO_LARGE = "The answer's headers are larger than the 100 KiB an answer's headers may have."
# What httpcore and h11 say when the server closes the connection before its answer is complete (a
# restart, an overloaded proxy): the server was reached, and the next sync may fare better. Any other
# protocol error (an illegal status line, header line or chunk header, a bad Content-Length) is an
# answer that is not HTTP, the server's lasting doing.
CUT_OFF_ERRORS = ("Server disconnected without sending a response", "peer closed connection without sending")
INVALID_HTTP = "The server's answer is not valid HTTP ({detail}); the site has to fix it."


class FetchError(Exception):
    """A page's error; ``url`` is the address it happened at, when redirects had led elsewhere, and
    ``location`` where a redirect refused (or met with the error) pointed, "" if none did."""

    def __init__(self, code: PageError, *, url: str = "", location: str = "", **details: object) -> None:
        self.code = code
        self.url = url
        self.location = location
        super().__init__(MESSAGES[code].format(location=location, **details))

    @property
    def transient(self) -> bool:
        return self.code in TRANSIENT


@dataclass(frozen=True)
class Page:
    url: str  # after redirects
    status: int  # 200, or 304 when the validators still hold
    body: bytes = b""
    content_type: str = ""
    encoding: str = "utf-8"
    etag: str = ""
    last_modified: str = ""
    robots: frozenset[str] = frozenset()  # the X-Robots-Tag directives meant for us (``header_robots``)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def noindex(self) -> bool:
        return bool(self.robots & {"noindex", "none"})

    @property
    def nofollow(self) -> bool:
        return bool(self.robots & {"nofollow", "none"})

    def text(self) -> str:
        try:
            return self.body.decode(self.encoding, errors="replace")
        # An unknown charset label, or a codec that cannot decode with replacement (idna, undefined).
        except (LookupError, UnicodeError):
            return self.body.decode("utf-8", errors="replace")


# A <meta charset> or <meta http-equiv="Content-Type" content="…; charset=…"> in a page's first
# 1024 bytes, where browsers look for it (WHATWG HTML "prescan a byte stream").
META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


# Labels the WHATWG Encoding standard reads as windows-1252 (Python's latin-1 and ascii would turn
# curly quotes and € into control characters), and what a <meta> naming UTF-16 means (UTF-8: a
# page whose bytes could be read to find it is not UTF-16).
WINDOWS_1252_LABELS = frozenset(
    {"ascii", "us-ascii", "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "cp819", "ibm819"}
)
META_UTF16_LABELS = frozenset({"utf-16", "utf-16le", "utf-16be"})


def _whatwg_label(label: str) -> str:
    lowered = label.strip().lower()
    return "windows-1252" if lowered in WINDOWS_1252_LABELS else label


# Python text codecs no web page is in (the WHATWG Encoding standard has none of them, UTF-7
# included): a label naming one is no label, as an unknown one is.
_NOT_WEB_CODECS = frozenset({"idna", "undefined", "punycode", "unicode-escape", "raw-unicode-escape", "utf-7"})


def _supported(label: str | None) -> str | None:
    """``label`` as ``_whatwg_label`` reads it when it names a text encoding pages are written in,
    else None (an unknown label, a bytes-to-bytes codec such as ``base64``, ``_NOT_WEB_CODECS``)."""
    if not label:
        return None
    label = _whatwg_label(label)
    try:
        known = codecs.lookup(label)
        b"a".decode(label, "replace")  # LookupError for a codec that is no text encoding
    except (LookupError, ValueError):
        return None
    return None if known.name in _NOT_WEB_CODECS else label


def sniffed_encoding(body: bytes, declared: str | None) -> str:
    """The encoding a browser would read ``body`` with: a byte-order mark, else the HTTP header's
    charset, else the page's own ``<meta>`` declaration (either only when it names an encoding
    pages are written in: ``_supported``), else UTF-8 when the bytes are UTF-8 and windows-1252
    (what browsers take for undeclared legacy pages) when they are not."""
    if body.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if body[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    if (supported := _supported(declared)) is not None:
        return supported
    meta = META_CHARSET.search(body[:1024])
    if meta and (supported := _supported(meta.group(1).decode("ascii"))) is not None:
        return "utf-8" if supported.lower() in META_UTF16_LABELS else supported
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "windows-1252"
    return "utf-8"


def ascii_host(host: str) -> str | None:
    """``host`` (as ``urlsplit`` gives it) as it is looked up and sent, so that one host is written
    one way: an IPv6 literal as written; a name lower-cased, its non-ASCII labels encoded as browsers
    and httpx encode them (UTS #46 mapping and IDNA 2008: ``Bücher.example`` is
    ``xn--bcher-kva.example``, ``faß.de`` is ``xn--fa-hia.de``). None if it cannot be looked up: a
    label IDNA refuses, controls, spaces or WHATWG's forbidden characters (after the mapping, which
    turns a full-width solidus, U+FF0F, into ``/``), labels not 1 to 63 characters or over 253 in all."""
    if ":" in host:  # only an IPv6 literal has a colon here
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return None
        return host
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except UnicodeError:  # idna.IDNAError: a character or a joiner IDNA refuses, a bad label
            return None
    host = host.lower()
    if any(char <= " " or char == "\x7f" or char in _FORBIDDEN_IN_HOST for char in host):
        return None
    try:
        encoded = host.encode("idna")
    except UnicodeError:  # an empty label or one over 63 characters
        return None
    return host if 0 < len(encoded.rstrip(b".")) <= MAX_HOST_LENGTH else None


def valid_host_name(host: str) -> bool:
    """Whether ``host`` (as ``urlsplit`` gives it) can be looked up (``ascii_host``)."""
    return ascii_host(host) is not None


def _percent_encoded(text: str, encoded: frozenset[str]) -> str:
    """``text`` with controls and the ``encoded`` characters percent-encoded."""
    return "".join(f"%{ord(char):02X}" if char < " " or char == "\x7f" or char in encoded else char for char in text)


def url_path_form(path: str) -> str:
    """A path (or path prefix) written as ``normalize_url`` writes paths."""
    return _percent_normalized(_percent_encoded(path, _PATH_ENCODED))


_PERCENT_ESCAPE = re.compile("%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Query parameters that only say where a visitor came from (campaign and click ids): the same page.
_TRACKING_PARAMETERS = frozenset({"gclid", "fbclid", "msclkid", "dclid", "mc_cid", "mc_eid", "_hsenc", "_hsmi"})


def _percent_normalized(text: str) -> str:
    """RFC 3986 §6.2.2: escapes of unreserved characters decoded (``%64`` is ``d``), the others in
    upper case (``%2f`` is ``%2F``), so one address is written one way; a hex digit that would make
    an escape of a bare ``%`` before it (``%%34%31``) stays encoded, or a second pass would read one."""
    out, position = "", 0
    for escape in _PERCENT_ESCAPE.finditer(text):
        out += text[position : escape.start()]
        char = chr(int(escape.group(1), 16))
        makes_escape = char in _HEX_DIGITS and _RAW_PERCENT_AND_HEX.search(out) is not None
        out += char if char in _UNRESERVED and not makes_escape else f"%{escape.group(1).upper()}"
        position = escape.end()
    return out + text[position:]


def _without_tracking(query: str) -> str:
    """The query without ``utm_*`` and click-id parameters, the rest as it was (order included)."""
    kept = (pair for pair in query.split("&") if pair)
    return "&".join(
        pair
        for pair in kept
        if not ((name := pair.split("=", 1)[0].lower()).startswith("utm_") or name in _TRACKING_PARAMETERS)
    )


# The start of a reference naming an http(s) scheme, with the slashes (either way) after it.
_SPECIAL_SCHEME_START = re.compile(r"(https?):([/\\]*)", re.IGNORECASE)


def _special_reference(reference: str, base_scheme: str) -> str | None:
    """A reference to an http(s) address as the WHATWG URL parser reads it, written so that
    ``urljoin`` gives the same address; None when it names no host. Backslashes count as slashes
    before the query (``/\\other.example`` is ``//other.example``); a scheme other than the base's,
    or the base's with two or more slashes, starts an authority however many slashes follow
    (``https:/x`` and ``http:///x`` name host ``x``); the base's scheme with fewer is relative
    (``http:foo``); and an authority must hold a host (``//`` and ``http://`` are no address)."""
    query_or_fragment = re.search("[?#]", reference)
    cut = query_or_fragment.start() if query_or_fragment else len(reference)
    head, tail = reference[:cut].replace("\\", "/"), reference[cut:]
    scheme_start = _SPECIAL_SCHEME_START.match(head)
    if scheme_start is not None:
        scheme, slashes, rest = scheme_start.group(1).lower(), scheme_start.group(2), head[scheme_start.end() :]
        if scheme != base_scheme or len(slashes) >= 2:
            head = f"{scheme}://{rest.lstrip('/')}"
        else:  # relative: "./" keeps "http:x://y" a path on the base's host (urljoin would read a scheme)
            head = slashes + rest if slashes or not rest else f"./{rest}"
    elif head.startswith("//"):
        head = "//" + head.lstrip("/")
    if head.startswith("//") or _SPECIAL_SCHEME_START.match(head):
        host_and_port = head.split("//", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1]
        if not host_and_port or host_and_port.startswith(":"):
            return None
    return head + tail


def _reference_parts(url: str, base: str) -> SplitResult | None:
    """``url`` (against ``base``) read as browsers read it, split; None for a lone surrogate, no
    host in an http(s) authority or a bad port."""
    url = browser_url_text(url)
    if _SURROGATE.search(url):
        return None
    try:
        special = _special_reference(url, urlsplit(base).scheme.lower() if base else "")
        if special is None:
            return None
        parts = urlsplit(urljoin(base, special) if base else special)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        return None
    return parts


def has_credentials(url: str) -> bool:
    """Whether ``url``, read as ``normalize_url`` reads it, names a user or a password
    (``https://user:password@host/``); ``normalize_url`` leaves them out of what it returns."""
    parts = _reference_parts(url, "")
    return parts is not None and bool(parts.username or parts.password)


def normalize_url(url: str, base: str = "") -> str | None:
    """Absolute http(s) URL without fragment or default port, host lower-cased, percent-escapes
    normalised and campaign parameters (``utm_*``, click ids) dropped; None if unusable.

    Read as browsers read an address: tabs and newlines are removed, controls and spaces around it
    stripped, and in the path and query what the WHATWG URL parser encodes (other controls, spaces, a
    few symbols; not non-ASCII, see ``_PATH_ENCODED``) percent-encoded, so the result can be
    requested and stored, and normalising it again changes nothing. Unusable: another scheme, no
    host or one that is not a valid host name (``valid_host_name``), a bad port, a lone surrogate,
    or more than ``MAX_URL_LENGTH`` characters.
    """
    parts = _reference_parts(url, base)
    if parts is None:
        return None
    port = parts.port
    host = ascii_host(parts.hostname) if parts.hostname else None
    if parts.scheme not in {"http", "https"} or host is None:
        return None
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None and port != {"http": 80, "https": 443}[parts.scheme]:
        netloc = f"{netloc}:{port}"
    path = url_path_form(parts.path or "/")
    query = _without_tracking(_percent_normalized(_percent_encoded(parts.query, _QUERY_ENCODED)))
    normalized = urlunsplit((parts.scheme, netloc, path, query, ""))
    return normalized if len(normalized) <= MAX_URL_LENGTH else None


def url_origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL as ``normalize_url`` writes it (default ports left out):
    what one robots.txt covers."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def path_under(path: str, prefix: str) -> bool:
    """Whether ``path`` is under ``prefix`` on a segment boundary: ``/help`` covers ``/help`` and
    ``/help/...`` but not ``/helpdesk``; a prefix ending in ``/`` is matched as it is."""
    if not prefix or prefix.endswith("/"):
        return path.startswith(prefix or "/")
    return path == prefix or path.startswith(prefix + "/")


def in_scope(url: str, *, host: str, path_prefix: str) -> bool:
    """Same host (either scheme) and under ``path_prefix``; not an obvious non-HTML file."""
    parts = urlsplit(url)
    path = parts.path.lower()
    in_prefix = path_under(parts.path, url_path_form(path_prefix) if path_prefix else "")
    return parts.hostname == host and in_prefix and not path.endswith(SKIP_SUFFIXES)


# A root-relative path that normalising leaves as it is: no dot segment, escape, backslash, space,
# control or non-ASCII character (``url_path_form`` and ``urljoin`` change nothing in it).
_PLAIN_PATH = re.compile(r"/(?!/)[A-Za-z0-9\-_~/!$&'()*+,;=:@.]*")
_DOT_SEGMENT = re.compile(r"(?:^|/)\.\.?(?:/|$)")
_QUERY_OR_FRAGMENT = re.compile("[?#]")


@dataclass(frozen=True)
class LinkScope:
    """The pages of a source: its host (as ``normalize_url`` writes hosts) and path prefix."""

    host: str
    path_prefix: str = ""

    def covers(self, url: str) -> bool:
        """Whether ``url`` (normalised) is a page of the source (``in_scope``)."""
        return in_scope(url, host=self.host, path_prefix=self.path_prefix)

    def excludes(self, reference: str, base: str) -> bool:
        """Whether ``reference`` (against ``base``) surely names no page of the source, told without
        normalising it: an ASCII reference that names an authority without the source's host
        anywhere in it, or a plain root-relative path (``_PLAIN_PATH``) from a page of the source's
        host outside its path prefix. False when it cannot be told this cheaply (relative paths,
        escapes, dot segments, non-ASCII): ``normalize_url`` and ``covers`` decide."""
        text = browser_url_text(reference)
        if not text.isascii():
            return False
        cut = _QUERY_OR_FRAGMENT.search(text)
        head = text[: cut.start()] if cut else text
        scheme = _SPECIAL_SCHEME_START.match(head)
        base_parts = urlsplit(base)
        if scheme is not None:
            names_authority = scheme.group(1).lower() != base_parts.scheme or len(scheme.group(2)) >= 2
            return names_authority and self.host not in text.lower()
        if head[:2].replace("\\", "/") == "//":
            return self.host not in text.lower()
        if not self.path_prefix or not _PLAIN_PATH.fullmatch(head) or _DOT_SEGMENT.search(head):
            return False
        return base_parts.hostname == self.host and not path_under(head, url_path_form(self.path_prefix))


# What one page may add to a crawl: a crawl trap serves any number of distinct links, each queued,
# stored with its page and normalised again at every sync (2 MiB of links are some 150,000).
MAX_LINKS_PER_PAGE = 1_000


def first_links(links: Iterable[str]) -> tuple[str, ...]:
    """The first ``MAX_LINKS_PER_PAGE`` distinct ``links``, in order; the rest are not read."""
    found: dict[str, None] = {}
    for link in links:
        found[link] = None
        if len(found) == MAX_LINKS_PER_PAGE:
            break
    return tuple(found)


# The directives an X-Robots-Tag value may start with that take a value after a colon: a value
# starting with any other name and a colon names the crawler it is for ("otherbot: noindex").
_VALUED_DIRECTIVES = frozenset({"unavailable_after", "max-snippet", "max-image-preview", "max-video-preview"})
_CRAWLER_NAME = re.compile(r"[a-z0-9_-]+")


def header_robots(values: Iterable[str], product_token: str) -> frozenset[str]:
    """The directives of a response's X-Robots-Tag headers that are meant for the crawler named
    ``product_token``: those for every crawler, and those after ``<our token>:``; another crawler's
    ("otherbot: noindex") are left out. Lower-cased, as the meta tag's."""
    ours = product_token.lower()
    found: set[str] = set()
    for value in values:
        crawler, colon, rest = value.partition(":")
        name = crawler.strip().lower()
        if colon and name not in _VALUED_DIRECTIVES and _CRAWLER_NAME.fullmatch(name):
            if name != ours:
                continue
            value = rest
        found.update(part.strip().lower() for part in value.split(","))
    return frozenset(found - {""})


@dataclass(frozen=True)
class PageLinks:
    links: tuple[str, ...]
    noindex: bool = False
    nofollow: bool = False
    refresh: str = ""  # where a <meta http-equiv="refresh"> sends the reader at once (a redirect page)


# A meta refresh this soon is a redirect (a static host's "Redirecting…" page for a moved one); a
# later one leaves a page to be read.
MAX_REFRESH_DELAY_S = 5
# The content of <meta http-equiv="refresh">, as WHATWG's shared declarative refresh steps read it:
# a delay in whole seconds (a fraction ignored), then a URL, after "url=" or not, quoted or not.
_REFRESH = re.compile(
    r"""\s*(?P<delay>\d+)(?:\.[\d.]*)?(?:\s*[;,]\s*|\s+)(?:url\s*=\s*)?(?P<quote>['"]?)(?P<url>.*)""",
    re.IGNORECASE | re.DOTALL,
)


def refresh_target(content: str) -> tuple[int, str] | None:
    """The delay and the URL (as written) of a meta refresh's ``content``; None when it names no URL.
    A delay with more digits than ``MAX_REFRESH_DELAY_S`` (leading zeros aside) is given as
    ``MAX_REFRESH_DELAY_S + 1``: it is no redirect, and past 4,300 digits no int Python reads."""
    found = _REFRESH.fullmatch(content)
    if found is None:
        return None
    url = found.group("url")
    if found.group("quote"):
        url = url.split(found.group("quote"), 1)[0]
    url = url.strip()
    if not url:
        return None
    digits = found.group("delay").lstrip("0") or "0"
    too_long = len(digits) > len(str(MAX_REFRESH_DELAY_S))
    return (MAX_REFRESH_DELAY_S + 1 if too_long else int(digits), url)


class _LinkParser(TolerantHTMLParser):
    def __init__(self, base: str, robots_token: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.robots_names = {"robots", robots_token.lower()} - {""}  # the <meta name>s meant for us
        self.base_seen = False
        self.hrefs: list[str] = []
        self.robots = ""
        self.refresh: tuple[int, str] | None = None
        self.refresh_seen = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "base" and values.get("href") and not self.base_seen:
            # As in browsers, the first <base href> counts, and one that is no URL leaves the page's own.
            self.base_seen = True
            self.base = normalize_url(values["href"], self.base) or self.base
        elif tag == "a" and values.get("href") and "nofollow" not in values.get("rel", "").lower():
            self.hrefs.append(values["href"])
        elif tag == "meta" and values.get("name", "").lower() in self.robots_names:
            self.robots += "," + values.get("content", "").lower()
        elif tag == "meta" and values.get("http-equiv", "").strip().lower() == "refresh" and not self.refresh_seen:
            self.refresh_seen = True  # as in browsers, only the first counts
            self.refresh = refresh_target(values.get("content", ""))


def page_links(html: str, base: str, *, scope: LinkScope | None = None, robots_token: str | None = None) -> PageLinks:
    """Absolute links of a page, the first ``MAX_LINKS_PER_PAGE`` (of those on ``scope``, when
    given: a link ``scope.excludes`` is dropped before it is normalised; a meta refresh's target
    first), its robots meta directives (noindex / nofollow / none) for every crawler and for the one
    named ``robots_token`` (by default the configured User-Agent's product token, as robots.txt and
    X-Robots-Tag are read), and where a meta refresh within ``MAX_REFRESH_DELAY_S`` sends the reader
    (a redirect page)."""
    token = product_token(conf.SETTINGS.crawl_user_agent) if robots_token is None else robots_token
    parser = _LinkParser(base, token)
    parser.feed(html)
    parser.close()
    directives = {part.strip() for part in parser.robots.split(",")}
    hrefs: Iterable[str] = dict.fromkeys(parser.hrefs)
    if scope is not None:
        hrefs = (href for href in hrefs if not scope.excludes(href, parser.base))
    refresh = ""
    if parser.refresh is not None and parser.refresh[0] <= MAX_REFRESH_DELAY_S:
        refresh = normalize_url(parser.refresh[1], parser.base) or ""
    normalized = (normalize_url(href, parser.base) for href in hrefs)
    found = (link for link in normalized if link and (scope is None or scope.covers(link)))
    return PageLinks(
        links=first_links(chain([refresh] if refresh and (scope is None or scope.covers(refresh)) else [], found)),
        noindex=bool(directives & {"noindex", "none"}),
        nofollow=bool(directives & {"nofollow", "none"}),
        refresh=refresh,
    )


# The sitemap protocol's limit for one sitemap file, uncompressed (sitemaps.org: 50,000 URLs, 50 MB);
# a page's limit (KNOWLEDGE_CRAWL_MAX_PAGE_BYTES, 2 MiB) would refuse ordinary large sitemaps.
SITEMAP_MAX_BYTES = 50 * 1024 * 1024
# ... and the time it may take to arrive (50 MB in 2 minutes is ~0.4 MB/s).
SITEMAP_DEADLINE_S = 120.0


@dataclass(frozen=True)
class Sitemap:
    pages: tuple[str, ...]
    sitemaps: tuple[str, ...]  # children of a sitemap index


SITEMAP_SETTING = "the sitemap protocol's 50 MB"


SITEMAP_CUT_SHORT = "The gzipped sitemap is cut short: it ends before its compressed data does."


def _gunzipped(body: bytes, *, max_bytes: int) -> bytes:
    """A gzipped sitemap's text, every member of the file (``gzip`` concatenates members), at
    most ``max_bytes`` of it however small the file (a gzip bomb is ``TOO_LARGE``); a member cut
    short is ``MALFORMED``."""
    text = bytearray()
    rest = body
    while rest[:2] == b"\x1f\x8b":
        member = zlib.decompressobj(wbits=31)
        try:
            text += member.decompress(rest, max_bytes + 1 - len(text))
        except zlib.error as exc:
            raise FetchError(PageError.MALFORMED, detail=f"The gzipped sitemap is corrupt: {exc}") from exc
        if len(text) > max_bytes or member.unconsumed_tail:
            raise FetchError(PageError.TOO_LARGE, limit=max_bytes, setting=SITEMAP_SETTING)
        if not member.eof:  # what it holds would read as a shorter list of pages
            raise FetchError(PageError.MALFORMED, detail=SITEMAP_CUT_SHORT)
        rest = member.unused_data
    return bytes(text)


# An XML declaration's encoding (XML 1.0 §4.3.3), read from the bytes before anything is decoded.
XML_DECLARED_ENCODING = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z][A-Za-z0-9._-]*)["']""")


def _sitemap_text(body: bytes) -> str:
    """A sitemap's text as XML 1.0 Appendix F reads it: a byte-order mark, else UTF-16 recognised
    by its first characters, else the XML declaration's ``encoding``, else UTF-8 (plain-text
    sitemaps are UTF-8). A declaration naming UTF-16 or UTF-32 in bytes that read as ASCII, or no
    encoding pages are written in (``_supported``: one Python does not know, or UTF-7 and the other
    ``_NOT_WEB_CODECS``, whose text may hold a lone surrogate the XML parser cannot take), is read
    as UTF-8: a sitemap's URLs are ASCII far more often than its label is right."""
    if body.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif body[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        encoding = "utf-16"
    elif body.startswith((b"<\x00?\x00", b"\x00<\x00?")):
        encoding = "utf-16-le" if body[0] == ord("<") else "utf-16-be"
    else:
        declared = XML_DECLARED_ENCODING.match(body.lstrip(b" \t\r\n"))
        label = _supported(declared.group(1).decode("ascii")) if declared else None
        wide = label is not None and codecs.lookup(label).name.startswith(("utf-16", "utf-32"))
        encoding = "utf-8" if label is None or wide else label
    return body.decode(encoding, errors="replace")


# sitemaps.org: one sitemap file (an index too) lists at most 50,000 URLs.
MAX_SITEMAP_URLS = 50_000
SITEMAP_TOO_MANY = f"The sitemap lists more than {MAX_SITEMAP_URLS:,} URLs, the sitemap protocol's limit for one file."
_SITEMAP_LINE = re.compile(r"[^\r\n]+")
_SITEMAP_LEAD = re.compile("[\ufeff \t\r\n]*")
_DTD = re.compile("<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
# A sitemap's text is given to the XML parser this many characters at a time.
XML_FEED_CHARS = 256 * 1024


def _xml_events(text: str, start: int) -> Iterator[tuple[str, ElementTree.Element]]:
    """``iterparse``'s start and end events for ``text`` from ``start``, fed to the parser a slice at
    a time: ``iterparse`` would read a copy of it (a ``StringIO``), at 4 bytes a character once the
    text has one emoji, and ``text[start:]`` would be another."""
    # No DTD gets here (parse_sitemap refuses one), so no entity can be expanded.
    parser: ElementTree.XMLPullParser[ElementTree.Element] = ElementTree.XMLPullParser(events=("start", "end"))

    def parsed() -> Iterator[tuple[str, ElementTree.Element]]:
        return cast(Iterator[tuple[str, ElementTree.Element]], parser.read_events())  # start and end events only

    for position in range(start, len(text), XML_FEED_CHARS):
        parser.feed(text[position : position + XML_FEED_CHARS])
        yield from parsed()
    parser.close()
    yield from parsed()


def _sitemap_xml(text: str, start: int) -> tuple[str, list[str]]:
    """The root element's name and each entry's own ``<loc>`` text of an XML sitemap (``text``
    from ``start``). Entries are read as the text is parsed and then dropped, so that a file of
    millions of tiny entries (50 MB of them, held whole, took over 600 MB) is refused after
    ``MAX_SITEMAP_URLS`` of them."""
    root = ElementTree.Element("")
    kind, namespace, depth, entries, locs = "", "", 0, 0, list[str]()
    for event, element in _xml_events(text, start):
        depth += 1 if event == "start" else -1
        if event == "start" and not kind:
            root, kind = element, element.tag.rsplit("}", 1)[-1]
            if kind not in {"urlset", "sitemapindex"}:
                detail = f"Expected <urlset> or <sitemapindex>, found <{kind}>."
                raise FetchError(PageError.MALFORMED, detail=detail)
            namespace = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
        elif event == "end" and depth == 1:  # a <url> (or <sitemap>) is complete
            entries += 1
            if entries > MAX_SITEMAP_URLS:
                raise FetchError(PageError.MALFORMED, detail=SITEMAP_TOO_MANY)
            # Its own <loc>, in the sitemap's namespace: not the <image:loc> of an image
            # extension, which names a picture, not a page.
            locs.extend(loc.text for loc in element if loc.tag == f"{namespace}loc" and loc.text)
            root.remove(element)
    return kind, locs


def parse_sitemap(body: bytes, *, max_bytes: int) -> Sitemap:
    """A ``<urlset>``, a ``<sitemapindex>`` or a plain-text list of URLs (gzipped or not), of at
    most ``MAX_SITEMAP_URLS`` entries."""
    if body[:2] == b"\x1f\x8b":
        body = _gunzipped(body, max_bytes=max_bytes)
    text = _sitemap_text(body)
    lead = _SITEMAP_LEAD.match(text)  # a BOM and white space before the first line or element
    start = lead.end() if lead else 0
    if not text.startswith("<", start):
        lines = (line.group() for line in _SITEMAP_LINE.finditer(text, start) if not line.group().isspace())
        listed = list(islice(lines, MAX_SITEMAP_URLS + 1))
        if len(listed) > MAX_SITEMAP_URLS:
            raise FetchError(PageError.MALFORMED, detail=SITEMAP_TOO_MANY)
        urls = (normalize_url(line) for line in listed)
        return Sitemap(tuple(url for url in urls if url), ())
    if _DTD.search(text, start):
        # Sitemaps have no DTD; refusing one rules out entity-expansion attacks on the XML parser.
        raise FetchError(PageError.MALFORMED, detail="The sitemap declares a DTD or entities; sitemaps have none.")
    try:
        kind, locs = _sitemap_xml(text, start)
    except ElementTree.ParseError as exc:
        raise FetchError(PageError.MALFORMED, detail=f"The sitemap is not valid XML: {exc}") from exc
    urls = (normalize_url(loc) for loc in locs)
    found = tuple(dict.fromkeys(url for url in urls if url))
    return Sitemap(found, ()) if kind == "urlset" else Sitemap((), found)


def _starts_as_html(body: bytes) -> bool:
    """Whether an answer with no Content-Type starts as an HTML page (a doctype or ``<html>``,
    after white space), read as browsers sniff it: after a UTF-8 byte-order mark, or in UTF-16
    after a UTF-16 one (LE or BE)."""
    lead = body[:1024]
    codec = {codecs.BOM_UTF16_LE: "utf-16-le", codecs.BOM_UTF16_BE: "utf-16-be"}.get(lead[:2])
    if codec is None:
        text = lead.removeprefix(codecs.BOM_UTF8).decode("latin-1")
    else:
        text = lead[2:].decode(codec, errors="replace")
    return text.lstrip(" \t\n\r\f").lower().startswith(("<!doctype html", "<html"))


def _same_host(a: str, b: str) -> bool:
    return urlsplit(a).hostname == urlsplit(b).hostname


class Crawler:
    """One HTTP client and one robots.txt cache for a sync. Use as a context manager."""

    def __init__(
        self,
        *,
        user_agent: str,
        timeout_s: float,
        max_bytes: int,
        allow_private: bool,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.user_agent = user_agent
        self.robots_token = product_token(user_agent)  # what robots.txt groups name
        self.timeout_s = timeout_s
        # A page's request, its redirects included, must be complete within this, however its
        # server spreads the bytes.
        self.deadline_s = 2 * timeout_s
        self.max_bytes = max_bytes
        self.client = httpx.Client(
            transport=transport or guarded_transport(allow_private=allow_private),
            trust_env=False,
            timeout=httpx.Timeout(timeout_s),
            headers={"User-Agent": user_agent, "Accept-Encoding": ACCEPTED_ENCODINGS},
            follow_redirects=False,
            event_hooks={"response": [set_location_aside]},
            # A jar that takes no cookie: every request is a first visit, so a site cannot track a
            # sync, steer it by a session, or grow what each request carries.
            cookies=CookieJar(DefaultCookiePolicy(allowed_domains=[])),
        )
        self._robots: dict[str, RobotsRules] = {}
        self._robots_unreachable: dict[str, FetchError] = {}
        self._last_request: dict[str, float] = {}

    @classmethod
    def from_settings(cls) -> Crawler:
        settings = conf.SETTINGS
        return cls(
            user_agent=settings.crawl_user_agent,
            timeout_s=settings.crawl_timeout_s,
            max_bytes=settings.crawl_max_page_bytes,
            allow_private=settings.crawl_allow_private,
        )

    def __enter__(self) -> Crawler:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.client.close()

    def _get(
        self, url: str, headers: dict[str, str], *, deadline: float, max_bytes: int, cut_at: int | None = None
    ) -> tuple[httpx.Response, bytes]:
        """One request. A body over ``max_bytes`` is ``TOO_LARGE``, unless ``cut_at`` is given: then
        only that many bytes are read and the rest is left unread."""
        try:
            # The deadline bounds the headers' arrival too (guarded_transport's sockets wait no longer).
            with request_deadline(deadline), self.client.stream("GET", url, headers=headers) as response:
                declared = response.headers.get("Content-Length", "")
                if cut_at is None and declared.isdigit() and int(declared) > max_bytes:
                    raise self._too_large(max_bytes)
                body = bytearray()
                codings = response.headers.get_list("Content-Encoding", split_commas=True)
                for chunk in decoded(response.iter_raw(), codings):
                    body += chunk
                    if cut_at is not None and len(body) >= cut_at:
                        del body[cut_at:]
                        break
                    if cut_at is None and len(body) > max_bytes:
                        raise self._too_large(max_bytes)
                    if time.monotonic() > deadline:  # also with a transport that knows no deadline
                        raise FetchError(PageError.TIMEOUT, timeout=self.deadline_s)
                return response, bytes(body)
        except httpx.TimeoutException as exc:
            raise FetchError(PageError.TIMEOUT, timeout=self.deadline_s) from exc
        except InvalidHost as exc:
            raise FetchError(PageError.BAD_URL, detail=str(exc)) from exc
        except UnsafeUrl as exc:
            if exc.retryable:
                raise FetchError(PageError.NETWORK, detail=str(exc)) from exc
            raise FetchError(PageError.REFUSED, detail=str(exc)) from exc
        except httpx.InvalidURL as exc:  # not an httpx.HTTPError
            raise FetchError(PageError.BAD_URL, detail=str(exc)) from exc
        except UnicodeError as exc:  # the resolver's IDNA encoding of a bad host name (no SSRF guard)
            detail = f"{urlsplit(url).hostname!r} is not a valid host name ({exc})"
            raise FetchError(PageError.BAD_URL, detail=detail) from exc
        except ContentCutShort as exc:  # closed early: the next sync may get it whole
            raise FetchError(PageError.CUT_OFF, detail=str(exc)) from exc
        except ContentDecodingError as exc:  # the server's own doing (a doubled or false Content-Encoding)
            detail = f"The answer's Content-Encoding could not be decoded ({exc})."
            raise FetchError(PageError.MALFORMED, detail=detail) from exc
        except httpx.RemoteProtocolError as exc:
            said = str(exc)
            if said == H11_HEADERS_TOO_LARGE:  # the server's doing, and no better at the next sync
                raise FetchError(PageError.MALFORMED, detail=HEADERS_TOO_LARGE) from exc
            if not said or said.startswith(CUT_OFF_ERRORS):
                raise FetchError(PageError.CUT_OFF, detail=said or type(exc).__name__) from exc
            raise FetchError(PageError.MALFORMED, detail=INVALID_HTTP.format(detail=said[:200])) from exc
        except httpx.HTTPError as exc:
            raise FetchError(PageError.NETWORK, detail=str(exc) or type(exc).__name__) from exc

    def _too_large(self, limit: int) -> FetchError:
        setting = "KNOWLEDGE_CRAWL_MAX_PAGE_BYTES" if limit == self.max_bytes else SITEMAP_SETTING
        return FetchError(PageError.TOO_LARGE, limit=limit, setting=setting)

    def get(
        self,
        url: str,
        *,
        etag: str = "",
        last_modified: str = "",
        scope: Callable[[str], bool] | None = None,
        check_robots: bool = False,
        max_bytes: int | None = None,
        deadline_s: float | None = None,
    ) -> Page:
        """GET ``url`` (conditionally when validators are given), following same-host redirects
        (and only those to URLs ``scope`` accepts, when given, and with ``check_robots`` only to
        paths robots.txt allows: a redirect to any other is never fetched). The body may have up to
        ``max_bytes`` and arrive within ``deadline_s`` (by default the crawler's page limits).

        Raises ``FetchError`` for anything but a 200 or a 304.
        """
        headers = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.5"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified

        def vet(location: str) -> None:
            if not _same_host(location, url):
                raise FetchError(PageError.OFF_SITE, location=location[:200])
            if scope is not None and not scope(location):
                raise FetchError(PageError.OUT_OF_SCOPE, location=location[:200])
            if check_robots:
                self._check_redirect_allowed(location)

        return self._page(*self._follow(url, headers, vet=vet, max_bytes=max_bytes, deadline_s=deadline_s))

    def _follow(
        self,
        url: str,
        headers: dict[str, str],
        *,
        vet: Callable[[str], None] | None = None,
        cut_at: int | None = None,
        max_bytes: int | None = None,
        deadline_s: float | None = None,
    ) -> tuple[str, httpx.Response, bytes]:
        """GET ``url`` and up to ``MAX_REDIRECTS`` redirects, each new location passed to ``vet``
        (which raises ``FetchError`` to refuse it), all within one deadline (the Crawl-delay waited
        out before each request not counted); returns the last URL with its response and body."""
        deadline = time.monotonic() + (deadline_s or self.deadline_s)
        limit, current = max_bytes or self.max_bytes, url
        for _ in range(MAX_REDIRECTS + 1):
            deadline += self._pause(current)
            try:
                response, body = self._get(current, headers, deadline=deadline, max_bytes=limit, cut_at=cut_at)
            except FetchError as exc:  # the error of the address redirects had led to (a redirect's
                exc.url = current  # own faults, below, are the requested address's)
                raise
            raw_location = str(response.extensions.get(REDIRECT_LOCATION, ""))
            if response.status_code not in REDIRECTS or not raw_location:
                return current, response, body
            location = normalize_url(raw_location, current)
            if location is None:
                raise FetchError(PageError.BAD_REDIRECT, location=raw_location[:200])
            if vet is not None:
                vet(location)
            current = location
        raise FetchError(
            PageError.HTTP_ERROR, url=current, status=f"{response.status_code} after {MAX_REDIRECTS} redirects"
        )

    def _check_redirect_allowed(self, location: str) -> None:
        try:
            allowed = self.allowed(location)
        except FetchError as exc:  # the robots.txt of another scheme or port is unreachable: nothing may be fetched
            raise FetchError(PageError.ROBOTS_UNREADABLE, location=location[:200], detail=exc) from exc
        if not allowed:
            raise FetchError(PageError.DISALLOWED, location=location[:200])

    def _page(self, url: str, response: httpx.Response, body: bytes) -> Page:
        status = response.status_code
        if status in {404, 410}:
            raise FetchError(PageError.NOT_FOUND, url=url, status=status)
        if status >= 500 or status == 429:
            raise FetchError(PageError.SERVER_ERROR, url=url, status=status)
        if status not in {200, 304}:
            raise FetchError(PageError.HTTP_ERROR, url=url, status=status)
        return Page(
            url=url,
            status=status,
            body=body,
            content_type=response.headers.get("Content-Type", "").split(";")[0].strip().lower(),
            encoding=sniffed_encoding(body, response.charset_encoding),
            etag=response.headers.get("ETag", ""),
            last_modified=response.headers.get("Last-Modified", ""),
            robots=header_robots(response.headers.get_list("X-Robots-Tag"), self.robots_token),
        )

    def get_html(
        self, url: str, *, etag: str = "", last_modified: str = "", scope: Callable[[str], bool] | None = None
    ) -> Page:
        """Like ``get`` (redirects only to paths robots.txt allows) but a 200 must be an HTML page with text."""
        page = self.get(url, etag=etag, last_modified=last_modified, scope=scope, check_robots=True)
        if page.not_modified:
            return page
        if page.content_type not in HTML_TYPES and not (not page.content_type and _starts_as_html(page.body)):
            content_type = page.content_type[:100] + ("…" if len(page.content_type) > 100 else "")
            raise FetchError(PageError.NOT_HTML, url=page.url, content_type=content_type or "unknown")
        if not page.body.strip():
            raise FetchError(PageError.EMPTY, url=page.url)
        return page

    def _robots_txt(self, url: str) -> bytes:
        """The first ``ROBOTS_READ_BYTES`` of robots.txt (the parser reads ``MAX_PARSE_BYTES``),
        following up to ``MAX_REDIRECTS`` redirects, to other hosts too (RFC 9309 §2.3.1.2, §2.5),
        still through the SSRF guard. Raises ``FetchError``: for an answer that means there is no
        robots.txt (``ROBOTS_UNAVAILABLE``), or for one that means it cannot be reached."""
        headers = {"Accept": "text/plain,*/*;q=0.5"}
        return self._page(*self._follow(url, headers, cut_at=ROBOTS_READ_BYTES)).body

    def _robots_for(self, url: str) -> RobotsRules:
        origin = url_origin(url)
        if origin in self._robots_unreachable:  # tried once in this sync: not again for every link
            raise self._robots_unreachable[origin]
        if origin not in self._robots:
            try:
                body = self._robots_txt(f"{origin}/robots.txt")  # RFC 9309: robots.txt is UTF-8
            except FetchError as exc:
                if exc.code not in ROBOTS_UNAVAILABLE:
                    # RFC 9309 §2.3.1.4: unreachable robots.txt means nothing may be crawled
                    self._robots_unreachable[origin] = exc
                    raise
                body = b""  # §2.3.1.3: "unavailable" (4xx) means everything may be crawled
            self._robots[origin] = RobotsRules.parse(body)
        return self._robots[origin]

    def known_disallowed(self, url: str) -> bool:
        """Whether robots.txt, already read in this sync, disallows ``url`` (False when it has not
        been read: no request is made)."""
        rules = self._robots.get(url_origin(url))
        return rules is not None and not rules.allows(self.robots_token, url)

    def allowed(self, url: str) -> bool:
        """Whether robots.txt lets us fetch ``url``; raises ``FetchError`` if robots.txt is unreachable."""
        return self._robots_for(url).allows(self.robots_token, url)

    def _pause(self, url: str) -> float:
        """Wait out the site's robots.txt Crawl-delay (capped) since our previous request to it;
        returns the seconds waited."""
        origin = urlsplit(url).netloc
        rules = self._robots.get(url_origin(url))
        delay = rules.crawl_delay(self.robots_token) if rules is not None else None
        last = self._last_request.get(origin)
        wait = 0.0
        if delay and last is not None:
            wait = max(min(delay, MAX_CRAWL_DELAY_S) - (time.monotonic() - last), 0.0)
            time.sleep(wait)
        self._last_request[origin] = time.monotonic()
        return wait
