"""Notification secrets a delivery cannot use: a webhook without a signing secret is never sent."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from escalations.models import DeliveryStatus
from escalations.notifications.webhook import NO_SIGNING_SECRET
from escalations.tests.conftest import ALWAYS, set_hours
from escalations.tests.http_sink import http_sink
from escalations.tests.test_notifications import Capture, raise_for
from supportai.models import Tenant

pytestmark = pytest.mark.django_db


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
