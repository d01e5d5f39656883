"""One article, one document: a website's redirects and pages that repeat another page's text are
stored once, under a stable address, sync after sync."""

from __future__ import annotations

import pytest

from knowledge.models import Document, KnowledgeSource
from knowledge.source_config import url_source_create
from knowledge.sources import knowledge_source_sync
from knowledge.tests.site_fake import FakeSite
from supportai.models import Tenant

pytestmark = pytest.mark.usefixtures("local_crawl")


def _crawled_source(tenant: Tenant, site: FakeSite) -> KnowledgeSource:
    config = {"start_url": f"{site.url}/help/", "path_prefix": "/help/"}
    return url_source_create(tenant=tenant, name="Help centre", config=config, sync_now=False)


def _stored(source: KnowledgeSource, site: FakeSite) -> dict[str, str]:
    """Each stored page's address (without the site) -> its title."""
    return {
        external_id.removeprefix(site.url): title
        for external_id, title in Document.objects.filter(source=source).values_list("external_id", "title")
    }


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
    source = url_source_create(
        tenant=tenant, name="Help centre", config={"sitemap_url": f"{site.url}/sitemap.xml"}, sync_now=False
    )
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
    assert "2 duplicates" in second.summary()


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
