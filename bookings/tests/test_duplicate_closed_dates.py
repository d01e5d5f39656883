"""The same closed date twice (same tenant, same services, same day; whatever the reason) is refused by
the database, and every way of adding it (console, admin) says so on the date, also when another
request added it between the form's check and its save, instead of a 500. Another tenant's same date,
or the same date for other services, is no duplicate."""

from __future__ import annotations

import html
from datetime import date
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from bookings.models import BlackoutDate, Service
from bookings.tests.conftest import logged_in
from bookings.tests.duplicate_checks import checks_passed
from supportai.models import Tenant

pytestmark = pytest.mark.django_db

BLACKOUTS = "/console/bookings/services/blackouts/"
ADMIN_ADD = "/admin/bookings/blackoutdate/add/"
CHRISTMAS = date(2030, 12, 25)
ALL_CLOSED = "2030-12-25 is already closed for all services"


def _christmas(tenant: Tenant, service: Service | None = None, reason: str = "") -> BlackoutDate:
    return BlackoutDate.objects.create(tenant=tenant, service=service, date=CHRISTMAS, reason=reason)


@pytest.mark.parametrize("own_date", [False, True], ids=["all services", "a service's"])
def test_the_database_refuses_the_same_closed_date_twice_whatever_the_reason(
    tenant: Tenant, service: Service, own_date: bool
) -> None:
    scope = service if own_date else None
    _christmas(tenant, scope)
    with pytest.raises(IntegrityError, match="blackout_unique_date"), transaction.atomic():
        _christmas(tenant, scope, reason="Again")
    assert BlackoutDate.objects.filter(service=scope, date=CHRISTMAS).count() == 1


def test_the_same_date_of_another_tenant_or_other_services_is_no_duplicate(
    tenant: Tenant, other_tenant: Tenant, service: Service
) -> None:
    _christmas(tenant)
    _christmas(tenant, service)
    _christmas(other_tenant)
    BlackoutDate.objects.create(tenant=tenant, date=date(2030, 12, 26))
    assert BlackoutDate.objects.count() == 4


def _field_errors(page: str, field: str) -> str:
    """The text of ``field``'s errors on a console page."""
    start = page.index(f'id="id_{field}_error"')
    return html.unescape(page[page.index(">", start) + 1 : page.index("</ul>", start)])


def _console_add(owner: Any, service: Service | None = None) -> Any:
    form = {"service": service.pk if service else "", "date": CHRISTMAS.isoformat(), "reason": "Christmas"}
    return logged_in(owner).post(BLACKOUTS, form)


def test_the_console_refuses_the_same_closed_date_twice_on_the_date(owner, tenant: Tenant) -> None:
    # given Christmas closed for all services
    _christmas(tenant)
    # when the owner closes it again in the console
    response = _console_add(owner)
    # then the page again saying so on the date, nothing added
    assert response.status_code == 400
    assert ALL_CLOSED in _field_errors(response.content.decode(), "date")
    assert BlackoutDate.objects.count() == 1


def test_the_console_closes_a_date_another_tenant_closed(owner, tenant: Tenant, other_tenant: Tenant) -> None:
    _christmas(other_tenant)
    response = _console_add(owner)
    assert response.status_code == 302
    assert BlackoutDate.objects.filter(tenant=tenant, date=CHRISTMAS).count() == 1


def test_the_console_says_so_when_the_same_date_was_saved_after_its_check(
    owner, tenant: Tenant, service: Service
) -> None:
    # given the massage's Christmas, saved by another request after this one's check passed
    _christmas(tenant, service)
    # when the console's save of the same date meets the database's constraint
    with checks_passed(BlackoutDate, times=2):  # the form's and the service's, before its save
        response = _console_add(owner, service)
    # then the page again saying so on the date, not a 500
    assert response.status_code == 400
    assert "2030-12-25 is already closed for Massage" in _field_errors(response.content.decode(), "date")
    assert BlackoutDate.objects.filter(service=service).count() == 1


def _admin_add(client: Any, tenant: Tenant) -> Any:
    return client.post(ADMIN_ADD, {"tenant": tenant.pk, "service": "", "date": CHRISTMAS.isoformat(), "reason": ""})


def test_the_admin_refuses_the_same_closed_date_twice_on_the_date(owner, tenant: Tenant) -> None:
    _christmas(tenant)
    response = _admin_add(logged_in(owner), tenant)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["date"] and ALL_CLOSED in errors["date"][0]
    assert BlackoutDate.objects.count() == 1


def test_the_admin_says_so_when_the_same_date_was_saved_after_its_check(owner, tenant: Tenant) -> None:
    _christmas(tenant)
    with checks_passed(BlackoutDate, times=1):  # the form's, before its save; the admin checks again after
        response = _admin_add(logged_in(owner), tenant)
    assert response.status_code == 200
    assert ALL_CLOSED in response.context["adminform"].form.errors["date"][0]
    assert BlackoutDate.objects.count() == 1
