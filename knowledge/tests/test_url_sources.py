"""URL sources against a real local website: sitemaps, crawling, robots.txt, conditional GETs, errors."""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from knowledge import conf, site_sync, source_config, tasks
from knowledge.crawling import Crawler
from knowledge.fetched_page import PageError
from knowledge.html_links import header_robots, page_links
from knowledge.models import Chunk, Document, DocumentStatus, KnowledgeSource, SourceStatus
from knowledge.selectors import retrieve, url_sources_due
from knowledge.services import tenant_reindex
from knowledge.source_config import NAME_TAKEN, SYNC_LEASE, SourceConfigError, url_config_parse, url_source_create
from knowledge.sources import ALREADY_SYNCING, INTERNAL_ERROR, knowledge_source_sync
from knowledge.sync_result import SyncResult
from knowledge.tests.migration_state import migrate_knowledge_to
from knowledge.tests.site_fake import FakeSite
from supportai.models import Tenant

pytestmark = pytest.mark.usefixtures("local_crawl")

PAGES = {
    "/help/parking": ("Parking", "Free parking behind the studio on weekdays."),
    "/help/hours": ("Opening hours", "We open at nine and close at seven."),
    "/help/refunds": ("Refunds", "Refunds reach your card within five working days."),
}


@pytest.fixture
def help_site(site: FakeSite) -> FakeSite:
    """Three help articles listed by a sitemap index → sitemap; robots.txt hides /help/private."""
    for path, (title, text) in PAGES.items():
        site.article(path, title, text)
    site.article("/help/private", "Staff notes", "Internal only.")
    site.sitemap("/sitemap.xml", ["/sitemap-help.xml"], index=True)
    site.sitemap("/sitemap-help.xml", [*PAGES, "/help/private"])
    site.robots("User-agent: *\nDisallow: /help/private\n")
    return site


def _source(tenant, site: FakeSite, **config) -> KnowledgeSource:
    config = config or {"sitemap_url": f"{site.url}/sitemap.xml"}
    return url_source_create(tenant=tenant, name="Help centre", config=config, sync_now=False)


def _titles(source: KnowledgeSource) -> set[str]:
    return set(Document.objects.filter(source=source).values_list("title", flat=True))


def _chunk_ids(source: KnowledgeSource) -> set[int]:
    return set(Chunk.objects.filter(document__source=source).values_list("pk", flat=True))


def test_first_sync_ingests_the_sitemap_pages_and_skips_robots_disallowed_ones(tenant, help_site):
    # given
    source = _source(tenant, help_site)
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then
    assert result.outcomes["created"] == 3 and result.skipped_robots == 1 and result.error == ""
    assert _titles(source) == {"Parking", "Opening hours", "Refunds"}
    assert set(Document.objects.filter(source=source).values_list("status", flat=True)) == {DocumentStatus.READY}
    assert help_site.served("/help/private") == []
    robots = next(r for r in help_site.requests if r.path == "/robots.txt")
    assert robots.headers["user-agent"].startswith("SupportAI-KnowledgeBot/")
    source.refresh_from_db()
    assert source.status == SourceStatus.IDLE and source.last_synced_at is not None and source.error == ""
    passages = retrieve(tenant=tenant, query="parking weekdays", k=1, mode="bm25")
    assert passages[0].title == "Parking" and passages[0].url == f"{help_site.url}/help/parking"
    assert "Home" not in passages[0].text and "©" not in passages[0].text  # main text only


def test_second_sync_is_all_304_with_no_chunk_writes(tenant, help_site):
    # given
    source = _source(tenant, help_site)
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    chunks, indexed = _chunk_ids(source), dict(Document.objects.values_list("pk", "indexed_at"))
    help_site.reset()
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then
    assert result.outcomes["not_modified"] == 3 and result.outcomes["created"] == result.outcomes["updated"] == 0
    for path in PAGES:
        assert help_site.served(path) == [304]
    assert all(r.headers.get("if-none-match") for r in help_site.requests if r.path in PAGES)
    assert _chunk_ids(source) == chunks and dict(Document.objects.values_list("pk", "indexed_at")) == indexed


def test_last_modified_alone_also_gives_a_304(tenant, site):
    site.add(
        "/only",
        "<title>Only</title><main><p>Validated by date.</p></main>",
        etag=False,
        last_modified="Wed, 21 Oct 2015 07:28:00 GMT",
    )
    source = _source(tenant, site, start_url=f"{site.url}/only")
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert result.outcomes["not_modified"] == 1 and site.served("/only") == [200, 304]


def test_a_200_with_the_same_text_costs_no_chunk_write(tenant, site):
    site.add("/same", "<title>Same</title><main><p>Never changes.</p></main>", etag=False)
    source = _source(tenant, site, start_url=f"{site.url}/same")
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    chunks = _chunk_ids(source)
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert result.outcomes["unchanged"] == 1 and _chunk_ids(source) == chunks


def test_a_page_is_stemmed_in_the_language_its_html_declares(tenant, site):
    # given
    html = '<html lang="de"><title>Parken</title><main><p>Parkplätze hinter dem Studio.</p></main></html>'
    site.add("/parken", html)
    source = _source(tenant, site, start_url=f"{site.url}/parken")
    # when
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then: "Parkplatz" meets "Parkplätze" only with German stemming
    document = Document.objects.get(source=source)
    assert (document.language, document.search_config) == ("de", "german")
    assert [p.title for p in retrieve(tenant=tenant, query="Parkplatz", k=1, mode="bm25")] == ["Parken"]


def test_a_changed_page_is_rechunked_and_the_others_untouched(tenant, help_site):
    # given
    source = _source(tenant, help_site)
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    parking = Document.objects.get(source=source, title="Parking")
    old_parking_chunks = set(parking.chunks.values_list("pk", flat=True))
    other_chunks = _chunk_ids(source) - old_parking_chunks
    # when
    help_site.article("/help/parking", "Parking", "Parking moved to the multi-storey garage on Elm Street.")
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then
    assert result.outcomes["updated"] == 1 and result.outcomes["not_modified"] == 2
    new_parking_chunks = set(parking.chunks.values_list("pk", flat=True))
    assert new_parking_chunks and not new_parking_chunks & old_parking_chunks
    assert other_chunks <= _chunk_ids(source)
    assert retrieve(tenant=tenant, query="multi-storey garage", k=1, mode="bm25")[0].title == "Parking"


def test_a_page_removed_from_site_and_sitemap_removes_its_document(tenant, help_site):
    source = _source(tenant, help_site)
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    del help_site.pages["/help/refunds"]
    help_site.sitemap("/sitemap-help.xml", ["/help/parking", "/help/hours"])
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert result.removed == 1 and _titles(source) == {"Parking", "Opening hours"}
    assert not retrieve(tenant=tenant, query="refunds card", k=3, mode="bm25")


def test_a_page_newly_disallowed_by_robots_is_removed(tenant, help_site):
    source = _source(tenant, help_site)
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    help_site.robots("User-agent: SupportAI-KnowledgeBot\nDisallow: /help/hours\n")
    help_site.reset()
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert result.skipped_robots == 1 and result.removed == 1 and help_site.served("/help/hours") == []
    assert _titles(source) == {"Parking", "Refunds", "Staff notes"}  # this agent's group allows /help/private


def test_private_addresses_are_refused_unless_allowed(tenant, help_site, monkeypatch):
    # given a source created while private addresses were allowed, then the production default
    # (creation refuses a private host up front; the crawler refuses it again at connect time)
    source = _source(tenant, help_site)
    monkeypatch.setattr(conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, crawl_allow_private=False))
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then
    assert help_site.requests == []
    source.refresh_from_db()
    assert source.status == SourceStatus.FAILED and "non-public address" in source.error
    assert "KNOWLEDGE_CRAWL_ALLOW_PRIVATE" in result.error and not Document.objects.exists()


def test_a_server_dribbling_its_headers_is_cut_off_at_the_pages_deadline(tenant, site):
    # given a page whose answer, headers included, arrives a byte every 0.2 s: ~20 s in all, each
    # byte well within the 1 s read timeout
    site.article("/ok", "Good page", "This page is fine.")
    site.add("/drip", "<title>Drip</title><main><p>late</p></main>", dribble_s=0.2)
    site.sitemap("/sitemap.xml", ["/drip", "/ok"])
    source = _source(tenant, site)
    # when
    started = time.monotonic()
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then it is that page's timeout at its 2 s deadline, and the rest goes on
    assert time.monotonic() - started < 10
    assert result.errors == {f"{site.url}/drip": PageError.TIMEOUT}
    documents = {d.external_id.removeprefix(site.url): d for d in Document.objects.filter(source=source)}
    assert documents["/ok"].status == DocumentStatus.READY
    assert documents["/drip"].status == DocumentStatus.FAILED and "within 2 seconds" in documents["/drip"].error


def test_bad_pages_get_their_own_errors_and_do_not_stop_the_rest(tenant, site, monkeypatch):
    # given a sitemap whose pages fail in every way but one
    monkeypatch.setattr(conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, crawl_max_page_bytes=4096))
    site.article("/ok", "Good page", "This page is fine.")
    site.add("/big", "<title>Big</title><main>" + "<p>padding text</p>" * 1000 + "</main>")
    site.add("/slow", "<title>Slow</title><main><p>late</p></main>", delay_s=2.5)
    site.add("/brochure", b"%PDF-1.4 binary", content_type="application/pdf")
    site.add("/broken", "oops", status=500)
    site.add("/empty", "<title>Empty</title><main></main>")
    site.add("/elsewhere", "", status=302, headers={"Location": site.url.replace("127.0.0.1", "localhost") + "/x"})
    paths = ["/missing", "/big", "/slow", "/brochure", "/broken", "/empty", "/elsewhere", "/ok"]
    site.sitemap("/sitemap.xml", paths)
    source = _source(tenant, site)
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then
    assert result.outcomes["created"] == 1 and result.outcomes["failed"] == 7
    errors = {d.external_id.removeprefix(site.url): (d.status, d.error) for d in Document.objects.filter(source=source)}
    assert errors["/ok"] == (DocumentStatus.READY, "")
    assert all(status == DocumentStatus.FAILED for path, (status, _) in errors.items() if path != "/ok")
    assert "HTTP 404" in errors["/missing"][1]
    assert "4096-byte limit" in errors["/big"][1]
    assert "within 2 seconds" in errors["/slow"][1]  # a page's whole deadline, twice the read timeout
    assert "'application/pdf', not HTML" in errors["/brochure"][1]
    assert "HTTP 500" in errors["/broken"][1]
    assert "no main text" in errors["/empty"][1]
    assert "outside this source's host" in errors["/elsewhere"][1]
    assert result.errors[f"{site.url}/slow"] == PageError.TIMEOUT
    source.refresh_from_db()
    assert source.status == SourceStatus.IDLE and source.error.startswith("7 of 8 pages failed")


def test_a_transient_error_keeps_the_text_fetched_before(tenant, help_site):
    source = _source(tenant, help_site)
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    help_site.pages["/help/hours"].status = 503
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    hours = Document.objects.get(source=source, title="Opening hours")
    assert hours.status == DocumentStatus.READY and "HTTP 503" in hours.error and hours.chunk_count > 0
    # when the page is back (unchanged), its error is cleared with a 304
    help_site.pages["/help/hours"].status = 200
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    hours.refresh_from_db()
    assert hours.error == "" and help_site.served("/help/hours")[-1] == 304


@pytest.mark.parametrize("status", [DocumentStatus.PENDING, DocumentStatus.FAILED])
def test_a_transient_error_keeps_the_text_of_a_page_being_indexed_or_whose_embedding_failed(tenant, help_site, status):
    # given a stored page being re-indexed (pending) or whose embedding failed
    source = _source(tenant, help_site)
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    hours = Document.objects.get(source=source, title="Opening hours")
    chunks, chunk_count = set(hours.chunks.values_list("pk", flat=True)), hours.chunk_count
    Document.objects.filter(pk=hours.pk).update(status=status)
    # when the site answers 503 for it
    help_site.pages["/help/hours"].status = 503
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then its text and chunks stay, with the error on it
    hours.refresh_from_db()
    assert chunks and set(hours.chunks.values_list("pk", flat=True)) == chunks
    assert "nine" in hours.content and hours.content_hash and hours.chunk_count == chunk_count > 0
    assert hours.status == status and "HTTP 503" in hours.error


def test_a_page_that_starts_to_404_loses_its_chunks_but_keeps_its_error(tenant, help_site):
    source = _source(tenant, help_site)
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    help_site.pages["/help/hours"].status = 404
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    hours = Document.objects.get(source=source, external_id=f"{help_site.url}/help/hours")
    assert hours.status == DocumentStatus.FAILED and "HTTP 404" in hours.error and not hours.chunks.exists()
    assert tenant_reindex(tenant=tenant) == 0  # a page without text is not "indexed" back to ready


def test_an_unreadable_sitemap_removes_nothing(tenant, help_site):
    source = _source(tenant, help_site)
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    help_site.pages["/sitemap-help.xml"].status = 500
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert result.removed == 0 and len(_titles(source)) == 3
    source.refresh_from_db()
    assert source.status == SourceStatus.FAILED and "sitemap-help.xml could not be read" in source.error


def test_an_unreachable_robots_txt_means_no_page_is_fetched(tenant, help_site):
    help_site.pages["/robots.txt"].status = 503
    source = _source(tenant, help_site)
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert "robots.txt" in result.error and not any(help_site.served(path) for path in PAGES)


def test_crawl_follows_same_host_links_under_the_prefix_to_the_depth(tenant, site):
    # given /docs/ → a, b → c → d, plus links out of scope
    other_host = site.url.replace("127.0.0.1", "localhost")
    site.article("/docs/", "Docs home", "Start here.", links=("a", "/docs/b", "/blog/news", f"{other_host}/docs/x"))
    site.article("/docs/a", "Page A", "Alpha.", links=("c#section", "/docs/manual.pdf"))
    site.article("/docs/b", "Page B", "Bravo.", links=("/docs/a",))
    site.article("/docs/c", "Page C", "Charlie.", links=("/docs/d",))
    site.article("/docs/d", "Page D", "Delta: too deep.")
    site.article("/docs/hidden", "Hidden", "Not indexed.", head='<meta name="robots" content="noindex">')
    site.article("/blog/news", "News", "Out of the prefix.")
    source = _source(tenant, site, start_url=f"{site.url}/docs/", path_prefix="/docs/", max_depth=2)
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then
    assert _titles(source) == {"Docs home", "Page A", "Page B", "Page C"}
    assert result.outcomes["created"] == 4 and site.served("/docs/d") == site.served("/blog/news") == []
    assert site.served("/docs/a") == [200]  # linked twice, fetched once
    # when nothing changed, then the stored links of 304 pages carry the crawl just as far
    second = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert second.outcomes["not_modified"] == 4 and second.removed == 0


def test_crawl_stops_at_the_page_limit(tenant, site):
    site.article("/", "Home", "Welcome.", links=("/one", "/two", "/three"))
    for path in ("/one", "/two", "/three"):
        site.article(path, path, "Text.")
    source = _source(tenant, site, start_url=f"{site.url}/", max_pages=2)
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert result.pages == 2 and Document.objects.filter(source=source).count() == 2


def test_noindex_meta_keeps_a_page_out(tenant, site):
    site.article("/", "Home", "Welcome.", links=("/draft",))
    site.article("/draft", "Draft", "Secret draft.", head='<meta name="robots" content="noindex, follow">')
    source = _source(tenant, site, start_url=f"{site.url}/")
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert result.skipped_noindex == 1 and _titles(source) == {"Home"}


@pytest.mark.parametrize(
    ("user_agent", "kept"),
    [
        ("AcmeBot/1.0 (our help-centre indexer)", {"Home", "Default's"}),
        (conf.DEFAULT_USER_AGENT, {"Home", "Acme's"}),
    ],
)
def test_noindex_meta_for_our_configured_crawler_name_keeps_a_page_out(tenant, site, monkeypatch, user_agent, kept):
    # given a crawler configured with a User-Agent, and pages marked noindex for every crawler, for
    # "AcmeBot" and for the default "SupportAI-KnowledgeBot"
    monkeypatch.setattr(conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, crawl_user_agent=user_agent))
    site.article("/", "Home", "Welcome.", links=("/all", "/acme", "/default"))
    site.article("/all", "All", "For no crawler.", head='<meta name="robots" content="noindex">')
    site.article("/acme", "Acme's", "Not for Acme.", head='<meta name="AcmeBot" content="noindex">')
    site.article("/default", "Default's", "Not for us.", head='<meta name="supportai-knowledgebot" content="noindex">')
    source = _source(tenant, site, start_url=f"{site.url}/")
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the page marked for the configured product token is kept out, another crawler's is stored
    assert result.skipped_noindex == 2 and _titles(source) == kept


def test_a_sync_reads_robots_meta_for_the_crawler_it_is_given(tenant, site):
    # given a sync run with its own crawler, named other than the configured User-Agent
    site.article("/", "Home", "Welcome.", links=("/acme", "/default"))
    site.article("/acme", "Acme's", "Not for Acme.", head='<meta name="AcmeBot" content="noindex">')
    site.article("/default", "Default's", "Not for us.", head='<meta name="supportai-knowledgebot" content="noindex">')
    source = _source(tenant, site, start_url=f"{site.url}/")
    crawler = Crawler(user_agent="AcmeBot/1.0", timeout_s=1, max_bytes=1_000_000, allow_private=True)
    # when
    with crawler:
        result = knowledge_source_sync(tenant=tenant, source_id=source.pk, crawler=crawler)
    # then the page marked for that crawler is kept out, the configured one's is stored
    assert result.skipped_noindex == 1 and _titles(source) == {"Home", "Default's"}


def test_page_links_read_the_robots_meta_of_the_crawler_named():
    html = '<meta name="acmebot" content="nofollow"><meta name="otherbot" content="noindex"><a href="/a">A</a>'
    acme = page_links(html, "https://help.example.com/", robots_token="AcmeBot")
    other = page_links(html, "https://help.example.com/", robots_token="SupportAI-KnowledgeBot")
    assert (acme.nofollow, acme.noindex) == (True, False)
    assert (other.nofollow, other.noindex) == (False, False)


def test_a_long_content_type_is_quoted_only_in_part_in_the_page_error(tenant, site):
    # given a page whose server sends a 10,000-character Content-Type
    site.article("/", "Home", "Welcome.", links=("/odd",))
    site.add("/odd", "<p>text</p>", content_type="application/x-" + "a" * 10_000)
    source = _source(tenant, site, start_url=f"{site.url}/")
    # when
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the stored error names the type without repeating all of it
    error = Document.objects.get(source=source, external_id=f"{site.url}/odd").error
    assert "'application/x-aaaa" in error and "…', not HTML" in error
    assert len(error) < 300


def test_x_robots_tag_header_keeps_a_page_out_or_its_links_unfollowed(tenant, site):
    # given a site whose server marks pages in X-Robots-Tag headers, not in their HTML
    site.article("/", "Home", "Welcome.", links=("/draft", "/hub", "/theirs"))
    site.article("/draft", "Draft", "Secret draft.")
    site.pages["/draft"].headers["X-Robots-Tag"] = "noindex"
    site.article("/hub", "Hub", "Links we must not follow.", links=("/behind",))
    site.pages["/hub"].headers["X-Robots-Tag"] = "SupportAI-KnowledgeBot: nofollow"
    site.article("/behind", "Behind", "Only reachable through the hub.")
    site.article("/theirs", "Theirs", "Marked for another crawler only.")
    site.pages["/theirs"].headers["X-Robots-Tag"] = "otherbot: noindex"
    source = _source(tenant, site, start_url=f"{site.url}/")
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the noindex page is skipped, the hub is stored but its links are not followed
    assert result.skipped_noindex == 1
    assert _titles(source) == {"Home", "Hub", "Theirs"}
    assert site.served("/behind") == []


def test_x_robots_tag_header_on_a_304_keeps_a_page_out_or_its_links_unfollowed(tenant, site):
    # given a site synced once, whose server then marks unchanged pages in X-Robots-Tag headers
    site.article("/", "Home", "Welcome.", links=("/draft", "/hub"))
    site.article("/draft", "Draft", "Secret draft.")
    site.article("/hub", "Hub", "Links we must not follow.", links=("/behind",))
    site.article("/behind", "Behind", "Only reachable through the hub.")
    source = _source(tenant, site, start_url=f"{site.url}/")
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert _titles(source) == {"Home", "Draft", "Hub", "Behind"}
    site.pages["/draft"].headers["X-Robots-Tag"] = "noindex"
    site.pages["/hub"].headers["X-Robots-Tag"] = "nofollow"
    site.reset()
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the header on the 304 counts: the draft goes, the hub stays but leads nowhere
    assert site.served("/draft") == site.served("/hub") == [304] and site.served("/behind") == []
    assert result.skipped_noindex == 1 and result.removed == 2
    assert _titles(source) == {"Home", "Hub"}


@pytest.mark.parametrize(
    ("values", "directives"),
    [
        (["noindex"], {"noindex"}),
        (["noindex, nofollow"], {"noindex", "nofollow"}),
        (["NONE"], {"none"}),
        (["SupportAI-KnowledgeBot: noindex"], {"noindex"}),
        (["otherbot: noindex, nofollow"], set()),
        (["otherbot: noindex", "nofollow"], {"nofollow"}),
        (["unavailable_after: 25 Jun 2030 15:00:00 PST"], {"unavailable_after: 25 jun 2030 15:00:00 pst"}),
        (["max-snippet: 20, noindex"], {"max-snippet: 20", "noindex"}),
        ([""], set()),
    ],
)
def test_header_robots_reads_only_the_directives_meant_for_us(values, directives):
    assert header_robots(values, "SupportAI-KnowledgeBot") == directives


def test_another_tenant_cannot_sync_the_source(tenant, other_tenant, help_site):
    source = _source(tenant, help_site)
    with pytest.raises(Http404):
        knowledge_source_sync(tenant=other_tenant, source_id=source.pk)
    assert help_site.requests == []


def test_a_running_sync_is_not_started_twice(tenant, help_site):
    source = _source(tenant, help_site)
    KnowledgeSource.objects.filter(pk=source.pk).update(status=SourceStatus.SYNCING, sync_started_at=source.created_at)
    source.refresh_from_db()
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert result.skipped and help_site.requests == []


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "exactly one of start_url"),
        ({"start_url": "https://a.example/", "sitemap_url": "https://a.example/s.xml"}, "exactly one"),
        ({"start_url": "ftp://a.example/"}, "absolute http(s) URL"),
        ({"start_url": "https://a.example/", "path_prefix": "docs"}, "must start with '/'"),
        ({"start_url": "https://a.example/", "path_prefix": "/help?lang=en"}, "no query string or fragment"),
        ({"sitemap_url": "https://a.example/s.xml", "path_prefix": "/help#faq"}, "no query string or fragment"),
        ({"start_url": "https://a.example/", "max_depth": 99}, "max_depth must be a whole number from 0 to 10"),
        ({"start_url": "https://a.example/", "max_pages": "ten"}, "max_pages must be a whole number"),
        ({"start_url": "https://a.example/", "max_pages": 0}, "max_pages must be a whole number from 1 to"),
    ],
)
def test_bad_configs_are_refused_with_a_plain_message(config, message):
    with pytest.raises(SourceConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        url_config_parse(config)


@pytest.mark.parametrize(
    ("config", "quoted"),
    [
        ({"start_url": "https://a.example/", "max_pages": 10**4000}, "got 1000000000"),
        ({"start_url": "ftp://a.example/" + "a" * 10_000}, "got 'ftp://a.example/aaa"),
        ({"start_url": "https://a.example/", "path_prefix": "docs/" * 2_000}, "got 'docs/docs/"),
        ({"start_url": "https://a.example/", "path_prefix": "/help?" * 2_000}, "got '/help?/help?"),
    ],
)
def test_a_refused_setting_is_quoted_only_in_part(config, quoted):
    # a value pasted by mistake (a page of text, a huge number) is not echoed back whole
    with pytest.raises(SourceConfigError) as refused:
        url_config_parse(config)

    message = str(refused.value)
    assert quoted in message and "…" in message
    assert len(message) < 250


@pytest.mark.parametrize("broken", ["knowledge.sources.default_provider", "knowledge.sources.Crawler.from_settings"])
def test_a_sync_that_cannot_start_its_provider_or_crawler_releases_the_source(tenant, help_site, monkeypatch, broken):
    # given a default embedding provider / crawler that cannot be built
    source = _source(tenant, help_site)

    def fail() -> None:
        raise RuntimeError("misconfigured")

    # when
    with monkeypatch.context() as patch:
        patch.setattr(broken, fail)
        with pytest.raises(RuntimeError, match="misconfigured"):
            knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the source is not left "syncing": it is failed, free, and due for the next beat
    source.refresh_from_db()
    assert source.status == SourceStatus.FAILED and source.sync_started_at is None and source.error == INTERNAL_ERROR
    assert source in url_sources_due(now=timezone.now() + timedelta(days=400), default_interval_minutes=60)
    assert knowledge_source_sync(tenant=tenant, source_id=source.pk).outcomes["created"] == 3


def test_a_bad_stored_config_fails_the_source_but_never_a_running_sync(tenant):
    # given a source whose stored config went bad, while a sync of it is running
    source = KnowledgeSource.objects.create(tenant=tenant, name="Broken", kind="url", config={})
    started = timezone.now()
    KnowledgeSource.objects.filter(pk=source.pk).update(status=SourceStatus.SYNCING, sync_started_at=started)
    # when a second sync starts, then it leaves the running one alone
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    source.refresh_from_db()
    assert result.skipped and result.error == ALREADY_SYNCING
    assert source.status == SourceStatus.SYNCING and source.sync_started_at == started and source.error == ""
    # when the source is free, then the config error is recorded and the claim released
    KnowledgeSource.objects.filter(pk=source.pk).update(status=SourceStatus.IDLE, sync_started_at=None)
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    source.refresh_from_db()
    assert "exactly one of start_url" in result.error and not result.skipped
    assert source.status == SourceStatus.FAILED and source.sync_started_at is None and source.error == result.error


def test_a_name_taken_between_the_check_and_the_insert_is_the_same_plain_error(tenant, help_site, monkeypatch):
    # given another request that created "Help centre" after our check said the name was free
    _source(tenant, help_site)
    monkeypatch.setattr(source_config, "_name_check", lambda **kwargs: None)
    # when
    with pytest.raises(SourceConfigError) as raised:
        _source(tenant, help_site)
    # then the unique constraint turns into the name-taken message, and the transaction is still usable
    assert str(raised.value) == NAME_TAKEN.format(name="Help centre")
    assert KnowledgeSource.objects.filter(tenant=tenant, name="Help centre").count() == 1


def test_a_start_page_that_starts_to_404_says_its_text_was_removed(tenant, site):
    # given a one-page source (no links to carry the crawl on) synced once
    site.add("/only", "<title>Only</title><main><p>The one page of this source.</p></main>")
    source = _source(tenant, site, start_url=f"{site.url}/only")
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # when the start page is gone
    site.pages["/only"].status = 404
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the summary says its text went, rather than "nothing was synced or removed"
    assert result.error.startswith("The sync stopped early: the start page could not be read: The page answered")
    assert "HTTP 404" in result.error and "1 page lost its stored text to a permanent error" in result.error
    source.refresh_from_db()
    assert source.status == SourceStatus.FAILED and source.error == result.error
    only = Document.objects.get(source=source)
    assert only.status == DocumentStatus.FAILED and "HTTP 404" in only.error and not only.chunks.exists()


def test_a_start_page_missing_on_the_first_sync_changes_nothing(tenant, site):
    source = _source(tenant, site, start_url=f"{site.url}/nowhere")
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert result.error.startswith("Nothing was synced or removed: the start page could not be read")
    assert not Chunk.objects.filter(document__source=source).exists()


def test_nul_bytes_and_lone_surrogates_in_a_page_are_left_out_and_a_binary_page_is_its_own_error(tenant, site):
    # given a page with NULs in its title and text, a page labelled UTF-7 (which would decode to a
    # lone surrogate; browsers, and we, read no page as UTF-7), a page that is mostly NULs, and a plain page
    site.add("/nul", b"<title>Par\x00king</title><main><p>Free\x00 parking behind the studio.</p></main>")
    site.add(
        "/utf7", b"<title>Hours</title><main><p>Open +2AA- at nine.</p></main>", content_type="text/html; charset=utf-7"
    )
    site.add("/binary", b"<html>" + b"\x00\x01\x02\x03" * 500 + b"<main><p>text</p></main></html>")
    site.article("/ok", "Refunds", "Refunds reach your card within five working days.")
    site.sitemap("/sitemap.xml", ["/nul", "/utf7", "/binary", "/ok"])
    source = _source(tenant, site)
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the NUL page is indexed without its NULs, the UTF-7 one as its bytes read, the binary page failed alone
    assert result.outcomes["created"] == 3 and result.errors == {f"{site.url}/binary": PageError.MALFORMED}
    nul = Document.objects.get(source=source, external_id=f"{site.url}/nul")
    assert (
        nul.title == "Parking"
        and nul.content == "Free parking behind the studio."
        and nul.status == DocumentStatus.READY
    )
    assert "Open +2AA- at nine." in Document.objects.get(source=source, external_id=f"{site.url}/utf7").content
    binary = Document.objects.get(source=source, external_id=f"{site.url}/binary")
    assert binary.status == DocumentStatus.FAILED and binary.error == "The page looks binary, not HTML text."
    assert retrieve(tenant=tenant, query="parking studio", k=1, mode="bm25")[0].title == "Parking"
    # and the next sync goes through as well
    assert knowledge_source_sync(tenant=tenant, source_id=source.pk).outcomes["not_modified"] == 3


def test_links_with_control_characters_are_percent_encoded_and_crawled(tenant, site):
    # given links with a control character, a NUL, and a tab and newline inside (which browsers drop)
    site.add(
        "/help/",
        '<title>Help</title><main><p>Start here.</p><a href="/help/a\x01b">A</a><a href="/help/c\x00d">C</a>'
        '<a href="/help/e\tf\n">E</a><a href="\x01 /help/a\x01b ">A again</a></main>',
    )
    site.article("/help/a%01b", "Page A", "Alpha.")
    site.article("/help/c%00d", "Page C", "Charlie.")
    site.article("/help/ef", "Page E", "Echo.")
    source = _source(tenant, site, start_url=f"{site.url}/help/", path_prefix="/help/")
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then
    assert result.error == "" and result.outcomes["created"] == 4
    assert _titles(source) == {"Help", "Page A", "Page C", "Page E"}
    home = Document.objects.get(source=source, external_id=f"{site.url}/help/")
    assert home.links == [f"{site.url}/help/a%01b", f"{site.url}/help/c%00d", f"{site.url}/help/ef"]
    # and the stored links carry the next crawl on
    assert knowledge_source_sync(tenant=tenant, source_id=source.pk).outcomes["not_modified"] == 4


def test_a_plain_text_sitemap_line_with_control_characters_is_read(tenant, site):
    site.article("/help/a%01b", "Page A", "Alpha.")
    site.add("/sitemap.txt", f"{site.url}/help/a\x01b\n\x00\n{site.url}/help/b\x00\x7f\n", content_type="text/plain")
    site.article("/help/b%00%7F", "Page B", "Bravo.")
    source = _source(tenant, site, sitemap_url=f"{site.url}/sitemap.txt")
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert result.error == "" and result.outcomes["created"] == 2
    assert set(Document.objects.filter(source=source).values_list("external_id", flat=True)) == {
        f"{site.url}/help/a%01b",
        f"{site.url}/help/b%00%7F",
    }


def test_an_invalid_base_href_is_ignored_and_bad_links_are_dropped_one_by_one(tenant, site):
    # given a page whose <base href> is no URL, with a link that is no URL either
    site.add(
        "/help/",
        '<head><title>Help</title><base href="http://["></head>'
        '<main><p>Start.</p><a href="http://[">broken</a><a href="a">A</a></main>',
    )
    site.article("/help/a", "Page A", "Alpha.")
    source = _source(tenant, site, start_url=f"{site.url}/help/", path_prefix="/help/")
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the link resolves against the page's own address
    assert result.error == "" and _titles(source) == {"Help", "Page A"}


@pytest.mark.parametrize("charset", ["idna", "undefined", "no-such-charset"])
def test_a_charset_python_cannot_decode_with_is_read_as_utf8(tenant, site, charset):
    site.add(
        "/cafe",
        "<title>Café</title><main><p>Crème brûlée on Sundays.</p></main>",
        content_type=f"text/html; charset={charset}",
    )
    source = _source(tenant, site, start_url=f"{site.url}/cafe")
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert result.error == "" and result.outcomes["created"] == 1
    assert Document.objects.get(source=source).content == "Crème brûlée on Sundays."


def test_an_unexpected_error_in_one_page_is_that_pages_error(tenant, help_site, monkeypatch, caplog):
    # given a link parser that breaks on one page
    real_page_links = site_sync.page_links

    def page_links(html: str, base: str, **options):
        if base.endswith("/help/hours"):
            raise RuntimeError("parser bug")
        return real_page_links(html, base, **options)

    monkeypatch.setattr(site_sync, "page_links", page_links)
    source = _source(tenant, help_site)
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the others went through, and the error is logged with its traceback
    hours_url = f"{help_site.url}/help/hours"
    assert result.outcomes["created"] == 2 and result.errors == {hours_url: PageError.INTERNAL}
    hours = Document.objects.get(source=source, external_id=hours_url)
    assert hours.status == DocumentStatus.FAILED and "the error was logged" in hours.error
    assert any(
        r.exc_info and "parser bug" in str(r.exc_info[1]) and hours_url in r.getMessage() for r in caplog.records
    )
    source.refresh_from_db()
    assert source.status == SourceStatus.IDLE and source.error.startswith("1 of 3 pages failed (1 internal)")


def test_a_page_that_breaks_its_batch_fails_alone(tenant, help_site, monkeypatch, caplog):
    # given an ingestion that fails for any batch holding the refunds page
    real_ingest = site_sync.parsed_ingest

    def parsed_ingest(**kwargs):
        if any("Refunds reach" in parsed.text for parsed in kwargs["parsed_documents"]):
            raise RuntimeError("ingest bug")
        return real_ingest(**kwargs)

    monkeypatch.setattr(site_sync, "parsed_ingest", parsed_ingest)
    source = _source(tenant, help_site)
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the pages batched with it are ingested one by one, and only it fails
    refunds_url = f"{help_site.url}/help/refunds"
    assert result.outcomes["created"] == 2 and result.errors == {refunds_url: PageError.INTERNAL}
    assert _titles(source) == {"Parking", "Opening hours", refunds_url}
    assert Document.objects.get(source=source, external_id=refunds_url).status == DocumentStatus.FAILED
    assert sum("ingest bug" in str(r.exc_info[1]) for r in caplog.records if r.exc_info) == 2  # the batch, the page


def test_a_syncing_source_whose_lease_ran_out_is_due_again(tenant, help_site):
    # given a source whose worker died mid-sync three hours ago, and one whose sync is still running
    now = timezone.now()
    dead = _source(tenant, help_site, sitemap_url=f"{help_site.url}/sitemap.xml", sync_interval_minutes=60)
    running = url_source_create(
        tenant=tenant,
        name="Running",
        config={"start_url": f"{help_site.url}/", "sync_interval_minutes": 60},
        sync_now=False,
    )
    KnowledgeSource.objects.filter(pk=dead.pk).update(
        status=SourceStatus.SYNCING, sync_started_at=now - SYNC_LEASE - timedelta(minutes=1)
    )
    KnowledgeSource.objects.filter(pk=running.pk).update(
        status=SourceStatus.SYNCING, sync_started_at=now - timedelta(minutes=5)
    )
    # when
    due = url_sources_due(now=now, default_interval_minutes=60)
    # then the dead one is due, and a sync takes it over; the running one is left alone
    assert dead in due and running not in due
    assert knowledge_source_sync(tenant=tenant, source_id=dead.pk).outcomes["created"] == 3
    dead.refresh_from_db()
    assert dead.status == SourceStatus.IDLE and dead.sync_started_at is None


@pytest.mark.django_db(transaction=True)
def test_migration_writes_stored_unicode_hosts_as_the_crawler_now_writes_them() -> None:
    # given a website source and its pages stored under a Unicode host, one page under both spellings
    old = migrate_knowledge_to("0009_document_file_name")
    tenant, source_model, document_model = old.tenant, old.source, old.document
    site = source_model.objects.create(
        tenant=tenant, name="site", kind="url", config={"start_url": "https://bücher.example:8443/", "max_pages": 5}
    )
    for external_id, aliases in [
        ("https://bücher.example:8443/a", ["https://bücher.example:8443/old-a", "https://plain.example/x"]),
        ("https://bücher.example:8443/b", []),
        ("https://xn--bcher-kva.example:8443/b", []),
        ("https://plain.example/c", []),
    ]:
        document_model.objects.create(
            tenant=tenant, source=site, external_id=external_id, url=external_id, title=external_id, aliases=aliases
        )
    # when the migration runs
    migrated = migrate_knowledge_to("0010_document_ascii_hosts")
    # then the addresses use the encoded host, and the page stored twice keeps both rows
    documents = migrated.document.objects.order_by("external_id")
    assert [(d.external_id, d.url, d.aliases) for d in documents] == [
        ("https://bücher.example:8443/b", "https://bücher.example:8443/b", []),
        ("https://plain.example/c", "https://plain.example/c", []),
        (
            "https://xn--bcher-kva.example:8443/a",
            "https://xn--bcher-kva.example:8443/a",
            ["https://xn--bcher-kva.example:8443/old-a", "https://plain.example/x"],
        ),
        ("https://xn--bcher-kva.example:8443/b", "https://xn--bcher-kva.example:8443/b", []),
    ]
    source = migrated.source.objects.get()
    assert source.config == {"start_url": "https://xn--bcher-kva.example:8443/", "max_pages": 5}
    assert url_config_parse(source.config).host == "xn--bcher-kva.example"


def test_a_deactivated_tenants_sources_are_never_due(tenant, other_tenant, help_site):
    # given two tenants' sources never synced, and one of the tenants deactivated
    config = {"sitemap_url": f"{help_site.url}/sitemap.xml", "sync_interval_minutes": 60}
    mine, theirs = _source(tenant, help_site, **config), _source(other_tenant, help_site, **config)
    Tenant.objects.filter(pk=other_tenant.pk).update(is_active=False)
    # when beat looks for due sources
    due = url_sources_due(now=timezone.now(), default_interval_minutes=60)
    # then it crawls (and pays embeddings for) the active tenant's site only
    assert mine in due and theirs not in due
    # and a sync beat queued before the tenant was deactivated leaves its source alone
    assert tasks.sync_source(theirs.pk, only_if_due=True) == tasks.NOT_DUE
    assert not Document.objects.filter(source=theirs).exists()


def test_a_manual_sync_queued_before_the_tenant_was_deactivated_leaves_its_source_alone(
    tenant, other_tenant, help_site
):
    # given a sync asked for by hand (API, console), then the tenant deactivated before a worker took it
    theirs, mine = _source(other_tenant, help_site), _source(tenant, help_site)
    Tenant.objects.filter(pk=other_tenant.pk).update(is_active=False)
    # when the worker runs it
    assert tasks.sync_source(theirs.pk) == tasks.SYNC_TENANT_INACTIVE
    # then nothing was crawled or embedded for it, and the source is as it was
    theirs.refresh_from_db()
    assert not Document.objects.filter(source=theirs).exists()
    assert (theirs.status, theirs.last_synced_at) == (SourceStatus.IDLE, None)
    # while an active tenant's manual sync goes on
    assert tasks.sync_source(mine.pk) != tasks.SYNC_TENANT_INACTIVE
    assert _titles(mine) == {title for title, _ in PAGES.values()}


@pytest.mark.django_db(transaction=True)
def test_migration_gives_a_stored_page_limit_of_0_the_1_page_its_syncs_read() -> None:
    old = migrate_knowledge_to("0010_document_ascii_hosts")
    for name, pages in (("zero", 0), ("five", 5)):
        old.source.objects.create(
            tenant=old.tenant, name=name, kind="url", config={"start_url": "https://a.example/", "max_pages": pages}
        )
    migrated = migrate_knowledge_to("0011_url_source_max_pages_at_least_1")
    assert dict(migrated.source.objects.values_list("name", "config__max_pages")) == {"zero": 1, "five": 5}


@pytest.mark.django_db(transaction=True)
def test_migration_drops_a_user_name_and_password_stored_in_a_website_address() -> None:
    # given website sources whose addresses were stored with credentials (the admin stored its JSON as typed)
    old = migrate_knowledge_to("0013_document_errors_without_provider_text")
    for name, config in [
        ("login", {"start_url": "https://editor:s3cret@help.example.com:8443/faq?x=1", "max_pages": 5}),
        ("sitemap", {"sitemap_url": "https://s3cret@help.example.com/sitemap.xml"}),
        ("plain", {"start_url": "https://help.example.com/a@b"}),
    ]:
        old.source.objects.create(tenant=old.tenant, name=name, kind="url", config=config)
    # and a source of another kind, whose settings are not website addresses
    old.source.objects.create(tenant=old.tenant, name="other", kind="connector", config={"start_url": "x://u:p@y/"})
    # when the migration runs
    migrated = migrate_knowledge_to("0014_url_source_addresses_without_credentials")
    # then the secrets are gone, the rest of each address and setting is kept, and the syncs can read them
    configs = dict(migrated.source.objects.values_list("name", "config"))
    assert configs == {
        "login": {"start_url": "https://help.example.com:8443/faq?x=1", "max_pages": 5},
        "sitemap": {"sitemap_url": "https://help.example.com/sitemap.xml"},
        "plain": {"start_url": "https://help.example.com/a@b"},
        "other": {"start_url": "x://u:p@y/"},
    }
    for name in ("login", "sitemap", "plain"):
        url_config_parse(configs[name])


def test_a_sync_summary_counts_one_page_and_one_duplicate_in_the_singular() -> None:
    # given a sync of one page that was created, and one duplicate
    result = SyncResult(pages=1, outcomes=Counter({"created": 1}), duplicates=1)
    # when / then
    assert result.summary().startswith("1 page: 1 created, ")
    assert result.summary().endswith(", 1 duplicate")
