"""Proposals: nothing changes until confirmed, executing twice returns the first result, ownership."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from bookings import proposals
from bookings.models import Booking, BookingEvent, BookingStatus, Proposal, ProposalStatus
from bookings.services import CUSTOMER, BookingError, booking_create
from bookings.tests.conftest import local, next_weekday
from chat.services import conversation_open

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(tenant):
    return conversation_open(tenant=tenant).conversation


def _propose(tenant, conversation, service, hour=10):
    return proposals.booking_propose_book(
        tenant=tenant,
        conversation=conversation,
        service_id=service.pk,
        start=local(tenant, next_weekday(2), hour),
        name="Ann Lee",
        email="Ann@Example.org",
    )


def test_proposing_changes_nothing(tenant, service, conversation):
    proposal = _propose(tenant, conversation, service)
    assert proposal.status == ProposalStatus.PENDING and proposal.level == "T2"
    assert "Massage" in proposal.summary and "ann@example.org" in proposal.summary
    assert Booking.objects.count() == 0


def test_proposing_the_same_thing_twice_returns_the_open_proposal(tenant, service, conversation):
    assert _propose(tenant, conversation, service).pk == _propose(tenant, conversation, service).pk


def test_execute_books_once_and_repeats_the_first_result(
    tenant, owner, service, conversation, django_capture_on_commit_callbacks
):
    proposal = _propose(tenant, conversation, service)
    with django_capture_on_commit_callbacks(execute=True):
        first = proposals.proposal_execute(tenant=tenant, conversation=conversation, public_id=str(proposal.public_id))
    second = proposals.proposal_execute(tenant=tenant, conversation=conversation, public_id=str(proposal.public_id))
    assert first.status == second.status == ProposalStatus.EXECUTED
    assert first.result == second.result
    booking = Booking.objects.get()
    assert booking.status == BookingStatus.CONFIRMED and booking.confirmation_code == first.result["confirmation_code"]
    assert booking.customer_email == "ann@example.org"
    assert list(BookingEvent.objects.filter(booking=booking).values_list("kind", flat=True)) == ["created"]
    assert sorted(m.subject for m in mail.outbox) == sorted(
        [f"Your booking {booking.confirmation_code} is confirmed", f"New booking {booking.confirmation_code}: Massage"]
    )


def test_slot_taken_meanwhile_fails_cleanly(tenant, service, conversation):
    proposal = _propose(tenant, conversation, service)
    booking_create(
        tenant=tenant,
        service=service,
        start=local(tenant, next_weekday(2), 10),
        name="B",
        email="b@x.org",
        actor=CUSTOMER,
    )
    decision = proposals.proposal_execute(tenant=tenant, conversation=conversation, public_id=str(proposal.public_id))
    assert decision.status == ProposalStatus.FAILED and decision.result["error"] == "slot_unavailable"
    assert Booking.objects.count() == 1


def test_expired_proposal_does_nothing(tenant, service, conversation):
    proposal = _propose(tenant, conversation, service)
    Proposal.objects.filter(pk=proposal.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    decision = proposals.proposal_execute(tenant=tenant, conversation=conversation, public_id=str(proposal.public_id))
    assert decision.status == ProposalStatus.EXPIRED and Booking.objects.count() == 0


def test_rejected_proposal_cannot_be_confirmed_later(tenant, service, conversation):
    proposal = _propose(tenant, conversation, service)
    proposals.proposal_reject(tenant=tenant, conversation=conversation, public_id=str(proposal.public_id))
    decision = proposals.proposal_execute(tenant=tenant, conversation=conversation, public_id=str(proposal.public_id))
    assert decision.status == ProposalStatus.REJECTED and Booking.objects.count() == 0


@pytest.mark.parametrize("who", ["other_conversation", "other_tenant", "garbage"])
def test_someone_elses_proposal_is_not_found(tenant, other_tenant, service, conversation, who):
    proposal = _propose(tenant, conversation, service)
    public_id = "not-a-uuid" if who == "garbage" else str(proposal.public_id)
    thief_tenant = other_tenant if who == "other_tenant" else tenant
    thief = conversation_open(tenant=thief_tenant).conversation
    with pytest.raises(BookingError) as raised:
        proposals.proposal_execute(tenant=thief_tenant, conversation=thief, public_id=public_id)
    assert raised.value.code == "not_found"
    with pytest.raises(BookingError):
        proposals.proposal_reject(tenant=thief_tenant, conversation=thief, public_id=public_id)
    assert Booking.objects.count() == 0
    assert Proposal.objects.get().status == ProposalStatus.PENDING


def _booked(tenant, service):
    return booking_create(
        tenant=tenant,
        service=service,
        start=local(tenant, next_weekday(2), 9),
        name="Ann",
        email="ann@x.org",
        actor=CUSTOMER,
    )


def test_cancel_needs_code_and_email(tenant, service, conversation):
    booking = _booked(tenant, service)
    for code, email in [(booking.confirmation_code, "eve@x.org"), ("BK-XXXXXX", "ann@x.org"), ("", "")]:
        with pytest.raises(BookingError) as raised:
            proposals.booking_propose_cancel(tenant=tenant, conversation=conversation, code=code, email=email)
        assert (
            raised.value.message
            == "We couldn't find a booking with that confirmation code and email. Please check both."
        )
    proposal = proposals.booking_propose_cancel(
        tenant=tenant, conversation=conversation, code=booking.confirmation_code.lower(), email="ANN@x.org"
    )
    assert proposal.level == "T3"
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED  # still: only a proposal so far
    proposals.proposal_execute(tenant=tenant, conversation=conversation, public_id=str(proposal.public_id))
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELED
    assert [e.kind for e in booking.events.all()] == ["created", "canceled"]
    assert booking.events.last().proposal_id == proposal.pk


def test_cancel_code_of_other_tenant_is_not_found(tenant, other_tenant, service, other_service):
    theirs = _booked(other_tenant, other_service)
    conversation = conversation_open(tenant=tenant).conversation
    with pytest.raises(BookingError):
        proposals.booking_propose_cancel(
            tenant=tenant, conversation=conversation, code=theirs.confirmation_code, email="ann@x.org"
        )


def test_reschedule_moves_the_booking(tenant, service, conversation, django_capture_on_commit_callbacks):
    booking = _booked(tenant, service)
    new_start = local(tenant, next_weekday(2), 14)
    proposal = proposals.booking_propose_reschedule(
        tenant=tenant, conversation=conversation, code=booking.confirmation_code, email="ann@x.org", start=new_start
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        decision = proposals.proposal_execute(
            tenant=tenant, conversation=conversation, public_id=str(proposal.public_id)
        )
    booking.refresh_from_db()
    assert decision.status == ProposalStatus.EXECUTED and booking.start_at == new_start
    assert [m.subject for m in mail.outbox] == [f"Your booking {booking.confirmation_code} has a new time"]
    assert mail.outbox[0].attachments[0][0] == f"{booking.confirmation_code}.ics"


def test_frames_carry_the_protocol_fields(tenant, service, conversation):
    proposal = _propose(tenant, conversation, service)
    frame = proposals.proposal_frame(proposal)
    assert set(frame) == {"type", "proposal_id", "action", "summary", "details", "expires_at"}
    decision = proposals.proposal_execute(tenant=tenant, conversation=conversation, public_id=frame["proposal_id"])
    result = proposals.decision_frame(decision)
    assert result["type"] == "proposal.result" and result["status"] == "executed" and result["confirmation_code"]


def test_tenant_notice_goes_to_the_owner(tenant, owner, service, conversation, django_capture_on_commit_callbacks):
    proposal = _propose(tenant, conversation, service)
    with django_capture_on_commit_callbacks(execute=True):
        proposals.proposal_execute(tenant=tenant, conversation=conversation, public_id=str(proposal.public_id))
    notice = next(m for m in mail.outbox if m.subject.startswith("New booking"))
    assert notice.to == [owner.email]
