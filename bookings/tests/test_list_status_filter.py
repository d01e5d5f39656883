"""The console bookings list's status filter matches what its rows show: a booking whose unpaid hold
ran out reads "Canceled" (released) before housekeeping releases it, so "Pending payment" leaves it
out and "Canceled" finds it; "Released: not paid in time" finds every booking released for want of
payment, released already or not yet."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from bookings.housekeeping import run_housekeeping
from bookings.models import Booking, BookingStatus, Service
from bookings.services import CUSTOMER, booking_cancel
from bookings.tests.conftest import at, customer_booking, logged_in, next_weekday, open_every_day
from bookings.tests.factories import ServiceFactory
from supportai.models import Tenant

pytestmark = pytest.mark.django_db


def _listed(user, status: str) -> dict[str, str]:
    """The codes the list shows for ``?status=status``, each with the status its row shows."""
    page = logged_in(user).get(f"/console/bookings/?status={status}")
    assert page.status_code == 200
    rows = re.findall(
        r'<a href="/console/bookings/\d+/">(BK-\w+)</a></td>.*?<td>.*?</td>\s*<td>.*?</td>\s*'
        r"<td[^>]*>.*?</td>\s*<td>(.*?)</td>",  # the customer's cell is <td class="text">
        page.content.decode(),
        re.S,
    )
    return dict(rows)


@pytest.fixture
def bookings(tenant: Tenant, service: Service, paid_service: Service) -> dict[str, Booking]:
    day = next_weekday(3)
    lapsed = customer_booking(tenant, paid_service, day=day, hour=9, email="lapsed@example.org")
    released = customer_booking(tenant, paid_service, day=day, hour=11, email="released@example.org")
    live = customer_booking(tenant, paid_service, day=day, hour=13, email="live@example.org")
    confirmed = customer_booking(tenant, service, day=day, hour=15, email="confirmed@example.org")
    canceled = booking_cancel(
        tenant=tenant,
        booking=customer_booking(tenant, service, day=day, hour=16, email="canceled@example.org"),
        actor=CUSTOMER,
    )
    # the second hold ran out long ago and housekeeping released it; the first has just run out;
    # the third holds on for another hour
    Booking.objects.filter(pk=released.pk).update(hold_expires_at=_expiry(lapsed) - timedelta(hours=1))
    Booking.objects.filter(pk=live.pk).update(hold_expires_at=_expiry(lapsed) + timedelta(hours=1))
    with at(_expiry(lapsed) - timedelta(minutes=5)):
        run_housekeeping()
    return {
        "lapsed": lapsed,
        "released": released,
        "live": live,
        "confirmed": confirmed,
        "canceled": canceled,
    }


def _expiry(booking: Booking) -> datetime:
    assert booking.hold_expires_at is not None
    return booking.hold_expires_at


def _codes(bookings: dict[str, Booking], *names: str) -> set[str]:
    return {bookings[name].confirmation_code for name in names}


def test_pending_leaves_out_a_hold_that_ran_out_and_canceled_finds_it(owner, bookings):
    # given: the first hold ran out a minute ago, housekeeping has not released it yet
    with at(_expiry(bookings["lapsed"]) + timedelta(minutes=1)):
        assert Booking.objects.get(pk=bookings["lapsed"].pk).status == BookingStatus.PENDING
        # when: staff filter the list by status
        pending = _listed(owner, "pending")
        canceled = _listed(owner, "canceled")
        released = _listed(owner, "released")
        confirmed = _listed(owner, "confirmed")
    # then: each filter lists the bookings whose rows show that status
    assert set(pending) == _codes(bookings, "live") and set(pending.values()) == {"Pending payment"}
    assert set(canceled) == _codes(bookings, "lapsed", "released", "canceled")
    assert set(canceled.values()) == {"Canceled"}
    assert set(released) == _codes(bookings, "lapsed", "released")
    assert set(confirmed) == _codes(bookings, "confirmed")


def test_before_the_hold_runs_out_the_booking_is_pending(owner, bookings):
    with at(_expiry(bookings["lapsed"]) - timedelta(minutes=1)):
        assert set(_listed(owner, "pending")) == _codes(bookings, "lapsed", "live")
        assert set(_listed(owner, "released")) == _codes(bookings, "released")


def test_the_list_offers_the_released_filter(owner, bookings):
    page = logged_in(owner).get("/console/bookings/").content.decode()
    assert '<option value="released">Released: not paid in time</option>' in page


def test_another_tenants_released_bookings_are_not_listed(tenant, other_tenant, outsider, bookings):
    # given: the other tenant has a hold of its own that ran out
    theirs = ServiceFactory.create(tenant=other_tenant, name="Sauna", price_cents=1500, currency="eur")
    open_every_day(other_tenant)
    their_lapsed = customer_booking(other_tenant, theirs, day=next_weekday(3), hour=10)
    with at(_expiry(their_lapsed) + timedelta(minutes=1)):
        # when: each tenant's staff filter by released, pending and canceled
        for status in ("released", "pending", "canceled"):
            ours = _listed(outsider, status)
            # then: the other tenant's staff see only their own booking
            assert not set(ours) & _codes(bookings, *bookings)
        assert set(_listed(outsider, "released")) == {their_lapsed.confirmation_code}
