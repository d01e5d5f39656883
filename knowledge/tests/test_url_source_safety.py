"""A website source's sync never deletes what it could not see, one stray link never fails it, and a
sync that runs for hours keeps its claim on the source (or stops the moment it has lost it)."""

from __future__ import annotations

import dataclasses
import socket
import time
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from knowledge import conf, site_sync, sources
from knowledge.crawling import Crawler
from knowledge.fetched_page import PageError
from knowledge.models import Document, DocumentStatus, KnowledgeSource, SourceStatus
from knowledge.site_sync import (
    ALL_DISALLOWED,
    ALL_LEFT_OUT,
    SITEMAP_NO_PAGES,
    SITEMAPS_LEFT,
    START_DISALLOWED,
    START_NOINDEX,
    START_REFRESH_NOTHING,
    START_REFRESH_OFF_SOURCE,
    SYNC_TOO_LONG,
)
from knowledge.source_config import SYNC_LEASE, sync_running, url_source_create
from knowledge.sources import ALREADY_SYNCING, ENTRY_FAILED, LEASE_LOST, STOPPED, knowledge_source_sync
from knowledge.sync_result import SyncResult
from knowledge.tests.site_fake import FakeSite
from supportai.models import Tenant

pytestmark = pytest.mark.usefixtures("local_crawl")


def _sitemap_source(tenant: Tenant, site: FakeSite) -> KnowledgeSource:
    config = {"sitemap_url": f"{site.url}/sitemap.xml"}
    return url_source_create(tenant=tenant, name="Help centre", config=config, sync_now=False)


def _paths(source: KnowledgeSource, site: FakeSite) -> set[str]:
    return {
        url.removeprefix(site.url)
        for url in Document.objects.filter(source=source).values_list("external_id", flat=True)
    }


def _synced_hub_site(tenant: Tenant, site: FakeSite) -> KnowledgeSource:
    """A crawled source of start -> hub -> leaf (only the hub links to the leaf), synced once."""
    site.article("/help/leaf", "Leaf", "Only the hub links here.")
    site.article("/help/hub", "Hub", "Links on.", links=("/help/leaf",))
    site.article("/help/", "Start", "Welcome.", links=("/help/hub",))
    config = {"start_url": f"{site.url}/help/", "path_prefix": "/help/"}
    source = url_source_create(tenant=tenant, name="Help centre", config=config, sync_now=False)
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    return source


def _three_pages(site: FakeSite) -> None:
    for name in ("a", "b", "c"):
        site.article(f"/help/{name}", f"Page {name}", f"Text of {name}.")
    site.sitemap("/sitemap.xml", ["/help/a", "/help/b", "/help/c"])


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("", "application/xml"),  # an empty 200
        ('{"error": "maintenance"}', "application/json"),  # an error page served with a 200
        # a sitemap of another site's pages
        ("<urlset><url><loc>https://elsewhere.example/help/a</loc></url></urlset>", "application/xml"),
    ],
)
def test_a_sitemap_that_lists_no_page_removes_nothing(
    tenant: Tenant, site: FakeSite, body: str | bytes, content_type: str
) -> None:
    # given a source synced once with three pages
    _three_pages(site)
    source = _sitemap_source(tenant, site)
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # when its sitemap comes back with no page in it
    site.add("/sitemap.xml", body, content_type=content_type)
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then nothing is removed and the source says why
    assert result.removed == 0 and _paths(source, site) == {"/help/a", "/help/b", "/help/c"}
    url = f"{site.url}/sitemap.xml"
    assert result.error == ENTRY_FAILED.format(error=SITEMAP_NO_PAGES.format(url=url))
    source.refresh_from_db()
    assert source.status == SourceStatus.FAILED


def test_a_sitemap_index_longer_than_a_sync_reads_removes_nothing(
    tenant: Tenant, site: FakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an index of three sitemaps of one page each, synced once in full
    monkeypatch.setattr(site_sync, "MAX_SITEMAPS", 4)
    for name in ("a", "b", "c"):
        site.article(f"/help/{name}", f"Page {name}", f"Text of {name}.")
        site.sitemap(f"/sitemap-{name}.xml", [f"/help/{name}"])
    site.sitemap("/sitemap.xml", ["/sitemap-a.xml", "/sitemap-b.xml", "/sitemap-c.xml"], index=True)
    source = _sitemap_source(tenant, site)
    assert knowledge_source_sync(tenant=tenant, source_id=source.pk).error == ""
    # when a sync may read only the index and two of them
    monkeypatch.setattr(site_sync, "MAX_SITEMAPS", 3)
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the third sitemap's page stays, and the error says why
    assert result.removed == 0 and _paths(source, site) == {"/help/a", "/help/b", "/help/c"}
    assert result.error == ENTRY_FAILED.format(error=SITEMAPS_LEFT.format(limit=3))


def test_a_link_to_another_port_whose_robots_txt_is_unreachable_is_that_pages_error(
    tenant: Tenant, site: FakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a start page linking to its own pages and twice to a port of the same host where nothing listens
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    stray, stray_too = (f"http://127.0.0.1:{closed_port}/help/{name}" for name in ("elsewhere", "again"))
    site.article("/help/b", "Page b", "Text of b.")
    site.article("/help/", "Start", "Welcome.", links=("/help/b", stray, stray_too))
    robots_reads: list[str] = []
    real_robots_txt = Crawler._robots_txt

    def robots_txt(crawler: Crawler, url: str) -> bytes:
        robots_reads.append(url)
        return real_robots_txt(crawler, url)

    monkeypatch.setattr(Crawler, "_robots_txt", robots_txt)
    config = {"start_url": f"{site.url}/help/", "path_prefix": "/help/"}
    source = url_source_create(tenant=tenant, name="Help centre", config=config, sync_now=False)
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the site's own pages are synced, each stray link is its page's transient error, and the
    # unreachable robots.txt was tried once
    assert result.errors == {stray: PageError.ROBOTS_UNREADABLE, stray_too: PageError.ROBOTS_UNREADABLE}
    assert robots_reads.count(f"http://127.0.0.1:{closed_port}/robots.txt") == 1
    ready = Document.objects.filter(source=source, status=DocumentStatus.READY).values_list("title", flat=True)
    assert set(ready) == {"Start", "Page b"}
    stray_document = Document.objects.get(source=source, external_id=stray)
    assert stray_document.status == DocumentStatus.FAILED
    assert "could not be read" in stray_document.error and "retried at the next sync" in stray_document.error
    source.refresh_from_db()
    assert source.status == SourceStatus.IDLE


def test_a_long_sync_renews_its_claim_and_stops_once_it_has_lost_it(
    tenant: Tenant, other_tenant: Tenant, site: FakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a sync that renews its claim at every page
    monkeypatch.setattr(site_sync, "LEASE_RENEWAL_S", 0)
    _three_pages(site)
    source = _sitemap_source(tenant, site)
    seen: list[datetime] = []
    real_read = site_sync.SiteSync._read

    def read_and_watch(sync: site_sync.SiteSync, url: str, document: Document | None) -> tuple[str, ...] | None:
        claimed_at = KnowledgeSource.objects.get(pk=source.pk).sync_started_at
        assert claimed_at is not None
        seen.append(claimed_at)
        return real_read(sync, url, document)

    monkeypatch.setattr(site_sync.SiteSync, "_read", read_and_watch)
    # when it runs, then each page found the claim renewed
    assert knowledge_source_sync(tenant=tenant, source_id=source.pk).error == ""
    assert len(seen) == 3 and seen == sorted(seen) and len(set(seen)) == 3
    # when another sync takes the source over after the first page (this one looked dead)
    taken_over = source.created_at - timedelta(days=1)

    def read_then_lose(sync: site_sync.SiteSync, url: str, document: Document | None) -> tuple[str, ...] | None:
        KnowledgeSource.objects.filter(pk=source.pk).update(status=SourceStatus.SYNCING, sync_started_at=taken_over)
        return real_read(sync, url, document)

    monkeypatch.setattr(site_sync.SiteSync, "_read", read_then_lose)
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then it stops at the next page and leaves the source to the other sync
    assert result.error == LEASE_LOST and result.pages == 1
    source.refresh_from_db()
    assert (source.status, source.sync_started_at) == (SourceStatus.SYNCING, taken_over)
    assert STOPPED not in result.error


def test_a_sync_that_lost_its_claim_on_its_last_page_prunes_nothing(
    tenant: Tenant, site: FakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a source synced once with three pages, then one of them dropped from its sitemap
    _three_pages(site)
    source = _sitemap_source(tenant, site)
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    site.sitemap("/sitemap.xml", ["/help/a", "/help/b"])
    taken_over = source.created_at - timedelta(days=1)
    real_read = site_sync.SiteSync._read

    def lose_on_the_last_page(sync: site_sync.SiteSync, url: str, document: Document | None) -> tuple[str, ...] | None:
        if url.endswith("/help/b"):
            KnowledgeSource.objects.filter(pk=source.pk).update(sync_started_at=taken_over)
        return real_read(sync, url, document)

    monkeypatch.setattr(site_sync.SiteSync, "_read", lose_on_the_last_page)
    # when (no renewal is due during the pages: only the check before pruning sees the loss)
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then nothing is pruned and the source's row is the other sync's
    assert result.error == LEASE_LOST and result.removed == 0
    assert _paths(source, site) == {"/help/a", "/help/b", "/help/c"}
    source.refresh_from_db()
    assert (source.status, source.sync_started_at) == (SourceStatus.SYNCING, taken_over)


def test_a_hub_that_refuses_us_for_now_still_leads_to_its_pages(tenant: Tenant, site: FakeSite) -> None:
    # given start -> hub -> leaf, synced once, then the hub answers 403 (a firewall, a login wall)
    source = _synced_hub_site(tenant, site)
    site.pages["/help/hub"].status = 403
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the leaf is still read through the hub's stored links, and stays
    assert result.removed == 0 and _paths(source, site) == {"/help/", "/help/hub", "/help/leaf"}
    assert Document.objects.get(source=source, title="Leaf").status == DocumentStatus.READY


@pytest.mark.parametrize("location", ["https://elsewhere.example/hub", "/blog/hub"])
def test_links_of_a_page_moved_out_of_the_source_no_longer_keep_pages(
    tenant: Tenant, site: FakeSite, location: str
) -> None:
    # given a start page -> hub -> leaf, synced once
    source = _synced_hub_site(tenant, site)
    # when the hub now redirects to another host, or out of the path prefix
    site.add("/help/hub", "", status=301, headers={"Location": location})
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the leaf only it linked to goes with it, and the hub says where it went
    assert result.removed == 1 and _paths(source, site) == {"/help/", "/help/hub"}
    assert Document.objects.get(source=source, title="Hub").status == DocumentStatus.FAILED


def test_links_of_a_page_gone_for_good_are_not_followed_and_a_gone_start_page_stops_the_sync(
    tenant: Tenant, site: FakeSite
) -> None:
    # given a start page -> hub -> leaf, synced once
    source = _synced_hub_site(tenant, site)
    assert _paths(source, site) == {"/help/", "/help/hub", "/help/leaf"}
    # when the hub is gone (404), then the leaf only it linked to goes too
    site.pages["/help/hub"].status = 404
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert site.served("/help/leaf") == [200] and result.removed == 1
    assert _paths(source, site) == {"/help/", "/help/hub"}
    # when the start page is gone, then the sync stops: nothing more is removed, the source says why
    site.pages["/help/"].status = 404
    stopped = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert stopped.removed == 0 and stopped.error.startswith("The sync stopped early: the start page could not be read")
    source.refresh_from_db()
    assert source.status == SourceStatus.FAILED


def test_a_start_page_that_redirects_off_the_source_by_meta_refresh_stops_the_sync_and_removes_nothing(
    tenant: Tenant, site: FakeSite
) -> None:
    # given a start page -> hub -> leaf, synced once
    source = _synced_hub_site(tenant, site)
    # when the site moves: its start page becomes a jekyll-redirect-from page to the new host
    target = "https://new.example/help/"
    site.add(
        "/help/",
        f'<!DOCTYPE html><html><title>Redirecting&hellip;</title><link rel="canonical" href="{target}">'
        f'<meta http-equiv="refresh" content="0; url={target}"><meta name="robots" content="noindex">'
        f'<h1>Redirecting&hellip;</h1><a href="{target}">Click here if you are not redirected.</a></html>',
    )
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then nothing is removed and the source says where its start page leads, as an HTTP redirect off it would
    assert result.removed == 0 and _paths(source, site) == {"/help/", "/help/hub", "/help/leaf"}
    assert result.error == ENTRY_FAILED.format(error=START_REFRESH_OFF_SOURCE.format(target=target))
    source.refresh_from_db()
    assert source.status == SourceStatus.FAILED and source.error == result.error
    assert Document.objects.filter(source=source, status=DocumentStatus.READY).count() == 3


def test_a_start_page_that_redirects_by_meta_refresh_to_a_noindex_page_removes_nothing(
    tenant: Tenant, site: FakeSite
) -> None:
    # given a start page -> hub -> leaf, synced once
    source = _synced_hub_site(tenant, site)
    # when the start page redirects by meta refresh to a page of the source marked noindex
    site.add("/help/", '<title>Moved</title><meta http-equiv="refresh" content="0; url=/help/new">')
    site.article("/help/new", "New", "Not for search engines.", head='<meta name="robots" content="noindex">')
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the target is read, and nothing is removed
    assert site.served("/help/new") == [200]
    assert result.removed == 0 and _paths(source, site) == {"/help/", "/help/hub", "/help/leaf"}
    assert result.error == ENTRY_FAILED.format(error=START_REFRESH_NOTHING.format(target=f"{site.url}/help/new"))


@pytest.mark.parametrize("max_depth", [0, 2])
def test_a_noindex_start_page_that_leads_to_no_page_stops_the_sync_and_removes_nothing(
    tenant: Tenant, site: FakeSite, max_depth: int
) -> None:
    # given a start page -> hub -> leaf, synced once
    source = _synced_hub_site(tenant, site)
    source.config["max_depth"] = max_depth
    source.save(update_fields=["config"])
    # when the start page turns noindex, with no link to a page of the source (or none read at depth 0)
    links = ("/help/hub",) if max_depth == 0 else ("https://new.example/help/",)
    site.article("/help/", "Start", "Welcome.", links=links, head='<meta name="robots" content="noindex">')
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then nothing is removed and the source says why
    assert result.removed == 0 and _paths(source, site) == {"/help/", "/help/hub", "/help/leaf"}
    assert result.error == ENTRY_FAILED.format(error=START_NOINDEX)
    source.refresh_from_db()
    assert source.status == SourceStatus.FAILED and source.error == result.error


@pytest.mark.parametrize("mode", ["sitemap", "crawl"])
def test_a_robots_txt_that_shuts_us_out_stops_the_sync_and_removes_nothing(tenant: Tenant, site: FakeSite, mode: str):
    # given a source synced once (from its sitemap, or crawled from its start page)
    if mode == "sitemap":
        _three_pages(site)
        source, stored = _sitemap_source(tenant, site), {"/help/a", "/help/b", "/help/c"}
    else:
        source, stored = _synced_hub_site(tenant, site), {"/help/", "/help/hub", "/help/leaf"}
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # when a robots.txt disallowing everything is deployed (a staging one, by mistake)
    site.robots("User-agent: *\nDisallow: /\n")
    site.reset()
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then both modes end alike: nothing fetched, nothing removed, the source failed with the reason
    assert [r.path for r in site.requests if r.path != "/sitemap.xml"] == ["/robots.txt"]
    assert result.removed == 0 and _paths(source, site) == stored
    reason = ALL_DISALLOWED if mode == "sitemap" else START_DISALLOWED
    assert result.error == ENTRY_FAILED.format(error=reason)
    source.refresh_from_db()
    assert source.status == SourceStatus.FAILED and source.error == result.error


@pytest.mark.parametrize("left_out", ["noindex", "refresh"])
def test_a_sitemap_whose_every_page_is_left_out_stops_the_sync_and_removes_nothing(
    tenant: Tenant, site: FakeSite, left_out: str
) -> None:
    # given a sitemap of three pages, synced once
    _three_pages(site)
    source = _sitemap_source(tenant, site)
    stored = {"/help/a", "/help/b", "/help/c"}
    assert knowledge_source_sync(tenant=tenant, source_id=source.pk).error == ""
    # when every page turns noindex (a staging build deployed) or into a redirect page off the site
    for name in ("a", "b", "c"):
        if left_out == "noindex":
            site.article(f"/help/{name}", f"Page {name}", "Hidden.", head='<meta name="robots" content="noindex">')
        else:
            site.add(f"/help/{name}", '<meta http-equiv="refresh" content="0; url=https://new.example/">')
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then nothing is removed and the source says why, as when robots.txt shuts every page out
    assert result.removed == 0 and _paths(source, site) == stored
    assert result.error == ENTRY_FAILED.format(error=ALL_LEFT_OUT)
    source.refresh_from_db()
    assert source.status == SourceStatus.FAILED


def test_a_sitemap_page_turned_noindex_is_still_removed_when_others_are_kept(tenant: Tenant, site: FakeSite) -> None:
    _three_pages(site)
    source = _sitemap_source(tenant, site)
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    site.article("/help/b", "Page b", "Hidden.", head='<meta name="robots" content="noindex">')
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert result.error == "" and result.removed == 1 and _paths(source, site) == {"/help/a", "/help/c"}


def test_a_robots_txt_that_disallows_some_pages_removes_only_those(tenant: Tenant, site: FakeSite):
    _three_pages(site)
    source = _sitemap_source(tenant, site)
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    site.robots("User-agent: *\nDisallow: /help/b\n")
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert result.error == "" and result.removed == 1 and _paths(source, site) == {"/help/a", "/help/c"}


def test_a_sync_stops_at_its_time_limit_and_removes_nothing(
    tenant: Tenant, site: FakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a site synced once in full, whose pages then each take 0.4 s to answer (a slow or
    # hostile site keeps a worker for max_pages times a page's deadline, hours)
    paths = [f"/help/p{n}" for n in range(8)]
    for path in paths:
        site.article(path, f"Page {path}", f"Text of {path}.")
    site.sitemap("/sitemap.xml", paths)
    source = _sitemap_source(tenant, site)
    assert knowledge_source_sync(tenant=tenant, source_id=source.pk).error == ""
    for path in paths:
        site.pages[path].delay_s = 0.4
    site.reset()
    # when a sync may run for 1 s
    monkeypatch.setattr(conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, crawl_sync_max_s=1))
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then it stops once past the limit, says why, and every page stays
    assert 0 < len([request for request in site.requests if request.path in paths]) < len(paths)
    assert result.error == ENTRY_FAILED.format(error=SYNC_TOO_LONG.format(seconds=1))
    assert result.removed == 0 and _paths(source, site) == set(paths)
    source.refresh_from_db()
    assert source.status == SourceStatus.FAILED and source.error == result.error


def test_a_claim_left_unrenewed_for_a_few_renewal_intervals_is_taken_over(tenant: Tenant, site: FakeSite) -> None:
    # given a source whose sync's worker died a quarter of an hour ago, and one renewed a minute ago
    _three_pages(site)
    dead = _sitemap_source(tenant, site)
    now = timezone.now()
    KnowledgeSource.objects.filter(pk=dead.pk).update(
        status=SourceStatus.SYNCING, sync_started_at=now - timedelta(minutes=15)
    )
    live = url_source_create(
        tenant=tenant, name="Live", config={"sitemap_url": f"{site.url}/sitemap.xml"}, sync_now=False
    )
    KnowledgeSource.objects.filter(pk=live.pk).update(
        status=SourceStatus.SYNCING, sync_started_at=now - timedelta(seconds=site_sync.LEASE_RENEWAL_S)
    )
    # when
    assert (sync_running(source=dead), sync_running(source=live)) == (False, True)
    taken = knowledge_source_sync(tenant=tenant, source_id=dead.pk)
    refused = knowledge_source_sync(tenant=tenant, source_id=live.pk)
    # then the dead claim is taken over and synced, the live one is left alone
    assert (taken.error, taken.pages) == ("", 3)
    assert refused.skipped and refused.error == ALREADY_SYNCING
    dead.refresh_from_db()
    assert (dead.status, dead.sync_started_at) == (SourceStatus.IDLE, None)


class _Clock:
    """Wall clock and monotonic clock of ``knowledge.sources`` and ``knowledge.site_sync``, moved on by hand."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> datetime:
        return timezone.now() + timedelta(seconds=self.offset)

    def monotonic(self) -> float:
        return time.monotonic() + self.offset


def test_a_live_sync_that_renews_its_claim_is_never_taken_over(
    tenant: Tenant, site: FakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a sync of 15 pages, each taking just over a renewal interval: longer in all than the lease
    paths = [f"/help/p{n}" for n in range(15)]
    for path in paths:
        site.article(path, f"Page {path}", f"Text of {path}.")
    site.sitemap("/sitemap.xml", paths)
    source = _sitemap_source(tenant, site)
    clock = _Clock()
    for module in (sources, site_sync):  # the rivals claim in sources, the live sync renews in site_sync
        monkeypatch.setattr(module, "timezone", SimpleNamespace(now=clock.now))
    monkeypatch.setattr(site_sync, "time", SimpleNamespace(monotonic=clock.monotonic))
    real_read = site_sync.SiteSync._read
    rivals: list[SyncResult] = []

    def slow_read_with_a_rival(sync: site_sync.SiteSync, url: str, document: Document | None) -> tuple[str, ...] | None:
        clock.offset += site_sync.LEASE_RENEWAL_S + 1
        # a second sync ("Sync now", beat, a redelivered task) tries to take the source meanwhile
        rivals.append(knowledge_source_sync(tenant=tenant, source_id=source.pk))
        return real_read(sync, url, document)

    monkeypatch.setattr(site_sync.SiteSync, "_read", slow_read_with_a_rival)
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the live sync ran to its end and every rival found it running
    assert clock.offset > SYNC_LEASE.total_seconds()
    assert (result.error, result.pages) == ("", 15)
    assert len(rivals) == 15 and all(rival.skipped and rival.error == ALREADY_SYNCING for rival in rivals)
