"""What a URL source sync fetches: sitemap indexes, gzip and DTDs, redirects, the path-prefix scope, robots.txt."""

from __future__ import annotations

import gzip

import pytest

from knowledge import sources
from knowledge.crawling import MAX_REDIRECTS, PageError, in_scope, path_under
from knowledge.models import Document, DocumentStatus, KnowledgeSource, SourceStatus
from knowledge.source_config import url_source_create
from knowledge.sources import knowledge_source_sync

pytestmark = pytest.mark.usefixtures("local_crawl")


def _source(tenant, **config) -> KnowledgeSource:
    return url_source_create(tenant=tenant, name="Help centre", config=config, sync_now=False)


def _titles(source: KnowledgeSource) -> set[str]:
    return set(Document.objects.filter(source=source).values_list("title", flat=True))


def test_a_sitemap_index_that_lists_itself_is_read_once(tenant, site):
    # given an index listing itself and a child that lists the index again
    site.article("/help/a", "Page A", "Alpha.")
    site.article("/help/b", "Page B", "Bravo.")
    site.sitemap("/sitemap.xml", ["/sitemap.xml", "/sitemap-help.xml", "/sitemap.xml"], index=True)
    site.sitemap("/sitemap-help.xml", ["/sitemap.xml", "/sitemap-more.xml"], index=True)
    site.sitemap("/sitemap-more.xml", ["/help/a", "/help/b"])
    source = _source(tenant, sitemap_url=f"{site.url}/sitemap.xml")
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then
    assert result.error == "" and _titles(source) == {"Page A", "Page B"}
    assert site.served("/sitemap.xml") == site.served("/sitemap-help.xml") == site.served("/sitemap-more.xml") == [200]


def test_no_more_than_max_sitemaps_are_read(tenant, site, monkeypatch):
    # given an index of five child sitemaps and a limit of three reads
    monkeypatch.setattr(sources, "MAX_SITEMAPS", 3)
    children = [f"/sitemap-{n}.xml" for n in range(5)]
    site.sitemap("/sitemap.xml", children, index=True)
    for n, child in enumerate(children):
        site.article(f"/page-{n}", f"Page {n}", "Text.")
        site.sitemap(child, [f"/page-{n}"])
    source = _source(tenant, sitemap_url=f"{site.url}/sitemap.xml")
    # when
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the index and two children were read, and nothing more
    read = [r.path for r in site.requests if r.path.startswith("/sitemap")]
    assert read == ["/sitemap.xml", "/sitemap-0.xml", "/sitemap-1.xml"]
    assert _titles(source) == {"Page 0", "Page 1"}


def test_a_gzipped_sitemap_is_read(tenant, site):
    site.article("/help/a", "Page A", "Alpha.")
    site.sitemap("/sitemap.xml", ["/help/a"])
    site.add("/sitemap.xml.gz", gzip.compress(site.pages.pop("/sitemap.xml").body), content_type="application/gzip")
    source = _source(tenant, sitemap_url=f"{site.url}/sitemap.xml.gz")
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert result.error == "" and _titles(source) == {"Page A"}


def test_a_sitemap_with_a_dtd_is_refused_before_parsing(tenant, site):
    # given a sitemap that declares entities (an entity-expansion attack)
    site.article("/help/a", "Page A", "Alpha.")
    site.add(
        "/sitemap.xml",
        '<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        f"<urlset><url><loc>{site.url}/help/a?&b;</loc></url></urlset>",
        content_type="application/xml",
    )
    source = _source(tenant, sitemap_url=f"{site.url}/sitemap.xml")
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then
    assert result.error.startswith("Nothing was synced or removed") and "declares a DTD or entities" in result.error
    assert site.served("/help/a") == [] and not Document.objects.filter(source=source).exists()
    source.refresh_from_db()
    assert source.status == SourceStatus.FAILED


def test_a_same_host_redirect_is_followed(tenant, site):
    site.add("/help/old", "", status=301, headers={"Location": "/help/new"})
    site.article("/help/new", "New home", "Moved here.")
    site.sitemap("/sitemap.xml", ["/help/old"])
    source = _source(tenant, sitemap_url=f"{site.url}/sitemap.xml", path_prefix="/help")
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert result.outcomes["created"] == 1 and site.served("/help/old") == [301] and site.served("/help/new") == [200]
    document = Document.objects.get(source=source)
    assert document.external_id == f"{site.url}/help/old" and document.url == f"{site.url}/help/new"


def test_a_redirect_loop_stops_after_max_redirects(tenant, site):
    site.add("/help/loop", "", status=302, headers={"Location": "/help/loop"})
    site.sitemap("/sitemap.xml", ["/help/loop"])
    source = _source(tenant, sitemap_url=f"{site.url}/sitemap.xml")
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert site.served("/help/loop") == [302] * (MAX_REDIRECTS + 1)
    assert result.errors == {f"{site.url}/help/loop": PageError.HTTP_ERROR}
    document = Document.objects.get(source=source)
    assert document.status == DocumentStatus.FAILED and f"after {MAX_REDIRECTS} redirects" in document.error


def test_a_redirect_out_of_the_path_prefix_is_not_followed(tenant, site):
    # given a page under /help that redirects to the same host's admin area
    site.add("/help/moved", "", status=301, headers={"Location": "/admin/secret"})
    site.article("/admin/secret", "Secret", "Staff only.")
    site.article("/help/ok", "Fine", "In scope.")
    site.sitemap("/sitemap.xml", ["/help/moved", "/help/ok"])
    source = _source(tenant, sitemap_url=f"{site.url}/sitemap.xml", path_prefix="/help")
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then
    assert site.served("/admin/secret") == [] and _titles(source) == {"Fine", f"{site.url}/help/moved"}
    assert result.errors == {f"{site.url}/help/moved": PageError.OUT_OF_SCOPE}
    moved = Document.objects.get(source=source, external_id=f"{site.url}/help/moved")
    assert "outside this source's path prefix" in moved.error


def test_the_path_prefix_matches_on_a_segment_boundary(tenant, site):
    # given /help linking to /help/a, /helpdesk-admin and /help-old
    site.article("/help", "Help", "Start.", links=("/help/a", "/helpdesk-admin", "/help-old"))
    site.article("/help/a", "Page A", "Alpha.")
    site.article("/helpdesk-admin", "Admin", "Staff only.")
    site.article("/help-old", "Old", "Archived.")
    source = _source(tenant, start_url=f"{site.url}/help", path_prefix="/help")
    # when
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then
    assert _titles(source) == {"Help", "Page A"}
    assert site.served("/helpdesk-admin") == site.served("/help-old") == []


@pytest.mark.parametrize(
    ("path", "prefix", "under"),
    [
        ("/help", "/help", True),
        ("/help/", "/help", True),
        ("/help/a/b", "/help", True),
        ("/helpdesk-admin", "/help", False),
        ("/help-old", "/help", False),
        ("/help", "/help/", False),
        ("/help/a", "/help/", True),
        ("/helpx", "/help/", False),
        ("/anything", "", True),
        ("/anything", "/", True),
    ],
)
def test_path_under(path, prefix, under):
    assert path_under(path, prefix) is under
    assert in_scope(f"https://a.example{path}", host="a.example", path_prefix=prefix) is under


def test_robots_wildcards_keep_matching_pages_out_of_a_crawl(tenant, site):
    # given a robots.txt whose group for us (named in lower case) disallows print views and .php pages
    site.robots(
        "User-agent: *\nDisallow: /\n\n"
        "User-agent: supportai-knowledgebot\nDisallow: /*?print=\nDisallow: /help/*.php$\n"
    )
    site.article("/help", "Help", "Start.", links=("/help/a", "/help/a?print=1", "/help/old.php", "/help/new.php5"))
    site.article("/help/a", "Page A", "Alpha.")
    site.article("/help/a?print=1", "Page A (print)", "Alpha, printable.")
    site.article("/help/old.php", "Old", "Legacy page.")
    site.article("/help/new.php5", "New", "Not a .php page.")
    source = _source(tenant, start_url=f"{site.url}/help", path_prefix="/help", max_depth=1)
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then only the pages the wildcard rules match were skipped, without a request
    assert result.error == "" and result.skipped_robots == 2
    assert _titles(source) == {"Help", "Page A", "New"}
    assert site.served("/help/a?print=1") == site.served("/help/old.php") == []
    assert site.served("/robots.txt") == [200]
