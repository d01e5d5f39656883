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


# Full date-and-time patterns with quoted literals, as CLDR 41 and older gave French and German (and as other
# locales still do): Babel's own ``format_datetime`` drops the quotes, and so must ``said_time``.
QUOTED = {"fr": "{1} 'à' {0}", "de": "{1} 'um' {0}"}
MOMENT = datetime(2026, 3, 11, 10, 0)


@pytest.fixture
def quoted_patterns(monkeypatch):
    real = vars(dates.Locale)["datetime_formats"].fget

    def datetime_formats(locale):
        formats = real(locale)
        return {**formats, "full": QUOTED[locale.language]} if locale.language in QUOTED else formats

    monkeypatch.setattr(dates.Locale, "datetime_formats", property(datetime_formats))


@pytest.mark.parametrize(
    ("language", "said"),
    [("fr", "mercredi 11 mars 2026 à 10:00"), ("de", "Mittwoch, 11. März 2026 um 10:00")],
)
def test_said_time_shows_a_patterns_quoted_literal_without_its_quotes(quoted_patterns, language, said):
    assert dates.said_time(MOMENT, language) == said


def test_said_time_keeps_a_pattern_without_quotes_as_it_is(quoted_patterns):
    assert dates.said_time(MOMENT, "es") == "miércoles, 11 de marzo de 2026, 10:00"
    assert dates.said_time(MOMENT, "ja") == "2026年3月11日水曜日 10:00"


def test_said_time_in_arabic_is_cldrs_with_its_default_digits():
    # Babel's (CLDR's) default numbering system for ``ar`` is Latin: the digits are 0-9, not Arabic-Indic,
    # and the date and time are joined with the Arabic comma
    assert dates.said_time(MOMENT, "ar") == "الأربعاء، 11 مارس 2026، 10:00"
