"""A refund Stripe accepted (``pending``) that fails later: its ``refund.updated`` / ``refund.failed``
event puts the booking back to owing the refund, with an audit note naming Stripe's reason, and staff
are told again; the customer is never told twice. Events arrive in any order and more than once."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from bookings import payments, refund_records, services, webhooks
from bookings.models import Booking, BookingEmail, BookingEventKind, EmailKind, Service
from bookings.services import CUSTOMER, STRIPE
from bookings.tests.conftest import customer_booking, logged_in, next_weekday, open_every_day
from bookings.tests.factories import ServiceFactory
from bookings.tests.stripe_fake import FakeStripe
from bookings.tests.test_console_refund import INTENT, _owing, _webhook

pytestmark = pytest.mark.django_db
CREATED_AT = 1_800_000_000  # the Stripe clock of the refund's creation
FAILED_AT = CREATED_AT + 3 * 24 * 3600  # the bank bounced it three days later


def _charge(intent: str = INTENT, amount: int = 9500) -> dict[str, Any]:
    return {"id": "ch_1", "object": "charge", "payment_intent": intent, "amount_refunded": amount}


def _failed(refund_id: str = "re_test_0001", intent: str = INTENT, status: str = "failed") -> dict[str, Any]:
    return {
        "id": refund_id,
        "object": "refund",
        "payment_intent": intent,
        "amount": 9500,
        "status": status,
        "failure_reason": "expired_or_canceled_card",
    }


def _failure_notes(booking: Booking) -> list[dict[str, Any]]:
    notes = booking.events.filter(kind=BookingEventKind.NOTE, data__has_key=refund_records.REFUND_FAILED_NOTE)
    return [event.data for event in notes]


def _emails(booking: Booking, kind: EmailKind) -> int:
    return BookingEmail.objects.filter(booking=booking, kind=kind).count()


def test_a_console_refund_that_fails_later_is_owed_again_once(
    client, webhook_secret, tenant, owner, paid_service, stripe_api: FakeStripe, django_capture_on_commit_callbacks
):
    # given: staff refunded the booking; Stripe accepted the refund as pending and reported the charge refunded
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    stripe_api.refund_status = "pending"
    with django_capture_on_commit_callbacks(execute=True):
        payments.booking_refund(tenant=tenant, booking=booking, actor=services.Actor.staff(owner))
        _webhook(client, "evt_charge", "charge.refunded", _charge(), created=CREATED_AT)
    booking.refresh_from_db()
    assert booking.refunded_at is not None
    mail.outbox.clear()
    # when: the refund fails; Stripe sends refund.updated and refund.failed, and redelivers one of them
    stripe_api.refund_fails("re_test_0001")
    with django_capture_on_commit_callbacks(execute=True):
        outcome = _webhook(client, "evt_updated", "refund.updated", _failed(), created=FAILED_AT)
        _webhook(client, "evt_failed", "refund.failed", _failed(), created=FAILED_AT)
        again = _webhook(client, "evt_failed", "refund.failed", _failed(), created=FAILED_AT)
    # then: the booking owes the refund again, once, with Stripe's reason in its history
    booking.refresh_from_db()
    assert booking.refund_due and booking.refunded_at is None
    assert outcome["outcome"] == "refund re_test_0001 failed; refund due again" and again["duplicate"]
    assert _failure_notes(booking) == [
        {
            "refund_failed": "re_test_0001",
            "amount_cents": 9500,
            "failure_reason": "expired_or_canceled_card",
            "failed_at": FAILED_AT,
        }
    ]
    page = logged_in(owner).get(f"/console/bookings/{booking.pk}/").content.decode()
    assert "Stripe refund re_test_0001 failed (expired_or_canceled_card)" in page
    # and staff are told again (the notice of the cancel, and this one), the customer is not
    assert _emails(booking, EmailKind.TENANT_REFUND_DUE) == 2
    assert _emails(booking, EmailKind.PAYMENT_REFUNDED) == 1
    assert [m.subject for m in mail.outbox] == [f"Refund due for booking {booking.confirmation_code}: 95.00 EUR"]
    # when: the stale charge.refunded of the failed refund is delivered again
    with django_capture_on_commit_callbacks(execute=True):
        _webhook(client, "evt_charge_again", "charge.refunded", _charge(), created=CREATED_AT)
    # then: it records nothing
    booking.refresh_from_db()
    assert booking.refund_due
    # when: the owner refunds again from the console
    stripe_api.refund_status = "succeeded"
    with django_capture_on_commit_callbacks(execute=True):
        payments.booking_refund(tenant=tenant, booking=booking, actor=services.Actor.staff(owner))
    # then: a new refund under a new idempotency key (the first key would replay the failed refund)
    keys = [r.headers["idempotency-key"] for r in stripe_api.seen if r.path == "/v1/refunds"]
    assert keys == [f"refund-{booking.confirmation_code}", f"refund-{booking.confirmation_code}-retry1"]
    booking.refresh_from_db()
    assert booking.refunded_at is not None and len(stripe_api.refunds) == 2
    refunded = booking.events.filter(kind=BookingEventKind.REFUNDED).order_by("pk").last()
    assert refunded is not None and refunded.data["refund_id"] == "re_test_0002"


def test_a_failure_delivered_before_the_charge_refunded_event_records_no_refund(
    client, webhook_secret, tenant, paid_service, django_capture_on_commit_callbacks
):
    # given: a booking owing a refund that staff refunded in Stripe's dashboard
    booking = _owing(tenant, paid_service)
    mail.outbox.clear()
    # when: the refund's failure arrives first, then the charge.refunded Stripe made before it
    with django_capture_on_commit_callbacks(execute=True):
        _webhook(client, "evt_failed", "refund.failed", _failed("re_dash"), created=FAILED_AT)
        late = _webhook(client, "evt_charge", "charge.refunded", _charge(), created=CREATED_AT)
    # then: never recorded refunded, the customer is not told, staff are told the refund failed
    booking.refresh_from_db()
    assert booking.refund_due and booking.refunded_at is None
    assert late["outcome"] == webhooks.STALE_REFUND
    assert not booking.events.filter(kind=BookingEventKind.REFUNDED).exists()
    assert [note["refund_failed"] for note in _failure_notes(booking)] == ["re_dash"]
    assert _emails(booking, EmailKind.PAYMENT_REFUNDED) == 0
    assert _emails(booking, EmailKind.TENANT_REFUND_DUE) == 2
    # when: staff refund it again in the dashboard, and that one goes through
    with django_capture_on_commit_callbacks(execute=True):
        _webhook(client, "evt_charge_2", "charge.refunded", _charge(), created=FAILED_AT + 60)
    # then
    booking.refresh_from_db()
    assert booking.refunded_at is not None
    assert _emails(booking, EmailKind.PAYMENT_REFUNDED) == 1


def test_a_failure_delivered_before_its_charge_refunded_event_keeps_an_earlier_refund(
    client, webhook_secret, tenant, paid_service, django_capture_on_commit_callbacks
):
    # given: 30.00 EUR of 95.00 EUR refunded in Stripe's dashboard, and recorded from its charge.refunded
    booking = _owing(tenant, paid_service)
    with django_capture_on_commit_callbacks(execute=True):
        _webhook(client, "evt_part", "charge.refunded", _charge(amount=3000), created=CREATED_AT)
    # and the rest (65.00 EUR) refunded in the dashboard an hour later: a refund whose charge.refunded is late
    rest = {**_failed("re_rest"), "amount": 6500, "created": CREATED_AT + 3600}
    # when: the rest's refund fails, and Stripe delivers its failure before its charge.refunded
    with django_capture_on_commit_callbacks(execute=True):
        _webhook(client, "evt_failed", "refund.failed", rest, created=FAILED_AT)
        late = _webhook(client, "evt_charge", "charge.refunded", _charge(amount=9500), created=CREATED_AT + 3600)
    # then: the 30.00 EUR Stripe did refund stays recorded; the 65.00 EUR that failed is still owed
    booking.refresh_from_db()
    assert late["outcome"] == webhooks.STALE_REFUND
    assert (booking.refunded_cents, booking.refund_remaining_cents, booking.refunded_at) == (3000, 6500, None)
    assert [note["refund_failed"] for note in _failure_notes(booking)] == ["re_rest"]


def test_a_failure_of_a_recorded_refund_takes_off_only_its_own_amount(
    client, webhook_secret, tenant, paid_service, django_capture_on_commit_callbacks
):
    # given: 30.00 EUR refunded, then the rest, each reported by its charge.refunded: refunded in full
    booking = _owing(tenant, paid_service)
    with django_capture_on_commit_callbacks(execute=True):
        _webhook(client, "evt_part", "charge.refunded", _charge(amount=3000), created=CREATED_AT)
        _webhook(client, "evt_rest", "charge.refunded", _charge(amount=9500), created=CREATED_AT + 3600)
    booking.refresh_from_db()
    assert booking.refunded_at is not None
    # when: the rest's refund fails
    rest = {**_failed("re_rest"), "amount": 6500, "created": CREATED_AT + 3600}
    with django_capture_on_commit_callbacks(execute=True):
        _webhook(client, "evt_failed", "refund.failed", rest, created=FAILED_AT)
    # then: only the rest is owed again
    booking.refresh_from_db()
    assert (booking.refunded_cents, booking.refund_remaining_cents, booking.refunded_at) == (3000, 6500, None)


@pytest.mark.parametrize("status", ["succeeded", "pending", "requires_action"])
def test_a_refund_update_that_is_no_failure_changes_nothing(
    client, webhook_secret, tenant, paid_service, django_capture_on_commit_callbacks, status
):
    # given: a booking refunded in Stripe
    booking = _owing(tenant, paid_service)
    with django_capture_on_commit_callbacks(execute=True):
        _webhook(client, "evt_charge", "charge.refunded", _charge(), created=CREATED_AT)
        # when
        result = _webhook(client, "evt_updated", "refund.updated", _failed(status=status), created=FAILED_AT)
    # then
    booking.refresh_from_db()
    assert booking.refunded_at is not None and _failure_notes(booking) == []
    assert result["outcome"] == f"refund re_test_0001 is {status}; nothing to do"


def test_a_failed_refund_changes_only_the_booking_of_its_own_payment_intent(
    client, webhook_secret, tenant, other_tenant, paid_service, django_capture_on_commit_callbacks
):
    # given: a refunded booking at each tenant, each with its own payment intent
    open_every_day(other_tenant)
    other_service: Service = ServiceFactory.create(tenant=other_tenant, name="Sauna", price_cents=9500, currency="eur")
    ours = _owing(tenant, paid_service)
    theirs = customer_booking(other_tenant, other_service, day=next_weekday(3))
    theirs = services.booking_mark_paid(booking=theirs, actor=STRIPE, payment_intent="pi_bravo")
    theirs = services.booking_cancel(tenant=other_tenant, booking=theirs, actor=CUSTOMER)
    with django_capture_on_commit_callbacks(execute=True):
        _webhook(client, "evt_ours", "charge.refunded", _charge(), created=CREATED_AT)
        _webhook(client, "evt_theirs", "charge.refunded", _charge("pi_bravo"), created=CREATED_AT)
        # when: a refund of another tenant's payment fails, and one of a payment that is no booking's
        _webhook(client, "evt_f1", "refund.failed", _failed("re_b", intent="pi_bravo"), created=FAILED_AT)
        foreign = _webhook(client, "evt_f2", "refund.failed", _failed("re_x", intent="pi_foreign"), created=FAILED_AT)
    # then: only the other tenant's booking owes its refund again
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert ours.refunded_at is not None and _failure_notes(ours) == []
    assert theirs.refund_due and [n["refund_failed"] for n in _failure_notes(theirs)] == ["re_b"]
    assert foreign["outcome"] == webhooks.NO_BOOKING
    assert _emails(ours, EmailKind.TENANT_REFUND_DUE) == 1


def test_a_failure_that_gives_no_amount_puts_the_whole_refund_back(
    client, webhook_secret, tenant, owner, paid_service, stripe_api: FakeStripe, django_capture_on_commit_callbacks
):
    # given: a booking refunded in Stripe
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    with django_capture_on_commit_callbacks(execute=True):
        _webhook(client, "evt_charge", "charge.refunded", _charge(), created=CREATED_AT)
        # when: its refund fails, and the event's amount is unusable
        failed = {**_failed("re_dash"), "amount": None}
        _webhook(client, "evt_failed", "refund.failed", failed, created=FAILED_AT)
    # then: nothing counts as refunded any more; the console offers the whole price again
    booking.refresh_from_db()
    assert booking.refund_due and booking.refunded_cents == 0
    page = logged_in(owner).get(f"/console/bookings/{booking.pk}/").content.decode()
    assert "Refund 95.00 EUR" in page
