"""Our database failing in the step after the resume of the public handoff and proposal endpoints (the
handoff itself, the decision) is the protocol's ``unavailable`` error (503), logged: never Django's 500.
The step is one transaction, so a failure leaves nothing half done and the retry does it once."""

from __future__ import annotations

from typing import Any

import pytest

from bookings import proposals
from bookings import services as booking_services
from bookings.models import Booking, BookingStatus, Proposal, ProposalStatus, Service
from bookings.tests.conftest import local, next_weekday, open_every_day
from bookings.tests.factories import ServiceFactory
from chat.models import Conversation
from chat.tests.db_failures import STATEMENT_TIMEOUT, Fail, assert_unavailable, failure_logs, first_turn, post
from chat.tests.urls_under_test import CONFIRM, ESCALATE, REJECT
from escalations import messages as escalation_messages
from escalations.models import Escalation, EscalationEvent
from escalations.tests.conftest import NEVER, set_hours
from supportai.models import Tenant

pytestmark = pytest.mark.django_db(transaction=True)  # the views run their database work on the pool

OTHER_ORIGIN = "https://bravo.example.com"  # other_tenant's


def assert_logged_for(tenant: Tenant, conversation_id: int, caplog: pytest.LogCaptureFixture) -> None:
    [logged] = failure_logs(caplog)
    assert f"tenant {tenant.pk}, conversation {conversation_id}" in logged.getMessage()
    assert logged.exc_info is not None


def decision_body(tenant: Tenant, first: dict[str, Any], price_cents: int = 0) -> dict[str, Any]:
    """A proposal to book a service of ``tenant`` in the conversation of ``first``, as the body deciding it."""
    open_every_day(tenant)
    service: Service = ServiceFactory.create(tenant=tenant, duration_minutes=60, price_cents=price_cents)
    proposal = proposals.booking_propose_book(
        tenant=tenant,
        conversation=Conversation.objects.get(pk=first["conversation_id"]),
        service_id=service.pk,
        start=local(tenant, next_weekday(2), 10),
        name="Ann Lee",
        email="ann@example.org",
    )
    return {"key": tenant.public_key, "resume_token": first["resume_token"], "proposal_id": str(proposal.public_id)}


def test_escalate_whose_handoff_fails_in_the_database_is_unavailable_and_leaves_nothing_half_done(
    tenant: Tenant, other_tenant: Tenant, fail: Fail, caplog: pytest.LogCaptureFixture
) -> None:
    # given a conversation, and a team that keeps no service hours (offline whatever the clock says)
    set_hours(tenant, NEVER)
    first = first_turn(tenant)
    body = {"key": tenant.public_key, "resume_token": first["resume_token"], "reason": "help"}
    # when the handoff (to a ticket: the team is offline) fails in the database after the escalation and
    # its event were written
    fail("ticket_handoff", STATEMENT_TIMEOUT, where=escalation_messages)
    response = post(body, ESCALATE)
    # then unavailable, logged with the tenant and conversation, and none of it kept
    assert_unavailable(response)
    assert_logged_for(tenant, first["conversation_id"], caplog)
    assert not Escalation.objects.exists() and not EscalationEvent.objects.exists()
    # and the retry hands the conversation over once, to this tenant only
    again = post(body, ESCALATE)
    assert again.status_code == 200, again.content
    escalation = Escalation.objects.get()
    assert (escalation.tenant_id, escalation.conversation_id) == (tenant.pk, first["conversation_id"])
    assert post({**body, "key": other_tenant.public_key}, ESCALATE, origin=OTHER_ORIGIN).status_code == 404
    assert Escalation.objects.count() == 1


def test_a_confirmation_whose_booking_fails_in_the_database_is_unavailable_and_the_retry_books_once(
    tenant: Tenant, other_tenant: Tenant, fail: Fail, caplog: pytest.LogCaptureFixture
) -> None:
    # given an open proposal
    first = first_turn(tenant)
    body = decision_body(tenant, first)
    # when storing its booking fails in the database
    fail("_insert_booking", STATEMENT_TIMEOUT, where=booking_services)
    response = post(body, CONFIRM)
    # then unavailable, logged, nothing booked and the proposal still open
    assert_unavailable(response)
    assert_logged_for(tenant, first["conversation_id"], caplog)
    assert not Booking.objects.exists()
    assert Proposal.objects.get().status == ProposalStatus.PENDING
    # and another tenant's key finds no such proposal, while the retry books it once
    assert post({**body, "key": other_tenant.public_key}, CONFIRM, origin=OTHER_ORIGIN).status_code == 404
    again = post(body, CONFIRM)
    assert again.status_code == 200 and again.json()["status"] == "executed", again.content
    assert Booking.objects.get().confirmation_code == again.json()["confirmation_code"]


def test_a_confirmation_whose_payment_link_fails_in_the_database_is_unavailable_and_the_retry_gives_the_link(
    tenant: Tenant, fail: Fail, caplog: pytest.LogCaptureFixture, settings: Any
) -> None:
    # given an open proposal of a paid service, paid through the test checkout
    settings.STRIPE_SECRET_KEY, settings.BOOKINGS_TEST_CHECKOUT = "", True
    first = first_turn(tenant)
    body = decision_body(tenant, first, price_cents=9500)
    # when recording the payment link (after the booking's transaction) fails in the database
    fail("booking_record_checkout", STATEMENT_TIMEOUT, where=booking_services)
    response = post(body, CONFIRM)
    # then unavailable and logged; the booking is held, without a link yet
    assert_unavailable(response)
    assert_logged_for(tenant, first["conversation_id"], caplog)
    held = Booking.objects.get()
    assert held.status == BookingStatus.PENDING and not held.checkout_url
    # and the retry gives that booking its link, booking nothing twice
    again = post(body, CONFIRM)
    assert again.status_code == 200, again.content
    assert again.json()["checkout_url"] == Booking.objects.get().checkout_url != ""
    assert again.json()["confirmation_code"] == held.confirmation_code


def test_a_rejection_that_fails_in_the_database_is_unavailable_and_the_retry_rejects(
    tenant: Tenant, fail: Fail, caplog: pytest.LogCaptureFixture
) -> None:
    # given an open proposal
    first = first_turn(tenant)
    body = decision_body(tenant, first)
    # when finding it to reject it fails in the database
    fail("proposal_get", STATEMENT_TIMEOUT, where=proposals)
    response = post(body, REJECT)
    # then unavailable, logged, and still open
    assert_unavailable(response)
    assert_logged_for(tenant, first["conversation_id"], caplog)
    assert Proposal.objects.get().status == ProposalStatus.PENDING
    # and the retry rejects it
    again = post(body, REJECT)
    assert again.status_code == 200 and again.json()["status"] == "rejected", again.content
