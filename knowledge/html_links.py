"""What a crawled page links to: its links (``page_links``), its robots directives (meta and X-Robots-Tag,
``header_robots``) and where a meta refresh sends the reader (``refresh_target``)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain

from knowledge import conf
from knowledge.parsing import TolerantHTMLParser
from knowledge.robots import product_token
from knowledge.web_addresses import LinkScope, normalize_url

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
