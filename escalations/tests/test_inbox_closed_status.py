"""An open escalation page learns that its escalation was resolved or handed back from a ``status``
frame of its watched conversation, whatever the queue frames carry: a ticket-mode escalation (never
in them), or one past their 200 rows. A page whose socket (re)connects after the closure is told as it
watches."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.test import AsyncClient

from escalations.models import Escalation, Mode
from escalations.tests.conftest import Staff, StaffConnect
from escalations.tests.factories import EscalationFactory
from supportai.models import Tenant
from supportai.tests.factories import TenantFactory

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def _watching(staff_connect: StaffConnect, agent: User, tenant: Tenant, escalation: Escalation) -> Staff:
    staff: Staff = await staff_connect(agent, tenant)
    await staff.send({"type": "watch", "conversation_id": escalation.conversation_id, "escalation_id": escalation.pk})
    assert (await staff.receive_until("watch.ack"))["conversation_id"] == escalation.conversation_id
    return staff


@pytest.mark.parametrize(("action", "resolution"), [("resolve", "resolved"), ("hand_back", "handed_back")])
async def test_a_watcher_is_told_its_ticket_escalation_was_closed_elsewhere(
    staff_connect: StaffConnect, tenant: Tenant, agent: User, action: str, resolution: str
) -> None:
    # given a ticket-mode escalation, which no queue frame carries, open on an agent's page
    escalation = await sync_to_async(EscalationFactory.create)(conversation__tenant=tenant, mode=Mode.TICKET)
    page = await _watching(staff_connect, agent, tenant, escalation)
    # when another socket of the staff closes it
    other = await staff_connect(agent, tenant)
    await other.send({"type": action, "escalation_id": escalation.pk})
    # then the watching page gets its status
    status = await page.receive_until("status")
    assert status == {
        "type": "status",
        "conversation_id": escalation.conversation_id,
        "escalation_id": escalation.pk,
        "status": "resolved",
        "resolution": resolution,
    }


async def test_a_watcher_is_told_of_a_closure_by_the_console_form(
    staff_connect: StaffConnect, tenant: Tenant, agent: User
) -> None:
    escalation = await sync_to_async(EscalationFactory.create)(conversation__tenant=tenant)
    page = await _watching(staff_connect, agent, tenant, escalation)
    client = AsyncClient()
    await sync_to_async(client.force_login)(agent)
    response = await client.post(f"/console/inbox/{escalation.pk}/resolve/", {"notes": "done"})
    assert response.status_code == 302
    assert (await page.receive_until("status"))["escalation_id"] == escalation.pk


async def test_a_page_that_watches_after_the_closure_is_told_at_once(
    staff_connect: StaffConnect, tenant: Tenant, agent: User
) -> None:
    # given an escalation resolved while the agent's page was drawn but its socket not yet open
    escalation = await sync_to_async(EscalationFactory.create)(conversation__tenant=tenant)
    other = await staff_connect(agent, tenant)
    await other.send({"type": "resolve", "escalation_id": escalation.pk})
    await other.receive_until("queue")
    # when the page watches its conversation, naming its escalation
    page: Staff = await staff_connect(agent, tenant)
    await page.send({"type": "watch", "conversation_id": escalation.conversation_id, "escalation_id": escalation.pk})
    # then it is told the escalation is closed before the watch is acknowledged
    status = await page.receive_until("status")
    assert (status["escalation_id"], status["resolution"]) == (escalation.pk, "resolved")
    assert (await page.receive())["type"] == "watch.ack"


async def test_an_open_or_foreign_escalation_named_in_a_watch_says_nothing(
    staff_connect: StaffConnect, tenant: Tenant, agent: User
) -> None:
    # given an open escalation of the tenant and a resolved one of another tenant
    mine = await sync_to_async(EscalationFactory.create)(conversation__tenant=tenant)
    foreign_tenant = await sync_to_async(TenantFactory.create)()
    theirs = await sync_to_async(EscalationFactory.create)(conversation__tenant=foreign_tenant, status="resolved")
    page: Staff = await staff_connect(agent, tenant)
    # when the page watches its conversation naming either
    for named in (mine.pk, theirs.pk):
        await page.send({"type": "watch", "conversation_id": mine.conversation_id, "escalation_id": named})
        # then only the acknowledgement comes
        assert (await page.receive())["type"] == "watch.ack"


async def test_a_bad_escalation_id_in_a_watch_is_refused(
    staff_connect: StaffConnect, tenant: Tenant, agent: User
) -> None:
    escalation = await sync_to_async(EscalationFactory.create)(conversation__tenant=tenant)
    page: Staff = await staff_connect(agent, tenant)
    await page.send({"type": "watch", "conversation_id": escalation.conversation_id, "escalation_id": "7"})
    error = await page.receive()
    assert (error["type"], error["code"]) == ("error", "bad_request")
