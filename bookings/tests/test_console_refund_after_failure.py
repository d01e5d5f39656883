"""A console refund records what Stripe has actually refunded, even when an earlier refund of the
payment failed at Stripe and its ``refund.failed`` event has not arrived (late, or lost): the refund
Stripe answers with may be an earlier one replayed under the same idempotency key, failed since, and
a refund recorded earlier may have failed. Stripe's refunds of the payment, read after the refund is
made, say which: a failed one is recorded as failed (its refund owed again, the key moved on), and
only a refund Stripe still holds made is recorded refunded."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import permutations
from typing import Any

import pytest
from django.core import mail
from django.utils.html import escape

from bookings import payments, refund_records
from bookings.models import Booking, BookingEmail, BookingEventKind, EmailKind
from bookings.tests.conftest import at, logged_in
from bookings.tests.stripe_fake import FakeStripe
from bookings.tests.test_console_refund import INTENT, _owing, _webhook

pytestmark = pytest.mark.django_db
MADE_AT = 1_800_000_000  # Stripe's clock when the first refund was made


def _refund(user: Any, booking: Booking, capture: Any) -> str:
    with capture(execute=True):
        response = logged_in(user).post(f"/console/bookings/{booking.pk}/refund/", follow=True)
    assert response.status_code == 200
    return response.content.decode()


def _failure_notes(booking: Booking) -> list[str]:
    notes = booking.events.filter(kind=BookingEventKind.NOTE, data__has_key=refund_records.REFUND_FAILED_NOTE)
    return [note.data[refund_records.REFUND_FAILED_NOTE] for note in notes]


def _refund_emails(booking: Booking) -> int:
    return BookingEmail.objects.filter(booking=booking, kind=EmailKind.PAYMENT_REFUNDED).count()


def test_a_retry_that_replays_a_refund_failed_since_records_no_refund(
    client, webhook_secret, tenant, owner, paid_service, stripe_api: FakeStripe, django_capture_on_commit_callbacks
):
    # given: the owner refunded; Stripe made the refund (pending) but both answers were lost on the way
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    stripe_api.refund_status, stripe_api.now, stripe_api.lose_answers = "pending", MADE_AT, 2
    with at(datetime.fromtimestamp(MADE_AT, tz=UTC)):
        page = _refund(owner, booking, django_capture_on_commit_callbacks)
    assert payments.STRIPE_UNREACHABLE in page and len(stripe_api.refunds) == 1
    # and three days later the refund failed at Stripe, whose refund.failed event has not arrived
    stripe_api.refund_fails("re_test_0001")
    mail.outbox.clear()
    # when: the owner clicks Refund again (same idempotency key: Stripe replays its first answer, "pending")
    later = MADE_AT + 3 * 24 * 3600
    with at(datetime.fromtimestamp(later, tz=UTC)):
        page = _refund(owner, booking, django_capture_on_commit_callbacks)
    # then: nothing is recorded refunded; the failure is, and staff read that nothing was refunded
    booking.refresh_from_db()
    assert booking.refund_due and booking.refunded_cents == 0
    assert not booking.events.filter(kind=BookingEventKind.REFUNDED).exists()
    assert _failure_notes(booking) == ["re_test_0001"] and _refund_emails(booking) == 0
    said = payments.EARLIER_REFUND_FAILED.format(refund="re_test_0001", reason="expired_or_canceled_card")
    assert escape(said) in page
    assert "Refund 95.00 EUR" in page
    assert [m.to for m in mail.outbox if m.to == ["ann@example.org"]] == []  # the customer is not told
    # when: the owner refunds again, and the late refund.failed event arrives
    stripe_api.refund_status = "succeeded"
    with django_capture_on_commit_callbacks(execute=True):
        page = _refund(owner, booking, django_capture_on_commit_callbacks)
        failed = {
            "id": "re_test_0001",
            "object": "refund",
            "payment_intent": INTENT,
            "amount": 9500,
            "status": "failed",
            "failure_reason": "expired_or_canceled_card",
            "created": MADE_AT,
        }
        late = _webhook(client, "evt_failed", "refund.failed", failed, created=later - 60)
    # then: a new refund under a new key is recorded, once, and the late failure changes nothing
    keys = [r.headers["idempotency-key"] for r in stripe_api.seen if r.path == "/v1/refunds"]
    code = booking.confirmation_code
    assert keys == [f"refund-{code}", f"refund-{code}", f"refund-{code}", f"refund-{code}-retry1"]
    booking.refresh_from_db()
    assert booking.refunded_at is not None and booking.refunded_cents == 9500
    assert [e.data["refund_id"] for e in booking.events.filter(kind=BookingEventKind.REFUNDED)] == ["re_test_0002"]
    assert late["outcome"] == "refund failure already recorded" and _refund_emails(booking) == 1


def test_a_refund_after_an_earlier_refund_failed_unseen_gives_back_that_part_too(
    client, webhook_secret, tenant, owner, paid_service, stripe_api: FakeStripe, django_capture_on_commit_callbacks
):
    # given: 30.00 EUR of 95.00 EUR refunded in Stripe's dashboard and recorded from its charge.refunded
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    stripe_api.refund_elsewhere(INTENT, 3000, refund_id="re_dash", created=MADE_AT)
    charge = {"id": "ch_1", "object": "charge", "payment_intent": INTENT, "amount_refunded": 3000}
    with django_capture_on_commit_callbacks(execute=True):
        _webhook(client, "evt_part", "charge.refunded", charge, created=MADE_AT)
    booking.refresh_from_db()
    assert (booking.refunded_cents, booking.refund_remaining_cents) == (3000, 6500)
    # and that refund failed at Stripe; its refund.failed event has not arrived
    stripe_api.refund_fails("re_dash")
    # when: the owner refunds (the page says 65.00 EUR are still owed)
    stripe_api.now = MADE_AT + 7 * 24 * 3600
    with at(datetime.fromtimestamp(stripe_api.now + 5, tz=UTC)):
        page = _refund(owner, booking, django_capture_on_commit_callbacks)
    # then: Stripe said it had refunded nothing (the failed refund given back to the charge), so the failure
    # is recorded and all 95.00 EUR were asked, refunded and recorded
    (request,) = [r for r in stripe_api.seen if r.path == "/v1/refunds" and r.method == "POST"]
    assert request.form["amount"] == "9500"
    booking.refresh_from_db()
    assert (booking.refunded_cents, booking.refund_remaining_cents, booking.refund_due) == (9500, 0, False)
    assert _failure_notes(booking) == ["re_dash"]
    assert payments.REFUNDED.format(amount="95.00 EUR", code=booking.confirmation_code) in page
    # when: Stripe's late events arrive: the dashboard refund's failure, the new refund's charge.refunded
    failed = {
        "id": "re_dash",
        "object": "refund",
        "payment_intent": INTENT,
        "amount": 3000,
        "status": "failed",
        "failure_reason": "expired_or_canceled_card",
        "created": MADE_AT,
    }
    with django_capture_on_commit_callbacks(execute=True):
        _webhook(client, "evt_failed", "refund.failed", failed, created=MADE_AT + 3 * 24 * 3600)
        _webhook(client, "evt_rest", "charge.refunded", {**charge, "amount_refunded": 9500}, created=stripe_api.now)
    # then: they change nothing: refunded in full, once
    booking.refresh_from_db()
    assert (booking.refunded_cents, booking.refund_remaining_cents, booking.refund_due) == (9500, 0, False)
    assert booking.events.filter(kind=BookingEventKind.REFUNDED, data__has_key="refund_id").count() == 1


DAY = 24 * 3600
# Stripe's side, in its order: dashboard refund re_dash1 of 30.00 EUR (95.00 EUR paid) at MADE_AT; it fails
# quietly two days later; dashboard refund re_dash2 of 40.00 EUR three days later, reported by a charge.refunded
# of 40.00 EUR (the failed one left out); staff refund the 55.00 EUR left from the console (``CONSOLE``), then
# its own charge.refunded. The events reach us in any order: the console refund reads what Stripe has refunded
# first (40.00 EUR), so it asks for the 55.00 EUR left whichever of them came before it.
DASH_FAILED_AT, DASH2_AT, CONSOLE_AT = MADE_AT + 2 * DAY, MADE_AT + 3 * DAY, MADE_AT + 4 * DAY
CHARGE = {"id": "ch_1", "object": "charge", "payment_intent": INTENT}
DASH1_FAILED = {
    "id": "re_dash1",
    "object": "refund",
    "payment_intent": INTENT,
    "amount": 3000,
    "status": "failed",
    "failure_reason": "expired_or_canceled_card",
    "created": MADE_AT,
}
STEPS: dict[str, tuple[str, dict[str, Any], int] | None] = {
    "dash1 reported": ("charge.refunded", {**CHARGE, "amount_refunded": 3000}, MADE_AT),
    "dash2 reported": ("charge.refunded", {**CHARGE, "amount_refunded": 4000}, DASH2_AT),
    "dash1 failure": ("refund.failed", DASH1_FAILED, DASH_FAILED_AT),
    "console refund": None,
    "console reported": ("charge.refunded", {**CHARGE, "amount_refunded": 9500}, CONSOLE_AT),
}
ORDERS = [order for order in permutations(STEPS) if order.index("console refund") < order.index("console reported")]


@pytest.mark.parametrize("order", ORDERS, ids=[" > ".join(order) for order in ORDERS])
def test_a_console_refund_after_a_dashboard_refund_failed_unseen_records_what_stripe_refunded_in_any_order(
    client,
    webhook_secret,
    tenant,
    owner,
    paid_service,
    stripe_api: FakeStripe,
    django_capture_on_commit_callbacks,
    order,
):
    # given: Stripe's refunds of the payment as they stand when staff refund
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    stripe_api.refund_elsewhere(INTENT, 3000, refund_id="re_dash1", created=MADE_AT)
    stripe_api.refund_fails("re_dash1")
    stripe_api.refund_elsewhere(INTENT, 4000, refund_id="re_dash2", created=DASH2_AT)
    stripe_api.now = CONSOLE_AT
    for number, step in enumerate(order):
        # when: each event arrives, or the owner refunds what the page says is owed
        event = STEPS[step]
        if event is None:  # the console refund
            with at(datetime.fromtimestamp(CONSOLE_AT + 5, tz=UTC)):
                page = _refund(owner, booking, django_capture_on_commit_callbacks)
            (request,) = [r for r in stripe_api.seen if r.path == "/v1/refunds" and r.method == "POST"]
            assert request.form["amount"] == "5500"
            assert payments.REFUNDED.format(amount="55.00 EUR", code=booking.confirmation_code) in page
            # then: Stripe has refunded all 95.00 EUR (40.00 + 55.00), and so has the booking
            booking.refresh_from_db()
            assert (booking.refunded_cents, booking.refunded_at is not None, booking.refund_due) == (9500, True, False)
        else:
            kind, obj, created = event
            with django_capture_on_commit_callbacks(execute=True):
                _webhook(client, f"evt_{number}", kind, obj, created=created)
    # then: whatever came after changes nothing: refunded in full, the failure noted once
    booking.refresh_from_db()
    assert (booking.refunded_cents, booking.refunded_at is not None, booking.refund_due) == (9500, True, False)
    assert _failure_notes(booking) == ["re_dash1"]


def test_a_refund_whose_outcome_stripe_could_not_tell_is_not_recorded_and_a_retry_records_it_once(
    tenant, owner, paid_service, stripe_api: FakeStripe, django_capture_on_commit_callbacks
):
    # given: Stripe makes the refund, then fails to list the payment's refunds (twice: the SDK retries once)
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    error = (500, {"error": {"type": "api_error", "message": "Something went wrong."}})
    stripe_api.list_errors.extend([error, error])
    # when
    page = _refund(owner, booking, django_capture_on_commit_callbacks)
    # then: nothing recorded yet, and staff are told to try again
    booking.refresh_from_db()
    assert booking.refund_due and not booking.events.filter(kind=BookingEventKind.REFUNDED).exists()
    assert escape(payments.REFUND_UNCONFIRMED) in page
    # when: the owner retries
    _refund(owner, booking, django_capture_on_commit_callbacks)
    # then: the one refund is recorded
    booking.refresh_from_db()
    assert booking.refunded_at is not None and len(stripe_api.refunds) == 1
    assert booking.events.filter(kind=BookingEventKind.REFUNDED).count() == 1


def test_another_tenants_staff_cannot_make_stripe_read_the_payment(
    tenant, other_tenant, outsider, paid_service, stripe_api: FakeStripe
):
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    assert logged_in(outsider).post(f"/console/bookings/{booking.pk}/refund/").status_code == 404
    assert stripe_api.seen == []
    booking.refresh_from_db()
    assert booking.refund_due
