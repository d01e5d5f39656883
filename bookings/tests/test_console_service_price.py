"""The console's service form takes the price in the currency's units ("45.50" EUR, "1500" JPY),
stores it in the smallest unit as Stripe takes it, and shows it back in units when editing; its
fields have human labels and help texts."""

from __future__ import annotations

import pytest

from bookings.models import Service
from bookings.tests.conftest import logged_in

pytestmark = pytest.mark.django_db

NEW = "/console/bookings/services/new/"
FORM = {"name": "Reiki", "duration_minutes": 45, "buffer_minutes": 0, "slot_step_minutes": 15, "active": "on"}


@pytest.mark.parametrize(
    ("price", "currency", "cents"),
    [("45", "eur", 4500), ("45.50", "eur", 4550), ("45,50", "usd", 4550), ("1500", "JPY", 1500), ("0", "eur", 0)],
)
def test_service_price_is_typed_in_the_currencys_units(owner, price, currency, cents):
    # when the owner saves a service priced as a customer reads prices
    response = logged_in(owner).post(NEW, {**FORM, "price": price, "currency": currency})
    # then it is stored in the currency's smallest unit
    assert response.status_code == 302
    assert Service.objects.get(name="Reiki").price_cents == cents


@pytest.mark.parametrize(
    ("price", "currency"),
    [("45.505", "eur"), ("12.5", "jpy"), ("lots", "eur"), ("-5", "eur"), ("", "eur"), ("1e30", "eur")],
)
def test_service_price_not_an_amount_is_refused_on_its_field(owner, price, currency):
    # when the owner types a price that is no amount in the currency (or too large to charge)
    response = logged_in(owner).post(NEW, {**FORM, "price": price, "currency": currency})
    # then the form again, the error on the price, what was typed kept, nothing saved
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_price_error"' in page
    assert f'name="price" value="{price}"' in page or price == ""
    assert not Service.objects.filter(name="Reiki").exists()


@pytest.mark.parametrize(("cents", "currency", "shown"), [(4550, "eur", "45.50"), (1500, "jpy", "1500")])
def test_service_price_is_shown_back_in_units_when_editing(owner, service, cents, currency, shown):
    Service.objects.filter(pk=service.pk).update(price_cents=cents, currency=currency)
    page = logged_in(owner).get(f"/console/bookings/services/{service.pk}/").content.decode()
    assert f'name="price" value="{shown}"' in page
    assert "price_cents" not in page


def test_the_service_forms_fields_have_human_labels_and_help(owner):
    page = logged_in(owner).get(NEW).content.decode()
    for label in ("Length (minutes)", "Buffer after each booking (minutes)", "Start times every (minutes)"):
        assert f"{label}:</label>" in page
    for field_name in ("Duration minutes", "Buffer minutes", "Slot step minutes", "Price cents"):
        assert field_name not in page
    assert 'id="id_slot_step_minutes_helptext"' in page and "09:15" in page
