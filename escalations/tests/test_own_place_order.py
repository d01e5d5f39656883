"""A raising customer's own place, counted in their raise, never reaches their socket after a newer place
another change to the line sent meanwhile: every ``escalation`` frame of the line carries the line's
``version`` it was read at, and the chat socket drops one older than a frame it already sent."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.core.cache import cache

from chat.models import Conversation, Message
from chat.tests.conftest import Connect
from escalations import handoff
from escalations.models import Escalation, EscalationPolicy
from escalations.realtime import publish_sync
from escalations.selectors import line_version
from escalations.services import escalation_raise
from escalations.staff import escalation_claim
from escalations.tests.conftest import ALWAYS, set_hours
from escalations.tests.factories import ConversationFactory
from escalations.triggers import ReasonCode, TriggerHit
from supportai.models import Tenant

pytestmark = pytest.mark.django_db(transaction=True)
SECURITY = TriggerHit(ReasonCode.SECURITY, "my account was hacked")


async def escalation_frames_of_asking(customer: Any, text: str) -> list[dict[str, Any]]:
    """The ``escalation`` frames the customer's socket gets for this message, in order (until quiet)."""
    await customer.send({"type": "message.send", "client_id": "c-1", "text": text})
    frames = await customer.receive_until("message.end")
    while not await customer.communicator.receive_nothing(timeout=2):
        frames.append(await customer.receive())
    return [frame for frame in frames if frame["type"] == "escalation"]


def _urgent_raise_elsewhere(tenant: Tenant) -> None:
    """Another customer's security raise goes ahead of everyone waiting, and is sent as its caller does."""
    conversation = ConversationFactory.create(tenant=tenant)
    publish_sync(escalation_raise(tenant=tenant, conversation_id=conversation.pk, hits=[SECURITY]).publications)


@pytest.mark.asyncio
async def test_a_place_sent_while_the_handoff_line_is_stored_is_not_followed_by_the_older_own_place(
    connect: Connect, tenant: Tenant, always_open: EscalationPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a customer whose raise commits, and another customer's urgent raise that commits and tells
    # them their new place while their handoff line is being stored (before their own place is sent)
    await sync_to_async(cache.clear)()
    store = handoff._store_handoff_line

    def store_after_an_urgent_raise(**kwargs: Any) -> Message:
        _urgent_raise_elsewhere(kwargs["tenant"])
        return store(**kwargs)

    monkeypatch.setattr(handoff, "_store_handoff_line", store_after_an_urgent_raise)
    customer = await connect(tenant)
    # when they ask for a person
    frames = await escalation_frames_of_asking(customer, "I want to talk to a real person please")
    # then the last place they are told is their place now (2nd, behind the urgent one), and no frame
    # older than one before it came after it
    conversation = await Conversation.objects.aget(pk=customer.ready["conversation_id"])
    assert frames and frames[-1]["position"] == 2
    versions = [frame.get("version") or 0 for frame in frames]
    assert versions == sorted(versions)
    assert await Escalation.objects.filter(conversation=conversation).aexists()


@pytest.mark.asyncio
async def test_a_claim_frame_is_not_followed_by_an_older_place(
    connect: Connect, tenant: Tenant, agent: User, always_open: EscalationPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a customer claimed by an agent just as their handoff line is stored
    await sync_to_async(cache.clear)()
    store = handoff._store_handoff_line

    def store_after_the_claim(**kwargs: Any) -> Message:
        escalation = Escalation.objects.get(conversation_id=kwargs["conversation"].pk)
        publish_sync(escalation_claim(tenant=kwargs["tenant"], escalation_id=escalation.pk, actor=agent))
        return store(**kwargs)

    monkeypatch.setattr(handoff, "_store_handoff_line", store_after_the_claim)
    customer = await connect(tenant)
    # when they ask for a person
    frames = await escalation_frames_of_asking(customer, "I want to talk to a real person please")
    # then the last frame says the agent joined: the place counted before the claim does not follow it
    assert [frame["status"] for frame in frames][-1] == "acknowledged"
    versions = [frame.get("version") or 0 for frame in frames]
    assert versions == sorted(versions)


def test_a_line_version_is_the_tenants_own(tenant: Tenant, other_tenant: Tenant) -> None:
    # given a customer waiting in our line
    cache.clear()
    set_hours(other_tenant, ALWAYS)
    set_hours(tenant, ALWAYS)
    conversation = ConversationFactory.create(tenant=tenant)
    ours = escalation_raise(tenant=tenant, conversation_id=conversation.pk, hits=[SECURITY])
    # when another tenant's line changes twice
    for _ in range(2):
        _urgent_raise_elsewhere(other_tenant)
    # then our line's version (and what a resumed customer of ours is told) did not move
    assert ours.frame["version"] == line_version(tenant=tenant) == 1
    assert line_version(tenant=other_tenant) == 2
