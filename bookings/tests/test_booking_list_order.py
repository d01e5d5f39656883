"""The console's bookings list pages with LIMIT/OFFSET, and many bookings share a start (a class of
12): ties are broken by id, newest first, so no booking shows on two pages or on none."""

from __future__ import annotations

import pytest
from django.core.paginator import Paginator

from bookings import selectors
from bookings.services import CUSTOMER, booking_create
from bookings.tests.conftest import local, next_weekday, open_every_day
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
