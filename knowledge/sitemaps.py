"""Sitemaps as the sitemap protocol writes them (sitemaps.org): XML urlsets and indexes, plain-text lists,
gzipped or not, within the protocol's 50 MB and 50,000 URLs (``parse_sitemap``)."""

from __future__ import annotations

import codecs
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import cast
from xml.etree import ElementTree

from knowledge.fetched_page import FetchError, PageError, supported_encoding
from knowledge.web_addresses import normalize_url

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
    encoding pages are written in (``supported_encoding``: one Python does not know, or UTF-7 and the other
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
        label = supported_encoding(declared.group(1).decode("ascii")) if declared else None
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
