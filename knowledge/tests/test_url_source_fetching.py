"""What a URL source sync fetches: sitemap indexes, gzip and DTDs, redirects, the path-prefix scope, robots.txt."""

from __future__ import annotations

import dataclasses
import gzip
import random
import time

import pytest

from knowledge import conf, site_sync
from knowledge.crawling import MAX_REDIRECTS, Crawler
from knowledge.fetched_page import FetchError, PageError
from knowledge.html_links import MAX_REFRESH_DELAY_S, page_links, refresh_target
from knowledge.models import Document, DocumentStatus, KnowledgeSource, SourceStatus
from knowledge.sitemaps import MAX_SITEMAP_URLS, SITEMAP_CUT_SHORT, SITEMAP_TOO_MANY, parse_sitemap
from knowledge.source_config import url_source_create
from knowledge.sources import knowledge_source_sync
from knowledge.web_addresses import in_scope, normalize_url, path_under
from supportai.outbound import INVALID_HOST

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
    monkeypatch.setattr(site_sync, "MAX_SITEMAPS", 3)
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


def test_a_gzipped_sitemap_cut_short_is_unreadable_and_removes_nothing(tenant, site):
    # given a plain-text sitemap, gzipped, whose three pages are stored
    paths = ["/help/alpha", "/help/bravo", "/help/charlie"]
    for path in paths:
        site.article(path, path, "Text.")
    gzipped = gzip.compress("".join(f"{site.url}{path}\n" for path in paths).encode())
    site.add("/sitemap.txt.gz", gzipped, content_type="application/gzip")
    source = _source(tenant, sitemap_url=f"{site.url}/sitemap.txt.gz")
    assert knowledge_source_sync(tenant=tenant, source_id=source.pk).outcomes["created"] == 3
    # when the file is cut short (an upload or a copy that stopped half-way) and synced again
    site.add("/sitemap.txt.gz", gzipped[: len(gzipped) // 2], content_type="application/gzip")
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then it is an unreadable sitemap, not a list of the pages it still names
    assert result.removed == 0 and SITEMAP_CUT_SHORT in result.error
    assert _titles(source) == set(paths)
    assert set(Document.objects.filter(source=source).values_list("status", flat=True)) == {DocumentStatus.READY}
    source.refresh_from_db()
    assert source.status == SourceStatus.FAILED


@pytest.mark.parametrize("plain_text", [False, True])
def test_a_sitemap_over_the_protocols_50000_urls_is_refused_and_removes_nothing(tenant, site, plain_text):
    # given a source whose sitemap's page is stored
    site.article("/help/a", "Page A", "Alpha.")
    site.sitemap("/sitemap.xml", ["/help/a"])
    source = _source(tenant, sitemap_url=f"{site.url}/sitemap.xml")
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # when the sitemap grows past the protocol's limit of URLs in one file (50 MB of tiny entries,
    # read whole, hold a worker for over half a minute and 600 MB)
    paths = [f"/help/p{n}" for n in range(MAX_SITEMAP_URLS + 1)]
    if plain_text:
        site.add("/sitemap.xml", "".join(f"{site.url}{path}\n" for path in paths), content_type="text/plain")
    else:
        site.sitemap("/sitemap.xml", paths)
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then it is an unreadable sitemap: no page is fetched and none removed
    assert SITEMAP_TOO_MANY in result.error and result.removed == 0 and result.pages == 0
    assert _titles(source) == {"Page A"}


@pytest.mark.parametrize("namespace", ['xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"', ""])
def test_a_sitemaps_image_entries_are_not_pages(tenant, site, namespace):
    site.article("/help/a", "Page A", "Alpha.")
    site.add(
        "/sitemap.xml",
        f'<?xml version="1.0"?><urlset {namespace} xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">'
        f"<url><loc>{site.url}/help/a</loc><image:image><image:loc>{site.url}/help/a.png</image:loc></image:image>"
        "</url></urlset>",
        content_type="application/xml",
    )
    source = _source(tenant, sitemap_url=f"{site.url}/sitemap.xml")
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert result.pages == 1 and site.served("/help/a.png") == [] and _titles(source) == {"Page A"}


@pytest.mark.parametrize(
    ("declaration", "encoding"),
    [
        ('<?xml version="1.0" encoding="ISO-8859-1"?>', "latin-1"),
        ("<?xml version='1.0' encoding='windows-1252'?>", "cp1252"),
        ('<?xml version="1.0" encoding="UTF-16"?>', "utf-16"),  # with a byte-order mark
        ('<?xml version="1.0" encoding="UTF-16"?>', "utf-16-le"),  # without one
        ('<?xml version="1.0" encoding="UTF-16"?>', "utf-16-be"),
        ('<?xml version="1.0"?>', "utf-8"),
    ],
)
def test_a_sitemap_is_read_in_the_encoding_it_declares(tenant, site, declaration, encoding):
    # given a page whose address has an accented letter, listed by a sitemap in a legacy encoding
    site.article("/help/caf%C3%A9", "Café", "Opening hours.")
    xml = f"{declaration}<urlset><url><loc>{site.url}/help/café</loc></url></urlset>"
    site.add("/sitemap.xml", xml.encode(encoding), content_type="application/xml")
    source = _source(tenant, sitemap_url=f"{site.url}/sitemap.xml")
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the address is the one the site serves, not mojibake
    assert result.error == "" and _titles(source) == {"Café"}


@pytest.mark.parametrize(
    "label",
    [
        *["klingon", "utf-8mb4", "rot13", "UTF-16", "utf-32", "x-sjis", "unicode-1-1-utf-8", "windows-31j"],
        *["utf16", "UTF_16", "utf32", "u16"],  # Python's other names of UTF-16/32
    ],
)
def test_a_sitemap_whose_encoding_label_is_wrong_or_unknown_is_read_as_utf8(tenant, site, label):
    # given an ASCII sitemap whose declaration names no encoding Python knows, a codec that is no
    # text encoding, or UTF-16/32 (which its bytes are not)
    site.article("/help/a", "Page A", "Alpha.")
    xml = f'<?xml version="1.0" encoding="{label}"?><urlset><url><loc>{site.url}/help/a</loc></url></urlset>'
    site.add("/sitemap.xml", xml, content_type="application/xml")
    source = _source(tenant, sitemap_url=f"{site.url}/sitemap.xml")
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then
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
    assert document.external_id == document.url == f"{site.url}/help/new"  # stored where it now lives


@pytest.mark.parametrize(
    "location", ["http://[::1", "javascript:alert(1)", "https://help.example:99999/", "http://a..b/"]
)
def test_a_redirect_to_an_unusable_address_is_the_pages_lasting_error(tenant, site, location):
    # given a page that redirects to an address no client can request (httpx refuses some of them
    # itself, as a protocol error that would read as a network failure)
    site.add("/help/a", "", status=301, headers={"Location": location})
    site.article("/help/b", "Page B", "Bravo.")
    site.sitemap("/sitemap.xml", ["/help/a", "/help/b"])
    source = _source(tenant, sitemap_url=f"{site.url}/sitemap.xml")
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then it is that page's bad redirect, not a transient network error, and the rest is synced
    assert result.errors == {f"{site.url}/help/a": PageError.BAD_REDIRECT}
    document = Document.objects.get(source=source, external_id=f"{site.url}/help/a")
    assert document.status == DocumentStatus.FAILED and location in document.error
    assert _titles(source) == {f"{site.url}/help/a", "Page B"}


def test_a_location_httpx_cannot_follow_is_read_as_a_browser_reads_it(tenant, site):
    # given "http:foo", which a browser resolves against the page (httpx fails to build a request from it)
    site.add("/help/a", "", status=301, headers={"Location": "http:foo"})
    site.article("/help/foo", "Foo", "Moved here.")
    site.sitemap("/sitemap.xml", ["/help/a"])
    source = _source(tenant, sitemap_url=f"{site.url}/sitemap.xml")
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then
    assert result.errors == {} and site.served("/help/foo") == [200] and _titles(source) == {"Foo"}


def test_a_body_that_cannot_be_decoded_is_the_pages_lasting_error(tenant, site):
    # given a page whose server claims a gzip encoding twice but compressed it once
    body = gzip.compress(b"<!doctype html><html><title>A</title><p>Alpha.</p></html>")
    site.add("/help/a", body, headers={"Content-Encoding": "gzip, gzip"})
    site.sitemap("/sitemap.xml", ["/help/a"])
    source = _source(tenant, sitemap_url=f"{site.url}/sitemap.xml")
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then
    assert result.errors == {f"{site.url}/help/a": PageError.MALFORMED}
    document = Document.objects.get(source=source)
    assert "Content-Encoding could not be decoded" in document.error and "retried" not in document.error


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


def test_a_redirect_to_a_path_robots_disallows_is_not_followed(tenant, site):
    # given a public page that redirects into a part of the site robots.txt keeps us out of
    site.robots("User-agent: *\nDisallow: /help/private\n")
    site.add("/help/old", "", status=301, headers={"Location": "/help/private/notes"})
    site.article("/help/private/notes", "Staff notes", "Internal only.")
    site.article("/help/ok", "Fine", "Public.")
    site.sitemap("/sitemap.xml", ["/help/old", "/help/ok"])
    source = _source(tenant, sitemap_url=f"{site.url}/sitemap.xml")
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the redirect is the page's error and the disallowed page is never fetched
    assert site.served("/help/private/notes") == [] and result.outcomes["created"] == 1
    assert result.errors == {f"{site.url}/help/old": PageError.DISALLOWED}
    old = Document.objects.get(source=source, external_id=f"{site.url}/help/old")
    assert old.status == DocumentStatus.FAILED and "which robots.txt disallows" in old.error


def test_a_robots_txt_over_the_page_limit_is_read_to_500_kib(tenant, site, monkeypatch):
    # given pages limited to 4 KiB and a robots.txt of 600 KiB: a rule at its start, one past 500 KiB
    monkeypatch.setattr(conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, crawl_max_page_bytes=4096))
    filler = "# " + "x" * 78 + "\n"
    site.robots("User-agent: *\nDisallow: /help/private\n" + filler * (600 * 1024 // 80) + "Disallow: /help/late\n")
    for path in ("/help/private", "/help/late", "/help/ok"):
        site.article(path, path, "Text.")
    site.sitemap("/sitemap.xml", ["/help/private", "/help/late", "/help/ok"])
    source = _source(tenant, sitemap_url=f"{site.url}/sitemap.xml")
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then what was read counts and the rest is ignored, as RFC 9309 §2.5 allows
    assert result.error == "" and result.skipped_robots == 1 and result.outcomes["created"] == 2
    assert site.served("/help/private") == [] and site.served("/help/late") == [200]


def test_a_robots_txt_redirect_is_followed_to_another_host(tenant, site):
    # given a robots.txt that moved to another host name (of the same test server), twice
    other_host = site.url.replace("127.0.0.1", "localhost")
    site.add("/robots.txt", "", status=301, headers={"Location": f"{other_host}/moved/robots.txt"})
    site.add("/moved/robots.txt", "", status=302, headers={"Location": "/final-robots.txt"})
    site.add("/final-robots.txt", "User-agent: *\nDisallow: /help/private\n", content_type="text/plain")
    site.article("/help/private", "Staff notes", "Internal only.")
    site.article("/help/ok", "Fine", "Public.")
    site.sitemap("/sitemap.xml", ["/help/private", "/help/ok"])
    source = _source(tenant, sitemap_url=f"{site.url}/sitemap.xml")
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then its rules apply to the original host
    assert result.error == "" and result.skipped_robots == 1 and _titles(source) == {"Fine"}
    assert site.served("/help/private") == [] and site.served("/final-robots.txt") == [200]


def test_a_robots_txt_that_redirects_too_often_counts_as_missing(tenant, site):
    site.add("/robots.txt", "", status=302, headers={"Location": "/robots.txt"})
    site.article("/help/ok", "Fine", "Public.")
    site.sitemap("/sitemap.xml", ["/help/ok"])
    source = _source(tenant, sitemap_url=f"{site.url}/sitemap.xml")
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert result.error == "" and _titles(source) == {"Fine"}
    assert site.served("/robots.txt") == [302] * (MAX_REDIRECTS + 1)


@pytest.mark.parametrize(
    ("url", "normalized"),
    [
        ("https://Help.Example.com:443/a b?q=1#top", "https://help.example.com/a%20b?q=1"),
        # one page, one address: what browsers encode, encoded; non-ASCII (httpx encodes it on the
        # wire) and a query's "'" as written
        ("https://help.example.com/café?q=thé", "https://help.example.com/café?q=thé"),
        ("https://help.example.com/caf%c3%a9", "https://help.example.com/caf%C3%A9"),
        ('https://help.example.com/a"<>`{}?q="<>\'', "https://help.example.com/a%22%3C%3E%60%7B%7D?q=%22%3C%3E'"),
        ("https://help.example.com/a #x", "https://help.example.com/a%20"),
        # a hex digit that would make an escape of a bare "%" before it stays encoded
        ("https://help.example.com/%%34%31", "https://help.example.com/%%341"),
        # a long address in Japanese is not outgrown by encoding
        (f"https://help.example.com/{'記事' * 200}", f"https://help.example.com/{'記事' * 200}"),
        ("https://help.example.com/a\x01b?c=\x00\x7f", "https://help.example.com/a%01b?c=%00%7F"),
        ("\x00 https://help.example.com/a\tb\nc\r \x1f", "https://help.example.com/abc"),
        # one host, one name: non-ASCII labels encoded as browsers and httpx encode them
        ("https://Bücher.example/", "https://xn--bcher-kva.example/"),
        ("https://XN--BCHER-KVA.example/", "https://xn--bcher-kva.example/"),
        ("https://faß.de/", "https://xn--fa-hia.de/"),  # IDNA 2008 keeps ß (IDNA 2003 made it "ss")
        ("https://\uff48\uff45\uff4c\uff50.example.com/", "https://help.example.com/"),  # full-width letters are mapped
        ("https://he\u00adlp.example.com/", "https://help.example.com/"),  # a soft hyphen is dropped
        ("https://例え.テスト/記事", "https://xn--r8jz45g.xn--zckzah/記事"),
        ("https://a\u200db.example/", None),  # a joiner out of context
        ("https://exa\uff0fmple.com/", None),  # a full-width solidus maps to "/"
        ("https://help.example.com./", "https://help.example.com./"),
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
        ("https://help..example.com/", None),
        (f"https://{'a' * 64}.example.com/", None),
        (f"https://{'a' * 63}.example.com/", f"https://{'a' * 63}.example.com/"),
        ("https://.example.com/", None),
        ("https://exa\x01mple.com/", None),
        ("https://exa mple.com/", None),
        ("https://exa^mple.com/", None),
        ("http://[/", None),
        ("https://help.example.com/\ud800", None),
        ("https://help.example.com:99999/", None),
        ("mailto:help@example.com", None),
        # one page, one address: escapes of plain characters decoded, others in upper case ...
        ("https://help.example.com/%64up%2fx?q=%41%2c", "https://help.example.com/dup%2Fx?q=A%2C"),
        # ... and campaign parameters dropped, the others kept in their order
        (
            "https://help.example.com/p?utm_source=mail&x=1&UTM_Medium=a&gclid=9&b=2&fbclid=",
            "https://help.example.com/p?x=1&b=2",
        ),
        ("https://help.example.com/p?utm_campaign=spring", "https://help.example.com/p"),
        ("https://help.example.com/p?utmost=1", "https://help.example.com/p?utmost=1"),
    ],
)
def test_normalize_url_reads_addresses_as_browsers_do_and_drops_unusable_ones(url, normalized):
    assert normalize_url(url) == normalized


@pytest.mark.parametrize(
    ("reference", "resolved"),
    [
        ("http:foo", "http://foo/"),  # another scheme starts an authority, whatever the slashes
        ("https:foo", "https://help.example.com/docs/foo"),  # the page's own scheme without slashes is relative
        ("https:/foo", "https://help.example.com/foo"),
        ("http:/other.example/x", "http://other.example/x"),
        ("https:///other.example/x", "https://other.example/x"),
        ("///other.example/x", "https://other.example/x"),
        ("/\\other.example/x", "https://other.example/x"),  # a backslash is a slash before the query
        ("x?a=\\b", "https://help.example.com/docs/x?a=\\b"),  # ... and not in it
        ("//", None),  # an authority without a host is no address
        ("https://", None),
        ("//user@:443/x", None),
        ("//?q", None),
        ("/:///", "https://help.example.com/:///"),  # a path that merely holds "://"
    ],
)
def test_a_reference_is_resolved_as_the_whatwg_url_parser_resolves_it(reference, resolved):
    assert normalize_url(reference, "https://help.example.com/docs/page") == resolved


@pytest.mark.parametrize("reference", ["https:https://evil.example/x", "HTTPS:http://evil.example/", "https:a:b"])
def test_the_pages_own_scheme_before_an_address_keeps_it_a_path_on_the_pages_host(reference):
    # a browser reads "https:" + no slash, on an https page, as relative: the rest is a path here
    resolved = normalize_url(reference, "https://help.example.com/docs/page")
    assert resolved is not None and resolved.startswith("https://help.example.com/docs/")


def test_normalising_an_address_twice_changes_nothing():
    # random strings of URL-ish characters, on a fixed seed: what is stored is read back unchanged
    alphabet = "ab/.:?#%=&@[] \t\x01\x7f\\\"'<>`{}éü€😀2Fc34"
    generator = random.Random(14)
    for _ in range(5000):
        tail = "".join(generator.choice(alphabet) for _ in range(generator.randint(0, 24)))
        once = normalize_url(tail, "https://help.example.com/docs/page")
        assert once is None or normalize_url(once) == once, (tail, once)


def test_a_path_prefix_is_read_as_addresses_are_written():
    page, host = normalize_url("https://help.example.com/hilfe/über uns/%c3%a4/x"), "help.example.com"
    assert page == "https://help.example.com/hilfe/über%20uns/%C3%A4/x"
    assert in_scope(page, host=host, path_prefix="/hilfe/über uns/%c3%a4")
    assert not in_scope(page, host=host, path_prefix="/hilfe/über uns/b")
    assert in_scope("https://help.example.com/x/\ud800", host=host, path_prefix="/x/\ud800")  # no exception


def test_links_to_one_host_spelled_in_unicode_and_in_punycode_are_one_page():
    html = '<a href="https://BÜCHER.example/a">A</a><a href="https://xn--bcher-kva.example/a">B</a><a href="/b">C</a>'
    links = page_links(html, "https://bücher.example/").links
    assert links == ("https://xn--bcher-kva.example/a", "https://xn--bcher-kva.example/b")
    assert all(in_scope(link, host="xn--bcher-kva.example", path_prefix="") for link in links)


def test_page_links_ignore_an_invalid_base_and_unknown_marked_sections():
    html = '<base href="http://["><base href="https://other.example/"><![foo[ x ]]><a href="a\x01b">A</a><a href="http://[">B</a>'
    assert page_links(html, "https://help.example.com/docs/").links == ("https://help.example.com/docs/a%01b",)


@pytest.mark.parametrize("allow_private", [False, True])
def test_an_address_the_network_refuses_is_the_pages_error(site, allow_private):
    # given a crawler with and without the connect-time SSRF check
    with Crawler(user_agent="t", timeout_s=1, max_bytes=4096, allow_private=allow_private) as crawler:
        # when / then a host name that cannot be looked up, and a path httpx refuses, raise FetchError
        for url in ("https://help..example.com/", f"https://{'a' * 64}.example.com/", f"{site.url}/a\x01b"):
            with pytest.raises(FetchError) as raised:
                crawler.get(url)
            assert raised.value.code == PageError.BAD_URL, url
    assert "not a valid host name" in str(FetchError(PageError.BAD_URL, detail=INVALID_HOST.format(host="x")))


def test_a_sitemap_over_the_page_limit_is_read_up_to_the_protocols_50_mb(tenant, site, monkeypatch):
    # given pages limited to 4 KiB and a sitemap of ~12 KiB (200 URLs, one of them a real page)
    monkeypatch.setattr(conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, crawl_max_page_bytes=4096))
    site.article("/help/ok", "Fine", "Public.")
    site.sitemap("/sitemap.xml", ["/help/ok", *(f"/help/gone-{n:04}" for n in range(199))])
    assert len(site.pages["/sitemap.xml"].body) > 2 * 4096
    source = _source(tenant, sitemap_url=f"{site.url}/sitemap.xml")
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the sitemap is read whole, while its pages keep the page limit
    assert result.outcomes["created"] == 1 and result.pages == 100  # the source's max_pages
    assert Document.objects.get(source=source, status=DocumentStatus.READY).title == "Fine"
    # and a sitemap over the sitemap limit is refused, with nothing removed
    monkeypatch.setattr(site_sync, "SITEMAP_MAX_BYTES", 100)
    refused = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert "100-byte limit" in refused.error and refused.removed == 0


@pytest.mark.parametrize(
    "head",
    [
        '<meta charset="iso-8859-1">',  # browsers read this label as windows-1252
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">',
        "",  # undeclared and not UTF-8: read as browsers read legacy pages
    ],
)
def test_a_page_is_read_in_the_charset_it_declares_or_a_browser_would_take(tenant, site, head):
    # given a windows-1252 page (curly quotes, a euro sign) whose HTTP answer names no charset
    text = "Grüße aus München: \u201cGutscheine\u201d ab 10 \u20ac."
    html = f"<html><head>{head}<title>Grüße</title></head><body><main><p>{text}</p></main></body></html>"
    site.add("/help/gruss", html.encode("windows-1252"), content_type="text/html")
    site.sitemap("/sitemap.xml", ["/help/gruss"])
    source = _source(tenant, sitemap_url=f"{site.url}/sitemap.xml")
    # when
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then its text is what the page says
    document = Document.objects.get(source=source)
    assert (document.title, document.content) == ("Grüße", text)


def test_a_utf8_page_with_no_charset_anywhere_stays_utf8(tenant, site):
    site.add("/help/cafe", "<title>Café</title><main><p>Crème brûlée.</p></main>".encode(), content_type="text/html")
    site.sitemap("/sitemap.xml", ["/help/cafe"])
    source = _source(tenant, sitemap_url=f"{site.url}/sitemap.xml")
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert Document.objects.get(source=source).content == "Crème brûlée."


def test_a_gzipped_sitemap_of_several_members_is_read_whole_and_a_gzip_bomb_is_too_large() -> None:
    urls = [f"https://help.example.com/p{n}" for n in range(3)]
    members = b"".join(gzip.compress(f"{url}\n".encode()) for url in urls)  # as `cat a.gz b.gz c.gz` makes
    assert parse_sitemap(members, max_bytes=1024).pages == tuple(urls)
    bomb = gzip.compress(b" " * 100_000)
    with pytest.raises(FetchError) as raised:
        parse_sitemap(bomb, max_bytes=1024)
    assert raised.value.code == PageError.TOO_LARGE
    assert str(raised.value) == "The answer is larger than the 1024-byte limit (the sitemap protocol's 50 MB)."


@pytest.mark.parametrize(
    ("label", "path"),
    [("utf-7", "/+2D0-"), ("UTF-7", "/a+AOk-b"), ("unicode-escape", "/\\ud800"), ("raw-unicode-escape", "/\\u00e9")],
)
def test_a_sitemap_declaring_an_encoding_no_page_is_written_in_is_read_as_utf8(label: str, path: str) -> None:
    # given an XML sitemap whose declaration names a codec pages are never in (UTF-7's "+2D0-" and
    # unicode-escape's "\ud800" decode to a lone surrogate, which the XML parser cannot take)
    url = f"https://help.example.com{path}"
    body = f'<?xml version="1.0" encoding="{label}"?><urlset><url><loc>{url}</loc></url></urlset>'.encode()
    # when / then it is read as UTF-8, its address as written, as an unknown label's would be
    assert parse_sitemap(body, max_bytes=1024).pages == (normalize_url(url),)


def test_the_crawl_delay_waited_out_before_a_request_is_no_part_of_the_pages_deadline(tenant, site):
    # given a site that asks for 1.5 s between requests (a page's deadline is 2 s in these tests) and
    # a page that moved, whose redirect costs a second wait
    site.robots("User-agent: *\nCrawl-delay: 1.5\n")
    site.article("/help/a", "Page A", "Alpha.")
    site.add("/help/old", "", status=301, headers={"Location": "/help/new"})
    site.article("/help/new", "New home", "Moved here.")
    site.sitemap("/sitemap.xml", ["/help/a", "/help/old"])
    source = _source(tenant, sitemap_url=f"{site.url}/sitemap.xml")
    # when
    started = time.monotonic()
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then both pages are read, with the site's delay before each of the three page requests
    assert result.errors == {} and _titles(source) == {"Page A", "New home"}
    assert time.monotonic() - started >= 3 * 1.5


REDIRECT_PAGE = (
    '<!DOCTYPE html><html lang="en-US"><meta charset="utf-8"><title>Redirecting&hellip;</title>'
    '<link rel="canonical" href="{target}"><meta http-equiv="refresh" content="{content}">'
    '<meta name="robots" content="follow"><h1>Redirecting&hellip;</h1>'
    '<a href="{target}">Click here if you are not redirected.</a><script>location="{target}"</script></html>'
)


@pytest.mark.parametrize("content", ["0; url={target}", "0;URL='{target}'", " 2 , url = {target}", "0;{target}"])
def test_a_page_that_redirects_by_meta_refresh_is_not_stored_and_its_target_is_read(tenant, site, content):
    # given a moved page served as a static host serves one (jekyll-redirect-from): a meta refresh,
    # the target a link on a page of its own that may not link there
    site.article("/help/", "Index", "All articles.", links=("/help/old",))
    target = "/help/new"
    body = REDIRECT_PAGE.format(target=target, content=content.format(target=target))
    site.add("/help/old", body.replace('<a href="/help/new">', '<a href="/elsewhere">'))
    site.article("/help/new", "New article", "The moved text.")
    source = _source(tenant, start_url=f"{site.url}/help/", path_prefix="/help/")
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the redirect page is no document, and the page it leads to is read
    assert result.error == ""
    assert _titles(source) == {"Index", "New article"}
    assert "1 redirected by meta refresh" in result.summary()


@pytest.mark.parametrize("content", ["30; url=/help/new", "0", "5", "0; url=http://["])
def test_a_page_that_only_reloads_or_refreshes_late_or_off_the_source_is_stored(tenant, site, content):
    site.add("/help/", REDIRECT_PAGE.format(target="/help/new", content=content))
    site.article("/help/new", "New article", "The moved text.")
    source = _source(tenant, start_url=f"{site.url}/help/", path_prefix="/help/")
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert result.error == "" and "Redirecting\u2026" in _titles(source)


def test_a_page_that_redirects_off_the_source_by_meta_refresh_is_not_stored(tenant, site):
    site.article("/help/", "Index", "All articles.", links=("/help/old",))
    site.add(
        "/help/old",
        REDIRECT_PAGE.format(target="https://elsewhere.example/", content="0; url=https://elsewhere.example/"),
    )
    source = _source(tenant, start_url=f"{site.url}/help/", path_prefix="/help/")
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert result.error == "" and _titles(source) == {"Index"}


@pytest.mark.parametrize("content", ["0; url=/help/", "5; url={site}/help/#top"])
def test_a_page_whose_meta_refresh_reloads_it_is_stored(tenant, site, content):
    refresh = f'<meta http-equiv="refresh" content="{content.format(site=site.url)}">'
    site.article("/help/", "Index", "All articles.", links=("/help/a",), head=refresh)
    site.article("/help/a", "Article", "Text.")
    source = _source(tenant, start_url=f"{site.url}/help/", path_prefix="/help/")
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert result.error == "" and result.meta_refreshes == 0 and _titles(source) == {"Index", "Article"}


def test_a_start_page_that_redirects_by_meta_refresh_is_followed_at_max_depth_0(tenant, site):
    site.add("/help/", REDIRECT_PAGE.format(target="/help/new", content="0; url=/help/new"))
    site.article("/help/new", "New article", "The moved text.", links=("/help/other",))
    site.article("/help/other", "Other", "One step further.")
    source = _source(tenant, start_url=f"{site.url}/help/", path_prefix="/help/", max_depth=0)
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert result.error == "" and result.meta_refreshes == 1
    assert _titles(source) == {"New article"} and site.served("/help/other") == []


def test_a_meta_refresh_is_read_as_part_of_its_page_not_counted_toward_max_pages(tenant, site):
    # given a start page that redirects by meta refresh to a page of the source, and max_pages 1
    site.add("/help/", REDIRECT_PAGE.format(target="/help/new", content="0; url=/help/new"))
    site.article("/help/new", "New article", "The moved text.")
    source = _source(tenant, start_url=f"{site.url}/help/", path_prefix="/help/", max_pages=1)
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the target is read as an HTTP redirect's would be: the redirect page is no page of its own
    assert result.error == "" and result.pages == 1 and result.meta_refreshes == 1
    assert _titles(source) == {"New article"}


def test_meta_refreshes_in_a_row_are_followed_up_to_the_http_redirect_limit(tenant, site):
    # given a start page followed by a chain of redirect pages longer than MAX_REDIRECTS
    hops = [f"/help/r{n}" for n in range(MAX_REDIRECTS + 2)]
    for path, target in zip(["/help/", *hops], hops, strict=False):
        site.add(path, REDIRECT_PAGE.format(target=target, content=f"0; url={target}"))
    source = _source(tenant, start_url=f"{site.url}/help/", path_prefix="/help/", max_depth=0)
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then MAX_REDIRECTS refreshes are followed, as HTTP redirects are, and no further
    assert [site.served(path) for path in hops] == [[200]] * MAX_REDIRECTS + [[], []]
    assert result.pages == 1 and result.meta_refreshes == MAX_REDIRECTS + 1


@pytest.mark.parametrize("nofollow", ["meta", "header"])
def test_a_redirect_page_marked_nofollow_still_has_its_meta_refresh_followed(tenant, site, nofollow):
    # given a redirect page that says nofollow (about its links, not about where it redirects)
    site.article("/help/", "Index", "All articles.", links=("/help/old",))
    body = REDIRECT_PAGE.format(target="/help/new", content="0; url=/help/new")
    if nofollow == "meta":
        site.add("/help/old", body.replace('content="follow"', 'content="nofollow"'))
    else:
        site.add("/help/old", body, headers={"X-Robots-Tag": "nofollow"})
    site.article("/help/new", "New article", "The moved text.")
    source = _source(tenant, start_url=f"{site.url}/help/", path_prefix="/help/")
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then its target is read, as an HTTP redirect's would be
    assert result.error == "" and result.meta_refreshes == 1
    assert _titles(source) == {"Index", "New article"}


@pytest.mark.parametrize(
    ("content", "target"),
    [
        ("0; url=/a", (0, "/a")),
        ("0;URL='/a' ignored", (0, "/a")),
        ('3.5, url = "/b"', (3, "/b")),
        ("1 /c", (1, "/c")),
        ("0", None),
        ("0;", None),
        ("soon; url=/d", None),
        ("1" * 100_000 + "x", None),  # read in linear time, as each hostile variant below
        ("1." + ".1" * 50_000 + "x", None),
        ("00005; url=/e", (5, "/e")),
        ("3600; url=/f", (MAX_REFRESH_DELAY_S + 1, "/f")),
        ("9" * 5_000 + "; url=/g", (MAX_REFRESH_DELAY_S + 1, "/g")),
    ],
)
def test_a_meta_refresh_is_read_as_browsers_read_it(content, target):
    assert refresh_target(content) == target


@pytest.mark.parametrize(
    ("delay", "refresh"),
    [
        ("9" * 5_000, ""),  # more digits than Python reads as an int: far past a redirect's delay
        ("0" * 5_000 + "5", "https://help.example.com/docs/new"),  # 5 s, as browsers read it
        ("0" * 5_000 + "6", ""),
    ],
)
def test_a_meta_refresh_delay_of_thousands_of_digits_is_compared_not_parsed(delay, refresh):
    html = f'<html><head><meta http-equiv="refresh" content="{delay}; url=/docs/new"></head></html>'
    assert page_links(html, "https://help.example.com/docs/old").refresh == refresh


@pytest.mark.parametrize("charset", ["no-such-charset", "base64", "undefined", "idna"])
@pytest.mark.parametrize("head", ['<meta charset="windows-1252">', ""])
def test_a_charset_in_the_answer_that_cannot_decode_text_is_passed_over_as_browsers_do(tenant, site, charset, head):
    # given a windows-1252 page whose HTTP answer names a charset that no decoder reads text with
    text = "Grüße aus München: \u201cGutscheine\u201d ab 10 \u20ac."
    html = f"<html><head>{head}<title>Grüße</title></head><body><main><p>{text}</p></main></body></html>"
    site.add("/help/gruss", html.encode("windows-1252"), content_type=f"text/html; charset={charset}")
    site.sitemap("/sitemap.xml", ["/help/gruss"])
    source = _source(tenant, sitemap_url=f"{site.url}/sitemap.xml")
    # when
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the page's own declaration, or the bytes, tell how to read it (WHATWG: an unsupported
    # label is no label), rather than UTF-8 with every accented letter replaced
    document = Document.objects.get(source=source)
    assert (document.title, document.content) == ("Grüße", text)
