"""Stripe's refund events for one charge, replayed (signed, in Stripe's shapes) in every order they can
arrive: whichever comes first, the booking ends recording what Stripe really refunded. Stripe's
``charge.refunded`` gives the charge's cumulative ``amount_refunded`` at the event's ``created``, which
leaves out a refund that failed before it; a refund's failure names the refund by id."""

from __future__ import annotations

from itertools import permutations
from typing import Any

import pytest

from bookings import refund_records, webhooks
from bookings.benchmarks import checkout_event
from bookings.models import Booking, BookingEventKind, BookingStatus, Service, StripeEvent
from bookings.tests.conftest import customer_booking, next_weekday, open_every_day
from bookings.tests.factories import ServiceFactory
from bookings.tests.test_console_refund import INTENT, _owing, _webhook
from supportai.models import Tenant

pytestmark = pytest.mark.django_db
T1 = 1_800_000_000  # the first refund is made (Stripe's clock)
T2 = T1 + 3600  # a second one, an hour later
T3 = T1 + 3 * 24 * 3600  # the bank bounces the first refund three days later
T4 = T3 + 3600  # staff refund again in Stripe's dashboard


def charge_refunded(event_id: str, amount_refunded: int, created: int) -> tuple[str, str, dict[str, Any], int]:
    charge = {
        "id": "ch_3Pabc",
        "object": "charge",
        "amount": 9500,
        "amount_captured": 9500,
        "amount_refunded": amount_refunded,
        "currency": "eur",
        "payment_intent": INTENT,
        "refunded": amount_refunded == 9500,
        "status": "succeeded",
    }
    return event_id, "charge.refunded", charge, created


def refund_event(
    event_id: str, kind: str, refund_id: str, amount: int, made: int, status: str, created: int
) -> tuple[str, str, dict[str, Any], int]:
    refund = {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "charge": "ch_3Pabc",
        "created": made,
        "currency": "eur",
        "payment_intent": INTENT,
        "status": status,
        "failure_reason": "expired_or_canceled_card" if status == "failed" else None,
    }
    return event_id, kind, refund, created


def _replay(tenant: Tenant, service: Service, client: Any, events: tuple[Any, ...]) -> tuple[Any, ...]:
    booking = _owing(tenant, service)
    for event_id, kind, obj, created in events:
        _webhook(client, event_id, kind, obj, created=created)
    booking.refresh_from_db()
    return _state(booking)


def _state(booking: Booking) -> tuple[Any, ...]:
    failed = booking.events.filter(kind=BookingEventKind.NOTE, data__has_key=refund_records.REFUND_FAILED_NOTE)
    return (
        booking.refunded_cents,
        booking.refunded_at is not None,
        booking.refund_due,
        sorted(event.data[refund_records.REFUND_FAILED_NOTE] for event in failed),
    )


# 30.00 EUR refunded, then 20.00 EUR more; the first refund fails. Stripe refunded 20.00 EUR in the end.
TWO_PARTIAL_REFUNDS_FIRST_FAILS = (
    charge_refunded("evt_first", 3000, T1),
    refund_event("evt_first_ok", "refund.updated", "re_first", 3000, T1, "succeeded", T1 + 60),
    charge_refunded("evt_second", 5000, T2),
    refund_event("evt_first_failed", "refund.failed", "re_first", 3000, T1, "failed", T3),
)
# The whole price refunded; that refund fails; staff refund it again. Refunded in full in the end.
REFUNDED_AGAIN_AFTER_A_FAILURE = (
    charge_refunded("evt_first", 9500, T1),
    refund_event("evt_first_failed", "refund.updated", "re_first", 9500, T1, "failed", T3),
    charge_refunded("evt_again", 9500, T4),
)
# Two partial refunds that both go through: 30.00 EUR, then 20.00 EUR more.
TWO_PARTIAL_REFUNDS = (
    charge_refunded("evt_first", 3000, T1),
    charge_refunded("evt_second", 5000, T2),
    refund_event("evt_second_pending", "refund.updated", "re_second", 2000, T2, "pending", T2),
    refund_event("evt_second_ok", "refund.updated", "re_second", 2000, T2, "succeeded", T2 + 60),
)


@pytest.mark.parametrize("order", list(permutations(range(len(TWO_PARTIAL_REFUNDS_FIRST_FAILS)))))
def test_a_failed_first_refund_leaves_the_second_recorded_in_any_order(
    client, webhook_secret, tenant, paid_service, order
):
    # when: the four events arrive in this order
    state = _replay(tenant, paid_service, client, tuple(TWO_PARTIAL_REFUNDS_FIRST_FAILS[i] for i in order))
    # then: the 20.00 EUR that went through is recorded, 75.00 EUR is owed, the failure noted once
    assert state == (2000, False, True, ["re_first"])


@pytest.mark.parametrize("order", list(permutations(range(len(REFUNDED_AGAIN_AFTER_A_FAILURE)))))
def test_a_refund_made_again_after_a_failure_stays_recorded_in_any_order(
    client, webhook_secret, tenant, paid_service, order
):
    state = _replay(tenant, paid_service, client, tuple(REFUNDED_AGAIN_AFTER_A_FAILURE[i] for i in order))
    # then: refunded in full (by the second refund), nothing owed
    assert state == (9500, True, False, ["re_first"])


@pytest.mark.parametrize("order", list(permutations(range(len(TWO_PARTIAL_REFUNDS)))))
def test_an_older_smaller_refund_report_never_takes_the_amount_back(
    client, webhook_secret, tenant, paid_service, order
):
    state = _replay(tenant, paid_service, client, tuple(TWO_PARTIAL_REFUNDS[i] for i in order))
    # then: 50.00 EUR refunded, 45.00 EUR owed
    assert state == (5000, False, True, [])


@pytest.mark.parametrize("refund_first", [False, True], ids=["payment first", "refund first"])
def test_a_refund_delivered_before_the_payment_it_refunds_is_recorded_with_it(
    client, webhook_secret, tenant, paid_service, refund_first
):
    # given: a booking held until paid; the customer pays and staff refund the payment in Stripe's dashboard
    booking = customer_booking(tenant, paid_service, day=next_weekday(3), name="Ann Lee", email="ann@example.org")
    paid = checkout_event("evt_paid", "checkout.session.completed", booking)
    intent = paid["data"]["object"]["payment_intent"]
    charge = {**charge_refunded("evt_refunded", 9500, T1)[2], "payment_intent": intent}
    deliveries = [
        ("evt_paid", paid["type"], paid["data"]["object"], T1 - 60),
        ("evt_refunded", "charge.refunded", charge, T1),
    ]
    # when: Stripe delivers the refund before the payment (the payment's event was retried), or after it
    for event_id, kind, obj, created in reversed(deliveries) if refund_first else deliveries:
        _webhook(client, event_id, kind, obj, created=created)
    # then: either way the booking is paid and refunded in full
    booking.refresh_from_db()
    assert (booking.status, booking.paid_at is not None) == (BookingStatus.CONFIRMED, True)
    assert (booking.refunded_cents, booking.refunded_at is not None) == (9500, True)


def test_a_waiting_refund_applies_only_to_the_booking_whose_payment_it_names(
    client, webhook_secret, tenant, other_tenant, paid_service
):
    # given: a refund of the other tenant's payment, delivered before that payment
    open_every_day(other_tenant)
    sauna = ServiceFactory.create(tenant=other_tenant, name="Sauna", price_cents=9500, currency="eur")
    theirs = customer_booking(other_tenant, sauna, day=next_weekday(3), name="Bo", email="bo@example.org")
    ours = customer_booking(tenant, paid_service, day=next_weekday(3), name="Ann Lee", email="ann@example.org")
    their_payment = checkout_event("evt_theirs", "checkout.session.completed", theirs)
    their_intent = their_payment["data"]["object"]["payment_intent"]
    charge = {**charge_refunded("evt_refunded", 9500, T1)[2], "payment_intent": their_intent}
    _webhook(client, "evt_refunded", "charge.refunded", charge, created=T1)
    # when: our booking is paid
    ours_paid = checkout_event("evt_ours", "checkout.session.completed", ours)
    _webhook(client, "evt_ours", ours_paid["type"], ours_paid["data"]["object"], created=T1 + 60)
    # then: the refund still waits, and ours is not refunded
    ours.refresh_from_db()
    assert ours.paid_at is not None and ours.refunded_cents == 0
    assert StripeEvent.objects.get(event_id="evt_refunded").outcome == webhooks.NO_BOOKING
    # when: their payment arrives, the refund is theirs
    _webhook(client, "evt_theirs", their_payment["type"], their_payment["data"]["object"], created=T1 + 120)
    theirs.refresh_from_db()
    stored = StripeEvent.objects.get(event_id="evt_refunded")
    assert (theirs.refunded_cents, stored.booking_id, stored.outcome) == (9500, theirs.pk, "refunded 9500")
