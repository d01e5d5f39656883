"""An escalation page drawn while its customer is in the chat, or after they left it, says so at once, as the
live ``presence`` frames would, from the same counting: the customer's socket places in the shared cache and
when their last socket closed. Nothing is said of a customer without a socket (the HTTP fallback)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import caches
from django.test import Client
from django.utils import timezone

from chat.models import MessageRole
from chat.socket_slots import socket_places, socket_slot_release, socket_slot_take
from escalations.models import Escalation, Status
from escalations.presence import (
    UNKNOWN,
    CustomerPresence,
    customer_presence,
    open_key,
    presence_publications,
    socket_seen,
)
from escalations.presence_phrases import PHRASES
from escalations.tests.factories import EscalationFactory, MessageFactory
from supportai.models import Tenant
from supportai.templatetags.times import clock

pytestmark = pytest.mark.django_db
PRESENCE = re.compile(r'<p class="typing" id="customer-presence" role="status"( data-away)?>(.*?)</p>', re.S)


def _presence_line(agent: User, escalation: Escalation) -> tuple[bool, str]:
    """Whether the page marks the customer away, and what its presence line says."""
    client = Client()
    client.force_login(agent)
    response = client.get(f"/console/inbox/{escalation.pk}/")
    assert response.status_code == 200
    found = PRESENCE.search(response.content.decode())
    assert found is not None
    return bool(found.group(1)), found.group(2)


def _left(tenant: Tenant, escalation: Escalation) -> datetime:
    """The customer's only socket opened and closed, as the chat consumer counts it and tells it."""
    slot = socket_slot_take(tenant_id=tenant.pk, conversation_id=escalation.conversation_id)
    assert slot is not None and slot.key is not None
    socket_slot_release(slot)
    left_at = timezone.now()
    assert presence_publications(
        tenant=tenant, conversation_id=escalation.conversation_id, present=False, at=left_at
    ), "an open escalation is told about"
    return left_at


@pytest.fixture
def tokyo(tenant: Tenant) -> Tenant:
    tenant.timezone = "Asia/Tokyo"
    tenant.save(update_fields=["timezone"])
    return tenant


def test_a_page_drawn_while_the_customer_is_in_the_chat_says_so(agent: User, tenant: Tenant) -> None:
    # given a handed-off customer with the chat open (a socket place held, as in any server process)
    escalation = EscalationFactory.create(conversation__tenant=tenant)
    assert socket_slot_take(tenant_id=tenant.pk, conversation_id=escalation.conversation_id) is not None
    # when the agent opens the escalation
    away, line = _presence_line(agent, escalation)
    # then the page says the customer is there
    assert (away, line) == (False, "Customer in the chat")


def test_a_page_drawn_after_the_customer_left_says_when_in_the_tenants_zone(agent: User, tokyo: Tenant) -> None:
    # given a handed-off customer who closed the chat
    escalation = EscalationFactory.create(conversation__tenant=tokyo)
    left_at = _left(tokyo, escalation)
    # when the agent opens the escalation
    away, line = _presence_line(agent, escalation)
    # then the page says when they left, in Tokyo, marked for the page's script as away
    local = left_at.astimezone(ZoneInfo("Asia/Tokyo"))
    today = timezone.now().astimezone(ZoneInfo("Asia/Tokyo")).date()
    shown = local.strftime("%H:%M") if local.date() == today else local.strftime("%Y-%m-%d %H:%M")
    assert (away, line) == (True, f"Customer left at {shown}")


def test_a_customer_who_came_back_is_in_the_chat_again(agent: User, tenant: Tenant) -> None:
    # given a customer who left and came back
    escalation = EscalationFactory.create(conversation__tenant=tenant)
    _left(tenant, escalation)
    assert socket_slot_take(tenant_id=tenant.pk, conversation_id=escalation.conversation_id) is not None
    presence_publications(tenant=tenant, conversation_id=escalation.conversation_id, present=True, at=timezone.now())
    # then the page says they are there
    assert _presence_line(agent, escalation) == (False, "Customer in the chat")


def test_a_page_drawn_after_a_process_died_with_the_socket_says_the_connection_was_lost(
    agent: User, tenant: Tenant
) -> None:
    # given a handed-off customer whose socket's server process died: its place expired, nobody closed it
    escalation = EscalationFactory.create(conversation__tenant=tenant)
    assert socket_slot_take(tenant_id=tenant.pk, conversation_id=escalation.conversation_id) is not None
    socket_seen(tenant_id=tenant.pk, conversation_id=escalation.conversation_id)
    caches["default"].delete_many(socket_places(tenant_id=tenant.pk, conversation_id=escalation.conversation_id))
    # then the page says the connection was lost, and by when (the beat it missed), marked away (a message of
    # theirs takes it back)
    lost_at = customer_presence(tenant=tenant, conversation_ids=[escalation.conversation_id])[
        escalation.conversation_id
    ].lost_at
    with timezone.override(tenant.timezone):
        assert _presence_line(agent, escalation) == (True, f"Customer connection lost at {clock(lost_at)}")


def test_a_customer_who_wrote_since_their_connection_was_lost_is_not_said_to_be_away(
    agent: User, tenant: Tenant
) -> None:
    # given a handed-off customer whose socket's server process died five minutes ago (its last beat then)
    escalation = EscalationFactory.create(conversation__tenant=tenant)
    caches["default"].set(
        open_key(tenant_id=tenant.pk, conversation_id=escalation.conversation_id), timezone.now() - timedelta(minutes=5)
    )
    assert _presence_line(agent, escalation)[0] is True
    # when they write again (over the HTTP fallback, or a new socket)
    MessageFactory.create(conversation=escalation.conversation, role=MessageRole.CUSTOMER)
    # then the page no longer says their connection was lost
    assert _presence_line(agent, escalation) == (False, "")


def test_nothing_is_said_of_a_customer_without_a_socket(agent: User, tenant: Tenant) -> None:
    # given a customer handed off over the HTTP fallback: no socket, ever
    escalation = EscalationFactory.create(conversation__tenant=tenant)
    # then the page says nothing rather than a guess
    assert _presence_line(agent, escalation) == (False, "")


def test_a_customer_who_wrote_since_they_left_is_not_said_to_be_away(agent: User, tenant: Tenant) -> None:
    # given a customer who closed the chat, then wrote over the HTTP fallback
    escalation = EscalationFactory.create(conversation__tenant=tenant)
    left_at = _left(tenant, escalation)
    MessageFactory.create(
        conversation=escalation.conversation, role=MessageRole.CUSTOMER, created_at=left_at + timedelta(seconds=1)
    )
    # then the page no longer says they left (as a live page takes it back when they write)
    assert _presence_line(agent, escalation) == (False, "")


def test_a_closed_escalation_says_nothing_of_its_customer(agent: User, tenant: Tenant) -> None:
    escalation = EscalationFactory.create(conversation__tenant=tenant)
    assert socket_slot_take(tenant_id=tenant.pk, conversation_id=escalation.conversation_id) is not None
    Escalation.objects.filter(pk=escalation.pk).update(status=Status.RESOLVED)
    assert _presence_line(agent, escalation) == (False, "")


def test_another_tenants_customer_lends_nothing(tenant: Tenant, other_tenant: Tenant) -> None:
    # given a customer of the other tenant who is in the chat, and one who left
    there = EscalationFactory.create(conversation__tenant=other_tenant)
    gone = EscalationFactory.create(conversation__tenant=other_tenant)
    assert socket_slot_take(tenant_id=other_tenant.pk, conversation_id=there.conversation_id) is not None
    _left(other_tenant, gone)
    # when this tenant asks for those conversations
    found = customer_presence(tenant=tenant, conversation_ids=[there.conversation_id, gone.conversation_id])
    # then it learns nothing of them, while their own tenant does
    assert found == {there.conversation_id: UNKNOWN, gone.conversation_id: UNKNOWN}
    theirs = customer_presence(tenant=other_tenant, conversation_ids=[there.conversation_id, gone.conversation_id])
    assert theirs[there.conversation_id] == CustomerPresence(present=True)
    assert theirs[gone.conversation_id].present is False


def test_a_time_of_another_day_says_its_date() -> None:
    now = timezone.now()
    with timezone.override("UTC"):
        assert clock(now) == now.astimezone(ZoneInfo("UTC")).strftime("%H:%M")
        two_days_ago = now - timedelta(days=2)
        assert clock(two_days_ago) == two_days_ago.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M")
        assert clock(None) == ""


def test_the_pages_hand_their_scripts_the_phrases_they_draw(agent: User, tenant: Tenant) -> None:
    # given a handed-off customer, in the chat
    escalation = EscalationFactory.create(conversation__tenant=tenant)
    assert socket_slot_take(tenant_id=tenant.pk, conversation_id=escalation.conversation_id) is not None
    client = Client()
    client.force_login(agent)
    # when the agent opens the inbox and the conversation's page
    urls = ("/console/inbox/", f"/console/conversations/{escalation.conversation_id}/")
    pages = [client.get(url).content.decode() for url in urls]
    # then each carries, once, the phrases the server draws, for its scripts to say the same
    for page in pages:
        [said] = re.findall(r'<script id="presence-phrases" type="application/json">(.*?)</script>', page)
        assert (
            json.loads(said)
            == PHRASES
            == {
                "here": "Customer in the chat",
                "left": "Customer left at {time}",
                "lost": "Customer connection lost at {time}",
            }
        )


def test_the_scripts_say_a_presence_only_in_the_pages_phrases() -> None:
    # the live updates say nothing of their own: every phrase comes from the page (a copy would drift)
    for name in ("transcript.js", "inbox.js", "conversation.js"):
        literals = re.findall(r'"([^"\n]*)"', (Path(settings.BASE_DIR) / "static" / "console" / name).read_text())
        spoken = [text for text in literals if re.search(r"(?i)in the chat|left|connection|is back|online", text)]
        assert spoken == [], name
