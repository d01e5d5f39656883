"""Migration 0006 (``Booking.refunded_cents``) on rows recorded before it: what Stripe reported refunded."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from bookings.tests.migrations_under_test import at_migration, migrate

BEFORE = [("bookings", "0005_booking_email_payment_refunded")]
AFTER = [("bookings", "0006_booking_refunded_cents")]


@pytest.fixture
def bookings_at_0005() -> Iterator[Any]:
    yield from at_migration(BEFORE)


def _paid_canceled(apps: Any, tenant: Any, service: Any, code: str) -> Any:
    start = timezone.now() + timedelta(days=3)
    return apps.get_model("bookings", "Booking").objects.create(
        tenant=tenant,
        service=service,
        customer_name="Ann",
        customer_email="ann@example.org",
        start_at=start,
        end_at=start + timedelta(hours=1),
        blocked_until=start + timedelta(hours=1),
        status="canceled",
        confirmation_code=code,
        price_cents=9500,
        currency="eur",
        payment="online",
        paid_at=timezone.now(),
        stripe_payment_intent_id=f"pi_{code}",
    )


@pytest.mark.django_db(transaction=True)
def test_migration_records_what_stripe_reported_refunded(bookings_at_0005: Any) -> None:
    # given: bookings the previous release recorded refunded (refunded_at) from a charge.refunded, whose
    # REFUNDED event holds the charge's amount_refunded: in full, in part, or not given (0); one not refunded
    apps = bookings_at_0005
    tenant = apps.get_model("supportai", "Tenant").objects.create(slug="old", name="Old")
    service = apps.get_model("bookings", "Service").objects.create(
        tenant=tenant, name="Massage", duration_minutes=60, price_cents=9500, currency="eur"
    )
    event = apps.get_model("bookings", "BookingEvent")
    rows = {}
    for code, reported in [("FULL0001", 9500), ("PART0001", 3000), ("NONE0001", 0), ("OWED0001", None)]:
        booking = _paid_canceled(apps, tenant, service, code)
        if reported is not None:
            booking.refunded_at = timezone.now()
            booking.save(update_fields=["refunded_at"])
            event.objects.create(
                tenant=tenant, booking=booking, kind="refunded", actor="stripe", data={"amount_cents": reported}
            )
        rows[code] = booking.pk
    # and Stripe's later report for PART0001 (a second partial refund: 50.00 EUR in all), which the previous
    # release stored but ignored, the booking being recorded refunded already
    stripe_event = apps.get_model("bookings", "StripeEvent")
    for number, amount_refunded in [(1, 3000), (2, 5000)]:
        charge = {"object": "charge", "payment_intent": "pi_PART0001", "amount_refunded": amount_refunded}
        stripe_event.objects.create(
            event_id=f"evt_{number}",
            type="charge.refunded",
            payload={"id": f"evt_{number}", "type": "charge.refunded", "data": {"object": charge}},
            booking_id=rows["PART0001"],
            outcome=f"refunded {amount_refunded}",
        )
    # when: the migration runs
    migrated = migrate(AFTER).get_model("bookings", "Booking")
    # then: each booking records what Stripe refunded; a partial refund leaves the rest owed
    fields = migrated.objects.values_list("refunded_cents", "refunded_at")
    state = {code: fields.get(pk=pk) for code, pk in rows.items()}
    assert state["FULL0001"][0] == 9500 and state["FULL0001"][1] is not None
    assert state["NONE0001"][0] == 9500 and state["NONE0001"][1] is not None  # how much unknown: as before, all of it
    assert state["OWED0001"] == (0, None)
    assert state["PART0001"] == (5000, None)
    # and back: the column goes, refunds recorded in full stay recorded
    back = migrate(BEFORE).get_model("bookings", "Booking")
    assert back.objects.get(pk=rows["FULL0001"]).refunded_at is not None
    assert back.objects.get(pk=rows["OWED0001"]).refunded_at is None
