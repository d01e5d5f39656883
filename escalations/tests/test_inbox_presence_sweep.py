"""The beat sweep that tells the inbox live that a handed-off customer's connection was lost (a server process
died with their socket: nobody closed it), on the real channel layer: to their own tenant's inbox group only,
once a lapse, and again for a new one."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import caches

from chat.socket_presence import SocketPresence
from chat.socket_slots import SLOT_REFRESH_S, socket_places, socket_slot_take
from escalations.models import Escalation, Mode
from escalations.presence import customer_presence, open_key, socket_seen
from escalations.presence_sweep import LOST_CONNECTIONS_TASK
from escalations.realtime import inbox_group
from escalations.tasks import tell_lost_connections
from escalations.tests.conftest import Staff, StaffConnect
from escalations.tests.factories import EscalationFactory
from supportai.models import Role, Tenant
from supportai.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)
QUIET_SECONDS = 0.3


def _lost(tenant: Tenant, *, mode: str = Mode.LIVE) -> Escalation:
    """A handoff whose customer's socket opened, then its server process died: its place expired, unclosed."""
    escalation: Escalation = EscalationFactory.create(conversation__tenant=tenant, mode=mode)
    socket_seen(tenant_id=tenant.pk, conversation_id=escalation.conversation_id)
    caches["default"].delete_many(socket_places(tenant_id=tenant.pk, conversation_id=escalation.conversation_id))
    return escalation


def _in_chat(tenant: Tenant) -> Escalation:
    escalation: Escalation = EscalationFactory.create(conversation__tenant=tenant)
    socket_seen(tenant_id=tenant.pk, conversation_id=escalation.conversation_id)
    assert socket_slot_take(tenant_id=tenant.pk, conversation_id=escalation.conversation_id) is not None
    return escalation


async def _listening(*tenants: Tenant) -> list[str]:
    """A channel in each tenant's inbox group, as every inbox socket of the tenant has."""
    layer = get_channel_layer()
    channels = []
    for tenant in tenants:
        channel = await layer.new_channel()
        await layer.group_add(inbox_group(tenant.pk), channel)
        channels.append(channel)
    return channels


async def _heard(channel: str) -> list[dict[str, Any]]:
    """What reached ``channel`` until it stayed quiet."""
    layer = get_channel_layer()
    events = []
    while True:
        try:
            events.append(await asyncio.wait_for(layer.receive(channel), timeout=QUIET_SECONDS))
        except TimeoutError:
            return events


@pytest.mark.asyncio
async def test_a_lost_connection_is_told_to_its_own_tenants_inbox_once(tenant: Tenant, other_tenant: Tenant) -> None:
    # given a live handoff whose customer's connection was lost, one whose customer is in the chat, and the
    # other tenant's inbox listening, with a handoff of its own whose customer is in the chat
    lost = await sync_to_async(_lost)(tenant)
    await sync_to_async(_in_chat)(tenant)
    await sync_to_async(_in_chat)(other_tenant)
    ours, theirs = await _listening(tenant, other_tenant)
    # when beat runs the sweep
    told = await sync_to_async(tell_lost_connections)()
    # then this tenant's inbox hears the presence frame the inbox already understands, dated by the missed beat,
    # and its queue changed (the row says it); the other tenant's inbox hears nothing
    presence = (await sync_to_async(customer_presence)(tenant=tenant, conversation_ids=[lost.conversation_id]))[
        lost.conversation_id
    ]
    assert presence.lost_at is not None
    assert told == 1
    assert await _heard(ours) == [
        {
            "type": "inbox.presence",
            "conversation_id": lost.conversation_id,
            "escalation_id": lost.pk,
            "present": False,
            "lost": True,
            "at": presence.lost_at.isoformat(),
        },
        {"type": "inbox.changed", "escalation_id": lost.pk},
    ]
    assert await _heard(theirs) == []
    # and a sweep again, the lapse unchanged, tells nobody anything
    assert await sync_to_async(tell_lost_connections)() == 0
    assert await _heard(ours) == [] and await _heard(theirs) == []


@pytest.mark.asyncio
async def test_each_lapse_is_told_once_and_a_new_one_again(tenant: Tenant, other_tenant: Tenant) -> None:
    # given the other tenant's ticket-mode handoff whose customer's connection was lost, told by a sweep
    lost = await sync_to_async(_lost)(other_tenant, mode=Mode.TICKET)
    ours, theirs = await _listening(tenant, other_tenant)
    assert await sync_to_async(tell_lost_connections)() == 1
    [first] = await _heard(theirs)
    # when the customer comes back on a new socket whose process dies too
    await sync_to_async(_lost_again)(other_tenant, lost)
    assert await sync_to_async(tell_lost_connections)() == 1
    # then the new lapse is told, with its own time (a ticket: no queue change), and none of it to this tenant
    [second] = await _heard(theirs)
    assert (second["type"], second["escalation_id"], second["lost"]) == ("inbox.presence", lost.pk, True)
    assert second["at"] > first["at"]
    assert await _heard(ours) == []


def _lost_again(tenant: Tenant, escalation: Escalation) -> None:
    """A new socket of the conversation, last seen a beat later than the first, whose server process died too."""
    mark = open_key(tenant_id=tenant.pk, conversation_id=escalation.conversation_id)
    caches["default"].set(mark, caches["default"].get(mark) + timedelta(seconds=SLOT_REFRESH_S))


def test_the_sweep_runs_on_beat_as_often_as_a_socket_beats_and_is_never_queued_up() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["escalations-tell-lost-connections"]
    assert (entry["task"], entry["schedule"]) == (LOST_CONNECTIONS_TASK, float(SLOT_REFRESH_S))
    assert entry["options"]["expires"] == float(SLOT_REFRESH_S)


@pytest.mark.asyncio
async def test_a_deactivated_tenants_lost_connections_are_not_read_or_told(tenant: Tenant) -> None:
    # given a lost connection of a tenant deactivated since
    await sync_to_async(_lost)(tenant)
    tenant.is_active = False
    await sync_to_async(tenant.save)(update_fields=["is_active"])
    [inbox] = await _listening(tenant)
    # when beat runs the sweep, nothing is told
    assert await sync_to_async(tell_lost_connections)() == 0
    assert await _heard(inbox) == []


@pytest.mark.asyncio
async def test_an_inbox_watching_the_conversation_says_the_lost_connection_live(
    staff_connect: StaffConnect, tenant: Tenant, other_tenant: Tenant, agent: User
) -> None:
    # given an agent's inbox socket watching a handoff, and another tenant's agent watching one of theirs
    lost = await sync_to_async(_lost)(tenant)
    foreign = await sync_to_async(_in_chat)(other_tenant)
    outsider = await sync_to_async(MembershipFactory.create)(tenant=other_tenant, role=Role.AGENT)
    ours: Staff = await staff_connect(agent, tenant)
    theirs: Staff = await staff_connect(outsider.user, other_tenant)
    for staff, conversation_id in ((ours, lost.conversation_id), (theirs, foreign.conversation_id)):
        await staff.send({"type": "watch", "conversation_id": conversation_id})
        await staff.receive_until("watch.ack")
    # when beat runs the sweep
    await sync_to_async(tell_lost_connections)()
    # then the agent's page gets the presence frame, saying the connection was lost, and the queue again
    frame = await ours.receive_until("presence")
    assert (frame["escalation_id"], frame["present"], frame["lost"]) == (lost.pk, False, True)
    [row] = (await ours.receive_until("queue"))["items"]
    assert (row["customer_present"], row["customer_lost_at"]) == (False, frame["at"])
    # and the other tenant's agent hears nothing
    assert await theirs.communicator.receive_nothing(timeout=QUIET_SECONDS)


@pytest.mark.asyncio
async def test_a_stalled_socket_beating_again_takes_back_the_lost_connection_it_was_told(
    staff_connect: StaffConnect, tenant: Tenant, other_tenant: Tenant, agent: User
) -> None:
    # given a live handoff whose customer's socket holds a place, an agent's inbox socket watching it, and the
    # other tenant's agent watching a handoff of theirs (their inbox group listened to as well)
    escalation = await sync_to_async(EscalationFactory.create)(conversation__tenant=tenant)
    presence = await SocketPresence.take(tenant=tenant, conversation_id=escalation.conversation_id)
    assert presence is not None
    await presence.opened(resumed=True)
    foreign = await sync_to_async(_in_chat)(other_tenant)
    outsider = await sync_to_async(MembershipFactory.create)(tenant=other_tenant, role=Role.AGENT)
    ours: Staff = await staff_connect(agent, tenant)
    theirs: Staff = await staff_connect(outsider.user, other_tenant)
    for staff, conversation_id in ((ours, escalation.conversation_id), (theirs, foreign.conversation_id)):
        await staff.send({"type": "watch", "conversation_id": conversation_id})
        await staff.receive_until("watch.ack")
    [their_inbox] = await _listening(other_tenant)
    # and its server process stalled past its place's lifetime (the place expired), which the sweep told as lost
    await sync_to_async(caches["default"].delete_many)(
        socket_places(tenant_id=tenant.pk, conversation_id=escalation.conversation_id)
    )
    assert await sync_to_async(tell_lost_connections)() == 1
    lost = await ours.receive_until("presence")
    assert (lost["present"], lost["lost"]) == (False, True)
    await ours.receive_until("queue")
    try:
        # when the socket beats again (it takes a place again)
        await presence.beat()
        # then the agent's page is told the customer is in the chat, as when a socket comes back, and the
        # queue's row says so
        back = await ours.receive_until("presence")
        assert (back["escalation_id"], back["present"], back["lost"]) == (escalation.pk, True, False)
        [row] = (await ours.receive_until("queue"))["items"]
        assert (row["customer_present"], row["customer_lost_at"]) == (True, None)
        # and the next beat (its place held) says nothing more, nor does a sweep
        await presence.beat()
        assert await sync_to_async(tell_lost_connections)() == 0
        assert await ours.communicator.receive_nothing(timeout=QUIET_SECONDS)
    finally:
        await presence.release()
    # and the other tenant's agent and inbox heard nothing of it
    assert await theirs.communicator.receive_nothing(timeout=QUIET_SECONDS)
    assert await _heard(their_inbox) == []


@pytest.mark.asyncio
async def test_a_stalled_socket_whose_lapse_was_not_told_says_nothing_as_it_beats_again(
    tenant: Tenant, agent: User, staff_connect: StaffConnect
) -> None:
    # given a handoff whose customer's socket place expired, the sweep not run since, and an agent watching it
    escalation = await sync_to_async(EscalationFactory.create)(conversation__tenant=tenant)
    presence = await SocketPresence.take(tenant=tenant, conversation_id=escalation.conversation_id)
    assert presence is not None
    await presence.opened(resumed=True)
    ours: Staff = await staff_connect(agent, tenant)
    await ours.send({"type": "watch", "conversation_id": escalation.conversation_id})
    await ours.receive_until("watch.ack")
    await sync_to_async(caches["default"].delete_many)(
        socket_places(tenant_id=tenant.pk, conversation_id=escalation.conversation_id)
    )
    try:
        # when it beats again, then nothing is told (nobody was told it was lost), and a sweep tells nothing
        await presence.beat()
        assert await sync_to_async(tell_lost_connections)() == 0
        assert await ours.communicator.receive_nothing(timeout=QUIET_SECONDS)
    finally:
        await presence.release()
