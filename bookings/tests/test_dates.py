"""The bookable date range shared by the widget, the assistant and the console."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bookings import dates


@pytest.mark.parametrize(
    ("now", "last"),
    [
        (datetime(2026, 3, 9, 12, tzinfo=UTC), date(2036, 3, 9)),
        (datetime(2028, 2, 29, 12, tzinfo=UTC), date(2038, 2, 28)),
    ],
)
def test_last_bookable_date_is_the_horizon_from_today(monkeypatch, now, last):
    monkeypatch.setattr(dates.timezone, "now", lambda: now)
    assert dates.last_bookable_date() == last
    assert dates.is_bookable_date(last) and not dates.is_bookable_date(last + timedelta(days=1))
    assert dates.bookable_range_message() == f"Dates must be between 2000-01-01 and {last.isoformat()}."


def test_is_bookable_date_refuses_the_extremes():
    assert dates.is_bookable_date(dates.FIRST_BOOKABLE_DATE)
    assert not dates.is_bookable_date(date(1999, 12, 31))
    assert not dates.is_bookable_date(date.min) and not dates.is_bookable_date(date.max)
