"""Services paid at the venue: booked CONFIRMED at once with no hold and no Checkout Session; staff
record the payment when the customer pays, and cancelling never leaves a refund due."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from bookings import actions, no_shows, notifications, proposals, services
from bookings.assistant import run_tool_calls
from bookings.emails import build_message
from bookings.housekeeping import holds_release
from bookings.models import Booking, BookingEventKind, BookingStatus, PaymentMode, Service
from bookings.protocol import ProposeBooking
from bookings.services import CUSTOMER, Actor
from bookings.tests.conftest import at, customer_booking, local, logged_in, marked_text, next_weekday
from bookings.tests.stripe_fake import FakeStripe
from bookings.widget import handle_booking_frame
from chat.models import Conversation
from chat.protocol import ErrorCode, ProtocolError
from chat.services import conversation_open
from routing.contracts import ToolCall
from supportai.models import Tenant

pytestmark = pytest.mark.django_db


def test_services_take_payment_online_unless_set_otherwise(tenant, paid_service):
    assert paid_service.payment == PaymentMode.ONLINE
    booking = customer_booking(tenant, paid_service)
    assert booking.status == BookingStatus.PENDING and booking.payment == PaymentMode.ONLINE


def test_an_on_arrival_booking_is_confirmed_at_once_without_a_hold(tenant, at_desk, stripe_api: FakeStripe):
    # when
    booking = customer_booking(tenant, at_desk)
    # then: confirmed and unpaid, nothing held, no payment link, and the price it was booked at kept
    assert booking.status == BookingStatus.CONFIRMED and booking.paid_at is None
    assert booking.hold_expires_at is None and booking.checkout_url == ""
    assert booking.payment == PaymentMode.ON_ARRIVAL and booking.price_display == "45.00 EUR"
    assert booking.due_on_arrival
    assert stripe_api.seen == []


def test_housekeeping_never_releases_an_on_arrival_booking(tenant, at_desk):
    # given
    booking = customer_booking(tenant, at_desk)
    # when: long after any hold would have run out, but before the booking starts
    with at(local(tenant, next_weekday(), 9)):
        released = holds_release()
    # then
    booking.refresh_from_db()
    assert released == 0 and booking.status == BookingStatus.CONFIRMED


def test_cancelling_an_on_arrival_booking_never_makes_a_refund_due(tenant, agent, at_desk):
    # given: one unpaid, one that staff recorded as paid at the desk in advance
    unpaid = customer_booking(tenant, at_desk, hour=10)
    prepaid = services.booking_record_payment(
        tenant=tenant, booking=customer_booking(tenant, at_desk, hour=12), actor=Actor.staff(agent)
    )
    # when
    services.booking_cancel(tenant=tenant, booking=unpaid, actor=CUSTOMER)
    response = logged_in(agent).post(f"/console/bookings/{prepaid.pk}/cancel/", {"reason": "Ill"}, follow=True)
    # then: no refund is owed through Stripe, the events say none, and the list's refund filter finds neither
    for booking in (unpaid, prepaid):
        booking.refresh_from_db()
        assert booking.status == BookingStatus.CANCELED and not booking.refund_due
        assert "refund_due" not in booking.events.get(kind=BookingEventKind.CANCELED).data
    assert b"refund it in Stripe" not in response.content
    listed = logged_in(agent).get("/console/bookings/?refund_due=on").content
    assert unpaid.confirmation_code.encode() not in listed and prepaid.confirmation_code.encode() not in listed


def test_the_catalogue_form_sets_the_payment_mode(owner, service):
    # when
    logged_in(owner).post(
        "/console/bookings/services/new/",
        {
            "name": "Colour",
            "duration_minutes": 60,
            "buffer_minutes": 0,
            "slot_step_minutes": 30,
            "price": "80",
            "currency": "eur",
            "payment": "on_arrival",
            "active": "on",
        },
    )
    # then
    colour = Service.objects.get(name="Colour")
    assert colour.payment == PaymentMode.ON_ARRIVAL
    # an edit without the field (or with it empty) keeps the mode
    logged_in(owner).post(
        f"/console/bookings/services/{colour.pk}/",
        {
            **{f: getattr(colour, f) for f in ("name", "buffer_minutes", "slot_step_minutes", "currency")},
            "price": "80.00",
            "duration_minutes": 45,
            "payment": "",
        },
    )
    colour.refresh_from_db()
    assert colour.duration_minutes == 45 and colour.payment == PaymentMode.ON_ARRIVAL
    page = logged_in(owner).get("/console/bookings/services/new/").content.decode()
    assert 'name="payment"' in page and "at the venue" in page


def test_the_admin_shows_the_payment_mode(owner, at_desk):
    client = logged_in(owner)
    assert b"On arrival" in client.get("/admin/bookings/service/").content
    assert b'name="payment"' in client.get(f"/admin/bookings/service/{at_desk.pk}/change/").content


def test_an_online_booking_is_unchanged_by_the_setting(tenant, paid_service, at_desk):
    online = customer_booking(tenant, paid_service, hour=10)
    assert online.hold_expires_at is not None and not online.due_on_arrival
    assert Booking.objects.filter(payment=PaymentMode.ON_ARRIVAL).count() == 0


def _propose_through_the_assistant(tenant: Tenant, conversation: Conversation, service: Service) -> dict[str, Any]:
    start = local(tenant, next_weekday(), 10).strftime("%Y-%m-%dT%H:%M")
    call = ToolCall(
        "c1", "create_booking", {"service_id": service.pk, "start": start, "name": "Ann", "email": "a@x.org"}
    )
    step = run_tool_calls(tenant=tenant, conversation=conversation, ip="", calls=(call,))
    (frame,) = step.frames
    assert "Pay at the venue: 45.00 EUR" in json.loads(step.results[0].content)["summary"]
    return frame


def test_booking_on_arrival_through_a_proposal_end_to_end(
    tenant, owner, at_desk, stripe_api: FakeStripe, django_capture_on_commit_callbacks
):
    # given: the assistant lists the service and proposes it; the frame tells the customer how it is paid
    conversation = conversation_open(tenant=tenant).conversation
    listed = {s["name"]: s for s in actions.list_services(tenant=tenant)}
    assert listed["Haircut"]["payment"] == "on_arrival" and listed["Massage"]["payment"] == "online"
    frame = _propose_through_the_assistant(tenant, conversation, at_desk)
    assert frame["details"]["payment"] == "on_arrival" and frame["details"]["level"] == "T2"
    assert "Pay at the venue: 45.00 EUR" in frame["summary"] and "card" not in frame["summary"]
    # when: the customer confirms
    with django_capture_on_commit_callbacks(execute=True):
        decision = proposals.proposal_execute(tenant=tenant, conversation=conversation, public_id=frame["proposal_id"])
    # then: booked and confirmed with no payment link, Stripe never called
    booking = Booking.objects.get()
    assert decision.result["booking_status"] == "confirmed" and decision.result["payment"] == "on_arrival"
    assert decision.result["checkout_url"] == "" and decision.result["hold_expires_at"] is None
    assert booking.status == BookingStatus.CONFIRMED and booking.due_on_arrival
    assert stripe_api.seen == []
    # and the confirmation tells the customer what to pay at the venue (text and HTML)
    (confirmation,) = [m for m in mail.outbox if m.subject.endswith("is confirmed")]
    assert isinstance(confirmation, EmailMultiAlternatives)
    assert "Pay at the venue: 45.00 EUR" in confirmation.body
    assert "Pay at the venue: 45.00 EUR" in str(confirmation.alternatives[0][0])
    assert "at the venue" not in next(m.body for m in mail.outbox if m.subject.startswith("New booking"))


def test_the_confirmation_of_an_online_booking_says_nothing_about_paying_at_the_venue(tenant, owner, service):
    booking = customer_booking(tenant, service)
    message = build_message(booking, notifications.CONFIRMATION)
    assert message is not None and "venue" not in message.body


def test_a_payment_mode_changed_after_the_proposal_books_nothing(tenant, at_desk):
    # given
    conversation = conversation_open(tenant=tenant).conversation
    frame = _propose_through_the_assistant(tenant, conversation, at_desk)
    # when: the business switches the service to online payment before the customer confirms
    Service.objects.filter(pk=at_desk.pk).update(payment=PaymentMode.ONLINE)
    decision = proposals.proposal_execute(tenant=tenant, conversation=conversation, public_id=frame["proposal_id"])
    # then
    assert decision.result["error"] == "changed" and Booking.objects.count() == 0


def test_the_console_shows_what_is_to_pay_on_arrival_and_staff_record_the_payment(
    tenant, agent, at_desk, django_capture_on_commit_callbacks
):
    # given
    booking = customer_booking(tenant, at_desk)
    client = logged_in(agent)
    assert "to pay on arrival" in client.get("/console/bookings/").content.decode()
    page = client.get(f"/console/bookings/{booking.pk}/").content.decode()
    assert "45.00 EUR to pay on arrival" in page and f"/console/bookings/{booking.pk}/paid/" in page
    mail.outbox.clear()
    # when: the customer pays at the desk
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/console/bookings/{booking.pk}/paid/", follow=True)
    # then: paid by staff, still confirmed; the customer gets the receipt only, not a second confirmation
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED and booking.paid_at is not None
    assert [(e.kind, e.actor) for e in booking.events.all()] == [("created", "customer"), ("paid", "staff:bob")]
    assert [m.subject for m in mail.outbox] == [f"Payment received for booking {booking.confirmation_code}"]
    page = response.content.decode()
    assert "Payment of 45.00 EUR recorded" in page and "to pay on arrival" not in page
    assert f"/console/bookings/{booking.pk}/paid/" not in page


def test_recording_a_payment_is_refused_for_an_online_booking_and_for_analysts(
    tenant, agent, analyst, at_desk, paid_service
):
    online = customer_booking(tenant, paid_service, hour=10)
    at_venue = customer_booking(tenant, at_desk, hour=12)
    response = logged_in(agent).post(f"/console/bookings/{online.pk}/paid/", follow=True)
    assert services.NOT_PAYABLE_ON_ARRIVAL in response.content.decode()
    assert logged_in(analyst).post(f"/console/bookings/{at_venue.pk}/paid/").status_code == 403
    assert logged_in(agent).get(f"/console/bookings/{at_venue.pk}/paid/").status_code == 405
    assert not Booking.objects.filter(paid_at__isnull=False).exists()


def test_staff_cannot_record_a_payment_for_another_tenants_booking(tenant, other_tenant, agent, outsider, at_desk):
    # given: an on-arrival booking of tenant; outsider is staff of other_tenant
    booking = customer_booking(tenant, at_desk)
    # when
    response = logged_in(outsider).post(f"/console/bookings/{booking.pk}/paid/")
    # then: not found, nothing recorded, and the service refuses the wrong tenant too
    assert response.status_code == 404
    with pytest.raises(services.BookingError) as refused:
        services.booking_record_payment(tenant=other_tenant, booking=booking, actor=Actor.staff(outsider))
    assert refused.value.code == services.NOT_FOUND
    booking.refresh_from_db()
    assert booking.paid_at is None and list(booking.events.values_list("kind", flat=True)) == ["created"]


@pytest.fixture
def no_online_payment(settings) -> None:
    """Neither Stripe nor the test-mode checkout: a production without STRIPE_SECRET_KEY."""
    settings.STRIPE_SECRET_KEY, settings.BOOKINGS_TEST_CHECKOUT = "", False


def test_without_online_payment_a_service_paid_online_cannot_be_proposed(
    tenant, service, paid_service, at_desk, no_online_payment
):
    conversation = conversation_open(tenant=tenant).conversation
    start = local(tenant, next_weekday(), 10)
    with pytest.raises(services.BookingError) as refused:
        proposals.booking_propose_book(
            tenant=tenant, conversation=conversation, service_id=paid_service.pk, start=start, name="A", email="a@x.org"
        )
    assert refused.value.code == proposals.PAYMENT_UNAVAILABLE and "contact" in refused.value.message
    # the widget's Book form gets the same message as an `unavailable` error frame
    start_local = start.strftime("%Y-%m-%dT%H:%M")
    frame = ProposeBooking(service_id=paid_service.pk, start=start_local, name="A", email="a@x.org", notes="")
    with pytest.raises(ProtocolError) as error:
        handle_booking_frame(tenant=tenant, conversation=conversation, command=frame, ip="")
    assert error.value.code == ErrorCode.UNAVAILABLE and error.value.message == proposals.NO_ONLINE_PAYMENT
    # paid at the venue and free services are still bookable
    for bookable in (at_desk, service):
        proposals.booking_propose_book(
            tenant=tenant, conversation=conversation, service_id=bookable.pk, start=start, name="A", email="a@x.org"
        )


def test_a_proposal_confirmed_after_online_payment_went_away_books_nothing(tenant, paid_service, settings):
    # given: proposed while the test-mode checkout was on
    settings.STRIPE_SECRET_KEY, settings.BOOKINGS_TEST_CHECKOUT = "", True
    conversation = conversation_open(tenant=tenant).conversation
    proposal = proposals.booking_propose_book(
        tenant=tenant,
        conversation=conversation,
        service_id=paid_service.pk,
        start=local(tenant, next_weekday(), 10),
        name="A",
        email="a@x.org",
    )
    # when: confirmed after it was turned off
    settings.BOOKINGS_TEST_CHECKOUT = False
    decision = proposals.proposal_execute(tenant=tenant, conversation=conversation, public_id=str(proposal.public_id))
    # then: a clear failure, no booking left waiting for a payment that cannot be made
    assert decision.result["error"] == proposals.PAYMENT_UNAVAILABLE and Booking.objects.count() == 0


def test_saving_a_service_paid_online_warns_when_online_payment_is_not_set_up(owner, service, no_online_payment):
    form = {"name": "Peel", "duration_minutes": 30, "buffer_minutes": 0, "slot_step_minutes": 30, "currency": "eur"}
    client = logged_in(owner)
    online = client.post("/console/bookings/services/new/", {**form, "price": "1", "payment": "online"}, follow=True)
    assert "online payment is not set up" in online.content.decode()
    desk = client.post(
        "/console/bookings/services/new/",
        {**form, "name": "Mask", "price": "1", "payment": "on_arrival"},
        follow=True,
    )
    assert "online payment is not set up" not in desk.content.decode()


def test_a_canceled_or_missed_booking_is_not_shown_as_to_pay_on_arrival(
    tenant, agent, outsider, at_desk, django_capture_on_commit_callbacks
):
    # given: bookings paid on arrival, unpaid: one confirmed, one the customer canceled, one they missed
    confirmed = customer_booking(tenant, at_desk, hour=10)
    canceled = services.booking_cancel(
        tenant=tenant, booking=customer_booking(tenant, at_desk, hour=12), actor=CUSTOMER
    )
    missed = customer_booking(tenant, at_desk, hour=14)
    with at(local(tenant, next_weekday(), 16)):
        no_shows.booking_mark_no_show(tenant=tenant, booking=missed, actor=Actor.staff(agent))
    # when staff read the list and the pages
    client = logged_in(agent)
    listed = client.get("/console/bookings/").content.decode()
    pages = {b.pk: client.get(f"/console/bookings/{b.pk}/").content.decode() for b in (confirmed, canceled, missed)}
    # then only the confirmed one still has something to pay at the venue (and a payment to record)
    paid_column = {b.pk: marked_text(listed, f"paid-{b.pk}") for b in (confirmed, canceled, missed)}
    assert paid_column == {confirmed.pk: "to pay on arrival", canceled.pk: "—", missed.pk: "—"}
    assert "45.00 EUR to pay on arrival" in pages[confirmed.pk]
    for booking in (canceled, missed):
        assert "to pay on arrival" not in pages[booking.pk]
        assert f"/console/bookings/{booking.pk}/paid/" not in pages[booking.pk]
    # and another tenant's staff see none of them
    assert confirmed.confirmation_code not in logged_in(outsider).get("/console/bookings/").content.decode()
