"""Booking frames of the widget protocol (the "Book" / "Manage my booking" quick actions).

Parsed in the style of ``chat.protocol`` (same helpers, same ``ProtocolError`` codes) and registered
into its ``PARSERS`` by ``BookingsConfig.ready``. See docs/websocket-protocol.md, "Booking frames".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from bookings.dates import bookable_range, is_bookable_date
from bookings.phrases import BookingText
from chat.protocol import ErrorCode, ProtocolError, _integer, _string

MAX_NAME_CHARS = 200
MAX_EMAIL_CHARS = 254
MAX_NOTES_CHARS = 500
MAX_DAYS = 14
START_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2}|Z)?$")


class BookingFrame:
    """Base of the booking commands (the consumer hands them to ``bookings.widget``)."""


@dataclass(frozen=True)
class ListServices(BookingFrame):
    pass


@dataclass(frozen=True)
class ListSlots(BookingFrame):
    service_id: int
    date: date
    days: int


@dataclass(frozen=True)
class ProposeBooking(BookingFrame):
    service_id: int
    start: str
    name: str
    email: str
    notes: str


@dataclass(frozen=True)
class Lookup(BookingFrame):
    code: str
    email: str


@dataclass(frozen=True)
class ProposeCancel(BookingFrame):
    code: str
    email: str
    reason: str


@dataclass(frozen=True)
class ProposeReschedule(BookingFrame):
    code: str
    email: str
    start: str


def _bookable(day: date, key: str) -> date:
    if not is_bookable_date(day):
        raise ProtocolError.of(ErrorCode.BAD_REQUEST, BookingText.DATES_OUT_OF_RANGE, field=key, **bookable_range())
    return day


def _date(frame: dict[str, Any], key: str) -> date:
    value = _string(frame, key, required=True, limit=10)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ProtocolError.of(ErrorCode.BAD_REQUEST, BookingText.NOT_A_DATE, field=key) from None
    return _bookable(day, key)


def _start(frame: dict[str, Any], key: str = "start") -> str:
    value = _string(frame, key, required=True, limit=32)
    malformed = ProtocolError.of(ErrorCode.BAD_REQUEST, BookingText.NOT_A_TIME, field=key)
    if not START_PATTERN.match(value):
        raise malformed
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        raise malformed from None
    _bookable(day, key)
    return value


def _days(frame: dict[str, Any]) -> int:
    if frame.get("days") is None:
        return 7
    days = _integer(frame, "days")
    if not 1 <= days <= MAX_DAYS:
        raise ProtocolError.of(ErrorCode.BAD_REQUEST, BookingText.DAYS_RANGE, field="days", limit=MAX_DAYS)
    return days


def _owner(frame: dict[str, Any]) -> tuple[str, str]:
    return (
        _string(frame, "code", required=True, limit=16),
        _string(frame, "email", required=True, limit=MAX_EMAIL_CHARS),
    )


def _propose(frame: dict[str, Any]) -> ProposeBooking:
    return ProposeBooking(
        service_id=_integer(frame, "service_id"),
        start=_start(frame),
        name=_string(frame, "name", required=True, limit=MAX_NAME_CHARS),
        email=_string(frame, "email", required=True, limit=MAX_EMAIL_CHARS),
        notes=_string(frame, "notes", required=False, limit=MAX_NOTES_CHARS),
    )


BOOKING_PARSERS: dict[str, Any] = {
    "booking.services": lambda frame: ListServices(),
    "booking.slots": lambda frame: ListSlots(
        service_id=_integer(frame, "service_id"), date=_date(frame, "date"), days=_days(frame)
    ),
    "booking.propose": _propose,
    "booking.lookup": lambda frame: Lookup(*_owner(frame)),
    "booking.cancel": lambda frame: ProposeCancel(
        *_owner(frame), reason=_string(frame, "reason", required=False, limit=300)
    ),
    "booking.reschedule": lambda frame: ProposeReschedule(*_owner(frame), start=_start(frame)),
}
