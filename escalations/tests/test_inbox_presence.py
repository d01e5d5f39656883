"""Staff watching a conversation under handoff learn live that its customer left the chat (their last
socket closed) or came back, on the real channel layer; nothing is said of other tabs or of a
conversation no human has."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.core.cache import caches
from django.test import AsyncClient
from django.utils import timezone

from chat.socket_slots import SLOT_REFRESH_S, socket_places
from chat.tests.conftest import Client, Connect
from escalations.models import Escalation, EscalationPolicy
from escalations.presence import UNKNOWN, CustomerPresence, customer_presence
from escalations.tests.conftest import Staff, StaffConnect
from supportai.models import Tenant
from supportai.tests.throwaway_redis import ThrowawayRedis

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]
QUIET_SECONDS = 0.5


async def _watching(staff_connect: StaffConnect, agent: User, tenant: Tenant, conversation_id: int) -> Staff:
    staff: Staff = await staff_connect(agent, tenant)
    await staff.send({"type": "watch", "conversation_id": conversation_id})
    await staff.receive_until("watch.ack")
    return staff


async def _handed_off(connect: Connect, tenant: Tenant) -> tuple[Client, Escalation]:
    customer: Client = await connect(tenant)
    await customer.ask("I want to talk to a real person please", "c-1")
    await customer.receive_until("escalation")
    escalation = await Escalation.objects.aget(conversation_id=customer.ready["conversation_id"])
    return customer, escalation


async def _presences(staff: Staff) -> list[dict[str, Any]]:
    """The ``presence`` frames the staff socket got until it stayed quiet (queue and message frames skipped)."""
    frames = []
    while not await staff.communicator.receive_nothing(timeout=QUIET_SECONDS):
        frame = await staff.receive()
        if frame["type"] == "presence":
            frames.append(frame)
    return frames


async def test_the_watcher_learns_that_the_customer_left_and_came_back(
    connect: Connect, staff_connect: StaffConnect, tenant: Tenant, agent: User, always_open: EscalationPolicy
) -> None:
    # given a customer handed off to a person, and an agent watching their conversation
    customer, escalation = await _handed_off(connect, tenant)
    staff = await _watching(staff_connect, agent, tenant, escalation.conversation_id)
    # when the customer closes the chat
    await customer.disconnect()
    # then the agent is told they left, and when
    [left] = await _presences(staff)
    assert left["conversation_id"] == escalation.conversation_id and left["escalation_id"] == escalation.pk
    assert left["present"] is False and left["at"]
    # and when the customer opens the chat again, that they are back
    await connect(tenant, resume=customer.ready["resume_token"])
    [back] = await _presences(staff)
    assert (back["escalation_id"], back["present"]) == (escalation.pk, True)


async def _presence_now(tenant: Tenant, conversation_id: int) -> CustomerPresence:
    """What a page drawn now would say of the conversation's customer."""
    found = await sync_to_async(customer_presence)(tenant=tenant, conversation_ids=[conversation_id])
    return found[conversation_id]


async def test_a_page_drawn_later_reads_what_the_watchers_were_told(
    connect: Connect, staff_connect: StaffConnect, tenant: Tenant, agent: User, always_open: EscalationPolicy
) -> None:
    # given a handed-off customer, in the chat, and an agent watching their conversation
    customer, escalation = await _handed_off(connect, tenant)
    staff = await _watching(staff_connect, agent, tenant, escalation.conversation_id)
    assert await _presence_now(tenant, escalation.conversation_id) == CustomerPresence(present=True)
    # when the customer closes the chat
    await customer.disconnect()
    [left] = await _presences(staff)
    # then a page drawn now says they left, when the watchers were told they did
    left_at = datetime.fromisoformat(left["at"])
    assert await _presence_now(tenant, escalation.conversation_id) == CustomerPresence(present=False, left_at=left_at)
    # and once they are back, that they are there
    await connect(tenant, resume=customer.ready["resume_token"])
    await _presences(staff)
    assert await _presence_now(tenant, escalation.conversation_id) == CustomerPresence(present=True)


def _connection_lost(tenant: Tenant, conversation_id: int) -> None:
    """The customer's socket's server process died: its place expired, nobody closed it (its open mark stays)."""
    caches["default"].delete_many(socket_places(tenant_id=tenant.pk, conversation_id=conversation_id))


async def test_a_socket_whose_server_process_died_reads_as_a_lost_connection(
    connect: Connect, tenant: Tenant, always_open: EscalationPolicy
) -> None:
    # given a handed-off customer in the chat, their socket marked open as it opened
    opening = timezone.now()
    customer, escalation = await _handed_off(connect, tenant)
    opened = timezone.now()
    # when its server process dies with the socket: its place expires, no consumer closes it
    await sync_to_async(_connection_lost)(tenant, escalation.conversation_id)
    # then a page drawn now says the connection was lost, by the beat it missed after the last one seen
    found = await _presence_now(tenant, escalation.conversation_id)
    assert (found.present, found.left_at) == (False, None) and found.lost_at is not None
    beat = timedelta(seconds=SLOT_REFRESH_S)
    assert opening + beat <= found.lost_at <= opened + beat
    # and a socket its consumer saw close leaves no such mark: the customer left
    await customer.disconnect()
    after = await _presence_now(tenant, escalation.conversation_id)
    assert after.present is False and after.left_at is not None and not after.lost


async def test_a_customer_who_writes_after_their_connection_was_lost_is_no_longer_away_live(
    connect: Connect, staff_connect: StaffConnect, tenant: Tenant, agent: User, always_open: EscalationPolicy
) -> None:
    # given a handed-off customer whose socket's server process died, and an agent's inbox whose row says so
    customer, escalation = await _handed_off(connect, tenant)
    await sync_to_async(_connection_lost)(tenant, escalation.conversation_id)
    staff: Staff = await staff_connect(agent, tenant, expect_queue=False)
    [row] = (await staff.receive_until("queue"))["items"]
    assert (row["escalation_id"], row["customer_present"]) == (escalation.pk, False)
    # when the customer writes again, over the HTTP fallback
    body = {"key": tenant.public_key, "client_id": "h-1", "text": "Are you still there?"}
    body["resume_token"] = customer.ready["resume_token"]
    response = await AsyncClient().post(
        "/api/v1/public/chat/messages", data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 202, response.content  # stored; a person answers (a live handoff)
    # then the inbox gets the row again, no longer saying they are away, and a page drawn now says nothing either
    [row] = (await staff.receive_until("queue"))["items"]
    assert (row["escalation_id"], row["customer_present"]) == (escalation.pk, None)
    assert await _presence_now(tenant, escalation.conversation_id) == UNKNOWN


async def test_the_queue_rows_say_live_whether_the_customer_is_in_the_chat(
    connect: Connect, staff_connect: StaffConnect, tenant: Tenant, agent: User, always_open: EscalationPolicy
) -> None:
    # given a customer handed off live, in the chat, and an agent's inbox open
    customer, escalation = await _handed_off(connect, tenant)
    staff: Staff = await staff_connect(agent, tenant, expect_queue=False)
    [row] = (await staff.receive_until("queue"))["items"]
    assert (row["customer_present"], row["customer_left_at"]) == (True, None)
    # when the customer closes the chat
    await customer.disconnect()
    # then the queue is sent again, its row saying when they left
    [row] = (await staff.receive_until("queue"))["items"]
    assert row["escalation_id"] == escalation.pk and row["customer_present"] is False
    assert (await _presence_now(tenant, escalation.conversation_id)).left_at == datetime.fromisoformat(
        row["customer_left_at"]
    )


async def test_the_customer_has_left_only_when_their_last_tab_closed(
    connect: Connect, staff_connect: StaffConnect, tenant: Tenant, agent: User, always_open: EscalationPolicy
) -> None:
    # given a handed-off customer with the chat open in a second tab, watched by an agent
    first, escalation = await _handed_off(connect, tenant)
    staff = await _watching(staff_connect, agent, tenant, escalation.conversation_id)
    second = await connect(tenant, resume=first.ready["resume_token"])
    # then the second tab is no return: the customer never left
    assert await _presences(staff) == []
    # when one tab closes, nothing is said; when the last one does, the customer left
    await first.disconnect()
    assert await _presences(staff) == []
    await second.disconnect()
    assert [frame["present"] for frame in await _presences(staff)] == [False]


async def test_nothing_is_said_of_a_customer_no_human_has(
    connect: Connect, staff_connect: StaffConnect, tenant: Tenant, agent: User
) -> None:
    # given a customer chatting with the assistant only, watched by an agent
    customer: Client = await connect(tenant)
    await customer.ask("What are your opening hours?", "c-1")
    staff = await _watching(staff_connect, agent, tenant, customer.ready["conversation_id"])
    # when they close the chat and come back
    await customer.disconnect()
    await connect(tenant, resume=customer.ready["resume_token"])
    # then the inbox is told nothing
    assert await _presences(staff) == []


async def test_a_watcher_of_another_conversation_is_told_nothing(
    connect: Connect, staff_connect: StaffConnect, tenant: Tenant, agent: User, always_open: EscalationPolicy
) -> None:
    # given an agent watching another conversation of the tenant
    other: Client = await connect(tenant)
    staff = await _watching(staff_connect, agent, tenant, other.ready["conversation_id"])
    customer, _ = await _handed_off(connect, tenant)
    # when the handed-off customer leaves
    await customer.disconnect()
    # then that agent's page hears nothing of it
    assert await _presences(staff) == []


@pytest.mark.redis
async def test_tabs_are_counted_in_the_shared_redis_cache(
    redis_cache: None,
    connect: Connect,
    staff_connect: StaffConnect,
    tenant: Tenant,
    agent: User,
    always_open: EscalationPolicy,
) -> None:
    # given a handed-off customer with two tabs, their places in Redis, as every server process counts them
    first, escalation = await _handed_off(connect, tenant)
    staff = await _watching(staff_connect, agent, tenant, escalation.conversation_id)
    second = await connect(tenant, resume=first.ready["resume_token"])
    # when they close one tab, then the other
    await first.disconnect()
    assert await _presences(staff) == []
    await second.disconnect()
    # then they left once, with the last one, and a page drawn now reads it from Redis too
    [left] = await _presences(staff)
    assert left["present"] is False
    left_at = datetime.fromisoformat(left["at"])
    assert await _presence_now(tenant, escalation.conversation_id) == CustomerPresence(present=False, left_at=left_at)


async def test_nothing_is_said_while_the_sockets_cannot_be_counted(
    throwaway_cache: ThrowawayRedis,
    connect: Connect,
    staff_connect: StaffConnect,
    tenant: Tenant,
    agent: User,
    always_open: EscalationPolicy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given a handed-off customer, watched, and the cache that counts their sockets gone
    customer, escalation = await _handed_off(connect, tenant)
    staff = await _watching(staff_connect, agent, tenant, escalation.conversation_id)
    throwaway_cache.stop()
    # when the customer closes the chat
    await customer.disconnect()
    # then the agent is told nothing rather than a guess, and the socket closed with warnings, no error
    assert await _presences(staff) == []
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert any("not counted (the cache failed" in message for message in warnings)
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
