"""A start page robots.txt allows, whose redirect (HTTP or meta refresh) leads where robots.txt
disallows: the sync's failure names the redirect's target, not the start page."""

from __future__ import annotations

import pytest
from django.http import Http404

from knowledge.fetched_page import PageError
from knowledge.models import Document, KnowledgeSource, SourceStatus
from knowledge.site_sync import ALL_DISALLOWED, START_DISALLOWED, START_REDIRECT_DISALLOWED
from knowledge.source_config import url_source_create
from knowledge.sources import ENTRY_FAILED, PAGES_FAILED, knowledge_source_sync
from knowledge.tests.site_fake import FakeSite
from supportai.models import Tenant
from supportai.quoted import Quoted

pytestmark = pytest.mark.usefixtures("local_crawl")

ROBOTS = "User-agent: *\nDisallow: /help/private\n"


def _crawled_source(tenant: Tenant, site: FakeSite) -> KnowledgeSource:
    config = {"start_url": f"{site.url}/help/", "path_prefix": "/help/"}
    return url_source_create(tenant=tenant, name="Help centre", config=config, sync_now=False)


def _redirecting_start(site: FakeSite, how: str) -> str:
    """The start page /help/ sends its reader to /help/private/ (``how``: "http" or "refresh");
    returns the target's address."""
    site.robots(ROBOTS)
    site.article("/help/private/", "Staff", "Internal only.")
    if how == "http":
        site.add("/help/", "", status=301, headers={"Location": "/help/private/"})
    else:
        site.add("/help/", '<title>Moved</title><meta http-equiv="refresh" content="0; url=/help/private/">')
    return f"{site.url}/help/private/"


def test_a_start_page_that_redirects_by_http_where_robots_disallows_says_so(tenant: Tenant, site: FakeSite) -> None:
    # given a start page answering 301 to a path robots.txt disallows
    target = _redirecting_start(site, "http")
    source = _crawled_source(tenant, site)
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the failure names the redirect's target, which is never fetched
    reason = START_REDIRECT_DISALLOWED.format(by="", target=Quoted(target))
    assert result.error == ENTRY_FAILED.format(error=reason)
    assert "redirects to '" in result.error and "start page could not be read" not in result.error
    assert site.served("/help/") == [301] and site.served("/help/private/") == []
    source.refresh_from_db()
    assert source.status == SourceStatus.FAILED and source.error == result.error


def test_a_start_page_that_redirects_by_meta_refresh_where_robots_disallows_says_so(
    tenant: Tenant, site: FakeSite
) -> None:
    # given a start page (allowed) whose meta refresh leads to a path robots.txt disallows
    target = _redirecting_start(site, "refresh")
    source = _crawled_source(tenant, site)
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the failure says the start page redirects there, not that the start page is disallowed
    reason = START_REDIRECT_DISALLOWED.format(by=" by meta refresh", target=Quoted(target))
    assert result.error == ENTRY_FAILED.format(error=reason) and START_DISALLOWED not in result.error
    assert site.served("/help/") == [200] and site.served("/help/private/") == []
    source.refresh_from_db()
    assert source.status == SourceStatus.FAILED and source.error == result.error


def test_a_long_redirect_target_is_quoted_cut_short(tenant: Tenant, site: FakeSite) -> None:
    # given a meta refresh to a disallowed address far longer than a message quotes
    site.robots(ROBOTS)
    long_path = "/help/private/" + "x" * 300
    site.add("/help/", f'<meta http-equiv="refresh" content="0; url={long_path}">')
    source = _crawled_source(tenant, site)
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the target is recognisable but cut, as every quoted value is
    assert f"'{site.url}/help/private/" in result.error and "…'" in result.error
    assert "x" * 200 not in result.error


def test_a_start_page_robots_disallows_itself_still_says_the_start_page(tenant: Tenant, site: FakeSite) -> None:
    site.robots("User-agent: *\nDisallow: /help/\n")
    site.article("/help/", "Start", "Welcome.")
    source = _crawled_source(tenant, site)
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    assert result.error == ENTRY_FAILED.format(error=START_DISALLOWED) and site.served("/help/") == []


def test_sitemap_pages_that_redirect_where_robots_disallows_are_page_errors_not_all_disallowed(
    tenant: Tenant, site: FakeSite
) -> None:
    # given a sitemap whose every page (allowed) answers a 301 to a disallowed path
    site.robots(ROBOTS)
    for name in ("a", "b"):
        site.add(f"/help/{name}", "", status=301, headers={"Location": f"/help/private/{name}"})
    site.sitemap("/sitemap.xml", ["/help/a", "/help/b"])
    config = {"sitemap_url": f"{site.url}/sitemap.xml"}
    source = url_source_create(tenant=tenant, name="Help centre", config=config, sync_now=False)
    # when
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then each page has the redirect as its error; robots.txt is not said to disallow the listed pages
    assert result.error == PAGES_FAILED.format(failed=2, total=2, codes=f"2 {PageError.DISALLOWED}")
    assert ALL_DISALLOWED not in result.error
    errors = Document.objects.filter(source=source).values_list("error", flat=True)
    assert all(f"redirects to {site.url}/help/private/" in error for error in errors) and len(errors) == 2


def test_another_tenant_can_neither_sync_the_source_nor_read_its_failure(
    tenant: Tenant, other_tenant: Tenant, site: FakeSite
) -> None:
    # given the tenant's source failed on its start page's redirect
    _redirecting_start(site, "refresh")
    source = _crawled_source(tenant, site)
    error = knowledge_source_sync(tenant=tenant, source_id=source.pk).error
    # when another tenant syncs it by id
    with pytest.raises(Http404):
        knowledge_source_sync(tenant=other_tenant, source_id=source.pk)
    # then the source is untouched and the other tenant has no source or document of the site
    source.refresh_from_db()
    assert source.error == error
    assert not KnowledgeSource.objects.filter(tenant=other_tenant).exists()
    assert not Document.objects.filter(tenant=other_tenant).exists()
