"""A later sync of a crawled source whose start page now redirects (HTTP or meta refresh) where
robots.txt disallows stops as the first sync would: the failure names the redirect's target, last
sync's links are not followed and nothing stored is removed."""

from __future__ import annotations

import pytest
from django.http import Http404

from knowledge.models import Document, SourceStatus
from knowledge.site_sync import START_REDIRECT_DISALLOWED
from knowledge.sources import ENTRY_FAILED, knowledge_source_sync
from knowledge.tests.site_fake import FakeSite
from knowledge.tests.test_start_redirect_robots import _crawled_source, _redirecting_start
from supportai.models import Tenant
from supportai.quoted import Quoted

pytestmark = pytest.mark.usefixtures("local_crawl")

BY = {"http": "", "refresh": " by meta refresh"}
STORED = ("external_id", "content", "error", "chunk_count")


@pytest.mark.parametrize("how", ["http", "refresh"])
def test_a_later_sync_whose_start_page_now_redirects_where_robots_disallows_stops_and_removes_nothing(
    tenant: Tenant, other_tenant: Tenant, site: FakeSite, how: str
) -> None:
    # given a source synced from a start page linking to an article, and another tenant's of the site
    site.article("/help/", "Help", "Welcome to the help centre.", links=("/help/parking",))
    site.article("/help/parking", "Parking", "Park behind the studio.")
    source = _crawled_source(tenant, site)
    theirs = _crawled_source(other_tenant, site)
    assert knowledge_source_sync(tenant=tenant, source_id=source.pk).error == ""
    assert knowledge_source_sync(tenant=other_tenant, source_id=theirs.pk).error == ""
    stored = {row[0]: row[1:] for row in Document.objects.filter(source=source).values_list(*STORED)}
    assert set(stored) == {f"{site.url}/help/", f"{site.url}/help/parking"}
    # when the start page now sends its reader where robots.txt disallows, and the source syncs again
    target = _redirecting_start(site, how)
    site.reset()
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then it stops naming the redirect's target, follows none of last sync's links, removes nothing
    reason = START_REDIRECT_DISALLOWED.format(by=BY[how], target=Quoted(target))
    assert result.error == ENTRY_FAILED.format(error=reason)
    assert site.served("/help/parking") == [] and site.served("/help/private/") == []
    assert result.removed == 0
    assert {row[0]: row[1:] for row in Document.objects.filter(source=source).values_list(*STORED)} == stored
    source.refresh_from_db()
    assert source.status == SourceStatus.FAILED and source.error == result.error
    # and the other tenant's source is neither touched nor syncable by the tenant
    theirs.refresh_from_db()
    assert theirs.status != SourceStatus.FAILED and Document.objects.filter(source=theirs).count() == 2
    with pytest.raises(Http404):
        knowledge_source_sync(tenant=tenant, source_id=theirs.pk)
