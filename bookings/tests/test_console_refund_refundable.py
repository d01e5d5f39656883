"""A console refund asks Stripe for no more than Stripe can still refund: refunds made in Stripe's
dashboard that no webhook has told us of (late, lost, or failed unseen) are read from the payment
intent's charge first (``amount`` - ``amount_refunded``) and recorded as Stripe's, and staff read what
Stripe can still refund. When Stripe still refuses (someone refunded in the dashboard meanwhile), staff
read that plainly and nothing wrong is recorded."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.utils.html import escape

from bookings import payments
from bookings.models import Booking, BookingEmail, BookingEventKind, EmailKind
from bookings.tests.conftest import logged_in
from bookings.tests.stripe_fake import FakeStripe
from bookings.tests.test_console_refund import INTENT, _owing

pytestmark = pytest.mark.django_db
MADE_AT = 1_800_000_000


def _refund(user: Any, booking: Booking, capture: Any) -> str:
    with capture(execute=True):
        response = logged_in(user).post(f"/console/bookings/{booking.pk}/refund/", follow=True)
    assert response.status_code == 200
    return response.content.decode()


def _refund_requests(stripe_api: FakeStripe) -> list[str]:
    return [r.form["amount"] for r in stripe_api.seen if r.method == "POST" and r.path == "/v1/refunds"]


def _refunded_events(booking: Booking) -> list[tuple[str, int, bool]]:
    """Each REFUNDED event's actor, amount and whether Stripe had made it already (not this click)."""
    events = booking.events.filter(kind=BookingEventKind.REFUNDED).order_by("pk")
    return [(event.actor, event.data["amount_cents"], event.data.get("already_refunded", False)) for event in events]


def test_a_dashboard_refund_not_reported_yet_is_recorded_and_only_the_rest_is_asked(
    tenant, owner, paid_service, stripe_api: FakeStripe, django_capture_on_commit_callbacks
):
    # given: 30.00 EUR of the 95.00 EUR were refunded in Stripe's dashboard; no webhook told us
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    stripe_api.refund_elsewhere(INTENT, 3000, refund_id="re_dash", created=MADE_AT)
    # when: the owner clicks "Refund 95.00 EUR"
    page = _refund(owner, booking, django_capture_on_commit_callbacks)
    # then: Stripe was asked for the 65.00 EUR it could still refund, and both refunds are recorded (the
    # dashboard's as found by this click, "Stripe had refunded it already")
    assert _refund_requests(stripe_api) == ["6500"]
    booking.refresh_from_db()
    assert (booking.refunded_cents, booking.refunded_at is not None) == (9500, True)
    assert _refunded_events(booking) == [("staff:alice", 3000, True), ("staff:alice", 6500, False)]
    assert payments.REFUNDED.format(amount="65.00 EUR", code=booking.confirmation_code) in page
    assert stripe_api.unrefunded(INTENT) == 0


def test_a_payment_refunded_in_full_in_the_dashboard_is_recorded_without_asking_stripe_again(
    tenant, owner, paid_service, stripe_api: FakeStripe, django_capture_on_commit_callbacks
):
    # given: the whole payment was refunded in Stripe's dashboard, unreported
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    stripe_api.refund_elsewhere(INTENT, 9500, refund_id="re_dash", created=MADE_AT)
    # when
    page = _refund(owner, booking, django_capture_on_commit_callbacks)
    # then: no refund asked; Stripe's refund is recorded once, the customer told once
    assert _refund_requests(stripe_api) == []
    booking.refresh_from_db()
    assert booking.refunded_at is not None and _refunded_events(booking) == [("staff:alice", 9500, True)]
    assert payments.ALREADY_REFUNDED.format(code=booking.confirmation_code) in page
    assert BookingEmail.objects.filter(booking=booking, kind=EmailKind.PAYMENT_REFUNDED).count() == 1


def test_a_refund_made_in_the_dashboard_while_staff_refund_is_recorded_and_said_plainly(
    tenant, owner, paid_service, stripe_api: FakeStripe, django_capture_on_commit_callbacks
):
    # given: between our look at the payment and our refund request, 20.00 EUR is refunded in the dashboard
    booking = _owing(tenant, paid_service, stripe=stripe_api)

    def dashboard_refund() -> None:
        stripe_api.refund_elsewhere(INTENT, 2000, refund_id="re_dash", created=MADE_AT)

    stripe_api.before_refund.append(dashboard_refund)
    # when: the owner refunds the 95.00 EUR the page offered
    page = _refund(owner, booking, django_capture_on_commit_callbacks)
    # then: Stripe refused (400); staff read what Stripe can still refund, and only Stripe's refund is recorded
    assert _refund_requests(stripe_api) == ["9500"]
    booking.refresh_from_db()
    assert (booking.refunded_cents, booking.refund_remaining_cents, booking.refund_due) == (2000, 7500, True)
    assert _refunded_events(booking) == [("staff:alice", 2000, True)]
    said = payments.REFUNDED_MEANWHILE.format(refundable="75.00 EUR")
    assert escape(said) in page and "Refund 75.00 EUR" in page
    # when: the owner refunds the rest
    _refund(owner, booking, django_capture_on_commit_callbacks)
    # then
    booking.refresh_from_db()
    assert booking.refunded_at is not None and _refunded_events(booking)[-1] == ("staff:alice", 7500, False)


def test_stripe_holding_less_than_the_booking_owes_refunds_nothing_and_names_what_it_can(
    tenant, owner, paid_service, stripe_api: FakeStripe, django_capture_on_commit_callbacks
):
    # given: Stripe's charge has only 40.00 EUR left to refund, though the booking owes 95.00 EUR
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    stripe_api.pay(INTENT, 4000)
    # when
    page = _refund(owner, booking, django_capture_on_commit_callbacks)
    # then: nothing asked, nothing recorded, and staff read the amount Stripe can refund
    assert _refund_requests(stripe_api) == []
    booking.refresh_from_db()
    assert booking.refund_due and _refunded_events(booking) == []
    said = payments.MORE_THAN_REFUNDABLE.format(refundable="40.00 EUR", owed="95.00 EUR")
    assert escape(said) in page


def _error(status: int, kind: str, message: str, code: str = "") -> tuple[int, dict[str, Any]]:
    return status, {"error": {"type": kind, "message": message, **({"code": code} if code else {})}}


NO_SUCH_INTENT = (
    f"No such payment_intent: '{INTENT}'; a similar object exists in live mode, but a test mode key was used"
)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (_error(404, "invalid_request_error", NO_SUCH_INTENT, "resource_missing"), payments.UNREAD_NO_SUCH_PAYMENT),
        (
            _error(
                403, "invalid_request_error", "The provided key 'rk_test_****' does not have the required permissions"
            ),
            payments.UNREAD_KEY_REFUSED,
        ),
        (_error(401, "invalid_request_error", "Invalid API Key provided: sk_test_****"), payments.UNREAD_KEY_REFUSED),
        (_error(429, "invalid_request_error", "Too many requests.", "rate_limit"), payments.UNREAD_BUSY),
        (_error(400, "invalid_request_error", "Received unknown parameter: expand[0]"), payments.UNREAD_REFUSED),
        (_error(500, "api_error", "Something went wrong."), payments.UNREAD_STRIPE_ERROR),
    ],
)
def test_stripe_not_telling_what_it_can_refund_refunds_nothing_and_says_why(
    tenant, owner, paid_service, stripe_api: FakeStripe, django_capture_on_commit_callbacks, caplog, answer, reason
):
    # given: Stripe answers the look at the payment with an error (twice: the SDK retries some once)
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    stripe_api.intent_errors.extend([answer, answer])
    # when
    with caplog.at_level(logging.WARNING, logger="bookings.payments"):
        page = _refund(owner, booking, django_capture_on_commit_callbacks)
    # then: no refund asked, nothing recorded
    assert _refund_requests(stripe_api) == []
    booking.refresh_from_db()
    assert booking.refund_due and _refunded_events(booking) == []
    # and staff read that it was the look at the payment that failed, and why, in their words, not Stripe's
    said = payments.REFUNDABLE_UNREAD.format(reason=reason.format(intent=INTENT))
    assert escape(said) in page and escape(answer[1]["error"]["message"]) not in page
    # and the platform's log keeps Stripe's message, with the booking
    (record,) = [r for r in caplog.records if r.name == "bookings.payments"]
    assert answer[1]["error"]["message"] in record.getMessage() and str(booking.pk) in record.getMessage()


def test_stripe_unreachable_while_read_refunds_nothing_and_says_so(
    tenant, owner, paid_service, stripe_api: FakeStripe, settings, django_capture_on_commit_callbacks
):
    # given: Stripe cannot be reached (nothing listens at the API base)
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    # when
    page = _refund(owner, booking, django_capture_on_commit_callbacks)
    # then: staff read that Stripe could not be asked, for want of an answer, and that nothing was refunded
    assert escape(payments.REFUNDABLE_UNREAD.format(reason=payments.UNREAD_UNREACHABLE)) in page
    assert escape(payments.STRIPE_UNREACHABLE) not in page  # no refund was sent that may have been made
    booking.refresh_from_db()
    assert booking.refund_due and _refunded_events(booking) == []


def test_stripe_not_listing_the_refunds_it_reports_refunds_nothing_and_says_why(
    tenant, owner, paid_service, stripe_api: FakeStripe, django_capture_on_commit_callbacks
):
    # given: a dashboard refund unreported, and Stripe failing to list the payment's refunds
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    stripe_api.refund_elsewhere(INTENT, 3000, refund_id="re_dash", created=MADE_AT)
    error = _error(500, "api_error", "Something went wrong.")
    stripe_api.list_errors.extend([error, error])
    # when
    page = _refund(owner, booking, django_capture_on_commit_callbacks)
    # then
    assert _refund_requests(stripe_api) == []
    booking.refresh_from_db()
    assert booking.refund_due and booking.refunded_cents == 0 and _refunded_events(booking) == []
    assert escape(payments.REFUNDABLE_UNREAD.format(reason=payments.UNREAD_STRIPE_ERROR)) in page


def test_another_tenants_owner_cannot_make_stripe_read_or_record_the_payment(
    tenant, other_tenant, outsider, paid_service, stripe_api: FakeStripe
):
    # given: a dashboard refund of tenant's booking, unreported
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    stripe_api.refund_elsewhere(INTENT, 3000, refund_id="re_dash", created=MADE_AT)
    # when: another tenant's owner posts its refund
    response = logged_in(outsider).post(f"/console/bookings/{booking.pk}/refund/")
    # then: 404, Stripe neither read nor asked, nothing recorded
    assert response.status_code == 404 and stripe_api.seen == []
    booking.refresh_from_db()
    assert booking.refunded_cents == 0 and _refunded_events(booking) == []
