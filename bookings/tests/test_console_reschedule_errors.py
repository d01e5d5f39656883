"""A move the console's reschedule form cannot make shows its error on the field the booking service
names, on the booking's page with the time staff typed, not as a message above the page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from bookings.models import Booking, BookingEventKind, BookingStatus, Service
from bookings.services import SLOT_TAKEN
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
    assert form.errors == {"time": [SLOT_TAKEN]}
    assert SLOT_TAKEN in _errors_shown(response.content, "time")
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
