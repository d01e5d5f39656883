"""The look-up of the refunds waiting for a payment (made while the payment holds its booking's lock)
reads a small partial index, not every Stripe event ever stored."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from bookings import webhooks
from bookings.models import Booking, Service, StripeEvent
from bookings.tests.conftest import customer_booking, open_every_day
from bookings.tests.factories import ServiceFactory
from supportai.models import Tenant

pytestmark = pytest.mark.django_db
INTENT = "pi_waiting"
HANDLED = 5000  # events applied to a booking, or of no interest: what the table mostly holds


def _event(
    event_id: str, kind: str, intent: str, *, booking: Booking | None = None, outcome: str, age: int = 0
) -> StripeEvent:
    payload: dict[str, Any] = {"id": event_id, "type": kind, "data": {"object": {"payment_intent": intent}}}
    return StripeEvent(
        event_id=event_id,
        type=kind,
        payload=payload,
        booking=booking,
        outcome=outcome,
        received_at=timezone.now() - timedelta(seconds=age),
    )


@pytest.fixture
def booking(tenant: Tenant) -> Booking:
    open_every_day(tenant)
    service: Service = ServiceFactory.create(tenant=tenant, price_cents=9500, currency="eur")
    return customer_booking(tenant, service)


@pytest.fixture
def stored(booking: Booking) -> list[str]:
    """Many handled events, a few waiting ones; the ids of ``INTENT``'s waiting refunds, oldest first."""
    StripeEvent.objects.bulk_create(
        _event(f"evt_done_{i}", "charge.refunded", f"pi_{i % 50}", booking=booking, outcome="refunded 9500")
        if i % 2
        else _event(f"evt_other_{i}", "payment_intent.created", f"pi_{i % 50}", outcome="ignored type")
        for i in range(HANDLED)
    )
    StripeEvent.objects.bulk_create(
        [
            _event("evt_newer", "refund.failed", INTENT, outcome=webhooks.NO_BOOKING, age=10),
            _event("evt_older", "charge.refunded", INTENT, outcome=webhooks.NO_BOOKING, age=20),
            _event("evt_other_intent", "charge.refunded", "pi_other", outcome=webhooks.NO_BOOKING),
            # a payment of the intent that matched no booking is no refund to apply
            _event("evt_session", "checkout.session.completed", INTENT, outcome=webhooks.NO_BOOKING),
            # applied already, or ignored: not waiting
            _event("evt_applied", "charge.refunded", INTENT, booking=booking, outcome="refunded 9500"),
            _event("evt_ignored", "charge.refunded", INTENT, outcome="ignored type"),
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE bookings_stripeevent")
    return ["evt_older", "evt_newer"]


def test_waiting_refunds_finds_the_refunds_of_the_intent_that_matched_no_booking(stored: list[str]) -> None:
    assert [event.event_id for event in webhooks.waiting_refunds(INTENT)] == stored
    assert [event.event_id for event in webhooks.waiting_refunds("pi_other")] == ["evt_other_intent"]
    assert not webhooks.waiting_refunds("pi_7").exists()


def test_waiting_refunds_reads_the_partial_index_not_the_table(stored: list[str]) -> None:
    # when: the planner, with the table's statistics, plans the look-up a recorded payment makes
    plan = webhooks.waiting_refunds(INTENT).explain()
    # then: it reads the index of the waiting rows and scans no event it does not return
    assert "stripeevent_waiting_intent" in plan, plan
    assert "Seq Scan" not in plan, plan
