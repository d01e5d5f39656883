"""Resuming a conversation restores its state: the open handoff's banner and the proposals still open."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.core.cache import cache
from django.utils import timezone

from bookings.models import Proposal, ProposalStatus
from chat.selectors import conversation_resume_frames
from chat.services import conversation_open
from chat.tests.conftest import Client, Connect
from escalations import handoff, staff
from escalations.models import Escalation, EscalationPolicy, Status
from escalations.realtime import Publication
from escalations.services import escalation_raise
from escalations.tests.factories import ConversationFactory
from escalations.triggers import ReasonCode, TriggerHit
from supportai.models import Tenant

BRAVO = "https://bravo.example.com"
HUMAN = TriggerHit(ReasonCode.HUMAN_REQUEST, "talk to a human")


async def _nothing_more(client: Client) -> bool:
    nothing: bool = await client.communicator.receive_nothing(timeout=0.5)
    return nothing


async def _escalated(connect: Connect, tenant: Tenant, **extra: Any) -> tuple[Client, dict[str, Any]]:
    customer = await connect(tenant)
    await customer.send({"type": "escalate", "reason": "I need a person", **extra})
    frame = await customer.receive()
    assert frame["type"] == "escalation", frame
    return customer, frame


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_resume_in_line_shows_the_waiting_banner_again(
    connect: Connect, tenant: Tenant, always_open: EscalationPolicy
) -> None:
    # given a customer waiting for a person
    customer, raised = await _escalated(connect, tenant)
    # when they come back (reload, reconnect) with their resume token
    resumed = await connect(tenant, resume=customer.ready["resume_token"])
    # then right after session.ready comes the escalation frame as it stands now
    assert resumed.ready["conversation_id"] == customer.ready["conversation_id"]
    frame = await resumed.receive()
    assert frame == {
        "type": "escalation",
        "escalation_id": raised["escalation_id"],
        "status": "pending",
        "message": "You're already in line for our care team: number 1. They'll be with you shortly.",
        "mode": "live",
        "position": 1,
        "expected_reply_at": None,
        "version": raised["version"],  # the line has not changed since the raise
    }
    assert await _nothing_more(resumed)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_resume_with_an_agent_says_who_joined(
    connect: Connect, tenant: Tenant, agent: User, always_open: EscalationPolicy
) -> None:
    customer, raised = await _escalated(connect, tenant)
    await sync_to_async(staff.escalation_claim)(tenant=tenant, escalation_id=raised["escalation_id"], actor=agent)
    resumed = await connect(tenant, resume=customer.ready["resume_token"])
    frame = await resumed.receive()
    assert (frame["type"], frame["status"], frame["mode"], frame["position"]) == (
        "escalation",
        "acknowledged",
        "live",
        None,
    )
    assert frame["message"] == "bob from our team has joined the conversation."


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_resume_out_of_hours_repeats_when_the_team_replies(
    connect: Connect, tenant: Tenant, always_closed: EscalationPolicy
) -> None:
    customer, raised = await _escalated(connect, tenant, email="dana@example.org")
    resumed = await connect(tenant, resume=customer.ready["resume_token"])
    frame = await resumed.receive()
    assert frame == raised  # the same ticket-mode frame: reply-by time and email
    assert frame["mode"] == "ticket" and "dana@example.org" in frame["message"] and frame["expected_reply_at"]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_resume_after_the_handoff_closed_sends_nothing_more(
    connect: Connect, tenant: Tenant, agent: User, always_open: EscalationPolicy
) -> None:
    customer, raised = await _escalated(connect, tenant)
    await sync_to_async(staff.escalation_hand_back)(tenant=tenant, escalation_id=raised["escalation_id"], actor=agent)
    resumed = await connect(tenant, resume=customer.ready["resume_token"])
    assert resumed.ready["conversation_id"] == customer.ready["conversation_id"]
    assert await _nothing_more(resumed)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_another_tenants_widget_with_the_token_gets_a_new_conversation_and_no_state(
    connect: Connect, tenant: Tenant, other_tenant: Tenant, always_open: EscalationPolicy
) -> None:
    # given a waiting customer of one tenant
    customer, _ = await _escalated(connect, tenant)
    # when their resume token is used with the other tenant's widget
    foreign = await connect(other_tenant, origin=BRAVO, resume=customer.ready["resume_token"])
    # then it is a fresh conversation of that tenant and nothing of the first one is sent
    assert foreign.ready["conversation_id"] != customer.ready["conversation_id"]
    assert foreign.ready["history"] == []
    assert await _nothing_more(foreign)


def _proposal(tenant: Tenant, conversation: Any, key: str, *, expires_in: timedelta, **extra: Any) -> Proposal:
    proposal: Proposal = Proposal.objects.create(
        tenant=tenant,
        conversation=conversation,
        action="book",
        level="T2",
        payload={"service_id": 1, "start": "2030-01-02T09:00:00+00:00", "name": "Ann", "email": "ann@x.org"},
        summary=f"Book {key}",
        idempotency_key=key,
        expires_at=timezone.now() + expires_in,
        **extra,
    )
    return proposal


@pytest.mark.django_db
def test_resume_frames_selector_is_tenant_scoped_and_costs_four_queries(
    tenant: Tenant, other_tenant: Tenant, always_open: EscalationPolicy, django_assert_num_queries: Any
) -> None:
    # given a conversation waiting for a person, with one open, one expired and one decided proposal
    conversation = conversation_open(tenant=tenant).conversation
    escalation = Escalation.objects.create(
        tenant=tenant, conversation=conversation, status=Status.PENDING, sla_due_at=timezone.now()
    )
    open_one = _proposal(tenant, conversation, "open", expires_in=timedelta(minutes=5))
    _proposal(tenant, conversation, "expired", expires_in=-timedelta(minutes=1))
    _proposal(tenant, conversation, "rejected", expires_in=timedelta(minutes=5), status=ProposalStatus.REJECTED)
    _proposal(tenant, conversation_open(tenant=tenant).conversation, "elsewhere", expires_in=timedelta(minutes=5))
    # when the frames are read for it
    with django_assert_num_queries(4):  # escalation, place in line, team name, proposals
        frames = conversation_resume_frames(tenant=tenant, conversation=conversation)
    # then: the banner, then the open proposal only
    assert [(f["type"], f.get("escalation_id"), f.get("proposal_id")) for f in frames] == [
        ("escalation", escalation.pk, None),
        ("proposal", None, str(open_one.public_id)),
    ]
    # and the other tenant sees nothing of it, even handed the conversation itself
    assert conversation_resume_frames(tenant=other_tenant, conversation=conversation) == []


def _frames_to_customer(publications: list[Publication]) -> list[dict[str, Any]]:
    return [p.event["frame"] for p in publications if p.event.get("type") == "escalation.status"]


@pytest.mark.django_db
def test_resume_read_while_its_customer_is_claimed_ends_showing_the_agent(
    tenant: Tenant, other_tenant: Tenant, agent: User, always_open: EscalationPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a customer waiting in line, whose resume reads their escalation just before an agent claims it
    # and another customer joins the line (both committed before the resume counts the place)
    cache.clear()
    conversation = ConversationFactory.create(tenant=tenant)
    escalation_raise(tenant=tenant, conversation_id=conversation.pk, hits=[HUMAN])
    later: list[dict[str, Any]] = []
    read = handoff.open_escalation_for

    def read_then_claimed(**kwargs: Any) -> Escalation | None:
        escalation = read(**kwargs)
        assert escalation is not None
        if later:  # read again: the claim has committed
            return escalation
        claimed = staff.escalation_claim(tenant=tenant, escalation_id=escalation.pk, actor=agent)
        later.extend(_frames_to_customer(claimed))
        escalation_raise(tenant=tenant, conversation_id=ConversationFactory.create(tenant=tenant).pk, hits=[HUMAN])
        return escalation

    monkeypatch.setattr(handoff, "open_escalation_for", read_then_claimed)
    # when the resumed socket sends its frames, then the claim's frame reaches it on the channel layer
    frames = handoff.resume_frames(tenant=tenant, conversation=conversation)
    order = handoff.FrameOrder()
    shown = [frame for frame in [*frames, *later] if order.admits(frame)]
    # then what the customer sees last is the agent who joined, not a place in a line they have left
    assert shown[-1]["status"] == "acknowledged", shown
    assert shown[-1]["position"] is None
    # and another tenant's line tells nothing of it
    monkeypatch.setattr(handoff, "open_escalation_for", read)
    assert handoff.resume_frames(tenant=other_tenant, conversation=conversation) == []
