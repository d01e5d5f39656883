"""Owners and admins refund a canceled paid booking from its console page: the refund goes through
Stripe's official SDK (against the local fake), is recorded once with who made it, and the customer
is told. Stripe's refusals change nothing; without Stripe the page keeps the manual flow."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.utils.html import escape

from bookings import payments, services
from bookings.benchmarks import signed
from bookings.models import Booking, BookingEmail, BookingEventKind, EmailKind, Service
from bookings.services import CUSTOMER, STRIPE
from bookings.tests.conftest import SECRET, customer_booking, logged_in, next_weekday
from bookings.tests.stripe_fake import FakeStripe
from supportai.models import Role, Tenant
from supportai.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
INTENT = "pi_3Pabc"
BUTTON = "Refund 95.00 EUR"


def _owing(tenant: Tenant, service: Service, *, intent: str = INTENT, stripe: FakeStripe | None = None) -> Booking:
    """A booking the customer paid through Stripe (``stripe``'s payment intent, when given) and then
    canceled: a refund is due."""
    booking = customer_booking(tenant, service, day=next_weekday(3), name="Ann Lee", email="ann@example.org")
    booking = services.booking_mark_paid(booking=booking, actor=STRIPE, payment_intent=intent)
    if stripe is not None:
        stripe.pay(intent, booking.price_cents)
    return services.booking_cancel(tenant=tenant, booking=booking, actor=CUSTOMER, reason="Sick")


def _refund(user: User, booking: Booking, capture: Any) -> str:
    with capture(execute=True):
        response = logged_in(user).post(f"/console/bookings/{booking.pk}/refund/", follow=True)
    assert response.status_code == 200
    return response.content.decode()


def _refund_emails(booking: Booking) -> list[BookingEmail]:
    return list(BookingEmail.objects.filter(booking=booking, kind=EmailKind.PAYMENT_REFUNDED))


def _admin(tenant: Tenant) -> User:
    user = UserFactory.create(username="erin")
    MembershipFactory.create(user=user, tenant=tenant, role=Role.ADMIN)
    return user


def test_an_owner_refunds_a_canceled_paid_booking_through_stripe(
    tenant, owner, paid_service, stripe_api: FakeStripe, django_capture_on_commit_callbacks
):
    # given: a canceled booking the customer paid; its page offers the refund
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    assert BUTTON in logged_in(owner).get(f"/console/bookings/{booking.pk}/").content.decode()
    mail.outbox.clear()
    # when: the owner refunds it
    page = _refund(owner, booking, django_capture_on_commit_callbacks)
    # then: Stripe was asked once for the full amount of the stored payment intent, with a key of the booking's
    (request,) = [r for r in stripe_api.seen if r.path == "/v1/refunds"]
    assert request.form["payment_intent"] == INTENT and request.form["amount"] == "9500"
    assert request.form["metadata[booking_id]"] == str(booking.pk)
    assert request.headers["idempotency-key"] == f"refund-{booking.confirmation_code}"
    assert request.headers["authorization"] == "Bearer sk_test_fake"
    # and the booking is refunded, the history says who refunded how much under which Stripe refund
    booking.refresh_from_db()
    assert booking.refunded_at is not None and not booking.refund_due
    event = booking.events.get(kind=BookingEventKind.REFUNDED)
    assert event.actor == "staff:alice" and event.staff_user == owner
    assert event.data == {"amount_cents": 9500, "refund_id": "re_test_0001"}
    assert payments.REFUNDED.format(amount="95.00 EUR", code=booking.confirmation_code) in page
    assert BUTTON not in page and "re_test_0001" in page
    # and the customer is told
    (email,) = _refund_emails(booking)
    assert email.status == "sent"
    (message,) = [m for m in mail.outbox if m.to == ["ann@example.org"]]
    assert message.subject == f"Your payment for booking {booking.confirmation_code} was refunded"
    assert "95.00 EUR" in message.body and "refunded" in message.body


def test_a_second_click_or_a_concurrent_one_never_refunds_twice(
    tenant, paid_service, stripe_api: FakeStripe, django_capture_on_commit_callbacks
):
    # given: two staff pages loaded the same owing booking (double click, two tabs)
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    admin = _admin(tenant)
    stale = Booking.objects.get(pk=booking.pk)
    # when: both refund it; the second reaches Stripe before the first is recorded
    first = payments.booking_refund(tenant=tenant, booking=booking, actor=services.Actor.staff(admin))
    with django_capture_on_commit_callbacks(execute=True):
        second = payments.booking_refund(tenant=tenant, booking=stale, actor=services.Actor.staff(admin))
    # and a third click after both were recorded
    page = _refund(admin, booking, django_capture_on_commit_callbacks)
    # then: Stripe made one refund, recorded once, one email: the second read from Stripe that nothing is left
    # to refund (two asking at once send the same key, and Stripe replays the refund it made)
    assert len(stripe_api.refunds) == 1
    assert first.booking.refunded_at == second.booking.refunded_at and second.already_refunded
    assert booking.events.filter(kind=BookingEventKind.REFUNDED).count() == 1
    assert len(_refund_emails(booking)) == 1
    assert payments.NO_REFUND_DUE in page
    assert len([r for r in stripe_api.seen if r.path == "/v1/refunds" and r.method == "POST"]) == 1


def test_an_admin_may_refund_agents_and_analysts_may_not(
    tenant, owner, agent, analyst, paid_service, stripe_api: FakeStripe, django_capture_on_commit_callbacks
):
    # given
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    # when: an agent and an analyst try (page and post)
    for user in (agent, analyst):
        assert BUTTON not in logged_in(user).get(f"/console/bookings/{booking.pk}/").content.decode()
        response = logged_in(user).post(f"/console/bookings/{booking.pk}/refund/")
        # then: refused, nothing asked of Stripe
        assert response.status_code == 403
    assert stripe_api.seen == []
    booking.refresh_from_db()
    assert booking.refund_due
    # when: an admin refunds it
    _refund(_admin(tenant), booking, django_capture_on_commit_callbacks)
    # then
    booking.refresh_from_db()
    assert booking.refunded_at is not None


def test_staff_of_another_tenant_cannot_refund_the_booking(
    tenant, other_tenant, outsider, paid_service, stripe_api: FakeStripe
):
    # given: a booking of tenant owing a refund; charlie owns the other tenant
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    # when
    response = logged_in(outsider).post(f"/console/bookings/{booking.pk}/refund/")
    # then: it does not exist for him, and nothing happened
    assert response.status_code == 404
    assert stripe_api.seen == []
    booking.refresh_from_db()
    assert booking.refund_due
    # and the service refuses another tenant's booking too
    with pytest.raises(services.BookingError) as refused:
        payments.booking_refund(tenant=other_tenant, booking=booking, actor=services.Actor.staff(outsider))
    assert refused.value.code == services.NOT_FOUND
    assert stripe_api.seen == []


def _error(status: int, kind: str, message: str, code: str = "") -> tuple[int, dict[str, Any]]:
    return status, {"error": {"type": kind, "message": message, **({"code": code} if code else {})}}


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (_error(402, "card_error", "The card was closed.", "expired_card"), payments.REFUND_DECLINED),
        (_error(400, "invalid_request_error", "Charge ch_1 is disputed.", "charge_disputed"), payments.REFUND_DISPUTED),
        (_error(429, "invalid_request_error", "Too many requests.", "rate_limit"), payments.STRIPE_BUSY),
        (_error(401, "invalid_request_error", "Invalid API Key provided: sk_test_****"), payments.STRIPE_KEY_REFUSED),
        (_error(500, "api_error", "Something went wrong."), payments.STRIPE_FAILED),
    ],
)
def test_stripe_refusing_the_refund_changes_nothing_and_says_why(
    tenant, owner, paid_service, stripe_api: FakeStripe, django_capture_on_commit_callbacks, answer, message
):
    # given: Stripe will answer the refund with an error (twice: the SDK retries a 500 once)
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    stripe_api.errors.extend([answer, answer])
    # when
    page = _refund(owner, booking, django_capture_on_commit_callbacks)
    # then: the booking still owes the refund, no event, no email, and staff read what went wrong
    booking.refresh_from_db()
    assert booking.refund_due and booking.refunded_at is None
    assert not booking.events.filter(kind=BookingEventKind.REFUNDED).exists()
    assert _refund_emails(booking) == []
    assert escape(message.format(detail=answer[1]["error"]["message"])) in page
    assert BUTTON in page  # still offered


@pytest.mark.parametrize(
    "answer",
    [
        _error(
            400,
            "invalid_request_error",
            f"No such payment_intent: '{INTENT}'; a similar object exists in live mode, but a test mode key was "
            "used to make this request.",
            "resource_missing",
        ),
        _error(400, "invalid_request_error", "Insufficient funds in the Stripe balance.", "balance_insufficient"),
    ],
)
def test_stripe_refusing_the_refund_tells_staff_no_stripe_internals(
    tenant, owner, paid_service, stripe_api: FakeStripe, django_capture_on_commit_callbacks, caplog, answer
):
    # given: Stripe refuses the refund with a message about the platform's account, key and objects
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    stripe_api.errors.append(answer)
    # when: the tenant's owner refunds
    with caplog.at_level(logging.WARNING, logger="bookings.payments"):
        page = _refund(owner, booking, django_capture_on_commit_callbacks)
    # then: they read that Stripe refused and nothing was refunded, not Stripe's message
    stripe_message = answer[1]["error"]["message"]
    assert escape(payments.REFUND_REFUSED) in page
    assert escape(stripe_message) not in page and "test mode" not in page and "balance" not in page
    # and the platform's log keeps it, with the booking
    (record,) = [r for r in caplog.records if r.name == "bookings.payments"]
    assert stripe_message in record.getMessage() and str(booking.pk) in record.getMessage()
    booking.refresh_from_db()
    assert booking.refund_due


def test_stripe_unreachable_changes_nothing_and_a_retry_refunds_once(
    tenant, owner, paid_service, stripe_api: FakeStripe, settings, django_capture_on_commit_callbacks
):
    # given: Stripe cannot be reached (nothing listens at the API base)
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    # when
    page = _refund(owner, booking, django_capture_on_commit_callbacks)
    # then: the look at the payment, before any refund is asked, is what failed
    booking.refresh_from_db()
    assert booking.refund_due and not booking.events.filter(kind=BookingEventKind.REFUNDED).exists()
    assert escape(payments.REFUNDABLE_UNREAD.format(reason=payments.UNREAD_UNREACHABLE)) in page
    # when: Stripe is back and staff try again
    settings.STRIPE_API_BASE = stripe_api.url
    _refund(owner, booking, django_capture_on_commit_callbacks)
    # then
    booking.refresh_from_db()
    assert booking.refunded_at is not None and len(stripe_api.refunds) == 1


def test_a_refund_stripe_already_made_is_recorded_instead_of_failing(
    tenant, owner, paid_service, stripe_api: FakeStripe, django_capture_on_commit_callbacks
):
    # given: someone refunds the payment in Stripe's dashboard while the owner's refund is on its way, and
    # its webhook has not arrived
    booking = _owing(tenant, paid_service, stripe=stripe_api)

    def dashboard_refund() -> None:
        stripe_api.refund_elsewhere(INTENT, 9500, refund_id="re_dash", created=stripe_api.now)

    stripe_api.before_refund.append(dashboard_refund)
    # when: Stripe answers charge_already_refunded
    page = _refund(owner, booking, django_capture_on_commit_callbacks)
    # then: recorded as refunded (Stripe says so), the customer is told, staff see it was reconciled
    assert [r.path for r in stripe_api.seen if r.method == "POST"] == ["/v1/refunds"]
    booking.refresh_from_db()
    assert booking.refunded_at is not None
    event = booking.events.get(kind=BookingEventKind.REFUNDED)
    assert event.actor == "staff:alice" and event.data == {"amount_cents": 9500, "already_refunded": True}
    assert len(_refund_emails(booking)) == 1
    assert payments.ALREADY_REFUNDED.format(code=booking.confirmation_code) in page


def test_a_refund_stripe_reports_failed_is_recorded_failed_and_a_retry_makes_a_new_one(
    tenant, owner, paid_service, stripe_api: FakeStripe, django_capture_on_commit_callbacks
):
    # given
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    stripe_api.refund_status = "failed"
    # when
    page = _refund(owner, booking, django_capture_on_commit_callbacks)
    # then: nothing refunded; the failure is noted, so the next refund is a new one, not this one replayed
    booking.refresh_from_db()
    assert booking.refund_due and not booking.events.filter(kind=BookingEventKind.REFUNDED).exists()
    assert escape(payments.EARLIER_REFUND_FAILED.format(refund="re_test_0001", reason="failed")) in page
    assert booking.events.filter(data__refund_failed="re_test_0001").count() == 1
    stripe_api.refund_status = "succeeded"
    _refund(owner, booking, django_capture_on_commit_callbacks)
    keys = [r.headers["idempotency-key"] for r in stripe_api.seen if r.path == "/v1/refunds"]
    assert keys == [f"refund-{booking.confirmation_code}", f"refund-{booking.confirmation_code}-retry1"]
    booking.refresh_from_db()
    assert booking.refunded_at is not None


def test_a_refund_stripe_has_not_made_changes_nothing(
    tenant, owner, paid_service, stripe_api: FakeStripe, django_capture_on_commit_callbacks
):
    # given
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    stripe_api.refund_status = "requires_action"
    # when
    page = _refund(owner, booking, django_capture_on_commit_callbacks)
    # then
    booking.refresh_from_db()
    assert booking.refund_due and not booking.events.filter(kind=BookingEventKind.REFUNDED).exists()
    assert payments.REFUND_NOT_MADE.format(status="requires_action") in page


def _webhook(client: Any, event_id: str, kind: str, obj: dict[str, Any], *, created: int = 0) -> dict[str, Any]:
    """Post a signed Stripe event; ``created`` is when Stripe made it (its clock: seconds since 1970)."""
    event = {"id": event_id, "object": "event", "type": kind, "created": created, "data": {"object": obj}}
    body, header = signed(event, SECRET)
    response = client.post(
        "/webhooks/stripe/", data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    result: dict[str, Any] = response.json()
    return result


def test_stripe_webhooks_after_a_console_refund_record_nothing_more(
    client, webhook_secret, tenant, owner, paid_service, stripe_api: FakeStripe, django_capture_on_commit_callbacks
):
    # given: staff refunded the booking in the console
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    _refund(owner, booking, django_capture_on_commit_callbacks)
    # when: Stripe's events about that refund arrive
    charge = {"id": "ch_1", "object": "charge", "payment_intent": INTENT, "amount_refunded": 9500}
    refund = {"id": "re_test_0001", "object": "refund", "payment_intent": INTENT, "amount": 9500}
    with django_capture_on_commit_callbacks(execute=True):
        _webhook(client, "evt_charge_refunded", "charge.refunded", charge)
        _webhook(client, "evt_refund_updated", "refund.updated", {**refund, "status": "succeeded"})
    # then: still one REFUNDED event (the staff's), one email to the customer
    (event,) = booking.events.filter(kind=BookingEventKind.REFUNDED)
    assert event.actor == "staff:alice"
    assert len(_refund_emails(booking)) == 1


def test_a_refund_made_in_stripe_is_recorded_and_told_to_the_customer_once(
    client, webhook_secret, tenant, paid_service, django_capture_on_commit_callbacks
):
    # given: a booking owing a refund that staff refunded in Stripe's dashboard
    booking = _owing(tenant, paid_service)
    mail.outbox.clear()
    charge = {"id": "ch_1", "object": "charge", "payment_intent": INTENT, "amount_refunded": 9500}
    # when: Stripe reports it, twice
    with django_capture_on_commit_callbacks(execute=True):
        _webhook(client, "evt_1", "charge.refunded", charge)
        _webhook(client, "evt_2", "charge.refunded", charge)
    # then: recorded once by Stripe, and the customer got one email saying so
    (event,) = booking.events.filter(kind=BookingEventKind.REFUNDED)
    assert event.actor == "stripe" and event.data == {"amount_cents": 9500}
    (message,) = [m for m in mail.outbox if m.to == ["ann@example.org"]]
    assert message.subject == f"Your payment for booking {booking.confirmation_code} was refunded"


def test_without_stripe_the_page_keeps_the_manual_flow(
    tenant, owner, paid_service, settings, django_capture_on_commit_callbacks
):
    # given: no Stripe key (the local test-mode checkout)
    settings.STRIPE_SECRET_KEY = ""
    booking = _owing(tenant, paid_service)
    # when
    detail = logged_in(owner).get(f"/console/bookings/{booking.pk}/").content.decode()
    page = _refund(owner, booking, django_capture_on_commit_callbacks)
    # then: no button, and a posted refund is refused without a change
    assert BUTTON not in detail and "<em>refund due</em>" in detail
    assert payments.REFUND_UNAVAILABLE in page
    booking.refresh_from_db()
    assert booking.refund_due


def test_a_payment_not_made_through_stripe_is_not_offered_for_refund(
    tenant, owner, paid_service, stripe_api: FakeStripe
):
    # given: a booking of a service paid online that staff recorded paid offline, then canceled
    booking = customer_booking(tenant, paid_service, day=next_weekday(3))
    booking = services.booking_mark_paid(booking=booking, actor=STRIPE)
    booking = services.booking_cancel(tenant=tenant, booking=booking, actor=CUSTOMER)
    assert booking.refund_due
    # when
    detail = logged_in(owner).get(f"/console/bookings/{booking.pk}/").content.decode()
    response = logged_in(owner).post(f"/console/bookings/{booking.pk}/refund/", follow=True)
    # then
    assert BUTTON not in detail
    assert payments.REFUND_UNAVAILABLE in response.content.decode()
    assert stripe_api.seen == [r for r in stripe_api.seen if r.path != "/v1/refunds"]


def test_a_booking_that_owes_no_refund_cannot_be_refunded(
    tenant, owner, paid_service, stripe_api: FakeStripe, django_capture_on_commit_callbacks
):
    # given: a paid booking that is kept (not canceled)
    booking = customer_booking(tenant, paid_service, day=next_weekday(3))
    booking = services.booking_mark_paid(booking=booking, actor=STRIPE, payment_intent=INTENT)
    # when
    page = _refund(owner, booking, django_capture_on_commit_callbacks)
    # then
    assert payments.NO_REFUND_DUE in page and BUTTON not in page
    assert [r for r in stripe_api.seen if r.path == "/v1/refunds"] == []
    booking.refresh_from_db()
    assert booking.refunded_at is None


def test_the_cancel_message_points_managers_to_the_refund_button(
    tenant, owner, agent, paid_service, stripe_api: FakeStripe
):
    # given: two paid bookings
    first, second = (
        services.booking_mark_paid(
            booking=customer_booking(tenant, paid_service, day=next_weekday(3), hour=hour),
            actor=STRIPE,
            payment_intent=f"pi_{hour}",
        )
        for hour in (10, 12)
    )
    # when: the owner cancels one, an agent the other
    by_owner = logged_in(owner).post(f"/console/bookings/{first.pk}/cancel/", follow=True).content.decode()
    by_agent = logged_in(agent).post(f"/console/bookings/{second.pk}/cancel/", follow=True).content.decode()
    # then: the owner is pointed to the button, the agent to an owner or admin
    assert "a refund of 95.00 EUR is due: refund it with the Refund button below" in by_owner
    assert "a refund of 95.00 EUR is due: an owner or admin can refund it from this page" in by_agent
