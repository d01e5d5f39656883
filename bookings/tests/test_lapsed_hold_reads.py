"""A booking whose unpaid hold ran out reads released everywhere at once (the widget's look-up, the
assistant's tool and customer context, the console), not "held until paid" until housekeeping
releases it minutes later."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bookings.assistant import run_tool_calls
from bookings.customer_context import booking_lines
from bookings.housekeeping import run_housekeeping
from bookings.models import HOLD_EXPIRED_REASON, Booking, BookingStatus, Service
from bookings.protocol import Lookup
from bookings.tests.conftest import at, customer_booking, logged_in, marked_text
from bookings.widget import handle_booking_frame
from chat.models import Conversation
from chat.protocol import ErrorCode, ProtocolError
from chat.services import conversation_open
from routing.contracts import ToolCall
from supportai.models import Tenant
from supportai.tests.factories import EndUserFactory

pytestmark = pytest.mark.django_db
EMAIL = "ann@example.org"
LINK = "https://checkout.stripe.com/c/pay/cs_test_lapsed"


@pytest.fixture
def held(tenant: Tenant, paid_service: Service) -> Booking:
    """Held until paid online, with its payment link."""
    booking = customer_booking(tenant, paid_service, email=EMAIL)
    Booking.objects.filter(pk=booking.pk).update(checkout_url=LINK)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING and booking.hold_expires_at is not None
    return booking


@pytest.fixture
def conversation(tenant: Tenant) -> Conversation:
    return conversation_open(tenant=tenant).conversation


def _detail(tenant: Tenant, conversation: Conversation, booking: Booking) -> dict:
    frames = handle_booking_frame(
        tenant=tenant, conversation=conversation, command=Lookup(code=booking.confirmation_code, email=EMAIL), ip=""
    )
    return frames[0]["booking"]


def _tool(tenant: Tenant, conversation: Conversation, booking: Booking) -> dict:
    call = ToolCall("call-get", "get_booking", {"confirmation_code": booking.confirmation_code, "email": EMAIL})
    return json.loads(run_tool_calls(tenant=tenant, conversation=conversation, ip="", calls=(call,)).results[0].content)


def test_a_hold_that_lasts_still_reads_held_until_paid(tenant, conversation, held):
    with at(held.hold_expires_at - timedelta(seconds=30)):
        detail = _detail(tenant, conversation, held)
    assert (detail["status"], detail["payment_status"], detail["checkout_url"]) == ("pending", "awaiting_payment", LINK)
    assert detail["hold_expired"] is False


def test_a_hold_just_run_out_reads_released_before_housekeeping(tenant, conversation, held, owner):
    # given: the hold ran out 30 seconds ago; housekeeping has not released it yet
    with at(held.hold_expires_at + timedelta(seconds=30)):
        # when: the customer looks it up in the widget, the assistant looks it up, staff open it
        detail = _detail(tenant, conversation, held)
        tool = _tool(tenant, conversation, held)
        customer = EndUserFactory.create(tenant=tenant, email=EMAIL)
        lines = booking_lines(tenant, customer, conversation)
        page = logged_in(owner).get(f"/console/bookings/{held.pk}/").content.decode()
    # then: all of them read it released for want of payment, with no link to pay and no change to offer
    assert detail == tool
    assert (detail["status"], detail["hold_expired"]) == ("canceled", True)
    assert (detail["payment_status"], detail["checkout_url"]) == ("unpaid", "")
    assert held.confirmation_code in lines[1] and "canceled (not paid in time" in lines[1]
    assert "pending" not in lines[1]
    assert marked_text(page, "status") == f"Canceled — {HOLD_EXPIRED_REASON}"
    assert 'data-testid="payment"' not in page and "Cancel booking" not in page
    assert Booking.objects.get(pk=held.pk).status == BookingStatus.PENDING  # the read changed nothing


def test_a_lapsed_hold_reads_as_the_released_one_it_becomes(tenant, conversation, held):
    with at(held.hold_expires_at + timedelta(seconds=30)):
        before = _detail(tenant, conversation, held)
    with at(held.hold_expires_at + timedelta(minutes=5)):
        run_housekeeping()
        after = _detail(tenant, conversation, held)
    assert Booking.objects.get(pk=held.pk).hold_expired
    assert before == after


def test_another_tenant_cannot_read_a_lapsed_hold(tenant, other_tenant, held, outsider):
    other_conversation = conversation_open(tenant=other_tenant).conversation
    with at(held.hold_expires_at + timedelta(seconds=30)):
        with pytest.raises(ProtocolError) as caught:
            _detail(other_tenant, other_conversation, held)
        tool = _tool(other_tenant, other_conversation, held)
        stranger = EndUserFactory.create(tenant=other_tenant, email=EMAIL)
        lines = booking_lines(other_tenant, stranger, other_conversation)
        response = logged_in(outsider).get(f"/console/bookings/{held.pk}/")
    assert caught.value.code == ErrorCode.NOT_FOUND
    assert "error" in tool and held.confirmation_code not in json.dumps(tool)
    assert lines == []
    assert response.status_code == 404
