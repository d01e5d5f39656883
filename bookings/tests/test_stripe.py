"""Stripe: Checkout Sessions through the official SDK against a local fake; webhooks with real signatures."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from bookings import actions, proposals
from bookings.benchmarks import checkout_event, signed
from bookings.models import Booking, BookingEventKind, BookingStatus, StripeEvent
from bookings.services import CUSTOMER, BookingError, booking_create
from bookings.tests.conftest import SECRET, local, next_weekday
from chat.services import conversation_open

pytestmark = pytest.mark.django_db


def _execute_paid(tenant, paid_service, hour=10):
    conversation = conversation_open(tenant=tenant).conversation
    proposal = proposals.booking_propose_book(
        tenant=tenant,
        conversation=conversation,
        service_id=paid_service.pk,
        start=local(tenant, next_weekday(2), hour),
        name="Pat",
        email="pat@example.org",
    )
    return proposals.proposal_execute(tenant=tenant, conversation=conversation, public_id=str(proposal.public_id))


def test_paid_booking_gets_a_checkout_session(tenant, paid_service, stripe_api):
    # when
    decision = _execute_paid(tenant, paid_service)
    # then: the booking holds its slot, unpaid, with Stripe's payment link
    booking = Booking.objects.get()
    assert booking.status == BookingStatus.PENDING and booking.paid_at is None
    assert booking.hold_expires_at is not None and booking.hold_expires_at > timezone.now() + timedelta(minutes=25)
    assert decision.result["checkout_url"] == "https://checkout.stripe.test/c/pay/cs_test_0001"
    assert booking.stripe_checkout_session_id == "cs_test_0001"
    (request,) = stripe_api.seen
    assert request.path == "/v1/checkout/sessions"
    assert request.headers["authorization"] == "Bearer sk_test_fake"
    assert request.headers["idempotency-key"] == f"checkout-{booking.confirmation_code}"
    form = request.form
    assert form["mode"] == "payment" and form["customer_email"] == "pat@example.org"
    assert form["line_items[0][price_data][unit_amount]"] == "9500"
    assert form["line_items[0][price_data][currency]"] == "eur"
    assert form["metadata[booking_id]"] == str(booking.pk)
    assert int(form["expires_at"]) >= time.time() + 30 * 60  # Stripe's minimum
    assert form["success_url"].startswith("http://127.0.0.1:8000/bookings/checkout/done/")
    assert [e.kind for e in booking.events.all()] == ["created", "payment_started"]


STRIPE_DOWN = (402, {"error": {"type": "card_error", "message": "Your account cannot take payments."}})
LINK = "https://checkout.stripe.test/c/pay/cs_test_0002"


def test_stripe_error_keeps_the_hold_and_confirming_again_retries_the_link(tenant, paid_service, stripe_api):
    # given: Stripe failed when the booking was made
    stripe_api.errors.append(STRIPE_DOWN)
    conversation = conversation_open(tenant=tenant).conversation
    proposal = proposals.booking_propose_book(
        tenant=tenant,
        conversation=conversation,
        service_id=paid_service.pk,
        start=local(tenant, next_weekday(2), 10),
        name="Pat",
        email="pat@example.org",
    )
    first = proposals.proposal_execute(tenant=tenant, conversation=conversation, public_id=str(proposal.public_id))
    booking = Booking.objects.get()
    assert first.status == "executed" and first.result["checkout_url"] == ""
    assert booking.status == BookingStatus.PENDING and booking.checkout_url == ""
    # when: the customer confirms again
    again = proposals.proposal_execute(tenant=tenant, conversation=conversation, public_id=str(proposal.public_id))
    # then: the same booking, now with a payment link, also in the stored result
    assert again.status == "executed" and again.result["checkout_url"] == LINK
    assert again.result["confirmation_code"] == first.result["confirmation_code"] and Booking.objects.count() == 1
    proposal.refresh_from_db()
    assert proposal.result["checkout_url"] == LINK
    # and the retry had its own idempotency key (Stripe replays a key's first answer, errors too)
    keys = [request.headers["idempotency-key"] for request in stripe_api.seen]
    assert keys == [f"checkout-{booking.confirmation_code}", f"checkout-{booking.confirmation_code}-retry1"]
    # and a third confirmation does not ask Stripe again
    proposals.proposal_execute(tenant=tenant, conversation=conversation, public_id=str(proposal.public_id))
    assert len(stripe_api.seen) == 2


def _looked_up(tenant, booking, email="pat@example.org"):
    conversation = conversation_open(tenant=tenant).conversation
    return actions.lookup(tenant=tenant, conversation=conversation, ip="203.0.113.5", code=booking.confirmation_code,
                          email=email)  # fmt: skip


def test_looking_up_a_pending_booking_without_a_link_retries_it(tenant, paid_service, stripe_api):
    stripe_api.errors.append(STRIPE_DOWN)
    _execute_paid(tenant, paid_service)
    booking = Booking.objects.get()
    assert _looked_up(tenant, booking)["checkout_url"] == LINK
    booking.refresh_from_db()
    assert booking.checkout_url == LINK and booking.stripe_checkout_session_id == "cs_test_0002"


def test_lookup_makes_no_link_for_a_hold_that_ran_out(tenant, paid_service, stripe_api):
    stripe_api.errors.append(STRIPE_DOWN)
    _execute_paid(tenant, paid_service)
    booking = Booking.objects.get()
    Booking.objects.filter(pk=booking.pk).update(hold_expires_at=timezone.now() - timedelta(minutes=1))
    assert _looked_up(tenant, booking)["checkout_url"] == ""
    assert len(stripe_api.seen) == 1


def test_another_tenants_lookup_makes_no_link(tenant, other_tenant, paid_service, stripe_api):
    stripe_api.errors.append(STRIPE_DOWN)
    _execute_paid(tenant, paid_service)
    booking = Booking.objects.get()
    with pytest.raises(BookingError) as caught:
        _looked_up(other_tenant, booking)
    assert caught.value.code == "not_found" and len(stripe_api.seen) == 1
    assert Booking.objects.get().checkout_url == ""


def _post(client, payload, *, secret=SECRET, timestamp=None):
    body, header = signed(payload, secret, timestamp=timestamp)
    return client.post("/webhooks/stripe/", data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)


@pytest.fixture
def pending(tenant, paid_service):
    return booking_create(
        tenant=tenant,
        service=paid_service,
        start=local(tenant, next_weekday(3), 11),
        name="Pat",
        email="pat@example.org",
        actor=CUSTOMER,
    )


def test_completed_confirms_once(client, webhook_secret, pending, owner, django_capture_on_commit_callbacks):
    event = checkout_event("evt_1", "checkout.session.completed", pending)
    with django_capture_on_commit_callbacks(execute=True):
        first = _post(client, event)
        second = _post(client, event)
    assert first.status_code == second.status_code == 200
    assert first.json()["duplicate"] is False and second.json()["duplicate"] is True
    pending.refresh_from_db()
    assert pending.status == BookingStatus.CONFIRMED and pending.paid_at is not None
    assert pending.stripe_payment_intent_id == f"pi_test_{pending.pk}"
    assert pending.events.filter(kind=BookingEventKind.PAID).count() == 1
    subjects = sorted(m.subject.split(" ")[0] for m in mail.outbox)
    assert subjects == ["New", "Payment", "Your"]  # notice to tenant, payment received, confirmation
    assert StripeEvent.objects.get().booking_id == pending.pk


def test_unpaid_completion_waits(client, webhook_secret, pending):
    _post(client, checkout_event("evt_2", "checkout.session.completed", pending, payment_status="unpaid"))
    pending.refresh_from_db()
    assert pending.status == BookingStatus.PENDING and pending.paid_at is None


def test_expired_releases_and_late_completion_retakes_a_free_slot(client, webhook_secret, pending):
    _post(client, checkout_event("evt_exp", "checkout.session.expired", pending))
    pending.refresh_from_db()
    assert pending.status == BookingStatus.CANCELED
    _post(client, checkout_event("evt_done", "checkout.session.completed", pending))
    pending.refresh_from_db()
    assert pending.status == BookingStatus.CONFIRMED and pending.paid_at is not None


def test_late_completion_for_a_slot_taken_meanwhile_flags_a_refund(client, webhook_secret, tenant, pending):
    _post(client, checkout_event("evt_exp", "checkout.session.expired", pending))
    booking_create(
        tenant=tenant, service=pending.service, start=pending.start_at, name="B", email="b@x.org", actor=CUSTOMER
    )
    _post(client, checkout_event("evt_done", "checkout.session.completed", pending))
    pending.refresh_from_db()
    assert pending.status == BookingStatus.CANCELED and pending.paid_at is not None
    assert pending.events.get(kind=BookingEventKind.PAID).data["refund_due"] is True
    assert Booking.objects.exclude(pk=pending.pk).get().holds_slot()  # the newcomer keeps the slot


def test_expired_after_completed_changes_nothing(client, webhook_secret, pending):
    _post(client, checkout_event("evt_done", "checkout.session.completed", pending))
    _post(client, checkout_event("evt_exp", "checkout.session.expired", pending))
    pending.refresh_from_db()
    assert pending.status == BookingStatus.CONFIRMED
    assert StripeEvent.objects.get(event_id="evt_exp").outcome == "nothing to release"


def test_refund_is_recorded_once(client, webhook_secret, pending):
    _post(client, checkout_event("evt_done", "checkout.session.completed", pending))
    refund = {
        "id": "evt_refund",
        "object": "event",
        "type": "charge.refunded",
        "data": {
            "object": {
                "id": "ch_1",
                "object": "charge",
                "payment_intent": f"pi_test_{pending.pk}",
                "amount_refunded": 9500,
            }
        },
    }
    _post(client, refund)
    _post(client, {**refund, "id": "evt_refund_again"})
    pending.refresh_from_db()
    assert pending.refunded_at is not None
    assert pending.events.filter(kind=BookingEventKind.REFUNDED).count() == 1


@pytest.mark.parametrize(
    "tamper",
    ["wrong_secret", "stale", "no_header", "body_changed"],
)
def test_bad_signatures_are_400(client, webhook_secret, pending, tamper):
    event = checkout_event("evt_bad", "checkout.session.completed", pending)
    body, header = signed(event, "whsec_other" if tamper == "wrong_secret" else SECRET,
                          timestamp=int(time.time()) - 3600 if tamper == "stale" else None)  # fmt: skip
    if tamper == "body_changed":
        body = body.replace("paid", "PAID")
    headers = {} if tamper == "no_header" else {"HTTP_STRIPE_SIGNATURE": header}
    response = client.post("/webhooks/stripe/", data=body, content_type="application/json", **headers)
    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0
    pending.refresh_from_db()
    assert pending.status == BookingStatus.PENDING


def test_signed_garbage_is_400(client, webhook_secret):
    body = "not json"
    from stripe import WebhookSignature

    header = WebhookSignature.generate_signature_header(body, SECRET)
    response = client.post(
        "/webhooks/stripe/", data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    assert response.status_code == 400


def test_unknown_types_and_bookings_are_stored_and_ignored(client, webhook_secret):
    response = _post(client, {"id": "evt_x", "object": "event", "type": "customer.created", "data": {"object": {}}})
    assert response.status_code == 200 and StripeEvent.objects.get().outcome == "ignored type"
    orphan = {"id": "evt_y", "type": "checkout.session.completed", "data": {"object": {"id": "cs_1", "metadata": {}}}}
    assert _post(client, orphan).json()["outcome"] == "no matching booking"


@pytest.mark.parametrize("booking_id", ["\u00b2", "9" * 5_000])  # str.isdigit takes "²", which int() refuses
def test_a_booking_id_that_is_no_id_matches_no_booking(client, webhook_secret, booking_id):
    session = {"id": "cs_2", "metadata": {"booking_id": booking_id}}
    response = _post(client, {"id": "evt_z", "type": "checkout.session.completed", "data": {"object": session}})
    assert response.status_code == 200 and response.json()["outcome"] == "no matching booking"


def test_webhook_without_secret_is_unavailable(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    assert client.post("/webhooks/stripe/", data="{}", content_type="application/json").status_code == 503


def test_webhook_only_accepts_post(client, webhook_secret):
    assert client.get("/webhooks/stripe/").status_code == 405


def test_test_mode_checkout_pays_through_the_same_service(client, settings, tenant, paid_service):
    settings.STRIPE_SECRET_KEY = ""
    settings.BOOKINGS_TEST_CHECKOUT = True
    decision = _execute_paid(tenant, paid_service)
    url = decision.result["checkout_url"]
    assert url.startswith("http://127.0.0.1:8000/bookings/checkout/test/")
    path = url.removeprefix("http://127.0.0.1:8000")
    page = client.get(path)
    assert page.status_code == 200 and b"Test mode" in page.content and b"95.00 EUR" in page.content
    client.post(path, {"action": "pay"})
    booking = Booking.objects.get()
    assert booking.status == BookingStatus.CONFIRMED and booking.paid_at is not None
    assert client.get(path.replace("/test/", "/test/x")).status_code == 404


def test_test_mode_checkout_is_off_when_disabled(client, settings, tenant, paid_service):
    settings.STRIPE_SECRET_KEY = ""
    settings.BOOKINGS_TEST_CHECKOUT = True
    path = _execute_paid(tenant, paid_service).result["checkout_url"].removeprefix("http://127.0.0.1:8000")
    settings.BOOKINGS_TEST_CHECKOUT = False
    assert client.get(path).status_code == 404


def test_checkout_return_page(client):
    assert b"Thank you" in client.get("/bookings/checkout/done/?status=paid").content
    assert b"canceled" in client.get("/bookings/checkout/done/?status=canceled").content


def test_webhook_payload_is_stored_as_received(client, webhook_secret, pending):
    event = checkout_event("evt_store", "checkout.session.completed", pending)
    _post(client, event)
    assert StripeEvent.objects.get().payload == json.loads(json.dumps(event))
