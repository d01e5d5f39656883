"""Slot search: tenant time zone, DST changes, blackouts, capacity pools, buffers."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bookings import availability
from bookings.models import BlackoutDate, Booking, BookingStatus
from bookings.services import CUSTOMER, booking_create
from bookings.tests.conftest import local, next_weekday, open_every_day
from bookings.tests.factories import RuleFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def _starts(slots):
    return [s.start for s in slots]


def test_slots_follow_rules_in_tenant_time_zone(tenant, service):
    day = next_weekday(2)
    slots = availability.available_slots(tenant=tenant, service=service, first_day=day)
    assert len(slots) == 8  # 09:00..16:00 for a 60-minute service in 09:00-17:00
    assert slots[0].start == local(tenant, day, 9).astimezone(UTC)
    assert slots[-1].end == local(tenant, day, 17).astimezone(UTC)


def test_spring_forward_keeps_wall_clock_and_skips_missing_hour(tenant):
    # given: Denver switches to MDT on Sunday 2030-03-10 at 02:00 (02:00-02:59 do not exist)
    tenant.timezone = "America/Denver"
    tenant.save()
    service = ServiceFactory.create(tenant=tenant, duration_minutes=30, slot_step_minutes=30)
    RuleFactory.create(tenant=tenant, weekday=6, start_time=time(1), end_time=time(4))
    for weekday in (5, 0):
        RuleFactory.create(tenant=tenant, weekday=weekday, start_time=time(9), end_time=time(10))
    now = datetime(2030, 3, 1, tzinfo=UTC)
    # when
    sunday = availability.available_slots(tenant=tenant, service=service, first_day=date(2030, 3, 10), now=now)
    around = availability.available_slots(tenant=tenant, service=service, first_day=date(2030, 3, 9), days=3, now=now)
    # then: 01:00 and 01:30 MST (UTC-7), then 03:00 and 03:30 MDT (UTC-6); nothing at 02:xx
    assert _starts(sunday) == [
        datetime(2030, 3, 10, 8, 0, tzinfo=UTC),
        datetime(2030, 3, 10, 8, 30, tzinfo=UTC),
        datetime(2030, 3, 10, 9, 0, tzinfo=UTC),
        datetime(2030, 3, 10, 9, 30, tzinfo=UTC),
    ]
    nine_am = [s.start for s in around if s.start.astimezone(availability.tenant_zone(tenant)).hour == 9]
    assert datetime(2030, 3, 9, 16, 0, tzinfo=UTC) in nine_am  # Saturday 09:00 MST
    assert datetime(2030, 3, 11, 15, 0, tzinfo=UTC) in nine_am  # Monday 09:00 MDT


def test_fall_back_window_uses_real_time(tenant):
    # given: Denver returns to MST on Sunday 2030-11-03 at 02:00 (01:00-01:59 happen twice)
    tenant.timezone = "America/Denver"
    tenant.save()
    service = ServiceFactory.create(tenant=tenant, duration_minutes=60, slot_step_minutes=60)
    RuleFactory.create(tenant=tenant, weekday=6, start_time=time(0), end_time=time(3))
    slots = availability.available_slots(
        tenant=tenant, service=service, first_day=date(2030, 11, 3), now=datetime(2030, 11, 1, tzinfo=UTC)
    )
    # 00:00 MDT, 01:00 MDT (first pass), 02:00 MST; each a real hour, none past 03:00 MST
    assert _starts(slots) == [
        datetime(2030, 11, 3, 6, 0, tzinfo=UTC),
        datetime(2030, 11, 3, 7, 0, tzinfo=UTC),
        datetime(2030, 11, 3, 9, 0, tzinfo=UTC),
    ]
    assert all(s.end <= datetime(2030, 11, 3, 10, 0, tzinfo=UTC) for s in slots)


def test_blackout_closes_the_day(tenant, service):
    day = next_weekday(3)
    BlackoutDate.objects.create(tenant=tenant, date=day, reason="Staff training")
    assert availability.available_slots(tenant=tenant, service=service, first_day=day) == []


def test_booked_slot_and_buffer_are_taken(tenant, service):
    service.buffer_minutes = 30
    service.save()
    day = next_weekday(1)
    booking_create(
        tenant=tenant, service=service, start=local(tenant, day, 10), name="Ann", email="ann@x.org", actor=CUSTOMER
    )
    starts = _starts(availability.available_slots(tenant=tenant, service=service, first_day=day))
    assert local(tenant, day, 10) not in starts
    assert local(tenant, day, 9) not in starts  # 09:00-10:00 + 30 min buffer overlaps the 10:00 booking
    assert local(tenant, day, 11) not in starts  # the 10:00 booking blocks until 11:30 (its buffer)
    assert local(tenant, day, 12) in starts


def test_capacity_allows_parallel_bookings(tenant):
    open_every_day(tenant, capacity=2)
    service = ServiceFactory.create(tenant=tenant)
    day = next_weekday(4)
    start = local(tenant, day, 9)
    for email in ("a@x.org", "b@x.org"):
        assert availability.slot_at(tenant=tenant, service=service, start=start) is not None
        booking_create(tenant=tenant, service=service, start=start, name="A", email=email, actor=CUSTOMER)
    assert availability.slot_at(tenant=tenant, service=service, start=start) is None


def test_services_without_rules_share_the_tenant_pool(tenant, service):
    facial = ServiceFactory.create(tenant=tenant, name="Facial", duration_minutes=30, slot_step_minutes=30)
    day = next_weekday(2)
    booking_create(
        tenant=tenant, service=service, start=local(tenant, day, 10), name="A", email="a@x.org", actor=CUSTOMER
    )
    assert availability.slot_at(tenant=tenant, service=facial, start=local(tenant, day, 10, 30)) is None
    assert availability.slot_at(tenant=tenant, service=facial, start=local(tenant, day, 11)) is not None


def test_service_with_own_rules_is_its_own_pool(tenant, service):
    yoga = ServiceFactory.create(tenant=tenant, name="Yoga")
    RuleFactory.create(tenant=tenant, service=yoga, weekday=next_weekday(2).weekday(), capacity=3)
    day = next_weekday(2)
    booking_create(
        tenant=tenant, service=service, start=local(tenant, day, 10), name="A", email="a@x.org", actor=CUSTOMER
    )
    slot = availability.slot_at(tenant=tenant, service=yoga, start=local(tenant, day, 10))
    assert slot is not None and slot.remaining == 3


def test_expired_unpaid_hold_frees_the_slot(tenant, paid_service):
    day = next_weekday(2)
    start = local(tenant, day, 9)
    booking = booking_create(
        tenant=tenant, service=paid_service, start=start, name="A", email="a@x.org", actor=CUSTOMER
    )
    assert booking.status == BookingStatus.PENDING
    assert availability.slot_at(tenant=tenant, service=paid_service, start=start) is None
    Booking.objects.filter(pk=booking.pk).update(hold_expires_at=datetime.now(UTC) - timedelta(minutes=1))
    assert availability.slot_at(tenant=tenant, service=paid_service, start=start) is not None


def test_past_and_off_grid_starts_are_not_slots(tenant, service):
    yesterday = date.today() - timedelta(days=1)
    assert availability.slot_at(tenant=tenant, service=service, start=local(tenant, yesterday, 10)) is None
    assert availability.slot_at(tenant=tenant, service=service, start=local(tenant, next_weekday(2), 10, 17)) is None


def test_other_tenants_service_is_refused(tenant, other_service):
    with pytest.raises(ValueError):
        availability.available_slots(tenant=tenant, service=other_service, first_day=next_weekday(2))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2030-03-10T02:30", None),  # does not exist in Denver
        ("garbage", None),
        ("2030-03-11T09:00", datetime(2030, 3, 11, 15, 0, tzinfo=UTC)),
        ("2030-03-11T09:00-06:00", datetime(2030, 3, 11, 15, 0, tzinfo=UTC)),
        ("9999-12-31T20:00", None),  # year 10000 in UTC
        ("9999-12-31T23:00-05:00", None),
        ("0001-01-01T01:00+05:00", None),  # year 0 in UTC
        ("1999-12-31T09:00", None),  # before the first bookable date
    ],
)
def test_parse_local_start(tenant, value, expected):
    tenant.timezone = "America/Denver"
    assert availability.parse_local_start(value, tenant=tenant) == expected
