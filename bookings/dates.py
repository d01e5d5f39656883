"""The range of dates every booking entry point accepts (widget frames, assistant tools, console), and a
time as the customer reads it (``said_time``).

Nothing can be booked before the first bookable date or more than ``HORIZON_YEARS`` ahead, so
dates outside that range are refused with one plain message instead of reaching the date
arithmetic: a day ± 1 or a local ↔ UTC conversion near year 1 or 9999 raises ``OverflowError``.
"""

from __future__ import annotations

from datetime import date, datetime

from babel import Locale
from babel.dates import format_date, format_time
from django.utils import timezone

from bookings.phrases import BOOKING_PHRASES, BookingText, english
from routing.language import DEFAULT

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


def said_time(moment: datetime, language: str = DEFAULT) -> str:
    """``moment`` (already in the tenant's zone) as a customer writing ``language`` reads it: the weekday,
    day, month, year and time, with the language's own names and order (CLDR's full date and its way of
    joining a date and a time: "Mittwoch, 11. März 2026, 10:00"). English, and any language without a row in
    the booking sentences, as it always read: "Wednesday 11 March 2026 at 10:00".

    A joining pattern's quoted literal (``{1} 'à' {0}``) is shown without its quotes, as Babel's own
    ``format_datetime`` shows it."""
    if language == DEFAULT or language not in BOOKING_PHRASES:
        return moment.strftime("%A %-d %B %Y at %H:%M")
    locale = Locale.parse(language.replace("-", "_"))
    joined: str = locale.datetime_formats["full"].replace("'", "")
    return joined.format(format_time(moment, "HH:mm", locale=locale), format_date(moment, "full", locale=locale))
