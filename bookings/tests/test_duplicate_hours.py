"""The same opening hours twice (same services, day, from and to; whatever the capacity) are refused by
the database, and every way of adding them (console, admin) says so on the opening time, also when
another request added them between the form's check and its save, instead of a 500."""

from __future__ import annotations

import html
from datetime import time
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from bookings.models import AvailabilityRule, Service
from bookings.tests.conftest import logged_in
from bookings.tests.duplicate_checks import checks_passed
from bookings.tests.factories import RuleFactory
from supportai.models import Tenant

pytestmark = pytest.mark.django_db

RULES = "/console/bookings/services/rules/"
ADMIN_ADD = "/admin/bookings/availabilityrule/add/"
TENANT_HOURS_TAKEN = "All services' hours are already open on Saturdays 10:00-12:00"


def _saturday(tenant: Tenant, service: Service | None = None, capacity: int = 1) -> AvailabilityRule:
    return RuleFactory.create(
        tenant=tenant, service=service, weekday=5, start_time=time(10), end_time=time(12), capacity=capacity
    )


@pytest.mark.parametrize("own_hours", [False, True], ids=["tenant hours", "a service's hours"])
def test_the_database_refuses_the_same_hours_twice_whatever_the_capacity(
    tenant: Tenant, service: Service, own_hours: bool
) -> None:
    # given Saturday 10:00-12:00, the tenant's or the service's own
    scope = service if own_hours else None
    _saturday(tenant, scope)
    # when the same hours are inserted again straight through the ORM, with another capacity
    with pytest.raises(IntegrityError, match="rule_unique_hours"), transaction.atomic():
        _saturday(tenant, scope, capacity=3)
    # then only the first is kept
    assert AvailabilityRule.objects.filter(service=scope, weekday=5, start_time=time(10)).count() == 1


def test_the_same_hours_of_other_services_days_or_tenants_are_not_duplicates(
    tenant: Tenant, other_tenant: Tenant, service: Service
) -> None:
    _saturday(tenant)
    _saturday(tenant, service)
    _saturday(other_tenant)
    RuleFactory.create(tenant=tenant, weekday=5, start_time=time(10), end_time=time(13))
    assert AvailabilityRule.objects.filter(weekday=5, start_time=time(10)).count() == 4


def _admin_add(client: Any, tenant: Tenant, **typed: object) -> Any:
    form = {"tenant": tenant.pk, "service": "", "weekday": 5, "start_time": "10:00", "end_time": "12:00"}
    return client.post(ADMIN_ADD, {**form, "capacity": 2, **typed})


def test_the_admin_refuses_the_same_hours_twice_on_the_opening_time(owner, tenant: Tenant) -> None:
    # given the tenant's hours on Saturday 10:00-12:00
    _saturday(tenant)
    # when the owner adds them again in the admin, with another capacity
    response = _admin_add(logged_in(owner), tenant)
    # then the form again with the console's words on the opening time, nothing added
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["start_time"] and TENANT_HOURS_TAKEN in errors["start_time"][0]
    assert "Constraint" not in response.content.decode()
    assert AvailabilityRule.objects.count() == 1


def test_the_admin_adds_hours_that_differ(owner, tenant: Tenant) -> None:
    _saturday(tenant)
    response = _admin_add(logged_in(owner), tenant, end_time="13:00")
    assert response.status_code == 302
    assert AvailabilityRule.objects.count() == 2


def test_the_admin_says_so_when_the_same_hours_were_saved_after_its_check(owner, tenant: Tenant) -> None:
    # given the tenant's Saturday hours, saved by another request after this one's check passed
    _saturday(tenant)
    # when the admin's save of the same hours meets the database's constraint
    with checks_passed(AvailabilityRule, times=1):  # the form's, before its save; the admin checks again after
        response = _admin_add(logged_in(owner), tenant)
    # then the form again saying so on the opening time, not a 500
    assert response.status_code == 200
    assert TENANT_HOURS_TAKEN in response.context["adminform"].form.errors["start_time"][0]
    assert AvailabilityRule.objects.count() == 1


def _field_errors(page: str, field: str) -> str:
    """The text of ``field``'s errors on a console page."""
    start = page.index(f'id="id_{field}_error"')
    return html.unescape(page[page.index(">", start) + 1 : page.index("</ul>", start)])


def test_the_console_refuses_the_same_hours_twice_on_the_opening_time(owner, tenant: Tenant) -> None:
    _saturday(tenant)
    response = logged_in(owner).post(
        RULES, {"service": "", "weekday": 5, "start_time": "10:00", "end_time": "12:00", "capacity": 2}
    )
    assert response.status_code == 400
    assert TENANT_HOURS_TAKEN in _field_errors(response.content.decode(), "start_time")
    assert AvailabilityRule.objects.count() == 1


def test_the_console_says_so_when_the_same_hours_were_saved_after_its_check(
    owner, tenant: Tenant, service: Service
) -> None:
    # given the massage's own Saturday hours, saved by another request after this one's check passed
    _saturday(tenant, service)
    # when the console's save of the same hours meets the database's constraint
    with checks_passed(AvailabilityRule, times=2):  # the form's and the service's, before its save
        response = logged_in(owner).post(
            RULES, {"service": service.pk, "weekday": 5, "start_time": "10:00", "end_time": "12:00", "capacity": 1}
        )
    # then the page again saying so on the opening time, not a 500
    assert response.status_code == 400
    page = response.content.decode()
    assert "Massage's hours are already open on Saturdays 10:00-12:00" in _field_errors(page, "start_time")
    assert AvailabilityRule.objects.filter(service=service).count() == 1
