"""Delivery retries against the sweeper and concurrent copies of the delivery task: one send per attempt."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.db.models import DateTimeField, F
from django.utils import timezone

from escalations.models import Channel, DeliveryStatus, Escalation, NotificationDelivery
from escalations.notifications.base import Notice
from escalations.notifications.dispatch import MAX_ATTEMPTS, RunAgain, deliver
from escalations.services import escalation_raise
from escalations.tasks import sweep_deliveries
from escalations.tests.conftest import ALWAYS, NEVER, set_hours
from escalations.tests.factories import ConversationFactory
from escalations.tests.http_sink import Sink, http_sink
from escalations.ticketing import TICKETING, EmailTicketing, TicketReceipt
from escalations.triggers import ReasonCode, TriggerHit
from supportai.models import Tenant

pytestmark = pytest.mark.django_db
Capture = Callable[..., Any]


def _queued_slack_delivery(tenant: Tenant, capture: Capture, sink: Sink) -> NotificationDelivery:
    """An escalation whose Slack notification is recorded but not yet sent (its task not run)."""
    set_hours(tenant, ALWAYS, notify_email=False, slack_webhook_url=sink.url)
    conversation = ConversationFactory.create(tenant=tenant)
    with capture(execute=False):
        raised = escalation_raise(
            tenant=tenant, conversation_id=conversation.pk, hits=[TriggerHit(ReasonCode.HUMAN_REQUEST, "human")]
        )
    return NotificationDelivery.objects.get(escalation=raised.escalation)


def _rewind(delivery: NotificationDelivery, minutes: int) -> None:
    """Move every timestamp of the row ``minutes`` into the past, as if that much time had gone by."""
    delta = timedelta(minutes=minutes)
    stamps = [f.name for f in NotificationDelivery._meta.concrete_fields if isinstance(f, DateTimeField)]
    NotificationDelivery.objects.filter(pk=delivery.pk).update(**{name: F(name) - delta for name in stamps})


def test_the_sweeper_leaves_a_scheduled_retry_alone(
    tenant: Tenant, django_capture_on_commit_callbacks: Capture
) -> None:
    # given a delivery whose first attempt met a 429 asking for an hour's wait, twenty minutes ago
    with http_sink([429] * 5, headers={"Retry-After": "3600"}, error_body=b"rate_limited") as slack:
        delivery = _queued_slack_delivery(tenant, django_capture_on_commit_callbacks, slack)
        assert deliver(delivery.pk) == RunAgain(3600, retry=True)
        _rewind(delivery, minutes=20)
        # when the sweeper runs
        swept = sweep_deliveries()
    # then it re-enqueues nothing: the retry is due in forty minutes, Slack got one request
    assert swept == 0 and len(slack.received) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RETRYING and delivery.attempts == 1


def test_the_sweeper_sends_a_delivery_never_picked_up(
    tenant: Tenant, django_capture_on_commit_callbacks: Capture
) -> None:
    # given a delivery whose task was never enqueued (broker down at commit), eleven minutes ago
    with http_sink([]) as slack:
        delivery = _queued_slack_delivery(tenant, django_capture_on_commit_callbacks, slack)
        _rewind(delivery, minutes=11)
        # when the sweeper runs, then it is sent
        assert sweep_deliveries() == 1 and len(slack.received) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 1


def test_the_sweeper_retries_a_lost_retry_and_leaves_another_tenants_scheduled_one(
    tenant: Tenant, other_tenant: Tenant, django_capture_on_commit_callbacks: Capture
) -> None:
    # given a retry due 30 s after a 500 whose task was lost (fifteen minutes ago), and another
    # tenant's retry that waits for an hour-long Retry-After
    with (
        http_sink([500]) as slack,
        http_sink([429], headers={"Retry-After": "3600"}, error_body=b"rate_limited") as other_slack,
    ):
        lost = _queued_slack_delivery(tenant, django_capture_on_commit_callbacks, slack)
        assert deliver(lost.pk) == RunAgain(30, retry=True)
        _rewind(lost, minutes=15)
        scheduled = _queued_slack_delivery(other_tenant, django_capture_on_commit_callbacks, other_slack)
        assert deliver(scheduled.pk) == RunAgain(3600, retry=True)
        _rewind(scheduled, minutes=15)
        # when the sweeper runs
        assert sweep_deliveries() == 1
    # then only the lost retry is made, and it goes to its own tenant's Slack
    assert len(slack.received) == 2 and len(other_slack.received) == 1
    lost.refresh_from_db()
    scheduled.refresh_from_db()
    assert (lost.status, lost.attempts) == (DeliveryStatus.SENT, 2)
    assert (scheduled.status, scheduled.attempts) == (DeliveryStatus.RETRYING, 1)


def test_the_sweeper_leaves_a_delivery_being_sent_until_its_lease_runs_out(
    tenant: Tenant, django_capture_on_commit_callbacks: Capture
) -> None:
    # given an overdue delivery an attempt is sending (leased for another minute)
    with http_sink([]) as slack:
        delivery = _queued_slack_delivery(tenant, django_capture_on_commit_callbacks, slack)
        rows = NotificationDelivery.objects.filter(pk=delivery.pk)
        now = timezone.now()
        rows.update(attempts=1, leased_until=now + timedelta(minutes=1), next_attempt_at=now - timedelta(minutes=20))
        # when the sweeper runs, then it leaves it to that attempt
        assert sweep_deliveries() == 0 and slack.received == []
        # when the worker died mid-send and the lease ran out, then the sweeper makes the next attempt
        rows.update(leased_until=now - timedelta(seconds=1))
        assert sweep_deliveries() == 1 and len(slack.received) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 2 and delivery.leased_until is None


@pytest.mark.django_db(transaction=True)  # the second copy runs on the sink's thread, on its own connection
def test_a_second_copy_of_the_task_during_a_send_does_not_send_again(tenant: Tenant) -> None:
    # given a Slack delivery, and a second copy of its task that starts while the first is sending
    with http_sink([200, 200]) as slack:
        set_hours(tenant, ALWAYS, notify_email=False)
        raised = escalation_raise(
            tenant=tenant,
            conversation_id=ConversationFactory.create(tenant=tenant).pk,
            hits=[TriggerHit(ReasonCode.HUMAN_REQUEST, "human")],
        )
        set_hours(tenant, ALWAYS, notify_email=False, slack_webhook_url=slack.url)
        delivery = NotificationDelivery.objects.create(
            tenant=tenant, escalation=raised.escalation, channel=Channel.SLACK
        )
        second_copy: list[RunAgain | None] = []

        def run_second_copy() -> None:
            if second_copy:
                return
            try:
                second_copy.append(deliver(delivery.pk))
            finally:
                connection.close()

        slack.on_request = run_second_copy
        # when the first copy sends
        assert deliver(delivery.pk) is None
    # then the second copy left the row to it: one request, one attempt, sent
    assert second_copy == [None] and len(slack.received) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 1


class BrokenEmailBackend(BaseEmailBackend):
    """An email backend that fails in a way no sender expects (neither SMTP nor a network error)."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        raise ValueError("backend bug")


class LongReferenceTicketing(EmailTicketing):
    """A ticketing adapter whose reference the ticket_reference column cannot hold."""

    def open_ticket(self, *, notice: Notice, escalation: Escalation) -> TicketReceipt:
        super().open_ticket(notice=notice, escalation=escalation)
        return TicketReceipt(reference="T" * 500)


def test_an_unexpected_sender_error_is_a_failed_attempt_retried_up_to_the_limit(
    tenant: Tenant, django_capture_on_commit_callbacks: Capture, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # given an email backend raising an error the email sender does not expect
    settings.EMAIL_BACKEND = f"{__name__}.BrokenEmailBackend"
    set_hours(tenant, ALWAYS)
    tenant.escalation_email = "team@alpha.example"
    tenant.save()
    conversation = ConversationFactory.create(tenant=tenant)
    # when the escalation's email is delivered (eager Celery: the attempts run back to back)
    with django_capture_on_commit_callbacks(execute=True):
        raised = escalation_raise(
            tenant=tenant, conversation_id=conversation.pk, hits=[TriggerHit(ReasonCode.HUMAN_REQUEST, "human")]
        )
    # then each attempt is recorded and logged as a failure, and the delivery fails after the last one
    delivery = NotificationDelivery.objects.get(escalation=raised.escalation)
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == MAX_ATTEMPTS
    assert delivery.last_error == "unexpected error: ValueError: backend bug" and delivery.leased_until is None
    assert any(record.exc_info for record in caplog.records if "unexpected" in record.getMessage())
    # and the sweeper does not take it up again
    _rewind(delivery, minutes=60)
    assert sweep_deliveries() == 0


def test_a_delivery_out_of_attempts_fails_without_sending(
    tenant: Tenant, django_capture_on_commit_callbacks: Capture
) -> None:
    # given a delivery whose last allowed attempt was cut short (its worker killed mid-send)
    with http_sink([]) as slack:
        delivery = _queued_slack_delivery(tenant, django_capture_on_commit_callbacks, slack)
        NotificationDelivery.objects.filter(pk=delivery.pk).update(attempts=MAX_ATTEMPTS, last_error="slack: timeout")
        # when the task runs again, then it gives up without another send
        assert deliver(delivery.pk) is None and slack.received == []
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == MAX_ATTEMPTS
    assert delivery.last_error == "slack: timeout"


def test_a_ticket_whose_reference_cannot_be_recorded_is_not_sent_again(
    tenant: Tenant, django_capture_on_commit_callbacks: Capture, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given out-of-hours tickets through an adapter whose reference the database refuses
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    monkeypatch.setitem(TICKETING, "email", f"{__name__}.LongReferenceTicketing")
    set_hours(tenant, NEVER)
    tenant.escalation_email = "team@alpha.example"
    tenant.save()
    conversation = ConversationFactory.create(tenant=tenant)
    # when the escalation's ticket is delivered, and the sweeper runs later
    with django_capture_on_commit_callbacks(execute=True):
        raised = escalation_raise(
            tenant=tenant, conversation_id=conversation.pk, hits=[TriggerHit(ReasonCode.HUMAN_REQUEST, "human")]
        )
    delivery = NotificationDelivery.objects.get(escalation=raised.escalation)
    _rewind(delivery, minutes=60)
    sweep_deliveries()
    # then the ticket email went out once and its delivery is sent
    assert len(mail.outbox) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 1
