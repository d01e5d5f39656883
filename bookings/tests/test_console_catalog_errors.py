"""A rule or closed date the catalogue page refuses: the page again with the form as typed and each
error on its field in plain words, nothing added."""

from __future__ import annotations

import pytest

from bookings.dates import bookable_range_message
from bookings.models import AvailabilityRule, BlackoutDate
from bookings.tests.conftest import logged_in

RULES = "/console/bookings/services/rules/"
RULE = {"service": "", "weekday": 2, "start_time": "10:00", "end_time": "12:00", "capacity": 2}


def _field_errors(page: str, field: str) -> str:
    start = page.index(f'id="id_{field}_error"')
    return page[page.index(">", start) + 1 : page.index("</ul>", start)]


@pytest.mark.parametrize(
    ("typed", "field", "said"),
    [
        ({"start_time": "12:00", "end_time": "10:00"}, "end_time", "must be after"),
        ({"start_time": "10:00", "end_time": "10:00"}, "end_time", "must be after"),
        ({"capacity": "0"}, "capacity", "greater than or equal to 1"),
        ({"capacity": "lots"}, "capacity", "whole number"),
    ],
)
def test_rule_refused_shows_the_form_as_typed_with_the_error_on_its_field(owner, service, typed, field, said):
    # given the owner's catalogue with the tenant's hours
    before = AvailabilityRule.objects.count()
    # when they add hours the page refuses
    response = logged_in(owner).post(RULES, {**RULE, "weekday": 5, **typed})
    # then the page again, the error on its field, what was typed kept, nothing added
    page = response.content.decode()
    assert response.status_code == 400
    assert said in _field_errors(page, field)
    assert "Constraint" not in page and "__all__" not in page
    assert 'name="weekday"' in page and '<option value="5" selected>' in page
    assert f'name="capacity" value="{typed.get("capacity", 2)}"' in page
    assert AvailabilityRule.objects.count() == before


BLACKOUTS = "/console/bookings/services/blackouts/"


def test_closed_date_refused_shows_the_form_as_typed_with_the_error_on_its_field(owner, service):
    # when the owner closes a date with a reason longer than the page takes
    response = logged_in(owner).post(BLACKOUTS, {"service": service.pk, "date": "2030-12-25", "reason": "r" * 201})
    # then the page again, the error on the reason, the date and service kept, nothing closed
    page = response.content.decode()
    assert response.status_code == 400
    assert "at most 200 characters" in _field_errors(page, "reason")
    assert "* reason" not in page
    assert 'name="date" value="2030-12-25"' in page and f'<option value="{service.pk}" selected>' in page
    assert not BlackoutDate.objects.exists()


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_closed_date_outside_the_bookable_dates_is_refused_on_its_field(owner, service, day):
    # when the owner closes a date no booking can ever fall on (a typo in the year)
    response = logged_in(owner).post(BLACKOUTS, {"service": "", "date": day, "reason": ""})
    # then it is refused on the date, naming the dates that can be booked
    assert response.status_code == 400
    assert bookable_range_message() in _field_errors(response.content.decode(), "date")
    assert not BlackoutDate.objects.exists()


@pytest.mark.parametrize("capacity", [2, 3])
def test_the_same_hours_twice_are_refused_with_the_form_as_typed(owner, service, capacity):
    # given the tenant's hours on Saturday 10:00-12:00
    client = logged_in(owner)
    assert client.post(RULES, {**RULE, "weekday": 5}).status_code == 302
    before = AvailabilityRule.objects.count()
    # when the owner adds the same hours again (whatever the capacity)
    response = client.post(RULES, {**RULE, "weekday": 5, "capacity": capacity})
    # then the page again saying so, what was typed kept, nothing added
    page = response.content.decode()
    assert response.status_code == 400
    assert "already open" in page and "10:00" in page
    assert '<option value="5" selected>' in page and f'name="capacity" value="{capacity}"' in page
    assert AvailabilityRule.objects.count() == before


def test_overlapping_hours_are_added_and_the_page_says_the_larger_capacity_counts(owner, service):
    client = logged_in(owner)
    client.post(RULES, {**RULE, "weekday": 5})
    response = client.post(RULES, {**RULE, "weekday": 5, "start_time": "11:00", "end_time": "13:00"})
    assert response.status_code == 302
    assert "the larger capacity counts" in client.get("/console/bookings/services/").content.decode()
