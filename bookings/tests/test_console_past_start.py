"""Staff typing a time that has passed (a new booking, or a booking moved) are told it has passed,
with the time it is now in the business's zone, on the time field; nothing is booked or moved."""

from __future__ import annotations

from datetime import datetime

from bookings.console_slots import PAST_START
from bookings.models import Booking
from bookings.tests.conftest import at, customer_booking, local, logged_in, next_weekday


def _time_errors(page: str) -> str:
    start = page.index('id="id_time_error"')
    return page[page.index(">", start) + 1 : page.index("</ul>", start)]


def _now(tenant) -> datetime:
    """Noon on a Wednesday a week ahead, in the tenant's zone: a time the tests stop the clock at."""
    return local(tenant, next_weekday(2), 12)


def test_a_new_booking_at_a_time_that_has_passed_says_so(owner, tenant, service):
    # given the clock at noon
    now = _now(tenant)
    typed = {"service": service.pk, "date": f"{now:%Y-%m-%d}", "time": "10:00", "name": "Pat", "email": "p@x.org"}
    # when the owner books 10:00 that day
    with at(now):
        response = logged_in(owner).post("/console/bookings/new/", typed)
    # then the time field says it has passed and what time it is now, nothing is booked
    assert response.status_code == 200
    said = PAST_START.format(now=f"{now:%Y-%m-%d %H:%M}", zone=tenant.timezone)
    assert said in _time_errors(response.content.decode())
    assert not Booking.objects.exists()


def test_a_booking_moved_to_a_time_that_has_passed_says_so(owner, tenant, service):
    # given a booking in the afternoon and the clock at noon
    now = _now(tenant)
    booking = customer_booking(tenant, service, day=now.date(), hour=15)
    # when the owner moves it to 09:00 that morning
    with at(now):
        response = logged_in(owner).post(
            f"/console/bookings/{booking.pk}/reschedule/", {"date": f"{now:%Y-%m-%d}", "time": "09:00"}
        )
    # then the time field says it has passed, the booking stays where it was
    said = PAST_START.format(now=f"{now:%Y-%m-%d %H:%M}", zone=tenant.timezone)
    assert said in _time_errors(response.content.decode())
    booking.refresh_from_db()
    assert booking.start_at == local(tenant, now.date(), 15)
