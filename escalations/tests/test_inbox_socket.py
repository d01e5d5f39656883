"""The staff inbox socket: authentication, roles and tenant isolation on connect and on every action."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User

from chat.models import Message, MessageRole
from chat.tests.conftest import Connect
from escalations.models import Escalation, Status
from escalations.tests.conftest import StaffConnect, session_cookie
from escalations.tests.factories import EscalationFactory
from supportai.asgi import application
from supportai.models import Membership, Role, Tenant
from supportai.tests.factories import MembershipFactory, UserFactory
from supportai.tests.websockets import disconnect

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def _escalation(tenant: Tenant) -> Escalation:
    escalation: Escalation = await asyncio.to_thread(EscalationFactory.create, conversation__tenant=tenant)
    return escalation


async def test_anonymous_is_refused(staff_connect: StaffConnect, tenant: Tenant) -> None:
    staff = await staff_connect(None, tenant, expect_queue=False)
    assert await staff.communicator.receive_output(timeout=10) == {"type": "websocket.close", "code": 4403}


async def test_other_tenants_inbox_is_refused(staff_connect: StaffConnect, tenant: Tenant, outsider: User) -> None:
    staff = await staff_connect(outsider, tenant, expect_queue=False)
    assert await staff.communicator.receive_output(timeout=10) == {"type": "websocket.close", "code": 4403}


async def test_actions_on_another_tenants_escalation_find_nothing(
    staff_connect: StaffConnect, tenant: Tenant, other_tenant: Tenant, outsider: User
) -> None:
    escalation = await _escalation(tenant)
    staff = await staff_connect(outsider, other_tenant)
    for frame in (
        {"type": "claim", "escalation_id": escalation.pk},
        {"type": "reply", "escalation_id": escalation.pk, "text": "hi"},
        {"type": "typing", "escalation_id": escalation.pk},
        {"type": "hand_back", "escalation_id": escalation.pk},
        {"type": "resolve", "escalation_id": escalation.pk, "notes": ""},
        {"type": "assign", "escalation_id": escalation.pk, "user_id": outsider.pk},
    ):
        await staff.send(frame)
        answer = await staff.receive()
        assert answer["type"] == "error" and answer["code"] in {"not_found", "bad_request"}, (frame, answer)
    await escalation.arefresh_from_db()
    assert escalation.status == Status.PENDING and escalation.assigned_to_id is None
    assert not await Message.objects.filter(role=MessageRole.AGENT).aexists()


async def test_queue_updates_stay_inside_the_tenant(
    staff_connect: StaffConnect, tenant: Tenant, other_tenant: Tenant, agent: User, outsider: User
) -> None:
    ours = await staff_connect(agent, tenant)
    theirs = await staff_connect(outsider, other_tenant)
    escalation = await _escalation(tenant)
    await ours.send({"type": "claim", "escalation_id": escalation.pk})
    queue = await ours.receive_until("queue")
    assert [row["escalation_id"] for row in queue["items"]] == [escalation.pk]
    assert await theirs.communicator.receive_nothing(timeout=0.5)


async def test_analyst_watches_but_cannot_act(staff_connect: StaffConnect, tenant: Tenant) -> None:
    analyst = await asyncio.to_thread(UserFactory.create, username="dora")
    await asyncio.to_thread(MembershipFactory.create, user=analyst, tenant=tenant, role=Role.ANALYST)
    escalation = await _escalation(tenant)
    staff = await staff_connect(analyst, tenant)
    await staff.send({"type": "reply", "escalation_id": escalation.pk, "text": "hi"})
    answer = await staff.receive()
    assert answer == {"type": "error", "code": "forbidden", "message": "Analysts can read the inbox but not act on it."}


async def test_membership_is_rechecked_on_every_action(
    staff_connect: StaffConnect, tenant: Tenant, agent: User
) -> None:
    escalation = await _escalation(tenant)
    staff = await staff_connect(agent, tenant)
    await Membership.objects.filter(user=agent, tenant=tenant).adelete()
    await staff.send({"type": "claim", "escalation_id": escalation.pk})
    assert (await staff.receive())["code"] == "forbidden"
    assert await staff.communicator.receive_output(timeout=10) == {"type": "websocket.close", "code": 4403}
    await escalation.arefresh_from_db()
    assert escalation.assigned_to_id is None


async def test_a_user_deactivated_since_connecting_is_refused_at_the_next_action(
    staff_connect: StaffConnect, tenant: Tenant, agent: User
) -> None:
    # given: bob's socket is open; then his account is deactivated (he could no longer log in)
    escalation = await _escalation(tenant)
    staff = await staff_connect(agent, tenant)
    agent.is_active = False
    await agent.asave(update_fields=["is_active"])
    # when
    await staff.send({"type": "claim", "escalation_id": escalation.pk})
    # then
    assert (await staff.receive())["code"] == "forbidden"
    assert await staff.communicator.receive_output(timeout=10) == {"type": "websocket.close", "code": 4403}
    await escalation.arefresh_from_db()
    assert escalation.assigned_to_id is None


@pytest.mark.parametrize(
    "raw",
    [
        "nope",
        "[]",
        '{"type": "launch"}',
        '{"type": "claim", "escalation_id": "1"}',
        '{"type": "reply", "escalation_id": 1, "text": 5}',
        "[" * 8000 + "]" * 8000,  # nested past the JSON decoder's recursion limit, under 16 KiB
        '{"type": ["claim"], "escalation_id": 1}',  # an unhashable type
        '{"type": {"claim": 1}, "escalation_id": 1}',
        '{"type": "claim", "escalation_id": ' + "1" * 5000 + "}",  # more digits than int() reads: ValueError
    ],
)
async def test_bad_frames_get_errors_and_the_socket_stays(
    staff_connect: StaffConnect, tenant: Tenant, agent: User, raw: str
) -> None:
    staff = await staff_connect(agent, tenant)
    await staff.communicator.send_to(text_data=raw)
    assert (await staff.receive())["code"] == "bad_request"
    await staff.send({"type": "typing", "escalation_id": 999999})
    assert (await staff.receive())["code"] == "not_found"


@pytest.mark.parametrize("watching", [True, False])
@pytest.mark.parametrize("change", ["deactivated", "removed"])
async def test_a_user_cut_off_since_connecting_receives_no_more_live_events(
    connect: Connect, staff_connect: StaffConnect, tenant: Tenant, agent: User, change: str, watching: bool
) -> None:
    # given bob on the inbox (watching a conversation or not); then his account is deactivated or his
    # membership removed
    customer = await connect(tenant)
    staff = await staff_connect(agent, tenant)
    if watching:
        await staff.send({"type": "watch", "conversation_id": customer.ready["conversation_id"]})
        assert (await staff.receive())["type"] == "watch.ack"
    if change == "deactivated":
        agent.is_active = False
        await agent.asave(update_fields=["is_active"])
    else:
        await Membership.objects.filter(user=agent, tenant=tenant).adelete()
    # when the customer writes (a live message) and an escalation opens (a queue change)
    await customer.ask("What are your opening hours?", "c-1")
    await customer.send({"type": "escalate", "reason": "help"})
    assert (await customer.receive())["type"] == "escalation"
    # then the socket is told it lost access and closed, without the message or the new queue
    assert await staff.receive() == {"type": "error", "code": "forbidden", "message": "You no longer have access."}
    assert await staff.communicator.receive_output(timeout=10) == {"type": "websocket.close", "code": 4403}


async def _open_with_origin(user: User, tenant: Tenant, origin: str) -> WebsocketCommunicator:
    headers = [(b"host", b"testserver"), (b"origin", origin.encode())]
    headers.append((b"cookie", await sync_to_async(session_cookie)(user)))
    communicator = WebsocketCommunicator(application, f"/ws/inbox/?tenant={tenant.pk}", headers=headers)
    connected, _ = await communicator.connect(timeout=20)
    assert connected
    return communicator


async def test_another_sites_page_cannot_open_the_inbox_with_the_staff_cookie(tenant: Tenant, agent: User) -> None:
    # given bob is logged in; when a page of another site opens the inbox socket in his browser
    communicator = await _open_with_origin(agent, tenant, "https://evil.example")
    # then it is refused before anything of the tenant is sent
    try:
        assert await communicator.receive_output(timeout=10) == {"type": "websocket.close", "code": 4403}
    finally:
        await disconnect(communicator)


async def test_a_trusted_console_origin_may_open_the_inbox(settings: Any, tenant: Tenant, agent: User) -> None:
    # given the console is served behind a proxy under a trusted origin
    settings.CSRF_TRUSTED_ORIGINS = ["https://support.example.com"]
    communicator = await _open_with_origin(agent, tenant, "https://support.example.com")
    try:
        assert json.loads(await communicator.receive_from(timeout=10))["type"] == "queue"
    finally:
        await disconnect(communicator)


@pytest.mark.parametrize("raw", ["", "abc", "%C2%B2", "%D9%A1", "1%00", "-1", str(2**70), "1" * 5000])
async def test_a_malformed_tenant_is_refused_not_crashed(tenant: Tenant, agent: User, raw: str) -> None:
    # U+00B2 (superscript two) is str.isdigit() but not int()-able: the consumer crashed on it
    headers = [(b"host", b"testserver"), (b"origin", b"http://testserver")]
    headers.append((b"cookie", await sync_to_async(session_cookie)(agent)))
    communicator = WebsocketCommunicator(application, f"/ws/inbox/?tenant={raw}", headers=headers)
    connected, _ = await communicator.connect(timeout=20)
    try:
        assert connected
        assert await communicator.receive_output(timeout=10) == {"type": "websocket.close", "code": 4403}
    finally:
        await disconnect(communicator)


@pytest.mark.parametrize(("text", "stored"), [("a\x00b", "ab"), ("a\ud800b", "a\ufffdb")])
async def test_a_reply_with_text_postgresql_cannot_hold_is_stored_cleaned(
    staff_connect: StaffConnect, tenant: Tenant, agent: User, text: str, stored: str
) -> None:
    # a NUL or a lone surrogate (JSON escapes allow both) gave 'internal' and a traceback
    escalation = await _escalation(tenant)
    staff = await staff_connect(agent, tenant)
    await staff.send({"type": "reply", "escalation_id": escalation.pk, "text": text})  # sent as JSON escapes
    ack = await staff.receive()
    assert ack["type"] == "reply.ack", ack
    assert (await Message.objects.aget(pk=ack["message_id"])).text == stored
    await staff.send({"type": "resolve", "escalation_id": escalation.pk, "notes": text})
    while (await Escalation.objects.aget(pk=escalation.pk)).status != Status.RESOLVED:
        frame = await staff.receive()
        assert frame["type"] != "error", frame
    assert (await Escalation.objects.aget(pk=escalation.pk)).resolution_notes == stored


@pytest.mark.parametrize(
    ("user_id", "message"),
    [
        ("1", "'user_id' must be an integer."),
        (True, "'user_id' must be an integer."),
        (None, "'user_id' must be an integer."),
        ("outsider", "Assign to a member of this tenant."),
        (2**40, "Assign to a member of this tenant."),
        (2**70, "Assign to a member of this tenant."),
    ],
)
async def test_assign_to_anyone_but_a_member_of_the_tenant_is_bad_request(
    staff_connect: StaffConnect, tenant: Tenant, agent: User, outsider: User, user_id: Any, message: str
) -> None:
    # given an open escalation of bob's tenant
    escalation = await _escalation(tenant)
    staff = await staff_connect(agent, tenant)
    # when bob assigns it to a non-integer, to charlie (the other tenant's owner) or to nobody known
    target = outsider.pk if user_id == "outsider" else user_id
    await staff.send({"type": "assign", "escalation_id": escalation.pk, "user_id": target})
    # then
    assert await staff.receive() == {"type": "error", "code": "bad_request", "message": message}
    await escalation.arefresh_from_db()
    assert escalation.assigned_to_id is None


async def test_assign_to_a_member_of_the_tenant_assigns(
    staff_connect: StaffConnect, tenant: Tenant, agent: User, owner: User
) -> None:
    escalation = await _escalation(tenant)
    staff = await staff_connect(agent, tenant)
    await staff.send({"type": "assign", "escalation_id": escalation.pk, "user_id": owner.pk})
    queue = await staff.receive_until("queue")
    assert [row["escalation_id"] for row in queue["items"]] == [escalation.pk]
    await escalation.arefresh_from_db()
    assert escalation.assigned_to_id == owner.pk


async def test_a_reply_to_a_conversation_another_agent_holds_is_refused_clearly(
    staff_connect: StaffConnect, tenant: Tenant, agent: User, owner: User
) -> None:
    # given alice has claimed the conversation
    escalation = await _escalation(tenant)
    alice = await staff_connect(owner, tenant)
    await alice.send({"type": "claim", "escalation_id": escalation.pk})
    await alice.receive_until("queue")
    # when bob replies in it from his inbox
    bob = await staff_connect(agent, tenant)
    await bob.send({"type": "reply", "escalation_id": escalation.pk, "text": "Bob here"})
    # then he is told why, and nothing is stored
    assert await bob.receive_until("error") == {
        "type": "error",
        "code": "claimed",
        "message": "Another agent has already claimed this conversation.",
    }
    assert not await Message.objects.filter(role=MessageRole.AGENT).aexists()
