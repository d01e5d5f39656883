"""Staff actions: who may reply to and (re)assign an escalation another agent holds."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from chat.models import Message, MessageRole
from escalations.models import Escalation, EscalationEvent, EventKind
from escalations.services import EscalationError
from escalations.staff import agent_reply, escalation_assign, escalation_claim
from escalations.tests.factories import EscalationFactory
from supportai.models import Role, Tenant
from supportai.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def escalation(tenant: Tenant) -> Escalation:
    return EscalationFactory.create(conversation__tenant=tenant)


@pytest.fixture
def second_agent(tenant: Tenant) -> User:
    user = UserFactory.create(username="carol")
    MembershipFactory.create(user=user, tenant=tenant, role=Role.AGENT)
    return user


def test_an_agent_cannot_reply_in_a_conversation_another_agent_holds(
    tenant: Tenant, agent: User, second_agent: User, escalation: Escalation
) -> None:
    # given bob has claimed the conversation
    escalation_claim(tenant=tenant, escalation_id=escalation.pk, actor=agent)
    # when carol replies in it
    with pytest.raises(EscalationError) as refused:
        agent_reply(tenant=tenant, escalation_id=escalation.pk, actor=second_agent, text="Hi, Carol here")
    # then she is told it is claimed, and nothing reaches the customer
    assert refused.value.code == "claimed"
    assert not Message.objects.filter(role=MessageRole.AGENT).exists()
    # while bob's own reply is stored
    reply = agent_reply(tenant=tenant, escalation_id=escalation.pk, actor=agent, text="Hi, Bob here")
    assert reply.message.agent_id == agent.pk


def test_assigning_to_the_current_holder_changes_nothing_and_announces_nothing(
    tenant: Tenant, agent: User, owner: User, escalation: Escalation
) -> None:
    escalation_claim(tenant=tenant, escalation_id=escalation.pk, actor=agent)
    assert escalation_assign(tenant=tenant, escalation_id=escalation.pk, actor=owner, assignee=agent) == []
    kinds = list(EscalationEvent.objects.filter(escalation=escalation).values_list("kind", flat=True))
    assert kinds == [EventKind.CLAIMED]


def test_only_the_holder_or_a_manager_moves_a_held_escalation(
    tenant: Tenant, agent: User, second_agent: User, owner: User, escalation: Escalation
) -> None:
    # given bob holds the conversation
    escalation_claim(tenant=tenant, escalation_id=escalation.pk, actor=agent)
    # when carol (an agent) assigns it to herself, she is refused
    with pytest.raises(EscalationError) as refused:
        escalation_assign(tenant=tenant, escalation_id=escalation.pk, actor=second_agent, assignee=second_agent)
    assert refused.value.code == "claimed"
    escalation.refresh_from_db()
    assert escalation.assigned_to_id == agent.pk
    # bob may pass it on himself, and the owner may move it again
    assert escalation_assign(tenant=tenant, escalation_id=escalation.pk, actor=agent, assignee=second_agent)
    assert escalation_assign(tenant=tenant, escalation_id=escalation.pk, actor=owner, assignee=owner)
    escalation.refresh_from_db()
    assert escalation.assigned_to_id == owner.pk


def test_staff_of_another_tenant_can_neither_reply_nor_assign(
    tenant: Tenant, agent: User, outsider: User, other_tenant: Tenant, escalation: Escalation
) -> None:
    escalation_claim(tenant=tenant, escalation_id=escalation.pk, actor=agent)
    for call in (
        lambda: agent_reply(tenant=other_tenant, escalation_id=escalation.pk, actor=outsider, text="hi"),
        lambda: escalation_assign(tenant=other_tenant, escalation_id=escalation.pk, actor=outsider, assignee=outsider),
    ):
        with pytest.raises(EscalationError) as refused:
            call()
        assert refused.value.code == "not_found"
    escalation.refresh_from_db()
    assert escalation.assigned_to_id == agent.pk and not Message.objects.filter(role=MessageRole.AGENT).exists()
