"""A refund event processed while the payment event it refunds is, each on its own thread and connection
to the real PostgreSQL: the refund is recorded whichever of the two commits first, never left waiting
("no matching booking") for a payment that has already been recorded."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connection

from bookings import webhooks
from bookings.benchmarks import checkout_event
from bookings.models import Service, StripeEvent
from bookings.tests.conftest import customer_booking, next_weekday
from bookings.tests.test_refund_event_order import T1, charge_refunded
from escalations.tests.threads import _backend_pid, _waits_on_a_lock
from supportai.models import Tenant

pytestmark = pytest.mark.django_db(transaction=True)  # each event commits on its own connection
WAIT_SECONDS = 20


@dataclass
class AfterIntentLookUp:
    """An execute wrapper that holds a refund event once it has looked for the booking of its payment
    intent (and found none: the payment is not committed yet), before it is stored, until ``resume``."""

    looked: threading.Event = field(default_factory=threading.Event)
    resume: threading.Event = field(default_factory=threading.Event)

    def __call__(self, execute: Callable[..., object], sql: str, params: object, many: bool, context: object) -> object:
        result = execute(sql, params, many, context)
        if not self.looked.is_set() and sql.startswith("SELECT") and '"stripe_payment_intent_id" = ' in sql:
            self.looked.set()
            assert self.resume.wait(WAIT_SECONDS)
        return result


@dataclass
class Delivery:
    """``webhooks.event_process`` of one event on a thread of its own (its own connection)."""

    payload: dict[str, Any]
    pause: AfterIntentLookUp | None = None
    pids: list[int] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)

    def run(self) -> None:
        try:
            self.pids.append(_backend_pid())
            if self.pause is None:
                self.outcomes.append(webhooks.event_process(self.payload)[1])
            else:
                with connection.execute_wrapper(self.pause):
                    self.outcomes.append(webhooks.event_process(self.payload)[1])
        except BaseException as exc:  # reported by the test's thread
            self.errors.append(exc)
        finally:
            connection.close()

    def done_or_waiting_for_a_lock(self) -> bool:
        return bool(self.outcomes or self.errors) or (bool(self.pids) and _waits_on_a_lock(self.pids[0]))


def test_a_refund_processed_while_its_payment_is_recorded_is_applied(tenant: Tenant, paid_service: Service) -> None:
    # given: a booking held until paid, its payment's event and the event of a full refund of that payment
    booking = customer_booking(tenant, paid_service, day=next_weekday(3))
    paid = checkout_event("evt_paid", "checkout.session.completed", booking)
    intent = paid["data"]["object"]["payment_intent"]
    _, kind, charge, created = charge_refunded("evt_refunded", 9500, T1)
    refund = {"id": "evt_refunded", "object": "event", "type": kind, "created": created}
    refund["data"] = {"object": {**charge, "payment_intent": intent}}
    # when: the refund has looked for the payment's booking (not paid yet) when the payment is recorded
    refunding, paying = Delivery(refund, pause=AfterIntentLookUp()), Delivery(paid)
    threads = [threading.Thread(target=refunding.run), threading.Thread(target=paying.run)]
    threads[0].start()
    try:
        assert refunding.pause is not None and refunding.pause.looked.wait(WAIT_SECONDS)
        threads[1].start()
        deadline = time.monotonic() + WAIT_SECONDS
        while not paying.done_or_waiting_for_a_lock() and time.monotonic() < deadline:
            time.sleep(0.005)
    finally:
        assert refunding.pause is not None
        refunding.pause.resume.set()
        for thread in threads:
            thread.join(WAIT_SECONDS)
    # then: both commit, and the booking is paid and refunded in full, the refund's event linked to it
    assert refunding.errors == [] and paying.errors == []
    booking.refresh_from_db()
    assert booking.paid_at is not None
    assert (booking.refunded_cents, booking.refunded_at is not None) == (9500, True)
    stored = StripeEvent.objects.get(event_id="evt_refunded")
    assert (stored.booking_id, stored.outcome) == (booking.pk, "refunded 9500")
