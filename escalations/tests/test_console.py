"""The console inbox: roles, tenant isolation on every page and action, escaping, POST fallbacks."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.models import User
from django.test import Client

from chat.models import Message, MessageRole
from escalations.models import Escalation, EscalationEvent, Status
from escalations.tests.factories import EscalationFactory, MessageFactory
from supportai.models import Role, Tenant
from supportai.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
ACTIONS = ["claim", "reply", "hand-back", "resolve", "assign"]


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def escalation(tenant: Tenant) -> Escalation:
    return EscalationFactory.create(conversation__tenant=tenant)


@pytest.fixture
def analyst(tenant: Tenant) -> User:
    user = UserFactory.create(username="dora")
    MembershipFactory.create(user=user, tenant=tenant, role=Role.ANALYST)
    return user


def test_inbox_needs_login() -> None:
    response = Client().get("/console/inbox/")
    assert response.status_code == 302 and response["Location"].startswith("/console/login/")


def test_agent_sees_the_queue_of_their_tenant_only(agent: User, escalation: Escalation, other_tenant: Tenant) -> None:
    foreign = EscalationFactory.create(conversation__tenant=other_tenant, reason_codes=["security"])
    page = logged_in(agent).get("/console/inbox/").content.decode()
    assert f'data-escalation="{escalation.pk}"' in page
    assert f'data-escalation="{foreign.pk}"' not in page


def test_queue_is_sorted_by_priority_then_sla(agent: User, tenant: Tenant) -> None:
    low = EscalationFactory.create(conversation__tenant=tenant, priority="low")
    high = EscalationFactory.create(conversation__tenant=tenant, priority="high")
    medium = EscalationFactory.create(conversation__tenant=tenant, priority="medium")
    page = logged_in(agent).get("/console/inbox/").content.decode()
    order = [page.index(f'data-escalation="{e.pk}"') for e in (high, medium, low)]
    assert order == sorted(order)


def test_other_tenants_escalation_is_404_on_every_page_and_action(outsider: User, escalation: Escalation) -> None:
    client = logged_in(outsider)
    assert client.get(f"/console/inbox/{escalation.pk}/").status_code == 404
    for action in ACTIONS:
        response = client.post(f"/console/inbox/{escalation.pk}/{action}/", {"text": "hi", "notes": "x", "user_id": 1})
        assert response.status_code == 404, action
    escalation.refresh_from_db()
    assert escalation.status == Status.PENDING and escalation.assigned_to_id is None
    assert not Message.objects.filter(role=MessageRole.AGENT).exists()
    assert not EscalationEvent.objects.exists()


def test_analyst_reads_but_cannot_act(analyst: User, escalation: Escalation) -> None:
    client = logged_in(analyst)
    page = client.get(f"/console/inbox/{escalation.pk}/")
    assert page.status_code == 200 and b"Read-only" in page.content and b"Send reply" not in page.content
    for action in ACTIONS:
        assert client.post(f"/console/inbox/{escalation.pk}/{action}/", {"text": "hi"}).status_code == 403


def test_customer_text_is_escaped_in_the_console(agent: User, escalation: Escalation) -> None:
    hostile = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    MessageFactory.create(conversation=escalation.conversation, text=hostile)
    Escalation.objects.filter(pk=escalation.pk).update(reason=hostile, summary=f"Customer: {hostile}")
    page = logged_in(agent).get(f"/console/inbox/{escalation.pk}/").content.decode()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page


def test_inbox_links_only_http_sources(agent: User, escalation: Escalation) -> None:
    MessageFactory.create(
        conversation=escalation.conversation,
        role=MessageRole.ASSISTANT,
        text="See [1] and [2]",
        sources=[
            {"index": 1, "title": "Hostile", "url": "javascript:alert(document.cookie)"},
            {
                "index": 2,
                "title": "Parking",
                "url": "https://alpha.example.com/parking",
                "document_id": 7,
                "chunk_id": 9,
            },
        ],
    )
    page = logged_in(agent).get(f"/console/inbox/{escalation.pk}/").content.decode()
    assert "javascript:" not in page and "[1] <bdi>Hostile</bdi>;" in page
    # and a source with its document leads to the quoted chunk on the document's page
    assert (
        '[2] <a href="/console/knowledge/documents/7/?chunk=9#chunk-9"><bdi>Parking</bdi></a> '
        '<a href="https://alpha.example.com/parking" rel="noopener noreferrer" aria-label="Parking on the web">↗</a>'
    ) in page


def test_reply_form_stores_an_agent_message_and_reaches_the_customer_group(agent: User, escalation: Escalation) -> None:
    # given a customer socket's channel in the conversation group
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"chat.conversation.{escalation.conversation_id}", channel)
    # when the agent replies through the plain form
    response = logged_in(agent).post(f"/console/inbox/{escalation.pk}/reply/", {"text": "On it!"})
    # then
    assert response.status_code == 302
    reply = Message.objects.get(role=MessageRole.AGENT)
    assert reply.text == "On it!" and reply.agent_id == agent.pk
    events = [async_to_sync(layer.receive)(channel) for _ in range(2)]
    assert {e["type"] for e in events} == {"agent.message", "escalation.status"}
    message = next(e for e in events if e["type"] == "agent.message")
    assert message == {"type": "agent.message", "message_id": reply.pk, "text": "On it!", "agent_name": "bob"}
    escalation.refresh_from_db()
    assert escalation.status == Status.ACKNOWLEDGED and escalation.assigned_to_id == agent.pk


def test_empty_reply_gets_a_clear_error(agent: User, escalation: Escalation) -> None:
    response = logged_in(agent).post(f"/console/inbox/{escalation.pk}/reply/", {"text": "   "}, follow=True)
    assert b"This field is required." in response.content
    assert not Message.objects.filter(role=MessageRole.AGENT).exists()


def test_resolve_with_notes_and_claim_conflicts(agent: User, owner: User, escalation: Escalation) -> None:
    logged_in(owner).post(f"/console/inbox/{escalation.pk}/claim/")
    conflict = logged_in(agent).post(f"/console/inbox/{escalation.pk}/claim/", follow=True)
    assert b"Another agent has already claimed" in conflict.content
    refused = logged_in(agent).post(f"/console/inbox/{escalation.pk}/resolve/", {"notes": "Mine now"}, follow=True)
    assert b"Another agent holds this escalation: only they, an owner or an admin can close it." in refused.content
    logged_in(owner).post(f"/console/inbox/{escalation.pk}/resolve/", {"notes": "Refunded the duplicate charge"})
    escalation.refresh_from_db()
    assert escalation.status == Status.RESOLVED and escalation.resolution_notes == "Refunded the duplicate charge"
    kinds = list(escalation.events.values_list("kind", "actor__username"))
    assert kinds == [("claimed", "alice"), ("resolved", "alice")]


def test_assign_refuses_a_deactivated_agent(owner: User, agent: User, escalation: Escalation) -> None:
    # given: bob is still an agent of the tenant but his account is deactivated (he cannot log in)
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    # when
    refused = logged_in(owner).post(f"/console/inbox/{escalation.pk}/assign/", {"user_id": agent.pk}, follow=True)
    # then: refused, and bob is not offered
    assert b"Assign to an agent, admin or owner of this tenant." in refused.content
    assert f'<option value="{owner.pk}">alice (owner)</option>' in refused.text
    assert f'<option value="{agent.pk}">' not in refused.text
    escalation.refresh_from_db()
    assert escalation.assigned_to_id is None


def test_assign_only_to_staff_of_the_same_tenant(owner: User, escalation: Escalation, outsider: User) -> None:
    client = logged_in(owner)
    refused = client.post(f"/console/inbox/{escalation.pk}/assign/", {"user_id": outsider.pk}, follow=True)
    assert b"Assign to a member of this tenant." in refused.content
    escalation.refresh_from_db()
    assert escalation.assigned_to_id is None


def test_the_history_says_how_many_later_turns_repeated_an_update(agent: User, escalation: Escalation) -> None:
    EscalationEvent.objects.create(
        tenant_id=escalation.tenant_id,
        escalation=escalation,
        kind="updated",
        from_status=Status.PENDING,
        to_status=Status.PENDING,
        detail={"codes": ["frustration"], "repeats": 3},
    )
    page = logged_in(agent).get(f"/console/inbox/{escalation.pk}/").content.decode()
    assert "New trigger · pending → pending · system · again on 3 later turns" in page
