"""What the widget's booking frames say about paying: the proposal's price, the result's price, and the
``booking.detail`` payment state with its payment link, which only the booking's own customer gets."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from bookings import actions, proposals, refund_records, services
from bookings.assistant import run_tool_calls
from bookings.models import Booking
from bookings.tests.conftest import at, customer_booking, local, next_weekday
from chat.models import Conversation
from chat.services import conversation_open
from routing.contracts import ToolCall
from supportai.models import Tenant

pytestmark = pytest.mark.django_db
IP = "203.0.113.9"


@pytest.fixture
def conversation(tenant: Tenant) -> Conversation:
    return conversation_open(tenant=tenant).conversation


@pytest.fixture(autouse=True)
def _test_checkout(settings) -> None:
    settings.STRIPE_SECRET_KEY = ""
    settings.BOOKINGS_TEST_CHECKOUT = True


def _detail(tenant: Tenant, conversation: Conversation, booking: Booking, email: str = "") -> dict:
    return actions.lookup(
        tenant=tenant,
        conversation=conversation,
        ip=IP,
        code=booking.confirmation_code,
        email=email or booking.customer_email,
    )


def test_the_proposal_and_its_result_carry_the_price_to_show(tenant, conversation, at_desk):
    # given a proposal for a service paid at the venue
    proposal = proposals.booking_propose_book(
        tenant=tenant,
        conversation=conversation,
        service_id=at_desk.pk,
        start=local(tenant, next_weekday(2), 10),
        name="Pat",
        email="pat@x.org",
    )
    # then its frame and the result of confirming it say what is paid there, and how
    details = proposals.proposal_frame(proposal)["details"]
    assert (details["payment"], details["price_cents"], details["price"]) == ("on_arrival", 4500, "45.00 EUR")
    decision = proposals.proposal_execute(tenant=tenant, conversation=conversation, public_id=str(proposal.public_id))
    result = proposals.decision_frame(decision)
    assert (result["payment"], result["price_cents"], result["price"]) == ("on_arrival", 4500, "45.00 EUR")


def test_a_proposal_without_its_terms_shows_no_price(tenant, conversation, paid_service):
    # given a proposal stored before the terms were (no price in its payload)
    proposal = proposals.booking_propose_book(
        tenant=tenant,
        conversation=conversation,
        service_id=paid_service.pk,
        start=local(tenant, next_weekday(2), 10),
        name="Pat",
        email="pat@x.org",
    )
    proposal.payload = {k: v for k, v in proposal.payload.items() if k not in ("price_cents", "currency")}
    # then the frame claims no price
    assert "price" not in proposals.proposal_frame(proposal)["details"]


def test_the_detail_says_how_each_booking_is_paid(tenant, conversation, service, paid_service, at_desk):
    # given a free, a held, a paid, an on-arrival and canceled unpaid ones
    free = customer_booking(tenant, service, hour=9)
    held = customer_booking(tenant, paid_service, hour=10)
    paid = services.booking_mark_paid(
        booking=customer_booking(tenant, paid_service, hour=12), actor=services.SYSTEM, payment_intent="pi_1"
    )
    desk = customer_booking(tenant, at_desk, hour=14)
    dropped = services.booking_cancel(
        tenant=tenant, booking=customer_booking(tenant, paid_service, hour=16), actor=services.CUSTOMER
    )
    desk_dropped = services.booking_cancel(
        tenant=tenant, booking=customer_booking(tenant, at_desk, hour=11), actor=services.CUSTOMER
    )
    # when each is looked up by its customer
    states = [
        (d["payment_status"], d["price"], bool(d["checkout_url"]))
        for d in (_detail(tenant, conversation, b) for b in (free, held, paid, desk, dropped, desk_dropped))
    ]
    # then
    assert states == [
        ("free", "Free", False),
        ("awaiting_payment", "95.00 EUR", True),
        ("paid", "95.00 EUR", False),
        ("on_arrival", "45.00 EUR", False),
        ("unpaid", "95.00 EUR", False),
        ("unpaid", "45.00 EUR", False),
    ]


def test_a_held_booking_gives_its_customer_the_link_to_pay_again(tenant, conversation, paid_service):
    # given a paid booking held for payment, whose customer closed the checkout tab
    booking = customer_booking(tenant, paid_service)
    detail = _detail(tenant, conversation, booking, email="ANN@example.org")
    # then looking it up gives the same link again (made once, reused)
    assert detail["checkout_url"] and detail["checkout_url"] == Booking.objects.get(pk=booking.pk).checkout_url
    assert _detail(tenant, conversation, booking)["checkout_url"] == detail["checkout_url"]


def test_a_wrong_email_gets_no_link(tenant, conversation, paid_service):
    booking = customer_booking(tenant, paid_service)
    _detail(tenant, conversation, booking)  # the link exists
    with pytest.raises(services.BookingError) as refused:
        _detail(tenant, conversation, booking, email="eve@example.org")
    assert refused.value.code == services.NOT_FOUND


def test_another_tenants_widget_gets_no_link(tenant, other_tenant, conversation, paid_service):
    booking = customer_booking(tenant, paid_service)
    _detail(tenant, conversation, booking)  # the link exists
    theirs = conversation_open(tenant=other_tenant).conversation
    with pytest.raises(services.BookingError) as refused:
        _detail(other_tenant, theirs, booking)
    assert refused.value.code == services.NOT_FOUND


def test_a_hold_that_ran_out_offers_no_link(tenant, conversation, paid_service):
    # given a held booking with its link, whose hold ran out before housekeeping released it
    booking = customer_booking(tenant, paid_service)
    _detail(tenant, conversation, booking)
    # when it is looked up after the hold's end
    with at(timezone.now() + timedelta(minutes=services.hold_minutes() + 1)):
        detail = _detail(tenant, conversation, booking)
    # then no link: a payment now could only be refunded if the slot was taken meanwhile; it reads released
    assert detail["status"] == "canceled" and detail["hold_expired"] and detail["checkout_url"] == ""


def test_the_detail_says_what_of_a_payment_was_refunded(tenant, conversation, paid_service):
    # given paid bookings: one Stripe refunded in part (a goodwill refund), one in full, one not at all
    def paid(hour: int) -> Booking:
        booking = customer_booking(tenant, paid_service, hour=hour)
        return services.booking_mark_paid(booking=booking, actor=services.STRIPE, payment_intent=f"pi_{hour}")

    part = refund_records.booking_mark_refunded(booking=paid(10), actor=services.STRIPE, refunded_cents=1200)
    whole = refund_records.booking_mark_refunded(booking=paid(12), actor=services.STRIPE, refunded_cents=9500)
    kept = paid(14)
    # when each is looked up by its customer, in the widget and by the assistant's get_booking tool
    call = ToolCall("c1", "get_booking", {"confirmation_code": part.confirmation_code, "email": part.customer_email})
    (tool,) = run_tool_calls(tenant=tenant, conversation=conversation, ip=IP, calls=(call,)).results
    states = [
        (d["payment_status"], d["price"], d["refunded"])
        for d in (_detail(tenant, conversation, b) for b in (part, whole, kept))
    ]
    # then each says what was refunded of the price it was paid ("" when nothing was)
    assert states == [
        ("paid", "95.00 EUR", "12.00 EUR"),
        ("refunded", "95.00 EUR", "95.00 EUR"),
        ("paid", "95.00 EUR", ""),
    ]
    assert json.loads(tool.content)["refunded"] == "12.00 EUR"


def test_another_tenants_widget_learns_nothing_of_a_refund(tenant, other_tenant, paid_service):
    booking = services.booking_mark_paid(
        booking=customer_booking(tenant, paid_service), actor=services.STRIPE, payment_intent="pi_1"
    )
    refund_records.booking_mark_refunded(booking=booking, actor=services.STRIPE, refunded_cents=1200)
    theirs = conversation_open(tenant=other_tenant).conversation
    with pytest.raises(services.BookingError) as refused:
        _detail(other_tenant, theirs, booking)
    assert refused.value.code == services.NOT_FOUND
