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
import time
from collections.abc import Callable
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import TracebackType
from urllib.parse import urlsplit

import httpx

from knowledge import conf
from knowledge.content_coding import ACCEPTED as ACCEPTED_ENCODINGS
from knowledge.content_coding import ContentCutShort, ContentDecodingError, decoded
from knowledge.fetched_page import FetchError, Page, PageError, sniffed_encoding
from knowledge.html_links import header_robots
from knowledge.robots import MAX_PARSE_BYTES, RobotsRules, product_token
from knowledge.sitemaps import SITEMAP_SETTING
from knowledge.web_addresses import normalize_url, url_origin
from supportai.outbound import (
    REDIRECT_LOCATION,
    InvalidHost,
    UnsafeUrl,
    guarded_transport,
    request_deadline,
    set_location_aside,
)

# A robots.txt answer that means "no robots.txt" (RFC 9309 §2.3.1.3): every page may be fetched. A
# redirect to an address that cannot be requested (BAD_URL: robots.txt's own address always can) is one.
ROBOTS_UNAVAILABLE = frozenset({PageError.NOT_FOUND, PageError.HTTP_ERROR, PageError.BAD_REDIRECT, PageError.BAD_URL})

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
# Honour robots.txt Crawl-delay, but never let one site stall a worker for long per page.
MAX_CRAWL_DELAY_S = 5.0
# robots.txt is read to MAX_PARSE_BYTES and a little over, so that the parser sees a cut last line
# (and drops it) even after taking off a UTF-8 BOM.
ROBOTS_READ_BYTES = MAX_PARSE_BYTES + 4

# What h11 (under httpx) says of an answer whose status line and headers pass httpcore's 100 KiB.
H11_HEADERS_TOO_LARGE = "Receive buffer too long"
HEADERS_TOO_LARGE = "The answer's headers are larger than the 100 KiB an answer's headers may have."
# What httpcore and h11 say when the server closes the connection before its answer is complete (a
# restart, an overloaded proxy): the server was reached, and the next sync may fare better. Any other
# protocol error (an illegal status line, header line or chunk header, a bad Content-Length) is an
# answer that is not HTTP, the server's lasting doing.
CUT_OFF_ERRORS = ("Server disconnected without sending a response", "peer closed connection without sending")
INVALID_HTTP = "The server's answer is not valid HTTP ({detail}); the site has to fix it."


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
