"""One run of a URL source's sync over its website (``SiteSync``), for ``knowledge.sources.knowledge_source_sync``:
fetch each in-scope page once (the sitemap's or the crawl's), ingest the changed ones in batches, put each
page's error on its document, and say why the entry point (sitemap, start page, robots.txt) could not be read."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterable, Iterator
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import TextField, Value
from django.db.models.functions import MD5, Concat
from django.utils import timezone

from knowledge import conf
from knowledge.bm25_index import lock_tenant_index
from knowledge.crawling import MAX_REDIRECTS, Crawler
from knowledge.fetched_page import FetchError, Page, PageError
from knowledge.frontier import Frontier
from knowledge.html_links import first_links, page_links
from knowledge.indexing import document_chunks_delete
from knowledge.models import Document, DocumentStatus, KnowledgeSource
from knowledge.page_copies import PageCopies, text_digest
from knowledge.parsed import ParsedDocument, ParseError
from knowledge.parsing import parse_html_page
from knowledge.providers.base import EmbeddingProvider
from knowledge.services import Outcome, parsed_ingest, source_prune
from knowledge.sitemaps import SITEMAP_DEADLINE_S, SITEMAP_MAX_BYTES, parse_sitemap
from knowledge.source_config import (
    LEASE_RENEWAL_S,
    UrlSourceConfig,
)
from knowledge.sync_result import MAX_DISALLOWED_COUNTED, SyncResult
from knowledge.web_addresses import normalize_url, url_origin
from supportai.models import Tenant
from supportai.quoted import Quoted

logger = logging.getLogger(__name__)

MAX_SITEMAPS = 50  # sitemaps read in one sync, the index included
PAGE_BATCH = 16  # changed pages embedded together
ROBOTS_UNREADABLE = "robots.txt of {host} could not be read, so no page may be fetched (RFC 9309): {error}"
START_DISALLOWED = "robots.txt disallows the start page for our User-Agent."
# ``by``: "" for an HTTP redirect, " by meta refresh" for a meta refresh.
START_REDIRECT_DISALLOWED = "the start page redirects{by} to {target!r}, which robots.txt disallows for our User-Agent."
ALL_DISALLOWED = "robots.txt disallows every page the sitemap lists for our User-Agent."
ALL_LEFT_OUT = (
    "No page the sitemap lists can be stored: each one read is marked noindex or redirects by meta refresh "
    "(has the site moved, or was a staging build deployed?)."
)
START_FAILED = "the start page could not be read: {error}"
START_REFRESH_OFF_SOURCE = (
    "the start page redirects by meta refresh to {target}, outside this source; if the site has moved, "
    "make that address the start URL."
)
START_REFRESH_NOTHING = (
    "the start page redirects by meta refresh to {target}, which leads to no page of this source that may be indexed."
)
START_NOINDEX = "the start page is marked noindex and leads to no page of this source that may be indexed."
SITEMAP_FAILED = "the sitemap {url} could not be read: {error}"
SITEMAP_NO_PAGES = (
    "the sitemap {url} lists no page of this source (none at all, or none on its host and under its path "
    "prefix), which is taken for an unreadable sitemap rather than for a site without pages."
)
SITEMAPS_LEFT = (
    "the sitemap index lists more than {limit} sitemaps and only {limit} are read in one sync, so the pages "
    "of the others are unknown."
)
SYNC_TOO_LONG = (
    "the sync reached its time limit of {seconds} seconds (KNOWLEDGE_CRAWL_SYNC_MAX_S); a slow site needs a "
    "smaller max_pages."
)


# Errors that say the page is no longer this source's: gone (404/410), no longer HTML, or moved to
# another host or out of the path prefix (the redirect is the page now; where it points is not ours).
GONE_FOR_GOOD = frozenset({PageError.NOT_FOUND, PageError.NOT_HTML, PageError.OFF_SITE, PageError.OUT_OF_SCOPE})
REFETCH_NOT_MODIFIED = "304 (Not Modified) to a request without validators"

Staged = tuple[ParsedDocument, Page, tuple[str, ...]]  # a page to store, with what it was fetched as and links to


class EntryFailed(Exception):
    """The sitemap, the start page or robots.txt could not be read: nothing is known to be gone."""


class LeaseLost(Exception):
    """The source is no longer this sync's (deleted, or claimed anew): it must stop and write nothing more."""


@transaction.atomic
def record_page_error(*, tenant: Tenant, source: KnowledgeSource, url: str, exc: FetchError) -> bool:
    """Put the page's error on its document (read afresh: a failed batch may have stored it). A
    transient error keeps whatever the document holds, its text and chunks, whatever its status (a
    page being re-indexed, or whose embedding failed, keeps them for the next index run); any other
    error means the page has nothing to offer any more, so its chunks go. Returns whether stored
    text was removed."""
    lock_tenant_index(tenant=tenant)
    document = Document.objects.for_tenant(tenant).select_for_update().filter(source=source, external_id=url).first()
    if document is not None and exc.transient:
        Document.objects.filter(pk=document.pk).update(error=str(exc))
        return False
    dropped = False
    if document is None:
        document = Document(tenant=tenant, source=source, external_id=url, title=url, url=url)
    else:
        dropped = document.chunk_count > 0 or document.chunks.exists()
        document_chunks_delete(tenant=tenant, document=document)
    document.status = DocumentStatus.FAILED
    document.error = str(exc)
    document.content = document.content_hash = document.http_etag = document.http_last_modified = ""
    document.chunk_count = 0
    document.fetched_at = document.updated_at = timezone.now()
    document.save()
    return dropped


class SiteSync:
    """One run over one source: fetch each in-scope page once, ingest the changed ones in batches."""

    def __init__(
        self,
        *,
        tenant: Tenant,
        source: KnowledgeSource,
        config: UrlSourceConfig,
        crawler: Crawler,
        provider: EmbeddingProvider,
    ) -> None:
        self.tenant, self.source, self.config, self.crawler, self.provider = tenant, source, config, crawler, provider
        self.result = SyncResult()
        self.keep: set[str] = set()
        documents = Document.objects.for_tenant(tenant).filter(source=source)
        self.documents = {
            d.external_id: d
            for d in documents.only(
                *("id", "external_id", "status", "error", "http_etag", "http_last_modified", "links", "aliases")
            )
        }
        # Addresses that redirected to a stored page in the last sync -> that page's address.
        self.alias_of = {
            alias: d.external_id
            for d in self.documents.values()
            for alias in (d.aliases if isinstance(d.aliases, list) else [])
            if isinstance(alias, str)
        }
        self.aliases: dict[str, set[str]] = {}  # page -> the addresses that redirected to it in this sync
        # Each stored page's text digest (page_copies.text_digest, computed in the database).
        self.stored_digests: dict[str, str] = dict(
            documents.filter(status=DocumentStatus.READY)
            .annotate(digest=MD5(Concat("title", Value("\x1f"), "content", output_field=TextField())))
            .values_list("external_id", "digest")
        )
        stored: dict[str, set[str]] = {}
        for external_id, digest in self.stored_digests.items():
            stored.setdefault(digest, set()).add(external_id)
        self.copies: PageCopies[Staged] = PageCopies(stored)
        self.batch: list[Staged] = []
        self.visited: set[str] = set()  # addresses requested or reached by a redirect
        # Addresses robots.txt disallows, remembered to count each once (up to MAX_DISALLOWED_COUNTED).
        self.disallowed: set[str] = set()
        self.reached = ""
        self.last_error: FetchError | None = None
        self.refresh = ""  # where the page read last sends its reader by meta refresh, "" if nowhere
        self.lease_renewed = time.monotonic()
        self.time_limit = conf.SETTINGS.crawl_sync_max_s
        self.ends_at = self.lease_renewed + self.time_limit

    def check_time(self) -> None:
        """Raise ``EntryFailed`` once the sync has run for its time limit: pages not read yet are
        unknown, not gone, so nothing is removed."""
        if time.monotonic() > self.ends_at:
            raise EntryFailed(SYNC_TOO_LONG.format(seconds=self.time_limit))

    def hold_lease(self, *, now_or_never: bool = False) -> None:
        """Renew the claim (at most every ``LEASE_RENEWAL_S``, or at once with ``now_or_never``)
        where it is still this sync's: its ``sync_started_at`` is the one this sync set. Raises
        ``LeaseLost`` when it is not."""
        if not now_or_never and time.monotonic() - self.lease_renewed < LEASE_RENEWAL_S:
            return
        now = timezone.now()
        held = KnowledgeSource.objects.filter(pk=self.source.pk, sync_started_at=self.source.sync_started_at)
        if not held.update(sync_started_at=now):
            raise LeaseLost
        self.source.sync_started_at, self.lease_renewed = now, time.monotonic()

    def allowed(self, url: str) -> bool:
        """Whether robots.txt lets us fetch ``url``. An unreadable robots.txt stops the sync when it
        is the site's own (the entry URL's scheme and port: nothing may be fetched, so nothing is
        known to be gone) and is the page's transient error (``FetchError``) for another scheme or
        port of the host, which one stray link must not turn into a failed sync."""
        try:
            return self.crawler.allowed(url)
        except FetchError as exc:
            if url_origin(url) != url_origin(self.config.entry_url):
                raise FetchError(PageError.ROBOTS_UNREADABLE, location=url[:200], detail=exc) from exc
            raise EntryFailed(ROBOTS_UNREADABLE.format(host=urlsplit(url).netloc, error=exc)) from exc

    def visit(self, url: str, *, counted: bool = True, entry: bool = False) -> tuple[str, ...]:
        """Fetch and stage one page; returns its links (stored ones when it was not re-read). A
        meta refresh's target is read ``counted=False``: it is part of the redirect page's visit,
        which was counted toward ``max_pages``, as an HTTP redirect's target is part of its request.
        Raises ``EntryFailed`` only when robots.txt cannot be read, the sync's time is up or, for
        ``entry`` (the start page, or where its meta refreshes led), the page redirects where
        robots.txt disallows (before its error is recorded: on every sync, as a meta refresh
        there stops it); and ``LeaseLost``; anything else is the page's error."""
        self.check_time()
        self.hold_lease()
        self.last_error, self.refresh = None, ""
        if url in self.disallowed:
            return ()
        self.visited.add(url)
        self.reached = url  # where this page's redirects have led so far
        document = self.documents.get(url)
        stored_links = _stored_links(document)
        robots_error: FetchError | None = None
        try:
            allowed = self.allowed(url)
        except FetchError as exc:  # robots.txt of another scheme or port: the page is not read now
            allowed, robots_error = True, exc
        if not allowed:
            self.visited.discard(url)
            self._disallow(url)
            return ()
        if counted:
            self.result.pages += 1
        self.keep.add(url)
        if robots_error is not None:
            self._fail(url, robots_error)
            return stored_links
        try:
            links = self._read(url, document)
        except FetchError as exc:
            if entry and exc.code == PageError.DISALLOWED:
                target = Quoted(exc.location)
                raise EntryFailed(START_REDIRECT_DISALLOWED.format(by="", target=target)) from exc
            return self._failed(url, exc.url or url, exc)
        except (EntryFailed, LeaseLost):
            raise
        except Exception:
            logger.exception("URL source %s: page %s could not be processed", self.source.pk, self.reached)
            return self._failed(url, self.reached, FetchError(PageError.INTERNAL))
        if len(self.batch) >= PAGE_BATCH:
            self.hold_lease()  # embedding a batch takes a while: start it on a fresh claim
            self.flush()
        return _stored_links(self.documents.get(self.reached)) if links is None else links

    def _disallow(self, url: str) -> None:
        if len(self.disallowed) < MAX_DISALLOWED_COUNTED and url not in self.disallowed:
            self.disallowed.add(url)
            self.result.skipped_robots += 1

    def followable(self, links: Iterable[str]) -> Iterator[str]:
        """``links`` without those robots.txt (already read) disallows, which are counted: they never
        enter the frontier, so a page of them costs neither a place in the queue nor in ``visited``."""
        for link in links:
            if self.crawler.known_disallowed(link):
                self._disallow(link)
            else:
                yield link

    def _failed(self, url: str, where: str, exc: FetchError) -> tuple[str, ...]:
        """Record the error of ``url``'s page, met at ``where`` (where its redirects led); returns
        the links to follow. A transient error at an address with no stored text, not read before
        in this sync, leaves the page where its text is stored (``_home``: ``url``, or the page
        ``url`` redirected to last time), with its text and links, until it can be read; any other
        error is ``where``'s, as when that address is read directly."""
        moved_here = where == self.reached != url  # this visit had moved the page to ``where``
        read_before = where in self.visited and where != url and not moved_here
        home = self._home(url)
        stays = home in self.stored_digests and where != home and where not in self.stored_digests
        if exc.transient and stays and not read_before:
            if moved_here:
                self.keep.discard(where)
            if home != url:  # still an alias of its page
                self.keep.discard(url)
                self.aliases.setdefault(home, set()).add(url)
            self.keep.add(home)
            self._claim(home, self.stored_digests[home], None)  # it holds its article, as an unchanged page does
            where = home
        elif where != self.reached and not self._arrive(url, where):
            self.result.duplicates += 1  # a way to a page read earlier in the sync, as in ``_read``
            return ()
        self._fail(where, exc)
        # A page gone for good (404/410, no longer HTML, moved off the source) is no way to its old
        # links, or they would keep pages alive that nothing links to; any other failure may pass,
        # and its links stand.
        return () if exc.code in GONE_FOR_GOOD else _stored_links(self.documents.get(where))

    def _home(self, url: str) -> str:
        """Where the page requested as ``url`` had its text stored: ``url``, or the page ``url``
        redirected to at the last sync when only that one is stored."""
        target = self.alias_of.get(url, "")
        return target if url not in self.stored_digests and target in self.stored_digests else url

    def _read(self, url: str, document: Document | None) -> tuple[str, ...] | None:
        """Fetch the page and stage its text; returns its links, or None when it was not modified
        and its stored links are to be followed.
        A page is stored under the address its redirects end at, once (an address leading to a page
        read earlier in the sync is a duplicate), and an article under several addresses is kept
        by one of them (``page_copies``). Raises ``FetchError`` for the page's error."""
        # An address that redirected to a stored page last time is asked with that page's validators.
        page = self._fetch(url, document or self.documents.get(self.alias_of.get(url, "")))
        if page.url != url and not self._arrive(url, page.url):
            self.result.duplicates += 1
            return ()
        if page.not_modified:
            # A 304 has no body, but its X-Robots-Tag header counts as a 200's does.
            if page.noindex:
                self.keep.discard(page.url)
                self.result.skipped_noindex += 1
                return () if page.nofollow else None
            known = self.documents[page.url]  # the page whose validators held (``_fetch``)
            self.result.outcomes["not_modified"] += 1
            if known.error:
                Document.objects.filter(pk=known.pk).update(error="")
            if page.url in self.stored_digests:
                self._claim(page.url, self.stored_digests[page.url], None)
            return () if page.nofollow else None
        html = page.text()
        found = page_links(html, page.url, scope=self.config.scope, robots_token=self.crawler.robots_token)
        links = () if found.nofollow or page.nofollow else found.links
        # A refresh to the page itself (or to the address that led to it) only reloads it.
        self.refresh = "" if found.refresh in (url, page.url) else found.refresh
        if found.noindex or page.noindex:
            self.keep.discard(page.url)
            self.result.skipped_noindex += 1
            return links
        if self.refresh:  # a page that only sends its reader elsewhere: a redirect (``run`` follows it)
            self.keep.discard(page.url)
            self.result.meta_refreshes += 1
            return links
        try:
            parsed = parse_html_page(page.url, html)
        except ParseError as exc:
            raise FetchError(PageError.MALFORMED, url=page.url, detail=str(exc)) from exc
        if not parsed.text:
            raise FetchError(PageError.EMPTY, url=page.url)
        title = (parsed.title or page.url)[:500]
        page_document = ParsedDocument(page.url, title, parsed.text, url=page.url, language=parsed.language)
        self._claim(page.url, text_digest(title, parsed.text), (page_document, page, links))
        return links

    def _fetch(self, url: str, validators: Document | None) -> Page:
        """GET ``url``, conditionally with the validators of ``validators``'s stored text; a 304
        counts only from the address whose validators were sent."""
        etag = last_modified = ""
        if validators is not None and validators.status == DocumentStatus.READY:
            etag, last_modified = validators.http_etag, validators.http_last_modified
        # A redirect may not lead out of the source's scope; the start page, chosen by hand, may
        # lie outside path_prefix, so only the crawler's same-host rule applies to its redirects.
        scope = None if url == self.config.start_url else self.config.covers
        page = self.crawler.get_html(url, etag=etag, last_modified=last_modified, scope=scope)
        validated = validators.external_id if validators is not None and (etag or last_modified) else None
        if page.not_modified and page.url != validated:
            # Another page answered the validators (the address now redirects elsewhere, or no
            # longer redirects), or none were sent: the text is needed.
            page = self.crawler.get_html(url, scope=scope)
            if page.not_modified:
                raise FetchError(PageError.SERVER_ERROR, url=page.url, status=REFETCH_NOT_MODIFIED)
        return page

    def _arrive(self, url: str, target: str) -> bool:
        """``url`` redirects to ``target``: the page is ``target``'s from here on (kept, stored and
        failed under it). False when ``target`` was read earlier in this sync."""
        self.keep.discard(url)
        self.aliases.setdefault(target, set()).add(url)
        if target in self.visited:
            return False
        self.visited.add(target)
        self.keep.add(target)
        self.reached = target
        return True

    def _claim(self, url: str, digest: str, entry: Staged | None) -> None:
        """Stage ``url``'s page unless another address keeps its article (``PageCopies.claim``)."""
        stage, duplicate = self.copies.claim(url, digest, entry, visited=self.visited)
        if duplicate:
            self.keep.discard(duplicate)
            self.result.duplicates += 1
            self.batch = [staged for staged in self.batch if staged[0].external_id != duplicate]
        if stage is not None:
            self.batch.append(stage)

    def _fail(self, url: str, exc: FetchError) -> None:
        self.last_error = exc
        self.result.outcomes[Outcome.FAILED] += 1
        self.result.errors[url] = exc.code
        if record_page_error(tenant=self.tenant, source=self.source, url=url, exc=exc):
            self.result.dropped += 1

    def flush(self) -> None:
        """Ingest the staged pages together. Should that fail unexpectedly (logged), the pages not
        yet done are ingested one by one, so that only a page that fails alone gets the error."""
        batch, self.batch = self.batch, []
        if not batch:
            return
        done: set[str] = set()
        try:
            self._ingest(batch, done)
        except Exception:
            logger.exception("URL source %s: a batch of %s pages could not be ingested", self.source.pk, len(batch))
        else:
            return
        for staged in batch:
            if staged[0].external_id in done:
                continue
            try:
                with transaction.atomic():
                    # The tenant's index lock before the upsert locks the page's row, as every
                    # index writer takes them (bm25_index.lock_tenant_index).
                    lock_tenant_index(tenant=self.tenant)
                    self._ingest([staged], done)
            except Exception:
                logger.exception("URL source %s: page %s could not be ingested", self.source.pk, staged[0].external_id)
                self._fail(staged[0].external_id, FetchError(PageError.INTERNAL))

    def _ingest(self, batch: list[Staged], done: set[str]) -> None:
        staged = {parsed.external_id: (page, links) for parsed, page, links in batch}

        def remember(document: Document, outcome: Outcome) -> None:
            page, links = staged[document.external_id]
            Document.objects.filter(pk=document.pk).update(
                http_etag=page.etag[:500],
                http_last_modified=page.last_modified[:100],
                links=list(links),
                fetched_at=timezone.now(),
                **({} if outcome == Outcome.FAILED else {"error": ""}),
            )
            self.result.outcomes[outcome] += 1
            if outcome == Outcome.FAILED:
                self.result.errors[document.external_id] = "embedding"
            done.add(document.external_id)

        parsed_ingest(
            tenant=self.tenant,
            source=self.source,
            name=self.source.name,
            parsed_documents=[parsed for parsed, _, _ in batch],
            provider=self.provider,
            on_document=remember,
        )

    def sitemap_pages(self) -> Iterator[str]:
        """In-scope page URLs of the sitemap (and of the sitemaps an index lists). Raises
        ``EntryFailed`` when they cannot all be known: a sitemap that cannot be read, sitemaps
        beyond ``MAX_SITEMAPS`` or the sync's time limit, or no page at all (an empty body or an
        error page served with a 200 reads as an empty list of URLs, and pruning by it would delete
        every page)."""
        pending, queued, read, listed = deque([self.config.sitemap_url]), {self.config.sitemap_url}, 0, 0
        while pending and read < MAX_SITEMAPS:
            self.check_time()
            self.hold_lease()
            url = pending.popleft()
            read += 1
            try:
                body = self.crawler.get(url, max_bytes=SITEMAP_MAX_BYTES, deadline_s=SITEMAP_DEADLINE_S).body
                sitemap = parse_sitemap(body, max_bytes=SITEMAP_MAX_BYTES)
            except FetchError as exc:
                raise EntryFailed(SITEMAP_FAILED.format(url=url, error=exc)) from exc
            for child in sitemap.sitemaps:  # an index may list itself or its parent: each is read once
                if child not in queued and urlsplit(child).hostname == self.config.host:
                    queued.add(child)
                    pending.append(child)
            for page_url in sitemap.pages:
                if self.config.covers(page_url):
                    listed += 1
                    yield page_url
        if pending:
            raise EntryFailed(SITEMAPS_LEFT.format(limit=MAX_SITEMAPS))
        if not listed:
            raise EntryFailed(SITEMAP_NO_PAGES.format(url=self.config.sitemap_url))

    def run(self) -> None:
        """Raises ``EntryFailed`` when the sitemap, the start page or robots.txt cannot be read,
        robots.txt disallows the start page or every page the sitemap lists, the start page is not
        stored (noindex, a meta refresh) and no page of the source is kept, no page the sitemap
        lists is kept because each was noindex or a meta refresh, or the time is up."""
        config = self.config
        if config.sitemap_url:
            for url in self.sitemap_pages():
                if self.result.pages >= config.max_pages:
                    break
                if url not in self.visited:
                    self.visit(url)
            # As with a disallowed start page: a robots.txt shutting us out (a staging robots.txt
            # deployed by mistake, say) stops the sync rather than empty the source.
            if not self.result.pages and self.result.skipped_robots:
                raise EntryFailed(ALL_DISALLOWED)
            # Likewise a site whose every page turned noindex or into a redirect page.
            if not self.keep and (self.result.skipped_noindex or self.result.meta_refreshes):
                raise EntryFailed(ALL_LEFT_OUT)
        else:
            frontier = Frontier(config.start_url)
            start_left_out = ""  # why the start page was not stored, if it was not
            while self.result.pages < config.max_pages and (next_page := frontier.pop()) is not None:
                url, depth = next_page
                if url in self.visited:  # reached earlier by a redirect
                    continue
                links = self.visit(url, entry=depth == 0)
                for hop in range(MAX_REDIRECTS + 1):
                    if depth == 0 and not links and (refused := self._start_refused(url)):
                        raise EntryFailed(refused)
                    if url == config.start_url and not self.keep:
                        start_left_out = self._left_out()
                    if depth < config.max_depth:
                        room = config.max_pages - self.result.pages
                        frontier.add(tuple(self.followable(links)), depth=depth + 1, room=room, read=self.visited)
                    # A redirect: its target is read now, at the page's own depth and as part of this
                    # page (not counted toward max_pages), as an HTTP redirect's is, and as those
                    # are, up to MAX_REDIRECTS in a row; whatever its nofollow, which is about the
                    # page's links, not where it sends its reader.
                    if hop == MAX_REDIRECTS or not self.refresh or not config.covers(self.refresh):
                        break
                    if (url := self.refresh) in self.visited:
                        break
                    links = self.visit(url, counted=False, entry=depth == 0)
            # As with an unreadable start page: a site moved elsewhere, or a start page turned
            # noindex, leaves nothing known to be gone, so the source is not emptied.
            if start_left_out and not self.keep:
                raise EntryFailed(start_left_out)
        self.batch.extend(self.copies.unclaimed())
        self.hold_lease()
        self.flush()

    def _start_refused(self, url: str) -> str:
        """Why the start page stops the sync, "" if it does not: robots.txt disallows it, or the
        address its meta refreshes led to (``url``; an HTTP redirect's target stops it in
        ``visit``), or it could not be read. ``url`` counts only when it is itself disallowed, not as
        one of the links counted before it (a start page that redirects by meta refresh has its
        links counted before its target is read)."""
        if url in self.disallowed:
            if url == self.config.start_url:
                return START_DISALLOWED
            return START_REDIRECT_DISALLOWED.format(by=" by meta refresh", target=Quoted(url))
        if self.last_error is None:
            return ""
        return START_FAILED.format(error=self.last_error)

    def _left_out(self) -> str:
        """Why the page read last was not stored: a meta refresh (``self.refresh``), or noindex."""
        if not self.refresh:
            return START_NOINDEX
        template = START_REFRESH_NOTHING if self.config.covers(self.refresh) else START_REFRESH_OFF_SOURCE
        return template.format(target=self.refresh)

    def prune(self) -> None:
        """Remove the documents of pages not kept in this sync; a duplicate of a page that failed
        stays, its stored text perhaps the only searchable copy."""
        self.keep |= self.copies.copies_of(self.result.errors)
        self.result.removed += source_prune(tenant=self.tenant, source=self.source, keep=self.keep)

    def record_aliases(self) -> None:
        """Store, where it changed, which addresses redirected to each kept page (``Document.aliases``)."""
        stored = Document.objects.for_tenant(self.tenant).filter(source=self.source)
        for address in self.keep:
            aliases = sorted(self.aliases.get(address, ()))
            known = self.documents.get(address)
            if aliases != (known.aliases if known is not None else []):
                stored.filter(external_id=address).update(aliases=aliases)


def _stored_links(document: Document | None) -> tuple[str, ...]:
    """The links a page had when it was last read, normalised again (stored by older code, or
    edited), the first ``MAX_LINKS_PER_PAGE`` of them (older code stored them all)."""
    stored = document.links if document is not None and isinstance(document.links, list) else []
    links = (normalize_url(value) for value in stored if isinstance(value, str))
    return first_links(link for link in links if link)
