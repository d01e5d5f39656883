"""Notification secrets a delivery cannot use: a webhook without a signing secret is never sent, and
a Slack URL or webhook secret no configured key opens fails its delivery once, clearly, without
holding up the hand-off or the tenant's other channels (or another tenant's)."""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core import mail

from escalations.models import Channel, DeliveryStatus, Escalation, NotificationDelivery
from escalations.notifications.dispatch import SECRET_UNREADABLE_HINT, deliver
from escalations.notifications.webhook import NO_SIGNING_SECRET
from escalations.tests.conftest import ALWAYS, set_hours
from escalations.tests.factories import EscalationFactory
from escalations.tests.http_sink import http_sink
from escalations.tests.test_notifications import Capture, raise_for
from supportai.models import Tenant

pytestmark = pytest.mark.django_db
LOST, NEW = (Fernet.generate_key().decode() for _ in range(2))
LOST_SLACK_URL = "https://hooks.slack.com/services/T/B/lost"


def test_a_webhook_without_a_signing_secret_fails_instead_of_going_unsigned(
    tenant: Tenant, other_tenant: Tenant, django_capture_on_commit_callbacks: Capture
) -> None:
    # given a webhook URL saved without a secret (before the admin required one), and another
    # tenant whose webhook is signed
    with http_sink([]) as ours, http_sink([]) as theirs:
        set_hours(tenant, ALWAYS, notify_email=False, webhook_url=ours.url)
        set_hours(other_tenant, ALWAYS, notify_email=False, webhook_url=theirs.url, webhook_secret="bravo-secret")
        # when each tenant hands a conversation off
        delivery = raise_for(tenant, django_capture_on_commit_callbacks)
        other = raise_for(other_tenant, django_capture_on_commit_callbacks)
    # then nothing is sent for the first: the delivery fails at once, saying why
    assert delivery is not None and delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert delivery.last_error == NO_SIGNING_SECRET and ours.received == []
    # and the other tenant's webhook went, signed with its own secret
    assert other is not None and other.status == DeliveryStatus.SENT
    (request,) = theirs.received
    signed = request.headers["x-supportai-timestamp"].encode() + b"." + request.body
    expected = hmac.new(b"bravo-secret", signed, hashlib.sha256).hexdigest()
    assert request.headers["x-supportai-signature"] == f"sha256={expected}"


def _no_traceback_logged(caplog: pytest.LogCaptureFixture) -> bool:
    return all(record.exc_info is None for record in caplog.records)


@pytest.mark.parametrize("field", ["slack_webhook_url", "webhook_secret"])
def test_a_secret_no_key_opens_fails_its_delivery_once_with_a_clear_message(
    tenant: Tenant,
    other_tenant: Tenant,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
    field: str,
) -> None:
    # given deliveries already recorded, then the key the tenant's secret was written under dropped
    with http_sink([]) as ours, http_sink([]) as theirs:
        settings.FIELD_ENCRYPTION_KEYS = [LOST]
        lost = {"slack_webhook_url": ours.url} if field == "slack_webhook_url" else {"webhook_secret": "s3cret"}
        set_hours(tenant, ALWAYS, notify_email=False, webhook_url=ours.url, **lost)
        settings.FIELD_ENCRYPTION_KEYS = [NEW]
        set_hours(other_tenant, ALWAYS, webhook_url=theirs.url, slack_webhook_url=theirs.url, webhook_secret="b")
        channel = Channel.SLACK if field == "slack_webhook_url" else Channel.WEBHOOK
        delivery = NotificationDelivery.objects.create(
            tenant=tenant, escalation=EscalationFactory.create(conversation__tenant=tenant), channel=channel
        )
        other = NotificationDelivery.objects.create(
            tenant=other_tenant,
            escalation=EscalationFactory.create(conversation__tenant=other_tenant),
            channel=channel,
        )
        # when each is attempted
        with caplog.at_level(logging.ERROR, logger="escalations.notifications.dispatch"):
            retry_in = deliver(delivery.pk)
            deliver(other.pk)
    # then ours failed for good on the first attempt, saying which secret to enter again, sent
    # nothing and logged no traceback
    delivery.refresh_from_db()
    assert retry_in is None and delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert f"EscalationPolicy.{field} of row" in delivery.last_error
    assert SECRET_UNREADABLE_HINT in delivery.last_error and "unexpected error" not in delivery.last_error
    assert ours.received == [] and _no_traceback_logged(caplog)
    # and the other tenant's went
    other.refresh_from_db()
    assert other.status == DeliveryStatus.SENT and len(theirs.received) == 1


def test_a_slack_url_no_key_opens_skips_slack_and_keeps_the_hand_off_and_other_channels(
    tenant: Tenant,
    other_tenant: Tenant,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # given a Slack URL written under a key since dropped, then an email address and a signed
    # webhook set under the current key, and another tenant with a readable Slack URL
    tenant.escalation_email = "team@alpha.example"
    tenant.save(update_fields=["escalation_email"])
    with http_sink([]) as hook, http_sink([]) as theirs:
        settings.FIELD_ENCRYPTION_KEYS = [LOST]
        set_hours(tenant, ALWAYS, slack_webhook_url=LOST_SLACK_URL)
        settings.FIELD_ENCRYPTION_KEYS = [NEW]
        set_hours(tenant, ALWAYS, webhook_url=hook.url, webhook_secret="s3cret")
        set_hours(other_tenant, ALWAYS, notify_email=False, slack_webhook_url=theirs.url)
        # when each tenant hands a conversation off
        with caplog.at_level(logging.ERROR, logger="escalations.notifications.dispatch"):
            raise_for(tenant, django_capture_on_commit_callbacks)
            other = raise_for(other_tenant, django_capture_on_commit_callbacks)
    # then the escalation exists, and its email and webhook went; Slack was skipped, logged as an
    # error naming the policy's Slack URL, without a traceback
    escalation = Escalation.objects.get(tenant=tenant)
    deliveries = NotificationDelivery.objects.filter(escalation=escalation).order_by("pk")
    assert [(d.channel, d.status) for d in deliveries] == [
        (Channel.EMAIL, DeliveryStatus.SENT),
        (Channel.WEBHOOK, DeliveryStatus.SENT),
    ]
    assert [message.to for message in mail.outbox] == [["team@alpha.example"]] and len(hook.received) == 1
    (logged,) = [record for record in caplog.records if "slack_webhook_url" in record.getMessage()]
    assert f"escalation {escalation.pk}" in logged.getMessage() and SECRET_UNREADABLE_HINT in logged.getMessage()
    assert _no_traceback_logged(caplog)
    # and the other tenant's Slack message went
    assert other is not None and other.channel == Channel.SLACK and other.status == DeliveryStatus.SENT
    assert len(theirs.received) == 1
