"""Availability: which start times a service can be booked at, in the tenant's time zone.

Rules are weekly wall-clock windows. For each local date they are turned into aware datetimes with
``zoneinfo``, so a 09:00 slot is 09:00 local on both sides of a DST change (its UTC offset moves).
Local times that do not exist (the spring-forward gap) are skipped; the slot's end is compared to
the window's end as absolute time, so a window never hands out more real minutes than it has.

Capacity is counted per *pool*: a service with rules of its own is its own pool; services without
rules share the tenant's hours and one pool (e.g. a single practitioner). A slot is free while the
bookings that hold time in the pool and overlap it (start .. end + buffer) number fewer than the
capacity of the window it lies in. CONFIRMED, COMPLETED and NO_SHOW bookings hold their time
(housekeeping completes a booking at its end, and its buffer must still follow it; staff mark a
no-show once it started, and its time stays planned as it was); PENDING ones while their hold lasts.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from bookings.dates import is_bookable_date
from bookings.models import AvailabilityRule, BlackoutDate, Booking, BookingStatus, Service
from supportai.models import Tenant

MAX_SEARCH_DAYS = 31
# Two-key advisory locks: (namespace, pool hash). The namespace keeps us clear of other apps' locks.
LOCK_NAMESPACE = 7_001
# Statuses whose bookings keep [start_at, blocked_until) taken; a completed booking's buffer is still running.
TIME_HOLDING_STATUSES = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)


@dataclass(frozen=True)
class Slot:
    start: datetime  # aware, UTC
    end: datetime
    remaining: int

    def local_start(self, tz: ZoneInfo) -> datetime:
        return self.start.astimezone(tz)


def tenant_zone(tenant: Tenant) -> ZoneInfo:
    return ZoneInfo(tenant.timezone)


def local_day_bounds(tenant: Tenant, day: date) -> tuple[datetime, datetime]:
    """The UTC instants where ``day`` starts and ends in the tenant's time zone."""
    tz = tenant_zone(tenant)
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


def has_own_rules(service: Service) -> bool:
    return AvailabilityRule.objects.for_tenant(service.tenant).filter(service=service).exists()


def pool_key(service: Service) -> str:
    return f"service:{service.pk}" if has_own_rules(service) else "tenant"


def pool_rules(service: Service) -> list[AvailabilityRule]:
    rules = AvailabilityRule.objects.for_tenant(service.tenant)
    own = list(rules.filter(service=service))
    return own or list(rules.filter(service__isnull=True))


def pool_services(service: Service) -> QuerySet[Service]:
    """Services whose bookings share ``service``'s capacity."""
    tenant_services = Service.objects.for_tenant(service.tenant)
    if has_own_rules(service):
        return tenant_services.filter(pk=service.pk)
    own_rules = AvailabilityRule.objects.filter(service=OuterRef("pk"))
    return tenant_services.annotate(own=Exists(own_rules)).filter(own=False)


def holding_bookings(service: Service, *, start: datetime, end: datetime, now: datetime) -> QuerySet[Booking]:
    """Bookings of the pool that hold time overlapping [start, end)."""
    held = Q(status__in=TIME_HOLDING_STATUSES) | Q(
        Q(hold_expires_at__isnull=True) | Q(hold_expires_at__gt=now), status=BookingStatus.PENDING
    )
    return Booking.objects.for_tenant(service.tenant).filter(
        held, service__in=pool_services(service), start_at__lt=end, blocked_until__gt=start
    )


def lock_pool(service: Service) -> None:
    """Serialize bookings of one pool until the transaction ends (``pg_advisory_xact_lock``)."""
    key = zlib.crc32(f"{service.tenant_id}:{pool_key(service)}".encode()) - 2**31
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, key])


def _closed_dates(service: Service, dates: Iterable[date]) -> set[date]:
    return set(
        BlackoutDate.objects.for_tenant(service.tenant)
        .filter(Q(service__isnull=True) | Q(service=service), date__in=list(dates))
        .values_list("date", flat=True)
    )


def _local(day: date, clock: time, tz: ZoneInfo) -> datetime | None:
    """The aware instant of a wall-clock time, or None when DST skips it."""
    naive = datetime.combine(day, clock)
    aware = naive.replace(tzinfo=tz)
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        return None
    return aware


def _candidates(service: Service, day: date, rules: list[AvailabilityRule], tz: ZoneInfo) -> list[tuple[datetime, int]]:
    duration = timedelta(minutes=service.duration_minutes)
    step = timedelta(minutes=service.slot_step_minutes)
    found: dict[datetime, int] = {}
    for rule in rules:
        if rule.weekday != day.weekday():
            continue
        window_end = _local(day, rule.end_time, tz) or datetime.combine(day, rule.end_time).replace(tzinfo=tz, fold=1)
        wall = datetime.combine(day, rule.start_time)
        while wall.time() < rule.end_time and wall.date() == day:
            start = _local(day, wall.time(), tz)
            if start is not None and start.astimezone(UTC) + duration <= window_end.astimezone(UTC):
                utc_start = start.astimezone(UTC)
                found[utc_start] = max(found.get(utc_start, 0), rule.capacity)
            wall += step
    return sorted(found.items())


def available_slots(
    *,
    tenant: Tenant,
    service: Service,
    first_day: date,
    days: int = 1,
    now: datetime | None = None,
    exclude_booking: Booking | None = None,
) -> list[Slot]:
    """Free start times of ``service`` on ``days`` local dates from ``first_day`` (future only)."""
    if service.tenant_id != tenant.pk:
        raise ValueError("service belongs to another tenant")
    now = now or timezone.now()
    days = max(1, min(days, MAX_SEARCH_DAYS))
    tz = tenant_zone(tenant)
    rules = pool_rules(service)
    dates = [first_day + timedelta(days=offset) for offset in range(days)]
    closed = _closed_dates(service, dates)
    candidates = [
        pair for day in dates if day not in closed for pair in _candidates(service, day, rules, tz) if pair[0] > now
    ]
    if not candidates:
        return []
    duration = timedelta(minutes=service.duration_minutes)
    blocked = timedelta(minutes=service.duration_minutes + service.buffer_minutes)
    holding = holding_bookings(service, start=candidates[0][0], end=candidates[-1][0] + blocked, now=now)
    if exclude_booking is not None:
        holding = holding.exclude(pk=exclude_booking.pk)
    intervals = list(holding.values_list("start_at", "blocked_until"))
    slots = []
    for start, capacity in candidates:
        taken = sum(1 for b_start, b_until in intervals if b_start < start + blocked and b_until > start)
        if taken < capacity:
            slots.append(Slot(start=start, end=start + duration, remaining=capacity - taken))
    return slots


def slot_at(
    *,
    tenant: Tenant,
    service: Service,
    start: datetime,
    now: datetime | None = None,
    exclude_booking: Booking | None = None,
) -> Slot | None:
    """The free slot starting exactly at ``start``, or None (off the grid, closed, past or full)."""
    day = start.astimezone(tenant_zone(tenant)).date()
    for slot in available_slots(
        tenant=tenant, service=service, first_day=day, now=now, exclude_booking=exclude_booking
    ):
        if slot.start == start.astimezone(UTC):
            return slot
    return None


class Unavailable(StrEnum):
    CLOSED = "closed"  # a closed date of the tenant's or the service's
    OUTSIDE_HOURS = "outside_hours"  # no window of the pool holds the start and the whole duration
    OFF_STEP = "off_step"  # within the hours, between two start times of the service's step
    PAST = "past"
    FULL = "full"


@dataclass(frozen=True)
class Unavailability:
    kind: Unavailable
    neighbours: tuple[datetime, ...] = ()  # OFF_STEP: the start times just before and after (aware, UTC)


def unavailable_reason(
    *, tenant: Tenant, service: Service, start: datetime, now: datetime | None = None
) -> Unavailability:
    """Why ``slot_at`` finds no free slot at ``start``, from the same closed dates and start times;
    asked once it found none, so a start on the grid, to come, is FULL."""
    tz = tenant_zone(tenant)
    day = start.astimezone(tz).date()
    start = start.astimezone(UTC)
    if _closed_dates(service, [day]):
        return Unavailability(Unavailable.CLOSED)
    starts = [candidate for candidate, _ in _candidates(service, day, pool_rules(service), tz)]
    if start not in starts:
        before = [candidate for candidate in starts if candidate < start][-1:]
        after = [candidate for candidate in starts if candidate > start][:1]
        # two start times one step apart hold it: within a window (a gap between windows is wider)
        if before and after and after[0] - before[0] <= timedelta(minutes=service.slot_step_minutes):
            return Unavailability(Unavailable.OFF_STEP, neighbours=(before[0], after[0]))
        return Unavailability(Unavailable.OUTSIDE_HOURS)
    if start <= (now or timezone.now()):
        return Unavailability(Unavailable.PAST)
    return Unavailability(Unavailable.FULL)


def parse_local_start(value: str, *, tenant: Tenant) -> datetime | None:
    """``YYYY-MM-DDTHH:MM`` in the tenant's zone (or with an explicit offset) → aware UTC; None if invalid
    or outside the bookable dates (``bookings.dates``)."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except (ValueError, AttributeError):
        return None
    if not is_bookable_date(parsed.date()):
        return None
    if parsed.tzinfo is None:
        localized = _local(parsed.date(), parsed.time(), tenant_zone(tenant))
        return None if localized is None else localized.astimezone(UTC)
    return parsed.astimezone(UTC)
