"""Staff booking or moving to a time nobody can book are told why on the time field: a closed date,
a time outside the opening hours, a start between two start times, or a time fully booked. The
customer's message (shared with the public API) stays the one for every case."""

from __future__ import annotations

import pytest

from bookings.models import BlackoutDate, Booking
from bookings.services import SLOT_TAKEN
from bookings.tests.conftest import customer_booking, local, logged_in, next_weekday

pytestmark = pytest.mark.django_db


def _time_errors(page: str) -> str:
    start = page.index('id="id_time_error"')
    return page[page.index(">", start) + 1 : page.index("</ul>", start)]


def _book(owner, service, day, clock):
    typed = {"service": service.pk, "date": f"{day:%Y-%m-%d}", "time": clock, "name": "Pat", "email": "p@x.org"}
    return logged_in(owner).post("/console/bookings/new/", typed)


@pytest.mark.parametrize(
    ("clock", "said"),
    [
        ("07:00", "outside the opening hours"),
        ("16:30", "outside the opening hours"),  # a 60-minute service would end after 17:00
        ("11:07", "between two start times: choose 11:00 or 12:00"),
    ],
)
def test_a_new_booking_off_the_hours_or_the_steps_says_why(owner, tenant, service, clock, said):
    response = _book(owner, service, next_weekday(2), clock)
    errors = _time_errors(response.content.decode())
    assert said in errors and SLOT_TAKEN not in errors
    assert not Booking.objects.exists()


def test_a_new_booking_on_a_closed_date_says_it_is_closed(owner, tenant, service):
    day = next_weekday(2)
    BlackoutDate.objects.create(tenant=tenant, date=day, reason="Inventory")
    errors = _time_errors(_book(owner, service, day, "10:00").content.decode())
    assert f"closed on {day:%Y-%m-%d}" in errors and SLOT_TAKEN not in errors


def test_a_new_booking_at_a_full_time_says_it_is_fully_booked(owner, tenant, service):
    day = next_weekday(2)
    customer_booking(tenant, service, day=day, hour=10)
    errors = _time_errors(_book(owner, service, day, "10:00").content.decode())
    assert "fully booked" in errors
    assert Booking.objects.count() == 1


def test_a_booking_moved_between_start_times_says_why(owner, tenant, service):
    day = next_weekday(2)
    booking = customer_booking(tenant, service, day=day, hour=10)
    response = logged_in(owner).post(
        f"/console/bookings/{booking.pk}/reschedule/", {"date": f"{day:%Y-%m-%d}", "time": "13:30"}
    )
    assert "between two start times: choose 13:00 or 14:00" in _time_errors(response.content.decode())
    booking.refresh_from_db()
    assert booking.start_at == local(tenant, day, 10)
