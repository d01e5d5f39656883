"""Console pages, customer emails and the test checkout print times in the business's time zone, as
their labels say (not the server's UTC)."""

from __future__ import annotations

import pytest
from django.test import Client

from bookings import notifications, payments
from bookings.emails import build_message
from bookings.services import CUSTOMER, booking_create
from bookings.tests.conftest import local, next_weekday

pytestmark = pytest.mark.django_db
NINE_TO_TEN = "09:00\u201310:00"  # with the en dash the pages use


@pytest.fixture
def nine_am(tenant, service):
    # Europe/Paris is never UTC, so 09:00 there is 07:00 or 08:00 in UTC
    assert tenant.timezone == "Europe/Paris"
    return booking_create(
        tenant=tenant, service=service, start=local(tenant, next_weekday(2), 9), name="Ann", email="ann@example.org",
        actor=CUSTOMER,
    )  # fmt: skip


def test_detail_list_and_day_show_the_local_time(owner, outsider, nine_am):
    client = Client()
    client.force_login(owner)
    day = next_weekday(2)
    detail = client.get(f"/console/bookings/{nine_am.pk}/").content.decode()
    assert f"{day:%d}".lstrip("0") + f" {day:%B %Y}, {NINE_TO_TEN} (Europe/Paris)" in detail
    assert f"{day:%Y-%m-%d} 09:00" in client.get("/console/bookings/").content.decode()
    assert NINE_TO_TEN in client.get(f"/console/bookings/day/?date={day:%Y-%m-%d}").content.decode()
    other = Client()
    other.force_login(outsider)
    assert other.get(f"/console/bookings/{nine_am.pk}/").status_code == 404
    assert NINE_TO_TEN not in other.get(f"/console/bookings/day/?date={day:%Y-%m-%d}").content.decode()


@pytest.mark.parametrize("kind", [notifications.CONFIRMATION, notifications.TENANT_NEW_BOOKING])
def test_emails_state_the_local_time(owner, nine_am, kind):
    message = build_message(nine_am, kind)
    assert message is not None
    assert "09:00-10:00 (Europe/Paris)" in message.body
    assert f"{NINE_TO_TEN} (Europe/Paris)" in str(message.alternatives[0][0])


def test_test_checkout_page_states_the_local_time(client, settings, tenant, paid_service):
    settings.STRIPE_SECRET_KEY, settings.BOOKINGS_TEST_CHECKOUT = "", True
    booking = booking_create(
        tenant=tenant, service=paid_service, start=local(tenant, next_weekday(2), 9), name="Ann",
        email="ann@example.org", actor=CUSTOMER,
    )  # fmt: skip
    page = client.get(f"/bookings/checkout/test/{payments.test_checkout_token(booking)}/").content.decode()
    assert ", 09:00 for Ann" in page
