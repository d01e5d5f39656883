"""One article, one document: a website's redirects and pages that repeat another page's text are
stored once, under a stable address, sync after sync."""

from __future__ import annotations

import pytest

from knowledge import site_sync
from knowledge.models import Document, DocumentStatus, KnowledgeSource
from knowledge.parsed import ParsedDocument
from knowledge.providers.base import ProviderError
from knowledge.providers.fake import FakeEmbeddingProvider
from knowledge.source_config import url_source_create
from knowledge.sources import knowledge_source_sync
from knowledge.tests.site_fake import FakeSite
from supportai.models import Tenant

pytestmark = pytest.mark.usefixtures("local_crawl")


def _crawled_source(tenant: Tenant, site: FakeSite) -> KnowledgeSource:
    config = {"start_url": f"{site.url}/help/", "path_prefix": "/help/"}
    return url_source_create(tenant=tenant, name="Help centre", config=config, sync_now=False)


def _synced_article(tenant: Tenant, site: FakeSite, path: str) -> KnowledgeSource:
    """A crawled source of a start page linking to one article ("Billing") at ``path``, synced once."""
    site.article("/help/", "Start", "Welcome.", links=(path,))
    site.article(path, "Billing", "Invoices are sent monthly.")
    source = _crawled_source(tenant, site)
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    return source


def _moved_page(tenant: Tenant, site: FakeSite) -> KnowledgeSource:
    """/help/ links to /help/old only, which redirects to /help/new, the only way to /help/deep; synced once."""
    site.article("/help/", "Start", "Welcome.", links=("/help/old",))
    site.add("/help/old", "", status=301, headers={"Location": "/help/new"})
    site.article("/help/new", "Refunds", "Refunds take five days.", links=("/help/deep",))
    site.article("/help/deep", "Deep", "Only linked from the refunds page.")
    source = _crawled_source(tenant, site)
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    site.reset()
    return source


def _sitemap_source(tenant: Tenant, site: FakeSite) -> KnowledgeSource:
    config = {"sitemap_url": f"{site.url}/sitemap.xml"}
    return url_source_create(tenant=tenant, name="Help centre", config=config, sync_now=False)


def _by_address(source: KnowledgeSource, site: FakeSite, field: str) -> dict[str, str]:
    """Each stored page's address (without the site) -> its ``field``."""
    rows = Document.objects.filter(source=source).values_list("external_id", field)
    return {external_id.removeprefix(site.url): value for external_id, value in rows}


def _stored(source: KnowledgeSource, site: FakeSite) -> dict[str, str]:
    return _by_address(source, site, "title")


def _statuses(source: KnowledgeSource, site: FakeSite) -> dict[str, str]:
    return _by_address(source, site, "status")


def test_an_address_that_redirects_to_a_linked_page_is_not_a_second_document(tenant, site):
    # given a start page linking to an old address (301 to the new one) and to the new one
    site.article("/help/", "Start", "Welcome.", links=("/help/old", "/help/new"))
    site.add("/help/old", "", status=301, headers={"Location": "/help/new"})
    site.article("/help/new", "Refunds", "Refunds take five days.")
    source = _crawled_source(tenant, site)
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the article is stored once, under the address the redirect ends at, and read once (the
    # link to it is not followed again)
    assert result.error == "" and result.outcomes["created"] == 2
    assert _stored(source, site) == {"/help/": "Start", "/help/new": "Refunds"}
    assert site.served("/help/new") == [200]


def test_a_redirected_page_listed_first_is_stored_under_its_target(tenant, site):
    # given a sitemap listing the old address before the new one
    site.add("/help/old", "", status=302, headers={"Location": "/help/new"})
    site.article("/help/new", "Refunds", "Refunds take five days.")
    site.sitemap("/sitemap.xml", ["/help/old", "/help/new"])
    source = _sitemap_source(tenant, site)
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the target is stored once and not requested a second time
    assert result.error == "" and result.pages == 1
    assert _stored(source, site) == {"/help/new": "Refunds"}
    assert site.served("/help/new") == [200]


def test_a_document_stored_under_an_address_that_now_redirects_moves_to_the_target(tenant, site):
    # given a page synced at /help/faq, which then moves to /help/questions (same text, same ETag)
    site.article("/help/", "Start", "Welcome.", links=("/help/faq",))
    site.article("/help/faq", "FAQ", "Questions and answers.")
    source = _crawled_source(tenant, site)
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    site.pages["/help/questions"] = site.pages.pop("/help/faq")
    site.add("/help/faq", "", status=301, headers={"Location": "/help/questions"})
    site.reset()
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the target's 304 (answering the old address's ETag) is not taken for "unchanged": the
    # text is read again and stored under the new address, and the old document goes
    assert site.served("/help/questions") == [304, 200]
    assert _stored(source, site) == {"/help/": "Start", "/help/questions": "FAQ"}
    assert result.removed == 1 and result.outcomes["created"] == 1


def test_a_page_with_the_text_of_an_earlier_page_is_stored_once_sync_after_sync(tenant, site):
    # given the same article under two addresses (a trailing slash, a sort parameter)
    site.article("/help/", "Start", "Welcome.", links=("/help/billing", "/help/billing/", "/help/billing?sort=new"))
    for path in ("/help/billing", "/help/billing/", "/help/billing?sort=new"):
        site.article(path, "Billing", "Invoices are sent monthly.")
    source = _crawled_source(tenant, site)
    # when synced twice
    first = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    second = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the first address read keeps the article, the others are counted, and the second sync
    # (where the kept page answers 304) changes nothing
    assert _stored(source, site) == {"/help/": "Start", "/help/billing": "Billing"}
    assert first.duplicates == second.duplicates == 2
    assert second.removed == 0 and second.outcomes["not_modified"] == 2
    source.refresh_from_db()
    assert "2 duplicates" in second.summary() and source.last_sync_summary == second.summary()


def test_pages_that_differ_only_in_title_are_both_kept(tenant, site):
    site.article("/help/", "Start", "Welcome.", links=("/help/a", "/help/b"))
    site.article("/help/a", "Cancel an order", "Open your orders and choose the order.")
    site.article("/help/b", "Change an order", "Open your orders and choose the order.")
    source = _crawled_source(tenant, site)
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert result.duplicates == 0
    assert _stored(source, site) == {"/help/": "Start", "/help/a": "Cancel an order", "/help/b": "Change an order"}


def test_a_duplicate_stored_by_an_earlier_sync_is_removed(tenant, site):
    # given two addresses with different text, both stored
    site.article("/help/", "Start", "Welcome.", links=("/help/a", "/help/b"))
    site.article("/help/a", "Billing", "Invoices are sent monthly.")
    site.article("/help/b", "Billing (print)", "Printable.")
    source = _crawled_source(tenant, site)
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # when the second becomes a copy of the first
    site.article("/help/b", "Billing", "Invoices are sent monthly.")
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then
    assert result.duplicates == 1 and result.removed == 1
    assert _stored(source, site) == {"/help/": "Start", "/help/a": "Billing"}


def test_a_transient_error_behind_a_redirect_keeps_the_targets_text_and_its_links(tenant, site):
    # given a start page linking to an old address, whose target links to a page only it links to
    source = _moved_page(tenant, site)
    # when the target answers 503 for once
    site.pages["/help/new"].status = 503
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the error is the target's, its text stays searchable and its stored links are followed
    assert result.removed == 0 and result.errors == {f"{site.url}/help/new": "server_error"}
    assert _statuses(source, site) == {"/help/": "ready", "/help/new": "ready", "/help/deep": "ready"}


def test_a_lasting_error_behind_a_redirect_is_the_targets(tenant, site):
    # given an old address and the page it leads to, both linked, synced once
    site.article("/help/", "Start", "Welcome.", links=("/help/old", "/help/new"))
    site.add("/help/old", "", status=301, headers={"Location": "/help/new"})
    site.article("/help/new", "Refunds", "Refunds take five days.")
    source = _crawled_source(tenant, site)
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # when the target loses its text
    site.add("/help/new", "<html><head><title>Refunds</title></head><body></body></html>")
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then, as when it is read directly, the error is on it and its old text is gone
    document = Document.objects.get(source=source, external_id=f"{site.url}/help/new")
    assert (document.status, document.content) == (DocumentStatus.FAILED, "")
    assert result.errors == {f"{site.url}/help/new": "empty"}


def test_copies_listed_in_another_order_keep_the_stored_one(tenant, site):
    # given two copies of an article, the first listed stored
    for path in ("/help/a", "/help/b"):
        site.article(path, "Billing", "Invoices are sent monthly.")
    site.sitemap("/sitemap.xml", ["/help/a", "/help/b"])
    source = _sitemap_source(tenant, site)
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # when the sitemap lists them the other way round (a sitemap ordered by lastmod, say)
    site.sitemap("/sitemap.xml", ["/help/b", "/help/a"])
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then nothing is deleted and created again
    assert result.removed == 0 and result.outcomes["created"] == 0 and result.duplicates == 1
    assert set(_statuses(source, site)) == {"/help/a"}


def test_a_new_copy_of_a_stored_article_waits_for_the_stored_one(tenant, site, fake_embeddings):
    # given an article stored at /help/b
    source = _synced_article(tenant, site, "/help/b")
    # when a copy appears at /help/a, linked before it
    site.article("/help/", "Start", "Welcome.", links=("/help/a", "/help/b"))
    site.article("/help/a", "Billing", "Invoices are sent monthly.")
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the stored copy keeps the article and the new one is never stored
    assert result.duplicates == 1 and result.outcomes["created"] == 0 and result.removed == 0
    assert set(_statuses(source, site)) == {"/help/", "/help/b"}


def test_a_new_copy_keeps_the_article_when_the_stored_one_is_gone(tenant, site):
    # given an article stored at /help/b
    source = _synced_article(tenant, site, "/help/b")
    # when it moves to /help/a (no redirect) and /help/b is gone
    site.article("/help/", "Start", "Welcome.", links=("/help/a",))
    site.pages["/help/a"] = site.pages.pop("/help/b")
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then /help/a, which waited for /help/b, is stored at the end of the sync
    assert result.outcomes["created"] == 1 and result.removed == 1
    assert _statuses(source, site) == {"/help/": "ready", "/help/a": "ready"}


def test_a_copy_of_an_article_whose_keeper_failed_is_not_removed(
    tenant, site, monkeypatch: pytest.MonkeyPatch, fake_embeddings: FakeEmbeddingProvider
):
    # given two articles, stored
    site.article("/help/", "Start", "Welcome.", links=("/help/a", "/help/b"))
    site.article("/help/a", "Billing", "Invoices are sent monthly.")
    site.article("/help/b", "Billing (print)", "Printable.")
    source = _crawled_source(tenant, site)
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # when both change to one new text while the embedder is down
    for path in ("/help/a", "/help/b"):
        site.article(path, "Billing", "Invoices are sent weekly.")

    def down(texts: list[str]) -> list[list[float]]:
        raise ProviderError("down", retryable=True)

    monkeypatch.setattr(fake_embeddings, "embed_documents", down)
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk, provider=fake_embeddings)
    # then /help/a keeps the new text but failed; its copy /help/b keeps its searchable old text
    assert result.errors == {f"{site.url}/help/a": "embedding"} and result.removed == 0
    assert _statuses(source, site)["/help/b"] == DocumentStatus.READY


def test_a_transient_error_at_a_new_redirect_target_keeps_the_moved_pages_text_and_links(tenant, site):
    # given a stored page linking to a page only it links to
    site.article("/help/", "Start", "Welcome.", links=("/help/old",))
    site.article("/help/old", "Billing", "Invoices are sent monthly.", links=("/help/deep",))
    site.article("/help/deep", "Deep", "Only linked from the billing page.")
    source = _crawled_source(tenant, site)
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # when it moves (301) to a new address that answers 503 for once (a site migration)
    site.add("/help/old", "", status=301, headers={"Location": "/help/new"})
    site.add("/help/new", "", status=503)
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the page stays where it was stored, with its text and its links, until the target can be read
    assert result.removed == 0 and result.errors == {f"{site.url}/help/old": "server_error"}
    assert _statuses(source, site) == {"/help/": "ready", "/help/old": "ready", "/help/deep": "ready"}
    # and moves once it can
    site.article("/help/new", "Billing", "Invoices are sent monthly.", links=("/help/deep",))
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert _statuses(source, site) == {"/help/": "ready", "/help/new": "ready", "/help/deep": "ready"}


def test_an_unexpected_error_after_a_redirect_is_put_on_the_target(tenant, site, monkeypatch: pytest.MonkeyPatch):
    # given a stored target that an old address redirects to
    site.article("/help/", "Start", "Welcome.", links=("/help/old",))
    site.add("/help/old", "", status=301, headers={"Location": "/help/new"})
    site.article("/help/new", "Billing", "Invoices are sent monthly.")
    source = _crawled_source(tenant, site)
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # when reading the target's new text fails unexpectedly
    site.article("/help/new", "Billing", "Invoices are sent weekly.")
    real_parse = site_sync.parse_html_page

    def crash(name: str, html: str) -> ParsedDocument:
        if name.endswith("/help/new"):
            raise RuntimeError("boom")
        return real_parse(name, html)

    monkeypatch.setattr(site_sync, "parse_html_page", crash)
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the error is the target's, whose stored text stays (an internal error is transient)
    assert result.errors == {f"{site.url}/help/new": "internal"} and result.removed == 0
    document = Document.objects.get(source=source, external_id=f"{site.url}/help/new")
    assert document.status == DocumentStatus.READY and "internal error" not in document.content
    assert "could not be processed" in document.error


def test_any_stored_copy_keeps_the_article_rather_than_a_new_address(tenant, site):
    # given two copies of an article both stored (before copies were told apart)
    site.article("/help/a", "Billing", "Invoices are sent monthly.")
    site.article("/help/b", "Billing (old)", "Other text.")
    site.sitemap("/sitemap.xml", ["/help/a", "/help/b"])
    source = _sitemap_source(tenant, site)
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    a = Document.objects.get(source=source, external_id=f"{site.url}/help/a")
    Document.objects.filter(source=source, external_id=f"{site.url}/help/b").update(
        title=a.title, content=a.content, content_hash=a.content_hash
    )
    site.article("/help/b", "Billing", "Invoices are sent monthly.")
    # when /help/a is gone and a new copy is listed before /help/b
    del site.pages["/help/a"]
    site.article("/help/n", "Billing", "Invoices are sent monthly.")
    site.sitemap("/sitemap.xml", ["/help/n", "/help/b"])
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the stored /help/b keeps it and nothing is created
    assert set(_statuses(source, site)) == {"/help/b"} and result.outcomes["created"] == 0


def test_a_redirect_chain_refused_at_a_later_hop_is_the_requested_addresss_error(tenant, site):
    site.robots("User-agent: *\nDisallow: /help/private/\n")
    site.add("/help/x", "", status=301, headers={"Location": "/help/y"})
    site.add("/help/y", "", status=302, headers={"Location": "/help/private/z"})
    site.article("/help/b", "Page B", "Bravo.")
    site.sitemap("/sitemap.xml", ["/help/x", "/help/b"])
    source = _sitemap_source(tenant, site)
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert result.errors == {f"{site.url}/help/x": "disallowed"}
    assert set(_statuses(source, site)) == {"/help/x", "/help/b"}


def test_a_transient_error_at_a_target_read_earlier_in_the_sync_keeps_no_second_copy(
    tenant, site, monkeypatch: pytest.MonkeyPatch
):
    # given a page stored at /help/old
    source = _synced_article(tenant, site, "/help/old")
    # when it moves (301) to /help/new, linked first and read, which then answers 503 once
    site.article("/help/", "Start", "Welcome.", links=("/help/new", "/help/old"))
    site.add("/help/old", "", status=301, headers={"Location": "/help/new"})
    site.article("/help/new", "Billing", "Invoices are sent monthly.")
    real_visit = site_sync.SiteSync.visit

    def flaky_after_read(sync: site_sync.SiteSync, url: str, **options: bool) -> tuple[str, ...]:
        links = real_visit(sync, url, **options)
        if url.endswith("/help/new"):
            site.pages["/help/new"].status = 503
        return links

    monkeypatch.setattr(site_sync.SiteSync, "visit", flaky_after_read)
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the target read in this sync holds the article; the old address is neither kept beside
    # it (a second copy) nor given the target's 503
    assert set(_statuses(source, site)) == {"/help/", "/help/new"}
    assert f"{site.url}/help/old" not in result.errors


def test_a_page_left_at_its_old_address_holds_its_article_against_a_new_copy(tenant, site):
    # given a page stored at /help/old
    source = _synced_article(tenant, site, "/help/old")
    # when a print copy appears (linked first) and /help/old moves to a target answering 503
    site.article("/help/", "Start", "Welcome.", links=("/help/print", "/help/old"))
    site.article("/help/print", "Billing", "Invoices are sent monthly.")
    site.add("/help/old", "", status=301, headers={"Location": "/help/new"})
    site.add("/help/new", "", status=503)
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the page stays at /help/old with its text, and the copy that waited for it is a duplicate
    assert _statuses(source, site) == {"/help/": "ready", "/help/old": "ready"}
    assert result.duplicates == 1 and result.outcomes["created"] == 0


def test_another_tenants_copy_of_the_site_is_not_a_stored_copy(tenant, other_tenant, site):
    # given another tenant that synced the same site and stored /help/a
    theirs = _synced_article(other_tenant, site, "/help/a")
    # when this tenant syncs the site, where a copy of /help/a is linked first
    site.article("/help/", "Start", "Welcome.", links=("/help/copy", "/help/a"))
    site.article("/help/copy", "Billing", "Invoices are sent monthly.")
    ours = _crawled_source(tenant, site)
    result = knowledge_source_sync(tenant=tenant, source_id=ours.pk)
    # then the other tenant's stored /help/a plays no part: the first address read keeps the article
    assert set(_statuses(ours, site)) == {"/help/", "/help/copy"} and result.duplicates == 1
    assert _statuses(theirs, site) == {"/help/": "ready", "/help/a": "ready"}


def test_a_page_reached_through_an_old_address_costs_a_304_on_the_next_sync(tenant, site):
    # given a moved page, stored under its new address with the old one as its alias
    source = _moved_page(tenant, site)
    moved = Document.objects.get(source=source, external_id=f"{site.url}/help/new")
    assert moved.aliases == [f"{site.url}/help/old"]
    # when the site is synced again
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the old address is asked with the page's validators, and the page answers 304
    assert site.served("/help/old") == [301] and site.served("/help/new") == [304]
    assert result.outcomes["not_modified"] == 3 and result.removed == 0
    assert set(_statuses(source, site)) == {"/help/", "/help/new", "/help/deep"}


def test_a_moved_page_that_changed_is_read_again(tenant, site):
    source = _moved_page(tenant, site)
    site.article("/help/new", "Refunds", "Refunds take three days.")
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert site.served("/help/new") == [200] and result.outcomes["updated"] == 1
    assert "three days" in Document.objects.get(source=source, external_id=f"{site.url}/help/new").content


def test_an_old_address_that_serves_a_page_of_its_own_again_is_read_whole(tenant, site):
    # given a moved page, and then the old address serving an article of its own (no redirect)
    source = _moved_page(tenant, site)
    site.article("/help/", "Start", "Welcome.", links=("/help/old", "/help/new"))
    site.article("/help/old", "Returns", "Returns are free.")
    # when
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the old address, asked with the other page's validators, answers in full and is stored,
    # and the page it used to lead to no longer counts it as an alias
    assert site.served("/help/old") == [200]
    stored = {"/help/": "Start", "/help/old": "Returns", "/help/new": "Refunds", "/help/deep": "Deep"}
    assert _stored(source, site) == stored
    assert Document.objects.get(source=source, external_id=f"{site.url}/help/new").aliases == []


@pytest.mark.parametrize("old_address_now", ["answers 503", "moves again, to a page answering 503"])
def test_a_transient_error_at_a_known_old_address_keeps_the_page_it_led_to(tenant, site, old_address_now):
    # given a page stored under /help/new, reached only through /help/old
    source = _moved_page(tenant, site)
    # when the old address fails for now, or leads to a new address that does
    if old_address_now == "answers 503":
        site.add("/help/old", "", status=503)
    else:
        site.add("/help/old", "", status=301, headers={"Location": "/help/newer"})
        site.add("/help/newer", "", status=503)
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the page keeps its text, its links and its old address as alias; no placeholder is made
    assert result.removed == 0 and result.errors == {f"{site.url}/help/new": "server_error"}
    assert _statuses(source, site) == {"/help/": "ready", "/help/new": "ready", "/help/deep": "ready"}
    kept = Document.objects.get(source=source, external_id=f"{site.url}/help/new")
    assert kept.aliases == [f"{site.url}/help/old"] and "retried at the next sync" in kept.error


def test_a_304_to_a_request_without_validators_is_not_taken(tenant, site):
    # given a moved page whose last read failed (no text, so no validators are sent for it)
    source = _moved_page(tenant, site)
    site.add("/help/new", "<html><head><title>x</title></head><body></body></html>")
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # when a misbehaving server answers 304 to the unconditional request
    site.add("/help/new", "", status=304)
    site.reset()
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the 304 says nothing: the page is asked again and its error stays
    assert [r.headers.get("if-none-match") for r in site.requests if r.path == "/help/new"] == [None, None]
    failed = Document.objects.get(source=source, external_id=f"{site.url}/help/new")
    assert failed.status == DocumentStatus.FAILED and failed.error


def test_a_page_kept_for_its_failing_old_address_and_then_read_stays(tenant, site):
    # given a moved page, now also linked directly, after its old address
    source = _moved_page(tenant, site)
    site.article("/help/", "Start", "Welcome.", links=("/help/old", "/help/new"))
    # when the old address fails for now, and the page itself answers
    site.add("/help/old", "", status=503)
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the page, kept for its old address and then read, is not its own duplicate
    assert result.removed == 0 and result.duplicates == 0
    assert _statuses(source, site) == {"/help/": "ready", "/help/new": "ready", "/help/deep": "ready"}


def test_an_address_that_redirects_to_a_failing_page_read_earlier_is_counted_as_a_duplicate(tenant, site):
    # given a sitemap listing a failing page, then an old address that redirects to it
    site.add("/help/a", "down", status=503)
    site.add("/help/b", "", status=301, headers={"Location": "/help/a"})
    site.sitemap("/sitemap.xml", ["/help/a", "/help/b"])
    source = _sitemap_source(tenant, site)
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the page fails once, its old address is a duplicate (as when the page answers), and
    # the summary's numbers add up to the pages read
    assert result.outcomes["failed"] == 1 and result.duplicates == 1 and set(result.errors) == {f"{site.url}/help/a"}
    assert result.pages == sum(result.outcomes.values()) + result.skipped_noindex + result.duplicates
