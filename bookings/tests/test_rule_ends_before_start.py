"""Opening hours whose closing time is not after their opening time are refused on the closing time,
naming the opening time, in the console and in the admin alike (not Django's "Constraint … is violated")."""

from __future__ import annotations

import html
from typing import Any

import pytest

from bookings.models import AvailabilityRule
from bookings.tests.conftest import logged_in
from supportai.models import Tenant

pytestmark = pytest.mark.django_db

RULES = "/console/bookings/services/rules/"
ADMIN_ADD = "/admin/bookings/availabilityrule/add/"
ENDS_BEFORE_TEN = "The closing time must be after the opening time (10:00)"


def _hours(start: str, end: str) -> dict[str, Any]:
    return {"service": "", "weekday": 5, "start_time": start, "end_time": end, "capacity": 1}


def _field_errors(page: str, field: str) -> str:
    """The text of ``field``'s errors on a console page."""
    start = page.index(f'id="id_{field}_error"')
    return html.unescape(page[page.index(">", start) + 1 : page.index("</ul>", start)])


@pytest.mark.parametrize("end", ["09:00", "10:00"], ids=["before", "at the opening time"])
def test_the_console_names_the_opening_time_on_a_closing_time_not_after_it(owner, end: str) -> None:
    response = logged_in(owner).post(RULES, _hours("10:00", end))
    assert response.status_code == 400
    assert ENDS_BEFORE_TEN in _field_errors(response.content.decode(), "end_time")
    assert AvailabilityRule.objects.count() == 0


@pytest.mark.parametrize("end", ["09:00", "10:00"], ids=["before", "at the opening time"])
def test_the_admin_names_the_opening_time_on_a_closing_time_not_after_it(owner, tenant: Tenant, end: str) -> None:
    response = logged_in(owner).post(ADMIN_ADD, {"tenant": tenant.pk, **_hours("10:00", end)})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["end_time"] and ENDS_BEFORE_TEN in errors["end_time"][0]
    assert "Constraint" not in response.content.decode()
    assert AvailabilityRule.objects.count() == 0
