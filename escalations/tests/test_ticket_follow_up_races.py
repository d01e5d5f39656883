"""The customer's address arriving while the ticket is being sent (a first attempt or a retry): it
always reaches the team, in the ticket itself or in a follow-up."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from escalations.models import Channel, DeliveryStatus, Escalation, EventKind, Mode, NotificationDelivery
from escalations.notifications.dispatch import deliver
from escalations.services import contact_email_capture
from escalations.tests.conftest import NEVER, set_hours
from escalations.tests.factories import ConversationFactory, EscalationFactory
from escalations.tests.threads import in_thread, until_done_or_waiting
from supportai.models import Tenant

pytestmark = pytest.mark.django_db
ADDRESS = "dana@example.org"


@pytest.fixture(autouse=True)
def _email_backend(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def queued_ticket(tenant: Tenant) -> NotificationDelivery:
    """An out-of-hours escalation without the customer's address whose ticket is recorded, not sent."""
    set_hours(tenant, NEVER)
    tenant.escalation_email = f"team@{tenant.slug}.example"
    tenant.save()
    escalation = EscalationFactory.create(conversation=ConversationFactory.create(tenant=tenant), mode=Mode.TICKET)
    return NotificationDelivery.objects.create(tenant=tenant, escalation=escalation, channel=Channel.TICKET)


def test_an_address_given_while_a_ticket_retry_is_being_sent_gets_a_follow_up(
    tenant: Tenant, other_tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    # given a ticket whose retry is being sent (leased), with the escalation as it was before the address
    ticket = queued_ticket(tenant)
    NotificationDelivery.objects.filter(pk=ticket.pk).update(
        status=DeliveryStatus.RETRYING, attempts=1, leased_until=timezone.now() + timedelta(minutes=1)
    )
    conversation_id = ticket.escalation.conversation_id
    # when another tenant's session names the conversation, nothing is kept or sent
    with django_capture_on_commit_callbacks(execute=True):
        assert contact_email_capture(tenant=other_tenant, conversation_id=conversation_id, text=ADDRESS) is None
    assert NotificationDelivery.objects.count() == 1 and mail.outbox == []
    # when the customer writes their address
    with django_capture_on_commit_callbacks(execute=True):
        assert contact_email_capture(tenant=tenant, conversation_id=conversation_id, text=ADDRESS) == ADDRESS
    # then the team gets a follow-up with the customer to reply to
    follow_up = NotificationDelivery.objects.get(event=EventKind.UPDATED)
    assert (follow_up.tenant_id, follow_up.escalation_id, follow_up.status) == (
        tenant.pk,
        ticket.escalation_id,
        DeliveryStatus.SENT,
    )
    (message,) = mail.outbox
    assert message.to == [tenant.escalation_email] and message.reply_to == [ADDRESS]


@pytest.mark.django_db(transaction=True)  # the capture runs on another thread, on its own connection
def test_an_address_given_while_the_first_attempt_is_under_way_gets_a_follow_up(tenant: Tenant) -> None:
    # given a ticket not sent yet
    ticket = queued_ticket(tenant)
    conversation_id = ticket.escalation.conversation_id
    capture: list[tuple[threading.Thread, list[Any], list[int]]] = []

    def address_arrives_during_the_lease(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
        result = execute(sql, *args)
        if not capture and sql.startswith("SELECT") and '"escalations_escalation"."contact_email"' in sql:
            # when the customer writes their address as the attempt has read the escalation, under its lease
            capture.append(
                in_thread(lambda: contact_email_capture(tenant=tenant, conversation_id=conversation_id, text=ADDRESS))
            )
            until_done_or_waiting(capture[0][0], capture[0][2])
        return result

    with connection.execute_wrapper(address_arrives_during_the_lease):
        assert deliver(ticket.pk) is None
    thread, results, _ = capture[0]
    thread.join(20)
    # then the ticket went without the address and the team got a follow-up with it
    assert results == [ADDRESS]
    assert Escalation.objects.get(pk=ticket.escalation_id).contact_email == ADDRESS
    assert sorted(message.reply_to for message in mail.outbox) == [[], [ADDRESS]]
    assert NotificationDelivery.objects.filter(event=EventKind.UPDATED, status=DeliveryStatus.SENT).count() == 1


@pytest.mark.django_db(transaction=True)  # the attempt runs on another thread, on its own connection
def test_an_address_stored_before_the_first_attempt_takes_its_lease_rides_with_the_ticket(tenant: Tenant) -> None:
    # given a ticket not sent yet, and its first attempt starting once the customer's address is stored and
    # the ticket checked (not gone out yet), before that is committed
    ticket = queued_ticket(tenant)
    conversation_id = ticket.escalation.conversation_id
    attempt: list[tuple[threading.Thread, list[Any], list[int]]] = []

    def attempt_starts_meanwhile(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
        result = execute(sql, *args)
        if not attempt and sql.startswith("SELECT") and 'FROM "escalations_notificationdelivery"' in sql:
            attempt.append(in_thread(lambda: deliver(ticket.pk)))
            until_done_or_waiting(attempt[0][0], attempt[0][2])
        return result

    # when the address is committed while the attempt waits
    with connection.execute_wrapper(attempt_starts_meanwhile):
        assert contact_email_capture(tenant=tenant, conversation_id=conversation_id, text=ADDRESS) == ADDRESS
    thread, results, _ = attempt[0]
    thread.join(20)
    # then the ticket itself carries the address, and no follow-up is needed
    assert results == [None]
    (message,) = mail.outbox
    assert message.reply_to == [ADDRESS]
    assert not NotificationDelivery.objects.filter(event=EventKind.UPDATED).exists()
