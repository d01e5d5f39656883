"""A burst of queue changes costs each inbox socket a couple of queue reads, not one per change: the
first change is shown at once, the rest of the burst in one more read ``INBOX_QUEUE_REFRESH_MS`` later."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from django.contrib.auth.models import User

from escalations.models import Escalation
from escalations.realtime import publish, queue_changed
from escalations.tests.conftest import Staff, StaffConnect
from escalations.tests.factories import EscalationFactory
from supportai.models import Membership, Tenant

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]
BURST = 20
REFRESH_MS = 300


@pytest.fixture(autouse=True)
def _refresh_interval(settings: Any) -> None:
    settings.INBOX_QUEUE_REFRESH_MS = REFRESH_MS


async def _burst(tenant: Tenant, count: int) -> list[Escalation]:
    """``count`` escalations stored, then their ``count`` announcements to the inbox in a burst."""
    raised: list[Escalation] = await asyncio.to_thread(
        EscalationFactory.create_batch, count, conversation__tenant=tenant
    )
    await publish([queue_changed(tenant.pk, escalation.pk) for escalation in raised])
    return raised


async def _queue_frames(staff: Staff) -> list[dict[str, Any]]:
    """Every queue frame the socket sends until it has been quiet for a few refresh intervals."""
    frames = []
    while not await staff.communicator.receive_nothing(timeout=REFRESH_MS * 3 / 1000):
        frame = await staff.receive()
        assert frame["type"] == "queue", frame
        frames.append(frame)
    return frames


async def test_a_burst_of_changes_is_a_few_queue_reads_ending_in_the_final_queue(
    staff_connect: StaffConnect, tenant: Tenant, other_tenant: Tenant, agent: User, outsider: User
) -> None:
    # given two agents' sockets on the tenant's inbox, and one on another tenant's
    sockets = [await staff_connect(agent, tenant), await staff_connect(agent, tenant)]
    theirs = await staff_connect(outsider, other_tenant)
    # when twenty escalations arrive in a burst, most of them while the first is being shown
    raised = await _burst(tenant, 1) + await _burst(tenant, BURST - 1)
    # then each socket reads the queue a couple of times, not twenty, and ends on all of them
    for staff in sockets:
        frames = await _queue_frames(staff)
        assert 1 <= len(frames) <= 3, len(frames)
        assert sorted(row["escalation_id"] for row in frames[-1]["items"]) == sorted(e.pk for e in raised)
    # and the other tenant's socket hears nothing
    assert await theirs.communicator.receive_nothing(timeout=0.2)


async def test_a_lone_change_is_shown_at_once(staff_connect: StaffConnect, tenant: Tenant, agent: User) -> None:
    staff = await staff_connect(agent, tenant)
    (escalation,) = await _burst(tenant, 1)
    frame = await staff.receive(timeout=REFRESH_MS / 1000 / 2)
    assert [row["escalation_id"] for row in frame["items"]] == [escalation.pk]


async def test_a_change_after_the_burst_is_shown_too(staff_connect: StaffConnect, tenant: Tenant, agent: User) -> None:
    staff = await staff_connect(agent, tenant)
    first = await _burst(tenant, 3)
    await _queue_frames(staff)
    later = await _burst(tenant, 1)
    frames = await _queue_frames(staff)
    assert len(frames) == 1 and len(frames[0]["items"]) == len(first + later)


async def test_a_member_removed_during_a_burst_gets_no_more_queue(
    staff_connect: StaffConnect, tenant: Tenant, agent: User
) -> None:
    # given an agent's socket shown the first change of a burst
    staff = await staff_connect(agent, tenant)
    await _burst(tenant, 1)
    assert (await staff.receive())["type"] == "queue"
    # when the agent is removed from the tenant before the rest of the burst is read
    await Membership.objects.filter(user=agent, tenant=tenant).adelete()
    await _burst(tenant, 2)
    # then the socket is cut off instead
    frame = await staff.receive()
    assert (frame["type"], frame["code"]) == ("error", "forbidden")
