"""Telling customers their new place in line is best effort, as showing a message to its watchers is
(``escalations.watch.publish_message``): with the channel layer down, the change that moved them
stands and the failure is one warning naming the tenant and the escalations, not an error with a
traceback."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from channels.layers import get_channel_layer
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from chat.models import Message, MessageRole
from escalations import services
from escalations.models import Escalation
from escalations.staff import escalation_claim
from escalations.tests.conftest import ALWAYS, set_hours
from escalations.tests.factories import EscalationFactory
from supportai.models import Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def line_of_three(tenant: Tenant) -> list[Escalation]:
    cache.clear()  # the per-tenant raise limits
    set_hours(tenant, ALWAYS)
    return [
        EscalationFactory.create(conversation__tenant=tenant, sla_due_at=timezone.now() + timedelta(minutes=30 + i))
        for i in range(3)
    ]


async def _layer_down(group: str, message: dict[str, Any]) -> None:
    raise ConnectionError("channel layer unreachable")


def test_a_claim_with_the_channel_layer_down_warns_naming_the_customers_not_told(
    tenant: Tenant,
    agent: User,
    line_of_three: list[Escalation],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    # given a line of three, and a channel layer that refuses every send
    first, *behind = line_of_three
    monkeypatch.setattr(get_channel_layer(), "group_send", _layer_down)
    # when an agent claims the first customer, and the places behind are told after commit
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        escalation_claim(tenant=tenant, escalation_id=first.pk, actor=agent)
    # then the claim stands, and the failure is one warning naming the tenant and who was not told
    assert Escalation.objects.get(pk=first.pk).assigned_to == agent
    assert [record.levelno for record in caplog.records] == [logging.WARNING]
    (warning,) = caplog.records
    assert warning.exc_info is None
    said = warning.getMessage()
    assert f"tenant {tenant.pk}" in said and "channel layer unreachable" in said
    assert all(str(escalation.pk) in said for escalation in behind)


def test_a_claim_whose_places_cannot_be_counted_after_commit_stands_and_logs_the_error(
    tenant: Tenant,
    agent: User,
    line_of_three: list[Escalation],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    # given a line of three, and a read of the places behind that fails after the claim commits
    def unreadable(**kwargs: Any) -> list[tuple[int, Escalation]]:
        raise RuntimeError("places unreadable")

    monkeypatch.setattr(services, "places_between", unreadable)
    # when an agent claims the first customer
    with django_capture_on_commit_callbacks(execute=True):
        escalation_claim(tenant=tenant, escalation_id=line_of_three[0].pk, actor=agent)
    # then the claim stands and the claimer sees no error: Django logs it with the callback's name
    assert Escalation.objects.get(pk=line_of_three[0].pk).assigned_to == agent
    (error,) = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert "tell_places" in error.getMessage() and "places unreadable" in error.getMessage()


def test_a_reply_form_with_the_channel_layer_down_stands_and_is_not_an_error_page(
    tenant: Tenant,
    agent: User,
    line_of_three: list[Escalation],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given a channel layer that refuses every send
    monkeypatch.setattr(get_channel_layer(), "group_send", _layer_down)
    client = Client()
    client.force_login(agent)
    escalation = line_of_three[0]
    # when the agent replies through the plain form (the inbox without its socket)
    with caplog.at_level(logging.WARNING):
        response = client.post(f"/console/inbox/{escalation.pk}/reply/", {"text": "On it!"})
    # then the reply is stored once and the agent is back on the escalation, not on an error page they
    # would resubmit (a second copy of the reply); the failure is a warning naming the escalation
    assert response.status_code == 302
    assert Message.objects.filter(conversation_id=escalation.conversation_id, role=MessageRole.AGENT).count() == 1
    said = [record.getMessage() for record in caplog.records if record.name == "escalations.realtime"]
    assert said and all(f"chat.conversation.{escalation.conversation_id}" in s for s in said[:1])
