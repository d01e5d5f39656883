"""Service currencies are ISO 4217 codes Stripe takes (stored lowercase); amounts are in the currency's
smallest unit, so a zero-decimal currency (JPY, KRW, ...) shows without decimals and goes to Stripe as is."""

from __future__ import annotations

import pytest

from bookings import payments
from bookings.models import Service, price_text
from bookings.services import CUSTOMER, booking_create
from bookings.tests.conftest import local, logged_in, next_weekday
from bookings.tests.factories import ServiceFactory
from bookings.tests.stripe_fake import FakeStripe

pytestmark = pytest.mark.django_db
FORM = {"name": "Shiatsu", "duration_minutes": 60, "buffer_minutes": 0, "slot_step_minutes": 60, "active": "on"}


@pytest.mark.parametrize(
    ("cents", "currency", "text"),
    [(9500, "eur", "95.00 EUR"), (1500, "jpy", "1500 JPY"), (50000, "krw", "50000 KRW"), (0, "jpy", "Free")],
)
def test_price_text_shows_zero_decimal_currencies_without_decimals(cents: int, currency: str, text: str):
    assert price_text(cents, currency) == text


@pytest.mark.parametrize("currency", ["xyz", "abc", "e1r", "EU", "€€€"])
def test_the_console_refuses_a_currency_stripe_does_not_take(owner, service, currency: str):
    # when
    response = logged_in(owner).post("/console/bookings/services/new/", {**FORM, "price": "1", "currency": currency})
    # then: a form error, nothing saved
    assert response.status_code == 200
    assert "not a currency we can take payments in" in response.content.decode()
    assert not Service.objects.filter(name="Shiatsu").exists()


def test_the_console_stores_a_supported_currency_lowercase(owner, tenant, service):
    logged_in(owner).post("/console/bookings/services/new/", {**FORM, "price": "1500", "currency": " JPY "})
    shiatsu = Service.objects.get(name="Shiatsu")
    assert shiatsu.tenant == tenant and shiatsu.currency == "jpy" and shiatsu.price_display == "1500 JPY"


def test_another_tenants_service_cannot_be_edited_whatever_the_currency(outsider, service):
    for currency in ("jpy", "xyz"):
        response = logged_in(outsider).post(
            f"/console/bookings/services/{service.pk}/", {**FORM, "price": "0.01", "currency": currency}
        )
        assert response.status_code == 404
    service.refresh_from_db()
    assert service.name == "Massage" and service.currency == "usd"


def test_a_yen_price_goes_to_stripe_in_yen(tenant, service, stripe_api: FakeStripe):
    # given: a service at 1500 yen (price_cents is in the currency's smallest unit: yen)
    yen = ServiceFactory.create(tenant=tenant, name="Onsen", price_cents=1500, currency="jpy")
    booking = booking_create(
        tenant=tenant,
        service=yen,
        start=local(tenant, next_weekday(2), 10),
        name="Ann",
        email="a@x.org",
        actor=CUSTOMER,
    )
    # when
    payments.checkout_start(booking)
    # then
    form = stripe_api.seen[0].form
    assert form["line_items[0][price_data][unit_amount]"] == "1500"
    assert form["line_items[0][price_data][currency]"] == "jpy"
