"""A payment that can no longer confirm its booking, and a customer's cancel while the checkout is open."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from bookings import proposals, services
from bookings.benchmarks import checkout_event, signed
from bookings.models import Booking, BookingEventKind, BookingStatus, ProposalStatus
from bookings.services import CUSTOMER, booking_create
from bookings.tests.conftest import local, next_weekday
from chat.services import conversation_open

pytestmark = pytest.mark.django_db
REFUND_SUBJECT = "Your payment for booking {code} will be refunded"


def _post(client, payload, secret):
    body, header = signed(payload, secret)
    return client.post("/webhooks/stripe/", data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)


def _book(tenant, service, email):
    start = local(tenant, next_weekday(3), 11)
    return booking_create(tenant=tenant, service=service, start=start, name="Pat", email=email, actor=CUSTOMER)


def test_payment_after_the_hold_ran_out_and_the_slot_was_retaken_cancels_and_says_refund_due(
    client, webhook_secret, tenant, paid_service, django_capture_on_commit_callbacks
):
    # given: the hold ran out (not yet released by housekeeping) and another customer took the slot
    late = _book(tenant, paid_service, "late@x.org")
    Booking.objects.filter(pk=late.pk).update(hold_expires_at=timezone.now() - timedelta(minutes=1))
    newcomer = _book(tenant, paid_service, "new@x.org")
    # when: the late customer's payment arrives
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, checkout_event("evt_late", "checkout.session.completed", late), webhook_secret)
    # then: canceled as a lost hold, paid, refund due; the newcomer keeps the slot
    assert response.status_code == 200
    late.refresh_from_db()
    assert late.status == BookingStatus.CANCELED and late.cancel_reason == services.HOLD_EXPIRED_REASON
    assert late.paid_at is not None and late.hold_expires_at is None
    assert late.events.get(kind=BookingEventKind.PAID).data["refund_due"] is True
    assert Booking.objects.get(pk=newcomer.pk).holds_slot()
    # and the customer hears that the time was lost and the money comes back, not "payment received"
    (message,) = mail.outbox
    assert message.to == ["late@x.org"]
    assert message.subject == REFUND_SUBJECT.format(code=late.confirmation_code)
    assert "no longer available" in message.body and "refunded" in message.body


def test_payment_for_a_booking_the_customer_canceled_says_refund_due(
    client, webhook_secret, tenant, paid_service, django_capture_on_commit_callbacks
):
    booking = _book(tenant, paid_service, "pat@x.org")
    services.booking_cancel(tenant=tenant, booking=booking, actor=CUSTOMER, reason="changed my mind")
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, checkout_event("evt_paid", "checkout.session.completed", booking), webhook_secret)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELED and booking.cancel_reason == "changed my mind"
    assert [m.subject for m in mail.outbox] == [REFUND_SUBJECT.format(code=booking.confirmation_code)]


def test_payment_in_time_still_confirms(
    client, webhook_secret, owner, tenant, paid_service, django_capture_on_commit_callbacks
):
    booking = _book(tenant, paid_service, "pat@x.org")
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, checkout_event("evt_ok", "checkout.session.completed", booking), webhook_secret)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert not [m for m in mail.outbox if "refunded" in m.subject]


def _confirmed_paid_proposal(tenant, conversation, paid_service):
    proposal = proposals.booking_propose_book(
        tenant=tenant,
        conversation=conversation,
        service_id=paid_service.pk,
        start=local(tenant, next_weekday(2), 10),
        name="Pat",
        email="pat@x.org",
    )
    return proposals.proposal_execute(tenant=tenant, conversation=conversation, public_id=str(proposal.public_id))


def _cancel(tenant, conversation, booking):
    proposal = proposals.booking_propose_cancel(
        tenant=tenant, conversation=conversation, code=booking.confirmation_code, email="pat@x.org"
    )
    return proposals.proposal_execute(tenant=tenant, conversation=conversation, public_id=str(proposal.public_id))


def test_customer_cancel_expires_the_open_checkout_session(
    tenant, paid_service, stripe_api, django_capture_on_commit_callbacks
):
    # given: a paid booking waiting for payment with an open Checkout Session
    conversation = conversation_open(tenant=tenant).conversation
    _confirmed_paid_proposal(tenant, conversation, paid_service)
    booking = Booking.objects.get()
    assert booking.stripe_checkout_session_id == "cs_test_0001"
    # when
    with django_capture_on_commit_callbacks(execute=True):
        decision = _cancel(tenant, conversation, booking)
    # then: canceled, and Stripe was told to close the payment page (after the commit)
    assert decision.status == ProposalStatus.EXECUTED and decision.result["booking_status"] == BookingStatus.CANCELED
    assert [r.path for r in stripe_api.seen] == ["/v1/checkout/sessions", "/v1/checkout/sessions/cs_test_0001/expire"]


def test_customer_cancel_still_works_when_stripe_refuses_to_expire(
    tenant, paid_service, stripe_api, django_capture_on_commit_callbacks
):
    conversation = conversation_open(tenant=tenant).conversation
    _confirmed_paid_proposal(tenant, conversation, paid_service)
    booking = Booking.objects.get()
    stripe_api.errors.append((400, {"error": {"type": "invalid_request_error", "message": "Session is complete."}}))
    with django_capture_on_commit_callbacks(execute=True):
        decision = _cancel(tenant, conversation, booking)
    assert stripe_api.seen[-1].path == "/v1/checkout/sessions/cs_test_0001/expire"
    assert decision.status == ProposalStatus.EXECUTED
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELED


def test_cancel_of_a_paid_booking_does_not_touch_the_completed_session(
    tenant, paid_service, stripe_api, django_capture_on_commit_callbacks
):
    conversation = conversation_open(tenant=tenant).conversation
    _confirmed_paid_proposal(tenant, conversation, paid_service)
    booking = Booking.objects.get()
    services.booking_mark_paid(booking=booking, actor=services.STRIPE, payment_intent="pi_1")
    with django_capture_on_commit_callbacks(execute=True):
        _cancel(tenant, conversation, booking)
    assert [r.path for r in stripe_api.seen] == ["/v1/checkout/sessions"]


def test_another_tenants_conversation_cannot_cancel_and_expire(
    tenant, other_tenant, paid_service, stripe_api, django_capture_on_commit_callbacks
):
    conversation = conversation_open(tenant=tenant).conversation
    _confirmed_paid_proposal(tenant, conversation, paid_service)
    booking = Booking.objects.get()
    theirs = conversation_open(tenant=other_tenant).conversation
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(services.BookingError) as caught:
        _cancel(other_tenant, theirs, booking)
    assert caught.value.code == services.NOT_FOUND
    assert [r.path for r in stripe_api.seen] == ["/v1/checkout/sessions"]
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING
