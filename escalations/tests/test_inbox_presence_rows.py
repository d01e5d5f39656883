"""Whether the customer of a live handoff is in the chat, said in words on each queue row and on the
console's conversation page, read for the whole page at once (one cache read, no query a row)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from unittest.mock import patch

import pytest
from django.contrib.auth.models import User
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat.socket_presence import socket_beat
from chat.socket_slots import socket_slot_release, socket_slot_take
from escalations.models import Escalation, Mode
from escalations.presence import (
    UNKNOWN,
    customer_wrote_publications,
    handoff_presence,
    open_key,
    presence_publications,
    socket_seen,
)
from escalations.realtime import inbox_group, queue_changed
from escalations.tests.factories import ConversationFactory, EscalationFactory
from escalations.watch import watch_group
from supportai.models import Tenant
from supportai.templatetags.times import clock

pytestmark = pytest.mark.django_db
ROW = re.compile(r'<li class="queue-item[^"]*" data-escalation="(\d+)">(.*?)</li>', re.S)
PRESENCE = re.compile(r'<span class="presence (?:here|away)">(.*?)</span>')


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _in_chat(escalation: Escalation) -> None:
    assert socket_slot_take(tenant_id=escalation.tenant_id, conversation_id=escalation.conversation_id) is not None


def _left(escalation: Escalation) -> str:
    """The customer's only socket closed, as the chat consumer counts and tells it; the time the console shows."""
    slot = socket_slot_take(tenant_id=escalation.tenant_id, conversation_id=escalation.conversation_id)
    assert slot is not None
    socket_slot_release(slot)
    left_at = timezone.now()
    presence_publications(
        tenant=escalation.tenant, conversation_id=escalation.conversation_id, present=False, at=left_at
    )
    return _clock(left_at, escalation.tenant)


def _clock(at: datetime | None, tenant: Tenant) -> str:
    """``at`` as the console says it, in the tenant's zone."""
    with timezone.override(tenant.timezone):
        return clock(at)


def _row_presence(page: str) -> dict[int, str]:
    """What each queue row of the page says of its customer ("" for nothing)."""
    said = {}
    for escalation_id, row in ROW.findall(page):
        found = PRESENCE.search(row)
        said[int(escalation_id)] = found.group(1) if found else ""
    return said


def test_each_live_row_says_whether_its_customer_is_in_the_chat(agent: User, tenant: Tenant) -> None:
    # given customers in the chat, gone from it, on the HTTP fallback, whose connection was lost, and a ticket
    online = EscalationFactory.create(conversation__tenant=tenant)
    gone = EscalationFactory.create(conversation__tenant=tenant)
    fallback = EscalationFactory.create(conversation__tenant=tenant)
    lost = EscalationFactory.create(conversation__tenant=tenant)
    ticket = EscalationFactory.create(conversation__tenant=tenant, mode=Mode.TICKET)
    _in_chat(online)
    shown = _left(gone)
    socket_seen(tenant_id=tenant.pk, conversation_id=lost.conversation_id)  # its process died with it
    lost_at = handoff_presence(tenant=tenant, conversation_id=lost.conversation_id).lost_at  # type: ignore[union-attr]
    _in_chat(ticket)
    # when the agent opens the inbox
    page = _client(agent).get("/console/inbox/").content.decode()
    # then each live row says it in words; nothing is said where nothing is known, nor on the backlog
    assert _row_presence(page) == {
        online.pk: "Customer in the chat",
        gone.pk: f"Customer left at {shown}",
        fallback.pk: "",
        lost.pk: f"Customer connection lost at {_clock(lost_at, tenant)}",
        ticket.pk: "",
    }


def test_the_queue_reads_every_rows_presence_at_once(
    agent: User, tenant: Tenant, django_assert_num_queries: Any
) -> None:
    # given a queue of two customers, one in the chat and one gone
    few = [EscalationFactory.create(conversation__tenant=tenant) for _ in range(2)]
    _in_chat(few[0])
    _left(few[1])
    client = _client(agent)
    cache = caches["default"]
    with CaptureQueriesContext(connection) as drawn, patch.object(cache, "get_many", wraps=cache.get_many) as reads:
        client.get("/console/inbox/")
    # when the queue holds twelve, every other customer in the chat and the rest gone
    for number in range(10):
        escalation = EscalationFactory.create(conversation__tenant=tenant)
        if number % 2:
            _in_chat(escalation)
        else:
            _left(escalation)
    # then the page costs the same queries and cache reads: none a row
    with (
        django_assert_num_queries(len(drawn.captured_queries)),
        patch.object(cache, "get_many", wraps=cache.get_many) as many_reads,
    ):
        page = client.get("/console/inbox/").content.decode()
    assert many_reads.call_count == reads.call_count == 1
    assert list(_row_presence(page).values()).count("Customer in the chat") == 6


def test_a_presence_change_of_a_live_handoff_changes_the_queue(tenant: Tenant) -> None:
    # given a live handoff and a ticket
    live = EscalationFactory.create(conversation__tenant=tenant)
    ticket = EscalationFactory.create(conversation__tenant=tenant, mode=Mode.TICKET)
    # when their customers leave
    told_live = presence_publications(
        tenant=tenant, conversation_id=live.conversation_id, present=False, at=timezone.now()
    )
    told_ticket = presence_publications(
        tenant=tenant, conversation_id=ticket.conversation_id, present=False, at=timezone.now()
    )
    # then the live one's queue row is read again (its rows say it), the ticket's only watchers are told
    assert [p.group for p in told_live] == [
        watch_group(tenant_id=tenant.pk, conversation_id=live.conversation_id),
        inbox_group(tenant.pk),
    ]
    assert [p.group for p in told_ticket] == [watch_group(tenant_id=tenant.pk, conversation_id=ticket.conversation_id)]


def test_the_conversation_page_says_whether_the_customer_of_its_handoff_is_in_the_chat(
    agent: User, tenant: Tenant
) -> None:
    # given a handed-off customer gone from the chat, one in it, and a conversation no human has
    gone = EscalationFactory.create(conversation__tenant=tenant)
    shown = _left(gone)
    online = EscalationFactory.create(conversation__tenant=tenant)
    _in_chat(online)
    assistant_only = ConversationFactory.create(tenant=tenant)
    client = _client(agent)
    # when the agent opens their conversation pages
    pages = {
        key: client.get(f"/console/conversations/{pk}/").content.decode()
        for key, pk in (
            ("gone", gone.conversation_id),
            ("online", online.conversation_id),
            ("assistant_only", assistant_only.pk),
        )
    }
    # then the handoffs' pages say it in their live region, the other page has none
    assert f'role="status" data-away>Customer left at {shown}</p>' in pages["gone"]
    assert 'role="status">Customer in the chat</p>' in pages["online"]
    assert 'id="customer-presence"' not in pages["assistant_only"]


def test_another_tenants_handoff_lends_no_presence(tenant: Tenant, other_tenant: Tenant) -> None:
    foreign = EscalationFactory.create(conversation__tenant=other_tenant)
    _in_chat(foreign)
    assert handoff_presence(tenant=tenant, conversation_id=foreign.conversation_id) is None
    assert handoff_presence(tenant=other_tenant, conversation_id=foreign.conversation_id) is not None


def test_a_row_gone_a_day_ago_says_the_day(agent: User, tenant: Tenant) -> None:
    # given a customer who left two days ago (kept by hand: the cache forgets after a day)
    escalation = EscalationFactory.create(conversation__tenant=tenant)
    long_ago = timezone.now() - timedelta(days=2)
    presence_publications(tenant=tenant, conversation_id=escalation.conversation_id, present=False, at=long_ago)
    page = _client(agent).get("/console/inbox/").content.decode()
    with timezone.override(tenant.timezone):
        assert (
            _row_presence(page)[escalation.pk]
            == f"Customer left at {long_ago.astimezone(timezone.get_current_timezone()):%Y-%m-%d %H:%M}"
        )


def test_a_customer_who_writes_after_their_connection_was_lost_changes_their_own_tenants_queue(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    # given a customer of the other tenant whose socket's server process died (its open mark left, no place)
    foreign = EscalationFactory.create(conversation__tenant=other_tenant)
    socket_seen(tenant_id=other_tenant.pk, conversation_id=foreign.conversation_id)
    # when this tenant is told that customer wrote, nothing changes
    assert customer_wrote_publications(tenant=tenant, conversation_id=foreign.conversation_id) == []
    assert handoff_presence(tenant=other_tenant, conversation_id=foreign.conversation_id).lost  # type: ignore[union-attr]
    # while their own tenant's queue changes, and the mark is gone
    told = customer_wrote_publications(tenant=other_tenant, conversation_id=foreign.conversation_id)
    assert told == [queue_changed(other_tenant.pk, foreign.pk)]
    assert handoff_presence(tenant=other_tenant, conversation_id=foreign.conversation_id) == UNKNOWN


def test_each_beat_of_a_socket_dates_a_lost_connection_until_it_is_released(tenant: Tenant) -> None:
    # given a socket of a conversation, its open mark last set long ago
    escalation = EscalationFactory.create(conversation__tenant=tenant)
    mark = open_key(tenant_id=tenant.pk, conversation_id=escalation.conversation_id)
    slot = socket_slot_take(tenant_id=tenant.pk, conversation_id=escalation.conversation_id)
    assert slot is not None
    long_ago = timezone.now() - timedelta(hours=1)
    caches["default"].set(mark, long_ago)
    # when it beats, the mark says it was seen now
    socket_beat(slot)
    assert caches["default"].get(mark) > long_ago
    # and once released (its last socket closed, the mark deleted) a late beat marks nothing
    socket_slot_release(slot)
    caches["default"].delete(mark)
    socket_beat(slot)
    assert caches["default"].get(mark) is None
