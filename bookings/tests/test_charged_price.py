"""What a customer was charged is the booking's own price, even after the service's price changed."""

from __future__ import annotations

import pytest
from django.test import Client

from bookings import notifications, payments
from bookings.emails import build_message
from bookings.models import Booking
from bookings.services import CUSTOMER, booking_create
from bookings.tests.conftest import local, next_weekday

pytestmark = pytest.mark.django_db


@pytest.fixture
def repriced(tenant, paid_service) -> Booking:
    # given: booked at 95.00 EUR, then the business changed the service to 120.00 USD
    booking = booking_create(
        tenant=tenant,
        service=paid_service,
        start=local(tenant, next_weekday(3), 11),
        name="Pat",
        email="pat@example.org",
        actor=CUSTOMER,
    )
    paid_service.price_cents, paid_service.currency = 12000, "usd"
    paid_service.save(update_fields=["price_cents", "currency"])
    booking.refresh_from_db()
    return booking


def test_booking_price_display_is_its_own_price(repriced):
    assert repriced.price_display == "95.00 EUR"
    assert repriced.service.price_display == "120.00 USD"


def test_booking_price_display_of_a_free_booking(tenant, service):
    booking = booking_create(
        tenant=tenant, service=service, start=local(tenant, next_weekday(3), 11), name="A", email="a@x.org",
        actor=CUSTOMER,
    )  # fmt: skip
    assert booking.price_display == "Free"


def test_payment_received_email_states_the_amount_charged(repriced):
    message = build_message(repriced, notifications.PAYMENT_RECEIVED)
    assert message is not None
    html = message.alternatives[0][0]
    assert "95.00 EUR" in message.body and "95.00 EUR" in str(html)
    assert "120.00" not in message.body and "120.00" not in str(html)


def test_test_checkout_page_asks_the_booked_amount(client, settings, repriced):
    settings.STRIPE_SECRET_KEY, settings.BOOKINGS_TEST_CHECKOUT = "", True
    page = client.get(f"/bookings/checkout/test/{payments.test_checkout_token(repriced)}/").content.decode()
    assert 'data-testid="amount">95.00 EUR<' in page and "Pay 95.00 EUR (test)" in page
    assert "120.00" not in page


def test_console_detail_shows_the_booked_price_to_its_tenant_only(owner, outsider, repriced):
    mine, theirs = Client(), Client()
    mine.force_login(owner)
    theirs.force_login(outsider)
    page = mine.get(f"/console/bookings/{repriced.pk}/").content.decode()
    assert "95.00 EUR" in page and "120.00" not in page
    assert theirs.get(f"/console/bookings/{repriced.pk}/").status_code == 404
