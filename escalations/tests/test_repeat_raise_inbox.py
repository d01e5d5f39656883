"""A customer asking for a person again while their handoff is open tells the staff inbox only when what the
inbox shows of it changed (its queue row: codes, priority and so place, SLA, preview), through the real
channel layer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache

from escalations.realtime import inbox_group, publish_sync
from escalations.services import escalation_raise
from escalations.tests.conftest import ALWAYS, NEVER, set_hours
from escalations.tests.factories import ConversationFactory, MessageFactory
from escalations.triggers import ReasonCode, TriggerHit
from supportai.models import Tenant

pytestmark = pytest.mark.django_db
HUMAN = TriggerHit(ReasonCode.HUMAN_REQUEST, "talk to a human")
FRUSTRATION = TriggerHit(ReasonCode.FRUSTRATION, "useless!!!")
OUTAGE = TriggerHit(ReasonCode.OUTAGE, "the site is down")


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    cache.clear()


class Inbox:
    """One staff inbox listening on the tenant's group, as the inbox socket does."""

    def __init__(self, tenant: Tenant) -> None:
        self.layer: Any = get_channel_layer()
        self.channel: str = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(inbox_group(tenant.pk), self.channel)

    def changes(self) -> list[int]:
        """The escalation ids of the ``inbox.changed`` events received since the last call."""
        ids: list[int] = []
        while True:
            try:
                event = async_to_sync(asyncio.wait_for)(self.layer.receive(self.channel), 0.2)
            except TimeoutError:
                return ids
            assert event["type"] == "inbox.changed"
            ids.append(event["escalation_id"])


def _raise(tenant: Tenant, conversation_id: int, *hits: TriggerHit, reason: str = "", email: str = "") -> int:
    raised = escalation_raise(tenant=tenant, conversation_id=conversation_id, hits=hits, reason=reason, email=email)
    publish_sync(raised.publications)
    return raised.escalation.pk


def test_a_repeat_that_changes_nothing_the_inbox_shows_is_not_published(
    tenant: Tenant, other_tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    # given a live handoff waiting in the inbox, watched by the tenant's staff and another tenant's
    set_hours(tenant, ALWAYS)
    conversation = ConversationFactory.create(tenant=tenant)
    MessageFactory.create(conversation=conversation, text="talk to a human")
    ours, theirs = Inbox(tenant), Inbox(other_tenant)
    with django_capture_on_commit_callbacks(execute=True):
        escalation_id = _raise(tenant, conversation.pk, HUMAN, reason="talk to a human")
    assert ours.changes() == [escalation_id]
    # when the customer asks again with the same words, and then with an email address (not in the queue)
    with django_capture_on_commit_callbacks(execute=True):
        _raise(tenant, conversation.pk, HUMAN, reason="talk to a human")
        _raise(tenant, conversation.pk, HUMAN, reason="talk to a human", email="dana@example.org")
    # then no inbox is told of a change: its queue would read the same
    assert ours.changes() == []
    assert theirs.changes() == []


def test_a_repeat_that_changes_the_queue_row_is_published(
    tenant: Tenant, other_tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    # given a live handoff waiting in the inbox
    set_hours(tenant, ALWAYS)
    conversation = ConversationFactory.create(tenant=tenant)
    ours, theirs = Inbox(tenant), Inbox(other_tenant)
    with django_capture_on_commit_callbacks(execute=True):
        escalation_id = _raise(tenant, conversation.pk, HUMAN, reason="talk to a human")
    assert ours.changes() == [escalation_id]
    # when the customer's repeat brings a new reason code, then a higher priority, then a new reason (the
    # preview of a conversation with no customer line in its summary)
    with django_capture_on_commit_callbacks(execute=True):
        _raise(tenant, conversation.pk, HUMAN, FRUSTRATION)
    assert ours.changes() == [escalation_id]
    with django_capture_on_commit_callbacks(execute=True):
        _raise(tenant, conversation.pk, OUTAGE)
    assert ours.changes() == [escalation_id]
    with django_capture_on_commit_callbacks(execute=True):
        _raise(tenant, conversation.pk, HUMAN, reason="my order never came")
    # then each was published to the tenant's inbox, and none to another tenant's
    assert ours.changes() == [escalation_id]
    assert theirs.changes() == []


def test_a_repeat_on_an_out_of_hours_ticket_is_not_published(
    tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    # given an out-of-hours ticket: the live queue only counts tickets
    set_hours(tenant, NEVER)
    conversation = ConversationFactory.create(tenant=tenant)
    inbox = Inbox(tenant)
    with django_capture_on_commit_callbacks(execute=True):
        escalation_id = _raise(tenant, conversation.pk, HUMAN)
    assert inbox.changes() == [escalation_id]
    # when the customer asks again, even with a new reason code
    with django_capture_on_commit_callbacks(execute=True):
        _raise(tenant, conversation.pk, HUMAN)
        _raise(tenant, conversation.pk, HUMAN, FRUSTRATION)
    # then the inbox's live queue (its rows and the ticket count) reads the same: nothing is published
    assert inbox.changes() == []
