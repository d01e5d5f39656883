"""Real threads on real connections to the real PostgreSQL: the last slot is booked exactly once."""

from __future__ import annotations

import pytest

from bookings import proposals
from bookings.benchmarks import race
from bookings.models import Booking, BookingStatus, Proposal, ProposalStatus
from bookings.phrases import BookingText
from bookings.services import SLOT_TAKEN, SLOT_UNAVAILABLE
from bookings.tests.conftest import local, next_weekday
from bookings.tests.factories import ServiceFactory
from chat.services import conversation_open

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
RACERS = 50


def _proposal(tenant, service, start, index):
    conversation = conversation_open(tenant=tenant).conversation
    proposal = proposals.booking_propose_book(
        tenant=tenant, conversation=conversation, service_id=service.pk, start=start, name="R", email=f"r{index}@x.org"
    )
    return conversation, str(proposal.public_id)


def _confirm_all(tenant, prepared):
    def confirm(index):
        conversation, public_id = prepared[index]
        return proposals.proposal_execute(tenant=tenant, conversation=conversation, public_id=public_id).status

    return race(len(prepared), confirm)


def _assert_one_won_and_the_rest_were_told_the_slot_is_taken(outcomes):
    """Exactly one booking; every other racer failed cleanly with the slot-taken BookingError."""
    assert not [o for o in outcomes if isinstance(o, BaseException)]
    assert outcomes.count(ProposalStatus.EXECUTED) == 1
    assert outcomes.count(ProposalStatus.FAILED) == len(outcomes) - 1
    failed = Proposal.objects.filter(status=ProposalStatus.FAILED)
    # the result keeps its sentence, to be said in each customer's language (proposals.decision_frame)
    said = {"text": BookingText.SLOT_TAKEN, "params": {}}
    taken = {"error": SLOT_UNAVAILABLE, "message": SLOT_TAKEN, "field": "start", proposals.SENTENCE: said}
    assert [p.result for p in failed] == [taken] * (len(outcomes) - 1)
    assert Booking.objects.count() == 1


def test_fifty_customers_race_for_the_last_slot(tenant, service):
    # given: 50 conversations each holding a proposal for the same 10:00 slot (capacity 1)
    start = local(tenant, next_weekday(2), 10)
    prepared = [_proposal(tenant, service, start, i) for i in range(RACERS)]
    # when: all confirm at the same instant, each on its own connection
    outcomes = _confirm_all(tenant, prepared)
    # then
    _assert_one_won_and_the_rest_were_told_the_slot_is_taken(outcomes)
    assert Booking.objects.filter(status=BookingStatus.CONFIRMED).count() == 1


def test_overlapping_services_in_one_pool_race(tenant, service):
    facial = ServiceFactory.create(tenant=tenant, name="Facial", duration_minutes=30, slot_step_minutes=30)
    day = next_weekday(3)
    prepared = [
        _proposal(tenant, service, local(tenant, day, 10), i)
        if i % 2
        else _proposal(tenant, facial, local(tenant, day, 10, 30), i)
        for i in range(RACERS)
    ]
    outcomes = _confirm_all(tenant, prepared)
    _assert_one_won_and_the_rest_were_told_the_slot_is_taken(outcomes)


def test_one_proposal_confirmed_fifty_times_books_once(tenant, service):
    conversation, public_id = _proposal(tenant, service, local(tenant, next_weekday(4), 11), 0)
    outcomes = _confirm_all(tenant, [(conversation, public_id)] * RACERS)
    assert outcomes == [ProposalStatus.EXECUTED] * RACERS
    assert Booking.objects.count() == 1
