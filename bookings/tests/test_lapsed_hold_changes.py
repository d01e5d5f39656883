"""A booking whose unpaid hold ran out cannot be canceled or rescheduled from the chat, not even before
housekeeping releases it: the assistant's tools propose nothing and a proposal made while the hold
lasted fails when confirmed, with the widget's words (the time was released; book again)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import Client

from bookings import proposals
from bookings.assistant import run_tool_calls
from bookings.housekeeping import run_housekeeping
from bookings.models import Booking, BookingEvent, BookingEventKind, BookingStatus, Proposal, Service
from bookings.services import GENERIC_NOT_FOUND, HOLD_RAN_OUT
from bookings.tests.conftest import at, customer_booking
from chat.models import Conversation
from chat.services import OpenedConversation, conversation_open
from chat.tests.urls_under_test import CONFIRM
from routing.contracts import ToolCall
from supportai.models import Tenant

pytestmark = pytest.mark.django_db
EMAIL = "ann@example.org"
ORIGIN = "https://alpha.example.com"
OTHER_ORIGIN = "https://bravo.example.com"


@pytest.fixture
def held(tenant: Tenant, paid_service: Service) -> Booking:
    """Held until paid online (its hold runs out in ``hold_minutes``)."""
    booking = customer_booking(tenant, paid_service, email=EMAIL)
    assert booking.status == BookingStatus.PENDING and booking.hold_expires_at is not None
    return booking


@pytest.fixture
def opened(tenant: Tenant) -> OpenedConversation:
    return conversation_open(tenant=tenant, origin=ORIGIN, channel="api")


def _later(booking: Booking) -> str:
    """A free time four hours after the booking, as the reschedule tool takes it (tenant's local time)."""
    moved = booking.start_at + timedelta(hours=4)
    return moved.astimezone(ZoneInfo(booking.tenant.timezone)).strftime("%Y-%m-%dT%H:%M")


def _tools(tenant: Tenant, conversation: Conversation, booking: Booking) -> list[dict[str, Any]]:
    """The results of the assistant's cancel_booking and reschedule_booking for ``booking``."""
    code = booking.confirmation_code
    calls = (
        ToolCall("call-cancel", "cancel_booking", {"confirmation_code": code, "email": EMAIL}),
        ToolCall(
            "call-move", "reschedule_booking", {"confirmation_code": code, "email": EMAIL, "new_start": _later(booking)}
        ),
    )
    step = run_tool_calls(tenant=tenant, conversation=conversation, ip="", calls=calls)
    return [json.loads(result.content) for result in step.results]


def _confirm(
    tenant: Tenant, opened: OpenedConversation, proposal: Proposal, origin: str = ORIGIN
) -> tuple[int, dict[str, Any]]:
    body = {"key": tenant.public_key, "resume_token": opened.resume_token, "proposal_id": str(proposal.public_id)}
    response = Client().post(CONFIRM, json.dumps(body), content_type="application/json", headers={"origin": origin})
    return response.status_code, response.json()


def _unchanged(booking: Booking) -> None:
    stored = Booking.objects.get(pk=booking.pk)
    assert (stored.status, stored.start_at, stored.cancel_reason) == (BookingStatus.PENDING, booking.start_at, "")
    changes = (BookingEventKind.CANCELED, BookingEventKind.RESCHEDULED)
    assert not BookingEvent.objects.filter(booking=booking, kind__in=changes).exists()


def test_a_lasting_hold_can_still_be_changed_from_the_chat(tenant, opened, held):
    with at(held.hold_expires_at - timedelta(seconds=30)):
        results = _tools(tenant, opened.conversation, held)
    assert [result.get("status") for result in results] == ["awaiting_customer_confirmation"] * 2


def test_the_assistant_proposes_no_change_to_a_hold_just_run_out(tenant, opened, held):
    # given: the hold ran out 30 seconds ago; housekeeping has not released it yet
    with at(held.hold_expires_at + timedelta(seconds=30)):
        # when: the assistant asks to cancel it, and to move it
        results = _tools(tenant, opened.conversation, held)
    # then: both are refused with the widget's words, and nothing is proposed
    assert results == [{"error": HOLD_RAN_OUT}, {"error": HOLD_RAN_OUT}]
    assert not Proposal.objects.exists()
    _unchanged(held)


def test_the_assistant_proposes_no_change_to_a_released_hold(tenant, opened, held):
    with at(held.hold_expires_at + timedelta(minutes=5)):
        run_housekeeping()
        results = _tools(tenant, opened.conversation, held)
    assert Booking.objects.get(pk=held.pk).hold_expired
    assert results == [{"error": HOLD_RAN_OUT}, {"error": HOLD_RAN_OUT}]
    assert not Proposal.objects.exists()


def test_a_change_proposed_while_the_hold_lasted_fails_when_confirmed_after_it_ran_out(tenant, opened, held):
    # given: a cancel and a move proposed a minute before the hold ran out
    with at(held.hold_expires_at - timedelta(minutes=1)):
        cancel = proposals.booking_propose_cancel(
            tenant=tenant, conversation=opened.conversation, code=held.confirmation_code, email=EMAIL
        )
        move = proposals.booking_propose_reschedule(
            tenant=tenant,
            conversation=opened.conversation,
            code=held.confirmation_code,
            email=EMAIL,
            start=held.start_at + timedelta(hours=4),
        )
    mail.outbox.clear()
    # when: the customer confirms each 30 seconds after the hold ran out (both are still open)
    with at(held.hold_expires_at + timedelta(seconds=30)):
        answers = [_confirm(tenant, opened, cancel), _confirm(tenant, opened, move)]
    # then: both fail with the widget's words; the booking is neither canceled nor moved, nobody is emailed
    for (status, frame), proposal in zip(answers, (cancel, move), strict=True):
        assert status == 200
        assert (frame["status"], frame["error"], frame["message"]) == ("failed", "not_changeable", HOLD_RAN_OUT)
        assert frame["proposal_id"] == str(proposal.public_id)
    _unchanged(held)
    assert mail.outbox == []


def test_another_tenant_can_neither_propose_nor_confirm_a_change_to_a_lapsed_hold(tenant, other_tenant, opened, held):
    with at(held.hold_expires_at - timedelta(minutes=1)):
        cancel = proposals.booking_propose_cancel(
            tenant=tenant, conversation=opened.conversation, code=held.confirmation_code, email=EMAIL
        )
    stranger = conversation_open(tenant=other_tenant, origin=OTHER_ORIGIN, channel="api")
    with at(held.hold_expires_at + timedelta(seconds=30)):
        # the other tenant's assistant, given the code and email, finds no booking (and learns nothing of its hold)
        results = _tools(other_tenant, stranger.conversation, held)
        # the other tenant's conversation cannot confirm this tenant's proposal
        status, frame = _confirm(other_tenant, stranger, cancel, OTHER_ORIGIN)
    assert results == [{"error": GENERIC_NOT_FOUND}, {"error": GENERIC_NOT_FOUND}]
    assert status == 404 and frame.get("status") is None
    assert Proposal.objects.get(pk=cancel.pk).status == "pending"
    _unchanged(held)
