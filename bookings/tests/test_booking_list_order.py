"""The console's bookings list pages with LIMIT/OFFSET, and many bookings share a start (a class of
12): ties are broken by id, newest first, so no booking shows on two pages or on none. Its page links
keep the filters and name the page once."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs

import pytest
from django.core.paginator import Paginator

from bookings import console_views, selectors
from bookings.services import CUSTOMER, booking_create
from bookings.tests.conftest import customer_booking, local, logged_in, next_weekday, open_every_day
from bookings.tests.factories import ServiceFactory
from supportai.models import Tenant

pytestmark = pytest.mark.django_db


def test_bookings_with_the_same_start_are_listed_newest_first_and_page_without_gaps(
    tenant: Tenant, other_tenant: Tenant
):
    # given: a yoga class taking 12 per slot, full, and a booking of the other tenant at the same time
    open_every_day(tenant, capacity=12)
    open_every_day(other_tenant)
    yoga = ServiceFactory.create(tenant=tenant, name="Yoga")
    start = local(tenant, next_weekday(2), 9)
    booked = [
        booking_create(tenant=tenant, service=yoga, start=start, name=f"Yogi {n}", email=f"y{n}@x.org", actor=CUSTOMER)
        for n in range(12)
    ]
    sauna = ServiceFactory.create(tenant=other_tenant, name="Sauna")
    booking_create(tenant=other_tenant, service=sauna, start=start, name="Other", email="o@x.org", actor=CUSTOMER)
    # when
    listed = selectors.booking_list(tenant=tenant)
    pages = Paginator(listed, 5)
    paged = [b.pk for n in pages.page_range for b in pages.page(n)]
    # then: newest first, each of the tenant's bookings exactly once, the other tenant's never
    assert paged == sorted((b.pk for b in booked), reverse=True)


def test_the_lists_page_links_keep_the_filters_and_name_the_page_once(owner, tenant, service, monkeypatch):
    # given three bookings, a page each
    monkeypatch.setattr(console_views, "PAGE_SIZE", 1)
    for hour in (9, 11, 13):
        customer_booking(tenant, service, hour=hour)
    # when staff open the second page of a filtered list
    page = logged_in(owner).get("/console/bookings/", {"q": "ann", "page": "2"}).content.decode()
    # then each link names its page once, with the filters kept
    links = re.findall(r'<a href="\?([^"]*)">(?:← Previous|Next →)</a>', page)
    assert len(links) == 2
    for link, number in zip(links, ("1", "3"), strict=True):
        query = parse_qs(unescape(link))
        assert query["page"] == [number] and query["q"] == ["ann"]
