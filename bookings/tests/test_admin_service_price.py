"""The admin's service form takes the price as the console's does, in the currency's units ("45.50" or
"45,50" EUR, "1500" JPY), stores it in the smallest unit, shows it back in units, and its list shows
the price as it reads ("45.50 EUR"), never ``price_cents``."""

from __future__ import annotations

import pytest

from bookings.models import Service
from bookings.tests.conftest import logged_in
from supportai.models import Tenant

pytestmark = pytest.mark.django_db

ADD = "/admin/bookings/service/add/"
FORM = {"name": "Reiki", "duration_minutes": 45, "buffer_minutes": 0, "slot_step_minutes": 15}
FORM |= {"payment": "online", "active": "on"}


@pytest.mark.parametrize(
    ("price", "currency", "cents"),
    [("45", "eur", 4500), ("45.50", "eur", 4550), ("45,50", "usd", 4550), ("1500", "JPY", 1500), ("0", "eur", 0)],
)
def test_admin_service_price_is_typed_in_the_currencys_units(owner, tenant: Tenant, price, currency, cents) -> None:
    # when the owner adds a service in the admin, priced as a customer reads prices
    response = logged_in(owner).post(ADD, {**FORM, "tenant": tenant.pk, "price": price, "currency": currency})
    # then it is stored in the currency's smallest unit, for the tenant
    assert response.status_code == 302, response.context["adminform"].form.errors
    service = Service.objects.get(name="Reiki")
    assert (service.tenant_id, service.price_cents) == (tenant.pk, cents)


@pytest.mark.parametrize(("price", "currency"), [("45.505", "eur"), ("12.5", "jpy"), ("lots", "eur"), ("", "eur")])
def test_admin_service_price_not_an_amount_is_refused_on_its_field(owner, tenant: Tenant, price, currency) -> None:
    response = logged_in(owner).post(ADD, {**FORM, "tenant": tenant.pk, "price": price, "currency": currency})
    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["price"]
    assert not Service.objects.filter(name="Reiki").exists()


def test_admin_service_change_shows_the_price_in_units_and_saves_it_back(owner, paid_service: Service) -> None:
    # given a service at 95.00 EUR
    client = logged_in(owner)
    change = f"/admin/bookings/service/{paid_service.pk}/change/"
    # when the owner opens it in the admin
    page = client.get(change).content.decode()
    # then the price reads in euros, and no field asks for cents
    assert 'name="price" value="95.00"' in page
    assert 'name="price_cents"' not in page
    # and when they change it to 89,90
    form = {**FORM, "name": paid_service.name, "tenant": paid_service.tenant_id, "price": "89,90", "currency": "eur"}
    assert client.post(change, form).status_code == 302
    paid_service.refresh_from_db()
    assert paid_service.price_cents == 8990


def test_admin_service_list_shows_the_price_as_it_reads(owner, paid_service: Service, tenant: Tenant) -> None:
    Service.objects.create(tenant=tenant, name="Tea ceremony", duration_minutes=60, price_cents=1500, currency="jpy")
    page = logged_in(owner).get("/admin/bookings/service/").content.decode()
    assert "95.00 EUR" in page and "1500 JPY" in page and "Free" in page
    assert "Price cents" not in page and "9500" not in page


def test_a_superuser_adds_a_priced_service_for_any_tenant(admin_client, other_tenant: Tenant) -> None:
    form = {**FORM, "tenant": other_tenant.pk, "price": "12.30", "currency": "gbp"}
    assert admin_client.post(ADD, form).status_code == 302
    assert Service.objects.get(name="Reiki", tenant=other_tenant).price_cents == 1230
