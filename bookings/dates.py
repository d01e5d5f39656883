"""The range of dates every booking entry point accepts (widget frames, assistant tools, console).

Nothing can be booked before the first bookable date or more than ``HORIZON_YEARS`` ahead, so
dates outside that range are refused with one plain message instead of reaching the date
arithmetic: a day ± 1 or a local ↔ UTC conversion near year 1 or 9999 raises ``OverflowError``.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from bookings.phrases import BookingText, english

FIRST_BOOKABLE_DATE = date(2000, 1, 1)
HORIZON_YEARS = 10


def last_bookable_date() -> date:
    """Today (UTC) ``HORIZON_YEARS`` on; 29 February becomes the 28th in a year without it."""
    today = timezone.now().date()
    year = today.year + HORIZON_YEARS
    try:
        return today.replace(year=year)
    except ValueError:
        return today.replace(year=year, day=28)


def is_bookable_date(day: date) -> bool:
    return FIRST_BOOKABLE_DATE <= day <= last_bookable_date()


def bookable_range() -> dict[str, str]:
    """The parameters of ``BookingText.DATES_OUT_OF_RANGE``: the first and last bookable dates (ISO)."""
    return {"first": FIRST_BOOKABLE_DATE.isoformat(), "last": last_bookable_date().isoformat()}


def bookable_range_message() -> str:
    """``BookingText.DATES_OUT_OF_RANGE`` in English (the console's and the assistant's)."""
    return english(BookingText.DATES_OUT_OF_RANGE, **bookable_range())
