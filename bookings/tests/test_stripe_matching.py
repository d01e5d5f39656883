"""Stripe webhooks apply a payment only to the booking the Checkout Session was made for.

``metadata.booking_id`` is a sequential primary key, so a correctly signed event from another
deployment on the same Stripe account (or a dashboard Payment Link) can carry any number. The
confirmation code, tenant, session id, amount and currency must all agree before anything is applied.
"""

from __future__ import annotations

from typing import Any

import pytest

from bookings import webhooks
from bookings.benchmarks import checkout_event, signed
from bookings.models import Booking, BookingEventKind, BookingStatus, StripeEvent
from bookings.services import booking_record_checkout
from bookings.tests.conftest import customer_booking, next_weekday, open_every_day
from bookings.tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db
SECRET = "whsec_test_matching"


@pytest.fixture(autouse=True)
def webhook_secret(settings) -> str:
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    return SECRET


def _post(client, payload: dict[str, Any]) -> dict[str, Any]:
    body, header = signed(payload, SECRET)
    response = client.post(
        "/webhooks/stripe/", data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def _book(tenant, service) -> Booking:
    return customer_booking(tenant, service, day=next_weekday(3), hour=11, name="Pat", email="pat@example.org")


@pytest.fixture
def pending(tenant, paid_service) -> Booking:
    return _book(tenant, paid_service)


@pytest.fixture
def other_pending(other_tenant) -> Booking:
    open_every_day(other_tenant)
    service = ServiceFactory.create(tenant=other_tenant, name="Sauna", price_cents=9500, currency="eur")
    return _book(other_tenant, service)


def _with(event: dict[str, Any], **changes: Any) -> dict[str, Any]:
    session = {**event["data"]["object"], **changes}
    return {**event, "data": {"object": session}}


def _untouched(booking: Booking) -> None:
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING and booking.paid_at is None
    assert not booking.events.filter(kind=BookingEventKind.PAID).exists()


def test_the_bookings_own_session_confirms_it(client, pending):
    result = _post(client, checkout_event("evt_ok", "checkout.session.completed", pending))
    pending.refresh_from_db()
    assert result["outcome"] == "paid; booking confirmed"
    assert pending.status == BookingStatus.CONFIRMED and pending.paid_at is not None


def test_a_payment_naming_only_a_booking_id_applies_nothing(client, pending):
    # given: a dashboard Payment Link / another deployment whose metadata happens to say booking_id=<our pk>
    event = checkout_event("evt_link", "checkout.session.completed", pending)
    foreign = _with(event, id="cs_live_elsewhere", metadata={"booking_id": str(pending.pk)})
    # when
    result = _post(client, foreign)
    # then
    assert result["outcome"].startswith("mismatch:")
    _untouched(pending)
    stored = StripeEvent.objects.get(event_id="evt_link")
    assert stored.outcome == result["outcome"] and stored.booking_id is None


def test_another_tenants_session_cannot_pay_this_tenants_booking(client, pending, other_pending):
    # given: the other tenant's genuine session, its booking_id rewritten to our booking's pk
    event = checkout_event("evt_cross", "checkout.session.completed", other_pending)
    metadata = {**event["data"]["object"]["metadata"], "booking_id": str(pending.pk)}
    # when
    result = _post(client, _with(event, metadata=metadata))
    # then: neither booking is paid
    assert result["outcome"].startswith("mismatch:")
    _untouched(pending)
    _untouched(other_pending)


def test_a_code_of_this_booking_with_another_tenant_id_applies_nothing(client, pending, other_pending):
    event = checkout_event("evt_tenant", "checkout.session.completed", pending)
    metadata = {**event["data"]["object"]["metadata"], "tenant_id": str(other_pending.tenant_id)}
    assert _post(client, _with(event, metadata=metadata))["outcome"].startswith("mismatch:")
    _untouched(pending)


def test_a_session_other_than_the_stored_one_applies_nothing(client, pending):
    booking = booking_record_checkout(booking=pending, session_id="cs_test_ours", url="https://checkout.stripe.test/x")
    event = checkout_event("evt_other_session", "checkout.session.completed", booking)
    assert _post(client, _with(event, id="cs_test_someone_else"))["outcome"].startswith("mismatch:")
    _untouched(pending)
    # the stored session itself is accepted
    ours = _with({**event, "id": "evt_our_session"}, id="cs_test_ours")
    assert _post(client, ours)["outcome"] == "paid; booking confirmed"


@pytest.mark.parametrize(
    "changes",
    [
        {"amount_total": 9499},
        {"amount_total": None},
        {"amount_total": "9500"},
        {"currency": "usd"},
        {"currency": None},
        {"payment_status": "no_payment_required", "amount_total": 0},
    ],
    ids=["short", "no-amount", "amount-as-text", "other-currency", "no-currency", "free-session"],
)
def test_a_payment_below_the_price_or_in_another_currency_applies_nothing(client, pending, changes):
    event = checkout_event("evt_amount", "checkout.session.completed", pending)
    assert _post(client, _with(event, **changes))["outcome"].startswith("mismatch:")
    _untouched(pending)


def test_an_amount_above_the_price_in_the_same_currency_in_other_case_is_accepted(client, pending):
    event = checkout_event("evt_more", "checkout.session.completed", pending)
    result = _post(client, _with(event, amount_total=pending.price_cents + 100, currency="EUR"))
    assert result["outcome"] == "paid; booking confirmed"


def test_a_foreign_expiry_does_not_release_the_hold(client, pending):
    event = checkout_event("evt_exp_foreign", "checkout.session.expired", pending)
    result = _post(client, _with(event, metadata={"booking_id": str(pending.pk)}))
    assert result["outcome"].startswith("mismatch:")
    pending.refresh_from_db()
    assert pending.status == BookingStatus.PENDING


def test_a_refund_of_another_payment_naming_the_booking_id_applies_nothing(client, pending):
    _post(client, checkout_event("evt_paid", "checkout.session.completed", pending))
    refund = {
        "id": "evt_refund_foreign",
        "type": "charge.refunded",
        "data": {
            "object": {
                "id": "ch_x",
                "object": "charge",
                "payment_intent": "pi_somewhere_else",
                "amount_refunded": 9500,
                "metadata": {"booking_id": str(pending.pk)},
            }
        },
    }
    assert _post(client, refund)["outcome"] == "no matching booking"
    pending.refresh_from_db()
    assert pending.refunded_at is None


def test_a_mismatched_event_is_recorded_once(client, pending):
    event = _with(checkout_event("evt_dup", "checkout.session.completed", pending), amount_total=1)
    first, second = _post(client, event), _post(client, event)
    assert first["duplicate"] is False and second["duplicate"] is True
    assert StripeEvent.objects.filter(event_id="evt_dup").count() == 1
    _untouched(pending)


@pytest.mark.parametrize(
    "data",
    [
        "not an object",
        {"object": "not an object"},
        {"object": ["a", "list"]},
    ],
    ids=["data-text", "object-text", "object-list"],
)
def test_a_signed_event_of_the_wrong_shape_is_400_and_stores_nothing(client, data):
    body, header = signed({"id": "evt_shape", "type": "checkout.session.completed", "data": data}, SECRET)
    response = client.post(
        "/webhooks/stripe/", data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    assert response.status_code == 400 and response.json() == {"error": "Invalid payload."}
    assert StripeEvent.objects.count() == 0


def test_a_matching_session_without_an_id_applies_nothing(client, pending):
    event = checkout_event("evt_no_id", "checkout.session.completed", pending)
    session = {k: v for k, v in event["data"]["object"].items() if k != "id"}
    result = _post(client, {**event, "data": {"object": session}})
    assert result["outcome"].startswith("mismatch:")
    _untouched(pending)


def test_a_refund_amount_that_is_no_number_records_only_a_refund_stripe_flags_full(client, pending):
    # given: a paid booking; Stripe's charge.refunded gives no usable amount
    _post(client, checkout_event("evt_paid_first", "checkout.session.completed", pending))
    charge = {"id": "ch_1", "payment_intent": f"pi_test_{pending.pk}", "amount_refunded": "lots"}
    # when: it does not say the charge is refunded in full
    result = _post(client, {"id": "evt_refund_text", "type": "charge.refunded", "data": {"object": charge}})
    # then: how much was refunded is unknown, so nothing is recorded
    assert result["outcome"] == webhooks.NO_REFUND_AMOUNT
    pending.refresh_from_db()
    assert pending.refunded_at is None and pending.refunded_cents == 0
    # when: it says so
    full = {**charge, "refunded": True}
    result = _post(client, {"id": "evt_refund_full", "type": "charge.refunded", "data": {"object": full}})
    # then: the whole price is recorded refunded
    assert result["outcome"] == "refunded 9500"
    pending.refresh_from_db()
    assert pending.refunded_at is not None and pending.refunded_cents == 9500
