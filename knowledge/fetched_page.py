"""A fetched web page and its errors: ``PageError`` codes with their messages, ``FetchError``, ``Page``, and
the encoding a browser would read a page's bytes with (``sniffed_encoding``)."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from enum import StrEnum


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


def supported_encoding(label: str | None) -> str | None:
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
    pages are written in: ``supported_encoding``), else UTF-8 when the bytes are UTF-8 and windows-1252
    (what browsers take for undeclared legacy pages) when they are not."""
    if body.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if body[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    if (supported := supported_encoding(declared)) is not None:
        return supported
    meta = META_CHARSET.search(body[:1024])
    if meta and (supported := supported_encoding(meta.group(1).decode("ascii"))) is not None:
        return "utf-8" if supported.lower() in META_UTF16_LABELS else supported
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "windows-1252"
    return "utf-8"
