"""A move the console's reschedule form cannot make shows its error on the field the booking service
names, on the booking's page with the time staff typed, not as a message above the page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.utils.html import escape

from bookings.console_slots import BAD_TIME, FULL
from bookings.dates import bookable_range_message
from bookings.models import Booking, BookingEventKind, BookingStatus, Service
from bookings.tests.conftest import customer_booking, local, logged_in, next_weekday

pytestmark = pytest.mark.django_db
DAY = next_weekday(4)


@pytest.fixture
def booking(service: Service) -> Booking:
    return customer_booking(service.tenant, service, day=DAY, hour=10)


def _move(client: Client, booking: Booking, time: str) -> Any:
    """Staff's reschedule form posted: ``booking`` to ``time`` on its day."""
    return client.post(f"/console/bookings/{booking.pk}/reschedule/", {"date": DAY.isoformat(), "time": time})


def _errors_shown(content: bytes, field: str) -> str:
    """The error list the page shows with ``field``'s input ("" when none)."""
    shown = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', content.decode(), re.S)
    return shown.group(1) if shown else ""


def _not_moved(booking: Booking) -> None:
    stored = Booking.objects.get(pk=booking.pk)
    assert (stored.start_at, stored.status) == (booking.start_at, BookingStatus.CONFIRMED)
    assert not stored.events.filter(kind=BookingEventKind.RESCHEDULED).exists()


def test_a_slot_taken_meanwhile_is_shown_on_the_time_field_with_the_time_typed(agent, service, booking):
    # given another customer booked 14:00 since staff opened the page
    customer_booking(service.tenant, service, day=DAY, hour=14, name="Bea", email="bea@example.org")
    # when staff move the booking to 14:00
    response = _move(logged_in(agent), booking, "14:00")
    # then the booking's page comes back with the form as filled in and the error on its time
    assert response.status_code == 200
    form = response.context["reschedule_form"]
    assert form.errors == {"time": [FULL]}
    assert FULL in _errors_shown(response.content, "time")
    page = response.content.decode()
    assert f'value="{DAY.isoformat()}"' in page and 'value="14:00"' in page
    assert response.context["booking"].pk == booking.pk and list(response.context["messages"]) == []
    _not_moved(booking)


def test_a_free_slot_still_moves_the_booking(agent, booking):
    response = _move(logged_in(agent), booking, "14:00")
    assert response.status_code == 302
    assert Booking.objects.get(pk=booking.pk).start_at == local(booking.tenant, DAY, 14)


def test_a_refusal_naming_no_field_is_still_the_pages_message(agent, booking):
    # given a canceled booking (the service refuses any move, naming no field)
    Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CANCELED)
    # when staff move it
    client = logged_in(agent)
    response = _move(client, booking, "14:00")
    # then the page says so at its top, as before
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert [str(m) for m in page.context["messages"]] == ["Only upcoming bookings can be rescheduled."]


def test_another_tenants_booking_at_that_time_takes_no_slot(agent, other_service, booking):
    # given another tenant's booking at 14:00 local time
    customer_booking(other_service.tenant, other_service, day=DAY, hour=14)
    # when staff move their booking to 14:00
    response = _move(logged_in(agent), booking, "14:00")
    # then it is moved
    assert response.status_code == 302
    assert Booking.objects.get(pk=booking.pk).start_at == local(booking.tenant, DAY, 14)


def test_another_tenants_staff_get_not_found_and_no_form(outsider, service, booking):
    customer_booking(service.tenant, service, day=DAY, hour=14, name="Bea", email="bea@example.org")
    response = _move(logged_in(outsider), booking, "14:00")
    assert response.status_code == 404
    assert booking.confirmation_code.encode() not in response.content
    _not_moved(booking)


@pytest.mark.parametrize(
    ("day", "field", "error"),
    [
        ("9999-12-31", "date", None),  # outside the bookable dates: the range is the error
        ("31/12/2030", "date", "Enter a valid date."),
        (DAY.isoformat(), "time", None),  # "25:00" below: no such time
    ],
)
def test_a_date_or_time_the_form_refuses_is_shown_on_its_field_with_what_was_typed(agent, booking, day, field, error):
    # given staff typed a date or time the form cannot read (or one outside the bookable dates)
    time = "25:00" if field == "time" else "14:00"
    # when they move the booking
    response = logged_in(agent).post(f"/console/bookings/{booking.pk}/reschedule/", {"date": day, "time": time})
    # then the booking's page comes back (no redirect) with the error on that field and their input kept
    assert response.status_code == 200
    expected = error or (bookable_range_message() if field == "date" else "Enter a valid time.")
    assert response.context["reschedule_form"].errors == {field: [expected]}
    assert escape(expected) in _errors_shown(response.content, field)
    page = response.content.decode()
    assert f'value="{day}"' in page and f'value="{time}"' in page
    assert list(response.context["messages"]) == []
    _not_moved(booking)


def test_a_time_that_does_not_exist_in_the_business_zone_is_shown_on_the_time_field(agent, service):
    # given a booking in Paris, and the night clocks go forward (2030-03-31 02:00 -> 03:00)
    booking = customer_booking(service.tenant, service, day=next_weekday(4), hour=10)
    # when staff move it to 02:30 that night
    response = logged_in(agent).post(
        f"/console/bookings/{booking.pk}/reschedule/", {"date": "2030-03-31", "time": "02:30"}
    )
    # then the page shows the error on the time, with the date and time typed
    assert response.status_code == 200
    assert response.context["reschedule_form"].errors == {"time": [BAD_TIME]}
    assert escape(BAD_TIME) in _errors_shown(response.content, "time")
    page = response.content.decode()
    assert 'value="2030-03-31"' in page and 'value="02:30"' in page
    assert Booking.objects.get(pk=booking.pk).start_at == booking.start_at


def test_another_tenants_staff_get_not_found_for_an_invalid_date_too(outsider, booking):
    response = logged_in(outsider).post(
        f"/console/bookings/{booking.pk}/reschedule/", {"date": "9999-12-31", "time": "14:00"}
    )
    assert response.status_code == 404
    assert booking.confirmation_code.encode() not in response.content


def test_an_invalid_date_for_a_booking_that_can_no_longer_move_is_the_pages_message(agent, booking):
    # given the booking was canceled since staff opened its page (the page no longer has the form)
    Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CANCELED)
    client = logged_in(agent)
    # when staff post a date outside the bookable dates
    response = client.post(f"/console/bookings/{booking.pk}/reschedule/", {"date": "9999-12-31", "time": "14:00"})
    # then the error is the message atop the page
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert [str(m) for m in page.context["messages"]] == [bookable_range_message()]
