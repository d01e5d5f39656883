"""A follow-up delivery (event ``updated``) reads as an update on every channel, not as a second escalation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from escalations.models import Channel, DeliveryStatus, Escalation, EventKind, NotificationDelivery
from escalations.notifications.dispatch import deliver
from escalations.services import contact_email_capture, escalation_raise
from escalations.tests.conftest import ALWAYS, NEVER, set_hours
from escalations.tests.factories import ConversationFactory
from escalations.tests.http_sink import http_sink
from escalations.triggers import ReasonCode, TriggerHit
from supportai.models import Tenant

pytestmark = pytest.mark.django_db
HUMAN = TriggerHit(ReasonCode.HUMAN_REQUEST, "talk to a human")


@pytest.fixture(autouse=True)
def _email_backend(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def out_of_hours_ticket(tenant: Tenant, capture: Any) -> Escalation:
    """An out-of-hours escalation whose ticket went to the team without the customer's address."""
    set_hours(tenant, NEVER)
    tenant.escalation_email = f"team@{tenant.slug}.example"
    tenant.save()
    conversation = ConversationFactory.create(tenant=tenant)
    with capture(execute=True):
        raised = escalation_raise(tenant=tenant, conversation_id=conversation.pk, hits=[HUMAN])
    return raised.escalation


def test_the_ticket_follow_up_says_it_adds_the_customers_address_to_the_ticket(
    tenant: Tenant, other_tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    # given out-of-hours tickets of two tenants, both sent without an address
    escalation = out_of_hours_ticket(tenant, django_capture_on_commit_callbacks)
    other = out_of_hours_ticket(other_tenant, django_capture_on_commit_callbacks)
    ticket, _ = mail.outbox
    # when the first tenant's customer writes their address
    with django_capture_on_commit_callbacks(execute=True):
        contact_email_capture(tenant=tenant, conversation_id=escalation.conversation_id, text="dana@example.org")
    # then the team gets an update of that ticket, not what reads as a second ticket
    _, _, follow_up = mail.outbox
    assert isinstance(follow_up, EmailMultiAlternatives)
    assert ticket.subject.startswith(f"[{tenant.name}] Ticket #{escalation.pk} (")
    assert follow_up.subject == f"[{tenant.name}] Ticket #{escalation.pk}: customer's email address"
    assert follow_up.to == [tenant.escalation_email] and follow_up.reply_to == ["dana@example.org"]
    assert f"updates ticket #{escalation.pk}" in follow_up.body and "dana@example.org" in follow_up.body
    html = str(follow_up.alternatives[0][0])
    assert f"updates ticket #{escalation.pk}" in html and "dana@example.org" in html
    # and nothing of it reaches the other tenant's ticket or team
    assert NotificationDelivery.objects.filter(escalation=other).count() == 1
    assert all(message.to == [tenant.escalation_email] for message in mail.outbox[2:])
    assert f"#{other.pk}" not in follow_up.subject + follow_up.body


def test_the_follow_up_escapes_the_address_in_its_html(tenant: Tenant, django_capture_on_commit_callbacks: Any) -> None:
    escalation = out_of_hours_ticket(tenant, django_capture_on_commit_callbacks)
    Escalation.objects.filter(pk=escalation.pk).update(contact_email='"<b>dana</b>"@example.org')
    delivery = NotificationDelivery.objects.create(
        tenant=tenant, escalation=escalation, channel=Channel.TICKET, event=EventKind.UPDATED
    )
    deliver(delivery.pk)
    follow_up = mail.outbox[-1]
    assert isinstance(follow_up, EmailMultiAlternatives)
    html = str(follow_up.alternatives[0][0])
    assert "<b>dana</b>" not in html and "&lt;b&gt;dana&lt;/b&gt;" in html


def _deliver_both_events(tenant: Tenant, capture: Any, **targets: str) -> list[NotificationDelivery]:
    """An escalation's created notification, then an ``updated`` one on the same channel."""
    set_hours(tenant, ALWAYS, notify_email=False, **targets)
    conversation = ConversationFactory.create(tenant=tenant)
    with capture(execute=True):
        raised = escalation_raise(tenant=tenant, conversation_id=conversation.pk, hits=[HUMAN], email="d@example.org")
    (created,) = NotificationDelivery.objects.filter(escalation=raised.escalation)
    updated = NotificationDelivery.objects.create(
        tenant=tenant, escalation=raised.escalation, channel=created.channel, event=EventKind.UPDATED
    )
    deliver(updated.pk)
    deliveries = list(NotificationDelivery.objects.filter(escalation=raised.escalation).order_by("pk"))
    assert [d.status for d in deliveries] == [DeliveryStatus.SENT, DeliveryStatus.SENT]
    return deliveries


def test_the_webhook_payload_names_the_deliverys_event(tenant: Tenant, django_capture_on_commit_callbacks: Any) -> None:
    with http_sink([]) as hook:
        created, _ = _deliver_both_events(
            tenant, django_capture_on_commit_callbacks, webhook_url=hook.url, webhook_secret="s3cret"
        )
    first, second = (json.loads(request.body) for request in hook.received)
    assert (first["event"], second["event"]) == ("escalation.created", "escalation.updated")
    assert first["escalation_id"] == second["escalation_id"] == created.escalation_id
    assert second["contact_email"] == "d@example.org"


def test_the_slack_text_says_the_escalation_was_updated(
    tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    with http_sink([]) as slack:
        created, _ = _deliver_both_events(tenant, django_capture_on_commit_callbacks, slack_webhook_url=slack.url)
    first, second = (json.loads(request.body)["text"] for request in slack.received)
    assert f"escalation #{created.escalation_id} (" in first and "updated" not in first
    assert f"escalation #{created.escalation_id} updated" in second and "email address" in second


def test_slack_and_the_webhook_get_the_ticket_follow_up_too(
    tenant: Tenant, other_tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    # given out-of-hours tickets of two tenants, each also announced to its Slack and webhook without an address
    with http_sink([]) as slack, http_sink([]) as hook, http_sink([]) as their_hook:
        set_hours(tenant, NEVER, slack_webhook_url=slack.url, webhook_url=hook.url, webhook_secret="s3cret")
        escalation = out_of_hours_ticket(tenant, django_capture_on_commit_callbacks)
        set_hours(other_tenant, NEVER, webhook_url=their_hook.url, webhook_secret="other")
        out_of_hours_ticket(other_tenant, django_capture_on_commit_callbacks)
        # when the first tenant's customer writes their address
        with django_capture_on_commit_callbacks(execute=True):
            contact_email_capture(tenant=tenant, conversation_id=escalation.conversation_id, text="dana@example.org")
    # then every channel that announced the ticket gets the update, through its own delivery row
    follow_ups = NotificationDelivery.objects.filter(escalation=escalation, event=EventKind.UPDATED)
    assert sorted(d.channel for d in follow_ups) == [Channel.SLACK, Channel.TICKET, Channel.WEBHOOK]
    assert {d.status for d in follow_ups} == {DeliveryStatus.SENT}
    _, update = (json.loads(request.body)["text"] for request in slack.received)
    assert f"escalation #{escalation.pk} updated" in update and "dana@example.org" not in update
    created, updated = (json.loads(request.body) for request in hook.received)
    assert (created["event"], created["contact_email"]) == ("escalation.created", "")
    assert (updated["event"], updated["contact_email"]) == ("escalation.updated", "dana@example.org")
    assert updated["escalation_id"] == escalation.pk and updated["mode"] == "ticket"
    # and the other tenant's webhook heard only of its own ticket
    assert [json.loads(r.body)["event"] for r in their_hook.received] == ["escalation.created"]


def test_a_channel_that_has_not_announced_the_ticket_yet_gets_no_follow_up(
    tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    # given an out-of-hours ticket sent without an address, and its webhook notification not attempted yet
    set_hours(tenant, NEVER, webhook_url="https://hooks.example.org/escalations", webhook_secret="s3cret")
    tenant.escalation_email = "team@alpha.example"
    tenant.save()
    conversation = ConversationFactory.create(tenant=tenant)
    escalation = escalation_raise(tenant=tenant, conversation_id=conversation.pk, hits=[HUMAN]).escalation
    ticket = NotificationDelivery.objects.get(escalation=escalation, channel=Channel.TICKET)
    NotificationDelivery.objects.filter(pk=ticket.pk).update(status=DeliveryStatus.SENT, attempts=1)
    # when the customer writes their address
    contact_email_capture(tenant=tenant, conversation_id=conversation.pk, text="dana@example.org")
    # then only the ticket gets a follow-up: the webhook's first notification will carry the address itself
    follow_ups = NotificationDelivery.objects.filter(escalation=escalation, event=EventKind.UPDATED)
    assert [d.channel for d in follow_ups] == [Channel.TICKET]
