"""Who closes a handoff (resolve, hand back): nobody's yet, any agent; one an agent holds, only that agent or an
owner or admin. The same rule (``staff.may_move``) on the console's forms, the inbox socket and the page."""

from __future__ import annotations

import asyncio

import pytest
from django.contrib.auth.models import User
from django.test import Client

from escalations.models import Escalation, Status
from escalations.services import NOT_HOLDER
from escalations.tests.conftest import StaffConnect
from escalations.tests.factories import EscalationFactory
from supportai.models import Role, Tenant
from supportai.tests.factories import MembershipFactory, UserFactory

CLOSES = ["resolve", "hand-back"]


def _member(tenant: Tenant, username: str, role: Role) -> User:
    user: User = UserFactory.create(username=username)
    MembershipFactory.create(user=user, tenant=tenant, role=role)
    return user


def _logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _held_by(tenant: Tenant, holder: User | None) -> Escalation:
    status = Status.PENDING if holder is None else Status.ACKNOWLEDGED
    escalation: Escalation = EscalationFactory.create(conversation__tenant=tenant, assigned_to=holder, status=status)
    return escalation


@pytest.mark.django_db
@pytest.mark.parametrize("action", CLOSES)
def test_another_agent_cannot_close_a_handoff_an_agent_holds(tenant: Tenant, agent: User, action: str) -> None:
    # given bob holding a handoff, and erin, another agent of the tenant
    erin = _member(tenant, "erin", Role.AGENT)
    escalation = _held_by(tenant, agent)
    # when erin closes it from the console
    response = _logged_in(erin).post(f"/console/inbox/{escalation.pk}/{action}/", {"notes": "done"}, follow=True)
    # then she is told why, on the escalation's page, and it stays open and bob's
    assert response.redirect_chain == [(f"/console/inbox/{escalation.pk}/", 302)]
    assert NOT_HOLDER.message in response.content.decode()
    escalation.refresh_from_db()
    assert (escalation.status, escalation.assigned_to_id) == (Status.ACKNOWLEDGED, agent.pk)
    assert not escalation.events.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("action", CLOSES)
@pytest.mark.parametrize("closer", ["holder", "owner", "admin", "agent of an unclaimed handoff"])
def test_the_holder_an_owner_an_admin_or_anyone_on_an_unclaimed_handoff_closes_it(
    tenant: Tenant, agent: User, owner: User, action: str, closer: str
) -> None:
    users = {
        "holder": agent,
        "owner": owner,
        "admin": _member(tenant, "ada", Role.ADMIN),
        "agent of an unclaimed handoff": _member(tenant, "erin", Role.AGENT),
    }
    escalation = _held_by(tenant, None if closer == "agent of an unclaimed handoff" else agent)
    _logged_in(users[closer]).post(f"/console/inbox/{escalation.pk}/{action}/", {"notes": "done"})
    escalation.refresh_from_db()
    assert escalation.status == Status.RESOLVED
    assert list(escalation.events.values_list("actor__username", flat=True)) == [users[closer].username]


@pytest.mark.django_db
@pytest.mark.parametrize("action", CLOSES)
def test_staff_of_another_tenant_cannot_close_it(tenant: Tenant, agent: User, outsider: User, action: str) -> None:
    escalation = _held_by(tenant, agent)
    assert _logged_in(outsider).post(f"/console/inbox/{escalation.pk}/{action}/").status_code == 404
    escalation.refresh_from_db()
    assert escalation.status == Status.ACKNOWLEDGED


@pytest.mark.django_db
def test_the_page_offers_closing_only_to_those_who_may(tenant: Tenant, agent: User, owner: User) -> None:
    erin = _member(tenant, "erin", Role.AGENT)
    held, unclaimed = _held_by(tenant, agent), _held_by(tenant, None)
    forms = [f"/console/inbox/{held.pk}/resolve/", f"/console/inbox/{held.pk}/hand-back/"]
    for user, shown in ((agent, True), (owner, True), (erin, False)):
        page = _logged_in(user).get(f"/console/inbox/{held.pk}/").content.decode()
        assert all((f'action="{form}"' in page) == shown for form in forms), user.username
    page = _logged_in(erin).get(f"/console/inbox/{unclaimed.pk}/").content.decode()
    assert f'action="/console/inbox/{unclaimed.pk}/resolve/"' in page


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("frame_type", ["resolve", "hand_back"])
async def test_the_inbox_socket_refuses_another_agents_close_and_takes_the_holders(
    staff_connect: StaffConnect, tenant: Tenant, other_tenant: Tenant, agent: User, outsider: User, frame_type: str
) -> None:
    # given bob holding a handoff, erin another agent, and another tenant's owner
    erin = await asyncio.to_thread(_member, tenant, "erin", Role.AGENT)
    escalation = await asyncio.to_thread(_held_by, tenant, agent)
    frame = {"type": frame_type, "escalation_id": escalation.pk, "notes": ""}
    # when erin and the other tenant's owner close it over their sockets
    theirs = await staff_connect(erin, tenant)
    await theirs.send(frame)
    refused = await theirs.receive_until("error")
    foreign = await staff_connect(outsider, other_tenant)
    await foreign.send(frame)
    not_found = await foreign.receive_until("error")
    # then erin is told why and the other tenant finds nothing; it stays open
    assert refused == {"type": "error", "code": "forbidden", "message": NOT_HOLDER.message}
    assert not_found["code"] == "not_found"
    assert (await Escalation.objects.aget(pk=escalation.pk)).status == Status.ACKNOWLEDGED
    # when bob closes it over his
    holder = await staff_connect(agent, tenant)
    await holder.send(frame)
    while (await Escalation.objects.aget(pk=escalation.pk)).status != Status.RESOLVED:
        answer = await holder.receive()
        assert answer["type"] != "error", answer
