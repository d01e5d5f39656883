"""Each inbox action the page posts says on the page it reloads what it did (a role=status notice)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from escalations.models import Escalation
from escalations.tests.conftest import ALWAYS, set_hours
from escalations.tests.factories import EscalationFactory
from supportai.models import Role, Tenant
from supportai.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def notices(client: Client, path: str, data: dict[str, object]) -> list[str]:
    response = client.post(path, data, follow=True)
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def escalation(tenant: Tenant) -> Escalation:
    set_hours(tenant, ALWAYS)
    return EscalationFactory.create(conversation__tenant=tenant)


@pytest.mark.parametrize(
    ("action", "data", "said"),
    [
        ("claim", {}, "You hold escalation #{pk} now: you reply to the customer."),
        ("reply", {"text": "On it"}, "Your reply to escalation #{pk} is sent."),
        ("hand-back", {"notes": ""}, "Escalation #{pk} is handed back to the assistant."),
        ("resolve", {"notes": "Refunded"}, "Escalation #{pk} is resolved."),
    ],
)
def test_an_action_says_what_it_did(
    agent: User, escalation: Escalation, action: str, data: dict[str, object], said: str
) -> None:
    # given an agent on an open escalation
    client = Client()
    client.force_login(agent)
    # when they post the action
    shown = notices(client, f"/console/inbox/{escalation.pk}/{action}/", data)
    # then the page it reloads says what was done
    assert shown == [said.format(pk=escalation.pk)]


def test_an_assignment_says_to_whom(agent: User, tenant: Tenant, escalation: Escalation) -> None:
    # given a second agent of the tenant
    barbara = UserFactory.create(username="barbara")
    MembershipFactory.create(user=barbara, tenant=tenant, role=Role.AGENT)
    client = Client()
    client.force_login(agent)
    # when the first assigns the escalation to them
    shown = notices(client, f"/console/inbox/{escalation.pk}/assign/", {"user_id": barbara.pk})
    # then the page says to whom it went
    assert shown == [f"Escalation #{escalation.pk} is barbara's now."]


def test_a_refused_action_says_only_why(agent: User, escalation: Escalation) -> None:
    # given an escalation the agent resolved
    client = Client()
    client.force_login(agent)
    notices(client, f"/console/inbox/{escalation.pk}/resolve/", {"notes": ""})
    # when the agent claims it once closed
    shown = notices(client, f"/console/inbox/{escalation.pk}/claim/", {})
    # then only the refusal shows
    assert len(shown) == 1 and "You hold" not in shown[0]


def test_a_handed_back_escalation_says_so_in_its_heading(agent: User, escalation: Escalation) -> None:
    # given an escalation the agent handed back to the assistant
    client = Client()
    client.force_login(agent)
    notices(client, f"/console/inbox/{escalation.pk}/hand-back/", {"notes": ""})
    # when it is opened again
    page = client.get(f"/console/inbox/{escalation.pk}/").content.decode()
    # then its heading says how it was closed, not only "Resolved"
    assert "Resolved (Handed back to the assistant)" in page
