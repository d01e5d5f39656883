"""Service hours: is a tenant's team on duty at an instant, and when does it next open?

Schedules are local wall-clock times in an IANA time zone, so they follow daylight-saving changes:
"09:00" is 09:00 local on both sides of a DST switch. A start time that does not exist on a
spring-forward day (02:30 in a 02:00→03:00 gap) is read the way ``zoneinfo`` reads it (fold=0,
i.e. shifted forward by the gap).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
END_OF_DAY = "24:00"
LOOKAHEAD_DAYS = 400  # a year of holidays cannot hide the next opening
Interval = tuple[time, time | None]  # end None = midnight at the end of the day


def _parse_time(value: Any, *, day: str) -> time | None:
    if value == END_OF_DAY:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{day}: times must be strings like '09:00'")
    try:
        parsed = time.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{day}: {value!r} is not a time like '09:00'") from None
    if parsed.tzinfo is not None:
        raise ValidationError(f"{day}: {value!r} has a UTC offset; times are local to the policy's time zone")
    return parsed


def parse_weekly(data: Any) -> dict[int, tuple[Interval, ...]]:
    """Validate ``{"mon": [["09:00", "18:00"]], ...}`` → weekday index → sorted intervals."""
    if not isinstance(data, Mapping):
        raise ValidationError('Weekly hours must be an object like {"mon": [["09:00", "18:00"]]}')
    unknown = set(data) - set(DAYS)
    if unknown:
        raise ValidationError(f"Unknown day(s) {', '.join(sorted(unknown))}; use {', '.join(DAYS)}")
    weekly: dict[int, tuple[Interval, ...]] = {}
    for index, day in enumerate(DAYS):
        raw = data.get(day, [])
        if not isinstance(raw, Sequence) or isinstance(raw, str):
            raise ValidationError(f"{day}: a list of [start, end] pairs")
        intervals: list[Interval] = []
        for pair in raw:
            if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2:
                raise ValidationError(f"{day}: each interval is a [start, end] pair")
            start, end = _parse_time(pair[0], day=day), _parse_time(pair[1], day=day)
            if start is None or (end is not None and end <= start):
                raise ValidationError(f"{day}: {pair[0]}-{pair[1]} must start before it ends")
            intervals.append((start, end))
        intervals.sort(key=lambda interval: interval[0])
        for (_, previous_end), (next_start, _) in pairwise(intervals):
            if previous_end is None or previous_end > next_start:
                raise ValidationError(f"{day}: intervals overlap")
        weekly[index] = tuple(intervals)
    return weekly


@dataclass(frozen=True)
class ServiceHours:
    zone: ZoneInfo
    weekly: Mapping[int, tuple[Interval, ...]]
    holidays: frozenset[date]

    @classmethod
    def build(cls, *, timezone: str, weekly_hours: Any, holidays: Sequence[date] = ()) -> ServiceHours:
        return cls(zone=ZoneInfo(timezone), weekly=parse_weekly(weekly_hours), holidays=frozenset(holidays))

    def _bounds(self, day: date, interval: Interval) -> tuple[datetime, datetime]:
        start = datetime.combine(day, interval[0], tzinfo=self.zone)
        if interval[1] is None:
            end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone)
        else:
            end = datetime.combine(day, interval[1], tzinfo=self.zone)
        # Compare as UTC instants: wall-clock arithmetic across a DST switch is off by the shift.
        return start.astimezone(UTC), end.astimezone(UTC)

    def _intervals_on(self, day: date) -> tuple[Interval, ...]:
        return () if day in self.holidays else self.weekly.get(day.weekday(), ())

    def is_open(self, at: datetime) -> bool:
        instant = at.astimezone(UTC)
        day = instant.astimezone(self.zone).date()
        return any(
            start <= instant < end
            for interval in self._intervals_on(day)
            for start, end in [self._bounds(day, interval)]
        )

    def next_opening(self, at: datetime) -> datetime | None:
        """``at`` itself when open, else the start of the next interval (UTC), None if never open."""
        if self.is_open(at):
            return at
        instant = at.astimezone(UTC)
        first_day = instant.astimezone(self.zone).date()
        for offset in range(LOOKAHEAD_DAYS):
            day = first_day + timedelta(days=offset)
            for interval in self._intervals_on(day):
                start, _ = self._bounds(day, interval)
                if start > instant:
                    return start
        return None

    def sla_due(self, at: datetime, minutes: int) -> datetime:
        """The SLA clock runs from ``at`` when open, else from the next opening."""
        start = self.next_opening(at) or at
        return start + timedelta(minutes=minutes)

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.zone)
