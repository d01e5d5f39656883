"""A cancel form the console cannot accept (a reason over 300 characters) cancels nothing."""

from __future__ import annotations

import pytest

from bookings.models import BookingEventKind, BookingStatus
from bookings.services import CUSTOMER, booking_create
from bookings.tests.conftest import local, logged_in, next_weekday

pytestmark = pytest.mark.django_db


@pytest.fixture
def booking(tenant, service):
    start = local(tenant, next_weekday(2), 9)
    return booking_create(tenant=tenant, service=service, start=start, name="Ann", email="a@x.org", actor=CUSTOMER)


def test_a_too_long_reason_is_a_form_error_and_cancels_nothing(agent, booking):
    # when
    response = logged_in(agent).post(f"/console/bookings/{booking.pk}/cancel/", {"reason": "x" * 301})
    # then: the detail page shows the form's error; the booking is untouched
    assert response.status_code == 400
    assert "Ensure this value has at most 300 characters (it has 301)." in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED and booking.cancel_reason == ""
    assert not booking.events.filter(kind=BookingEventKind.CANCELED).exists()


def test_a_reason_of_300_characters_cancels(agent, booking):
    logged_in(agent).post(f"/console/bookings/{booking.pk}/cancel/", {"reason": "x" * 300})
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELED and booking.cancel_reason == "x" * 300


def test_another_tenants_booking_is_not_found_whatever_the_form(outsider, booking):
    for reason in ("x" * 301, "ok"):
        assert (
            logged_in(outsider).post(f"/console/bookings/{booking.pk}/cancel/", {"reason": reason}).status_code == 404
        )
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
