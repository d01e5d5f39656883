"""Service hours in local time, across time zones, holidays and daylight-saving switches."""

from __future__ import annotations

import importlib
from datetime import UTC, date, datetime, time

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError

from escalations.hours import ServiceHours, parse_weekly
from escalations.models import EscalationPolicy, default_weekly_hours
from supportai.models import Tenant


def hours(zone: str, weekly: object = None, holidays: tuple[date, ...] = ()) -> ServiceHours:
    return ServiceHours.build(timezone=zone, weekly_hours=weekly or default_weekly_hours(), holidays=holidays)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_same_instant_is_open_in_one_zone_and_closed_in_another() -> None:
    instant = utc(2026, 3, 4, 15, 0)  # Wednesday 15:00 UTC
    assert hours("Europe/Paris").is_open(instant)  # 16:00 local
    assert not hours("America/Denver").is_open(instant)  # 08:00 local, before opening
    assert not hours("Asia/Tokyo").is_open(instant)  # 00:00 Thursday


def test_denver_before_nine_is_closed() -> None:
    assert not hours("America/Denver").is_open(utc(2026, 3, 4, 15, 30))  # 08:30 MST
    assert hours("America/Denver").is_open(utc(2026, 3, 4, 16, 0))  # 09:00 MST


def test_weekend_and_holiday_are_closed_and_next_opening_skips_them() -> None:
    paris = hours("Europe/Paris", holidays=(date(2026, 1, 5),))  # Monday holiday
    saturday = utc(2026, 1, 3, 12, 0)
    assert not paris.is_open(saturday)
    assert paris.next_opening(saturday) == utc(2026, 1, 6, 8, 0)  # Tuesday 09:00 CET


def test_opening_follows_the_spring_forward_switch() -> None:
    # US DST starts Sunday 2026-03-08: 09:00 Denver is 16:00 UTC on Friday, 15:00 UTC on Monday.
    denver = hours("America/Denver")
    assert denver.next_opening(utc(2026, 3, 6, 1, 0)) == utc(2026, 3, 6, 16, 0)
    assert denver.next_opening(utc(2026, 3, 7, 12, 0)) == utc(2026, 3, 9, 15, 0)
    assert denver.is_open(utc(2026, 3, 9, 15, 30)) and not denver.is_open(utc(2026, 3, 6, 15, 30))


def test_closing_follows_the_fall_back_switch() -> None:
    # EU DST ends Sunday 2026-10-25: 18:00 Paris is 16:00 UTC before, 17:00 UTC after.
    paris = hours("Europe/Paris")
    assert not paris.is_open(utc(2026, 10, 23, 16, 30))
    assert paris.is_open(utc(2026, 10, 26, 16, 30))


def test_interval_in_a_dst_gap_and_overnight_shift_to_midnight() -> None:
    weekly = {"sun": [["02:30", "24:00"]]}
    denver = hours("America/Denver", weekly)
    # 02:30 does not exist on 2026-03-08; zoneinfo reads it with the pre-switch offset (-07:00) → 09:30 UTC.
    assert denver.next_opening(utc(2026, 3, 8, 0, 0)) == utc(2026, 3, 8, 9, 30)
    assert denver.is_open(utc(2026, 3, 9, 5, 59)) and not denver.is_open(utc(2026, 3, 9, 6, 0))


def test_sla_runs_from_now_when_open_and_from_the_next_opening_when_closed() -> None:
    paris = hours("Europe/Paris")
    assert paris.sla_due(utc(2026, 3, 4, 10, 0), 60) == utc(2026, 3, 4, 11, 0)
    assert paris.sla_due(utc(2026, 3, 7, 10, 0), 15) == utc(2026, 3, 9, 8, 15)  # Saturday → Monday 09:15 CET


def test_never_open_schedule_has_no_next_opening() -> None:
    assert hours("UTC", {"mon": []}).next_opening(utc(2026, 1, 1)) is None


@pytest.mark.parametrize(
    ("weekly", "message"),
    [
        ({"funday": []}, "Unknown day"),
        ({"mon": [["18:00", "09:00"]]}, "must start before"),
        ({"mon": [["09:00", "13:00"], ["12:00", "18:00"]]}, "overlap"),
        ({"mon": [["nine", "18:00"]]}, "not a time"),
        ({"mon": [["09:00+01:00", "18:00"]]}, "local to the policy's time zone"),
        ({"mon": [["09:00Z", "18:00Z"]]}, "local to the policy's time zone"),
        ([], "must be an object"),
    ],
)
def test_bad_schedules_get_clear_errors(weekly: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_weekly(weekly)


@pytest.mark.django_db
def test_migration_drops_utc_offsets_stored_before_they_were_refused(tenant: Tenant, other_tenant: Tenant) -> None:
    # given: a policy saved with offsets (they were ignored) and one without
    stored = {"mon": [["09:00+01:00", "18:00:30Z"]], "tue": [["10:00", "24:00"]]}
    offset = EscalationPolicy.objects.create(tenant=tenant, weekly_hours=stored)
    plain = EscalationPolicy.objects.create(tenant=other_tenant, weekly_hours={"mon": [["08:00", "12:00"]]})
    migration = importlib.import_module("escalations.migrations.0002_service_hours_without_utc_offsets")
    # when
    migration.drop_offsets(django_apps, None)
    # then: the same local wall-clock times, which parse again
    offset.refresh_from_db()
    plain.refresh_from_db()
    assert offset.weekly_hours == {"mon": [["09:00", "18:00:30"]], "tue": [["10:00", "24:00"]]}
    assert parse_weekly(offset.weekly_hours)[0] == ((time(9), time(18, 0, 30)),)
    assert plain.weekly_hours == {"mon": [["08:00", "12:00"]]}
