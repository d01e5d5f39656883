"""The inbox page offers only the actions the services allow: another's escalation has no reply form, and an
agent no assign, resolve or hand-back form on it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from escalations.models import Escalation
from escalations.tests.factories import EscalationFactory
from supportai.models import Role, Tenant
from supportai.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
REPLY_FORM = 'class="reply"'
ASSIGN_FORM = 'class="assign"'
CLAIM_FORM = 'data-action="claim"'
RESOLVE_FORM = 'data-action="resolve"'
HAND_BACK_FORM = 'data-action="hand_back"'


def page_for(user: User, escalation: Escalation) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"/console/inbox/{escalation.pk}/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def holder(tenant: Tenant) -> User:
    user = UserFactory.create(username="erin")
    MembershipFactory.create(user=user, tenant=tenant, role=Role.AGENT)
    return user


@pytest.fixture
def held(tenant: Tenant, holder: User) -> Escalation:
    return EscalationFactory.create(conversation__tenant=tenant, assigned_to=holder, status="acknowledged")


def test_an_agent_sees_no_reply_or_assign_form_on_an_escalation_another_holds(agent: User, held: Escalation) -> None:
    page = page_for(agent, held)
    assert REPLY_FORM not in page and "Send reply" not in page
    assert ASSIGN_FORM not in page and CLAIM_FORM not in page
    assert "erin holds this escalation" in page
    assert RESOLVE_FORM not in page and HAND_BACK_FORM not in page  # only the holder, owners and admins close it


def test_an_owner_may_reassign_another_agents_escalation_but_not_reply_in_it(owner: User, held: Escalation) -> None:
    page = page_for(owner, held)
    assert REPLY_FORM not in page and ASSIGN_FORM in page
    assert RESOLVE_FORM in page and HAND_BACK_FORM in page
    assert "erin holds this escalation" in page


def test_the_holder_has_the_reply_and_assign_forms(holder: User, held: Escalation) -> None:
    page = page_for(holder, held)
    assert REPLY_FORM in page and ASSIGN_FORM in page
    assert "holds this escalation" not in page and CLAIM_FORM not in page


def test_an_escalation_nobody_holds_offers_claim_reply_and_assign(agent: User, tenant: Tenant) -> None:
    free = EscalationFactory.create(conversation__tenant=tenant)
    page = page_for(agent, free)
    assert CLAIM_FORM in page and REPLY_FORM in page and ASSIGN_FORM in page


def test_another_tenants_held_escalation_shows_no_forms_at_all(outsider: User, held: Escalation) -> None:
    client = Client()
    client.force_login(outsider)
    response = client.get(f"/console/inbox/{held.pk}/")
    assert response.status_code == 404
    assert REPLY_FORM not in response.content.decode() and "erin" not in response.content.decode()
