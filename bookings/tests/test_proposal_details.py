"""A booking proposal is executed on the terms the customer saw: price, currency and length."""

from __future__ import annotations

import pytest

from bookings import proposals, services
from bookings.models import Booking, ProposalStatus, Service
from bookings.tests.conftest import local, next_weekday
from chat.services import conversation_open

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(tenant):
    return conversation_open(tenant=tenant).conversation


def _propose(tenant, conversation, service):
    return proposals.booking_propose_book(
        tenant=tenant,
        conversation=conversation,
        service_id=service.pk,
        start=local(tenant, next_weekday(2), 10),
        name="Pat",
        email="pat@x.org",
    )


def _confirm(tenant, conversation, proposal):
    return proposals.proposal_execute(tenant=tenant, conversation=conversation, public_id=str(proposal.public_id))


def test_the_proposal_keeps_the_terms_it_showed(tenant, conversation, paid_service):
    proposal = _propose(tenant, conversation, paid_service)
    terms = {"price_cents": 9500, "currency": "eur", "duration_minutes": 60}
    assert "95.00 EUR" in proposal.summary
    assert {k: proposal.payload[k] for k in terms} == terms
    details = proposals.proposal_frame(proposal)["details"]
    assert {k: details[k] for k in terms} == terms


@pytest.mark.parametrize(
    "change", [{"price_cents": 12000}, {"currency": "usd"}, {"duration_minutes": 90}], ids=lambda c: next(iter(c))
)
def test_confirming_after_the_service_changed_fails_and_asks_again(tenant, conversation, paid_service, change):
    # given: the customer saw 95.00 EUR for 60 minutes
    proposal = _propose(tenant, conversation, paid_service)
    # when: staff change the service before the customer confirms
    Service.objects.filter(pk=paid_service.pk).update(**change)
    decision = _confirm(tenant, conversation, proposal)
    # then: nothing is booked (or charged) on terms the customer did not see
    assert decision.status == ProposalStatus.FAILED
    assert decision.result == {"error": services.CHANGED, "message": proposals.DETAILS_CHANGED}
    assert Booking.objects.count() == 0
    # and proposing again shows the new terms in a fresh proposal
    fresh = _propose(tenant, conversation, Service.objects.get(pk=paid_service.pk))
    assert fresh.pk != proposal.pk and _confirm(tenant, conversation, fresh).status == ProposalStatus.EXECUTED


def test_unchanged_terms_book_at_the_proposed_price(tenant, conversation, paid_service):
    decision = _confirm(tenant, conversation, _propose(tenant, conversation, paid_service))
    assert decision.status == ProposalStatus.EXECUTED
    booking = Booking.objects.get()
    assert (booking.price_cents, booking.currency) == (9500, "eur")


def test_another_tenant_cannot_confirm_it(tenant, other_tenant, conversation, paid_service):
    proposal = _propose(tenant, conversation, paid_service)
    theirs = conversation_open(tenant=other_tenant).conversation
    with pytest.raises(services.BookingError) as caught:
        _confirm(other_tenant, theirs, proposal)
    assert caught.value.code == services.NOT_FOUND and Booking.objects.count() == 0


def test_a_service_deleted_while_proposed_fails_the_proposal_cleanly(tenant, conversation, paid_service):
    proposal = _propose(tenant, conversation, paid_service)
    paid_service.delete()
    decision = _confirm(tenant, conversation, proposal)
    assert decision.status == ProposalStatus.FAILED
    assert decision.result == {
        "error": services.NOT_FOUND,
        "message": services.SERVICE_NOT_FOUND,
        "field": "service_id",
    }
    assert Booking.objects.count() == 0


@pytest.mark.parametrize("action", ["cancel", "reschedule"])
def test_a_booking_deleted_while_proposed_fails_the_proposal_cleanly(tenant, conversation, service, action):
    booking = services.booking_create(
        tenant=tenant,
        service=service,
        start=local(tenant, next_weekday(2), 10),
        name="Pat",
        email="pat@x.org",
        actor=services.CUSTOMER,
    )
    owner = {"tenant": tenant, "conversation": conversation, "code": booking.confirmation_code, "email": "pat@x.org"}
    if action == "cancel":
        proposal = proposals.booking_propose_cancel(**owner)
    else:
        proposal = proposals.booking_propose_reschedule(**owner, start=local(tenant, next_weekday(2), 14))
    booking.delete()
    decision = _confirm(tenant, conversation, proposal)
    assert decision.status == ProposalStatus.FAILED
    assert decision.result == {"error": services.NOT_FOUND, "message": services.GENERIC_NOT_FOUND}
