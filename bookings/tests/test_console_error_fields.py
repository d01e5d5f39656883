"""A booking the console's new-booking form cannot make shows its error on the field the service names."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bookings import services
from bookings.console_slots import FULL
from bookings.models import Booking, Service
from bookings.services import BookingError
from bookings.tests.conftest import customer_booking, logged_in, next_weekday

pytestmark = pytest.mark.django_db

NEW = "/console/bookings/new/"


def _form(service: Service, **changes: object) -> dict[str, object]:
    day = next_weekday(4)
    return {
        "service": service.pk,
        "date": day.isoformat(),
        "time": "10:00",
        "name": "Walk In",
        "email": "walk@x.org",
        **changes,
    }


def _errors_shown(content: bytes, field: str) -> str:
    """The error list the page shows with ``field``'s input ("" when none)."""
    shown = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', content.decode(), re.S)
    return shown.group(1) if shown else ""


def test_a_taken_slot_is_shown_on_the_time_field(agent, service):
    # given a customer's booking in the slot
    customer_booking(service.tenant, service, day=next_weekday(4), hour=10)
    # when staff book the same slot
    response = logged_in(agent).post(NEW, _form(service, name="Other", email="o@x.org"))
    # then the form says so on its time, and nothing else is wrong
    assert response.status_code == 200
    assert response.context["form"].errors == {"time": [FULL]}
    assert FULL in _errors_shown(response.content, "time")
    assert Booking.objects.count() == 1


def test_another_tenants_booking_at_that_time_takes_no_slot(agent, service, other_service):
    # given another tenant's booking at the same local time
    customer_booking(other_service.tenant, other_service, day=next_weekday(4), hour=10)
    # when staff book that time in their own tenant
    response = logged_in(agent).post(NEW, _form(service))
    # then it is booked
    assert response.status_code == 302
    assert Booking.objects.filter(tenant=service.tenant).count() == 1


@pytest.mark.parametrize(
    ("named", "shown_on"),
    [
        ("service_id", "service"),
        ("start", "time"),
        ("name", "name"),
        ("email", "email"),
        ("notes", "notes"),
    ],
)
def test_each_field_the_service_names_is_marked_on_the_form(
    agent, service, monkeypatch: pytest.MonkeyPatch, named: str, shown_on: str
):
    # given a booking service that refuses the request over one of its fields
    refusal = BookingError(services.INVALID, f"The {named} is wrong.", field=named)
    monkeypatch.setattr(services, "booking_create", _raising(refusal))
    # when staff book
    response = logged_in(agent).post(NEW, _form(service))
    # then the message is on the form's field of that name, not over the whole form
    assert response.status_code == 200
    assert response.context["form"].errors == {shown_on: [refusal.message]}
    assert refusal.message in _errors_shown(response.content, shown_on)


@pytest.mark.parametrize("named", ["", "proposal_id"])
def test_an_error_about_no_field_of_the_form_is_a_form_error(
    agent, service, monkeypatch: pytest.MonkeyPatch, named: str
):
    # given a refusal naming no field, or one the console form does not have
    refusal = BookingError(services.INVALID, "This booking cannot be made.", field=named)
    monkeypatch.setattr(services, "booking_create", _raising(refusal))
    # when staff book
    response = logged_in(agent).post(NEW, _form(service))
    # then it is the form's own error
    assert response.status_code == 200
    assert response.context["form"].errors == {"__all__": [refusal.message]}
    assert refusal.message.encode() in response.content


def _raising(error: BookingError) -> Any:
    def refuse(**kwargs: object) -> Booking:
        raise error

    return refuse
