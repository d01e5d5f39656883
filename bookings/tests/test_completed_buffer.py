"""A completed booking keeps its buffer: housekeeping completing it at its end frees nothing early."""

from __future__ import annotations

from datetime import datetime

import pytest

from bookings import availability, services
from bookings.housekeeping import run_housekeeping
from bookings.models import Booking, BookingStatus, Service
from bookings.services import CUSTOMER, BookingError, booking_create
from bookings.tests.conftest import at, local, next_weekday, open_every_day
from bookings.tests.factories import ServiceFactory
from supportai.models import Tenant

pytestmark = pytest.mark.django_db
DAY = next_weekday(2)


def _buffered(tenant: Tenant) -> Service:
    """60 minutes, then 30 minutes of buffer, on a 15-minute grid; one place at a time."""
    open_every_day(tenant, capacity=1)
    return ServiceFactory.create(
        tenant=tenant, name="Massage", duration_minutes=60, buffer_minutes=30, slot_step_minutes=15
    )


def _book(tenant: Tenant, service: Service, hour: int, minute: int = 0) -> Booking:
    start = local(tenant, DAY, hour, minute)
    return booking_create(tenant=tenant, service=service, start=start, name="Pat", email="pat@x.org", actor=CUSTOMER)


def _completed_at_ten(tenant: Tenant, service: Service) -> Booking:
    """A 10:00-11:00 booking (blocked until 11:30) that housekeeping completes at 11:05."""
    with at(local(tenant, DAY, 9)):
        booking = _book(tenant, service, 10)
    with at(local(tenant, DAY, 11, 5)):
        assert run_housekeeping().bookings_completed == 1
    booking.refresh_from_db()
    assert booking.status == BookingStatus.COMPLETED
    return booking


def _starts(tenant: Tenant, service: Service) -> list[datetime]:
    slots = availability.available_slots(tenant=tenant, service=service, first_day=DAY)
    return [slot.start for slot in slots]


def test_a_completed_booking_still_blocks_its_buffer_in_the_offered_slots(tenant):
    # given
    service = _buffered(tenant)
    _completed_at_ten(tenant, service)
    # when: availability is asked at 11:05, inside the buffer
    with at(local(tenant, DAY, 11, 5)):
        starts = _starts(tenant, service)
    # then: nothing before the buffer ends; 11:30 is the first free start
    assert local(tenant, DAY, 11, 15) not in starts
    assert starts[0] == local(tenant, DAY, 11, 30)


def test_booking_inside_a_completed_bookings_buffer_is_refused_under_the_lock(tenant):
    # given
    service = _buffered(tenant)
    _completed_at_ten(tenant, service)
    with at(local(tenant, DAY, 11, 5)):
        # when / then: the re-check in booking_create refuses 11:15 ...
        with pytest.raises(BookingError) as caught:
            _book(tenant, service, 11, 15)
        assert caught.value.code == services.SLOT_UNAVAILABLE
        # ... and accepts the first start after the buffer
        after = _book(tenant, service, 11, 30)
    assert after.status == BookingStatus.CONFIRMED
    assert Booking.objects.filter(start_at=local(tenant, DAY, 11, 15)).count() == 0


def test_rescheduling_into_a_completed_bookings_buffer_is_refused(tenant):
    # given: a later booking that wants to move to 11:15
    service = _buffered(tenant)
    with at(local(tenant, DAY, 9)):
        later = _book(tenant, service, 15)
    _completed_at_ten(tenant, service)
    # when / then
    with at(local(tenant, DAY, 11, 5)), pytest.raises(BookingError) as caught:
        services.booking_reschedule(tenant=tenant, booking=later, start=local(tenant, DAY, 11, 15), actor=CUSTOMER)
    assert caught.value.code == services.SLOT_UNAVAILABLE
    later.refresh_from_db()
    assert later.start_at == local(tenant, DAY, 15)


def test_another_tenants_completed_booking_holds_none_of_this_tenants_time(tenant, other_tenant):
    # given: the other tenant's completed 10:00 booking, same hours and grid
    mine = _buffered(tenant)
    _completed_at_ten(other_tenant, _buffered(other_tenant))
    # when
    with at(local(tenant, DAY, 11, 5)):
        starts = _starts(tenant, mine)
    # then: this tenant's 11:15 is free
    assert starts[0] == local(tenant, DAY, 11, 15)
