"""BOOK proposals stored before the terms were added (no price/currency/length in the payload) still book;
a term that is present must still agree."""

from __future__ import annotations

import pytest

from bookings import proposals, services
from bookings.models import Booking, BookingStatus, Proposal, ProposalStatus, Service
from bookings.tests.conftest import local, next_weekday
from chat.models import Conversation
from chat.services import conversation_open
from supportai.models import Tenant

pytestmark = pytest.mark.django_db
TERMS = ("price_cents", "currency", "duration_minutes")


@pytest.fixture
def conversation(tenant: Tenant) -> Conversation:
    return conversation_open(tenant=tenant).conversation


def _legacy(tenant: Tenant, conversation: Conversation, service: Service, *, keep: tuple[str, ...] = ()) -> Proposal:
    """A pending BOOK proposal whose payload has none of the terms but ``keep`` (as before the deploy)."""
    proposal = proposals.booking_propose_book(
        tenant=tenant,
        conversation=conversation,
        service_id=service.pk,
        start=local(tenant, next_weekday(2), 10),
        name="Pat",
        email="pat@x.org",
    )
    payload = {k: v for k, v in proposal.payload.items() if k not in TERMS or k in keep}
    Proposal.objects.filter(pk=proposal.pk).update(payload=payload)
    proposal.refresh_from_db()
    return proposal


def _confirm(tenant: Tenant, conversation: Conversation, proposal: Proposal) -> proposals.Decision:
    return proposals.proposal_execute(tenant=tenant, conversation=conversation, public_id=str(proposal.public_id))


def test_a_proposal_without_terms_books_on_the_services_terms(tenant, conversation, paid_service):
    # given: a paid BOOK proposal pending since before the terms were stored
    proposal = _legacy(tenant, conversation, paid_service)
    # when
    decision = _confirm(tenant, conversation, proposal)
    # then: booked (nothing to disagree with), at the service's price
    assert decision.status == ProposalStatus.EXECUTED
    booking = Booking.objects.get()
    assert booking.status == BookingStatus.PENDING
    assert (booking.price_cents, booking.currency) == (9500, "eur")


def test_a_term_that_is_present_must_still_agree(tenant, conversation, paid_service):
    # given: a payload with only the price, which then changed
    proposal = _legacy(tenant, conversation, paid_service, keep=("price_cents",))
    Service.objects.filter(pk=paid_service.pk).update(price_cents=12000)
    # when
    decision = _confirm(tenant, conversation, proposal)
    # then
    assert decision.status == ProposalStatus.FAILED
    assert decision.result == {"error": services.CHANGED, "message": proposals.DETAILS_CHANGED}
    assert Booking.objects.count() == 0


def test_a_present_term_that_agrees_books(tenant, conversation, paid_service):
    proposal = _legacy(tenant, conversation, paid_service, keep=("duration_minutes",))
    Service.objects.filter(pk=paid_service.pk).update(price_cents=12000)  # price not in the payload: not compared
    assert _confirm(tenant, conversation, proposal).status == ProposalStatus.EXECUTED
    assert Booking.objects.get().price_cents == 12000


def test_another_tenants_conversation_cannot_confirm_a_legacy_proposal(
    tenant, other_tenant, conversation, paid_service
):
    proposal = _legacy(tenant, conversation, paid_service)
    theirs = conversation_open(tenant=other_tenant).conversation
    with pytest.raises(services.BookingError) as caught:
        _confirm(other_tenant, theirs, proposal)
    assert caught.value.code == services.NOT_FOUND
    assert Booking.objects.count() == 0
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.PENDING
