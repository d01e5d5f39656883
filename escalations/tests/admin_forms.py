"""Helpers of the escalation admin tests: a logged-in client and a valid policy form."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.test import Client

from supportai.models import Tenant


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def policy_form(tenant: Tenant, **fields: Any) -> dict[str, Any]:
    return {
        "tenant": tenant.pk,
        "team_name": "care team",
        "timezone": "",
        "weekly_hours": '{"mon": [["09:00", "17:00"]]}',
        "holidays": "",
        "billing_dispute_threshold": "100",
        "sla_minutes_high": 15,
        "sla_minutes_medium": 60,
        "sla_minutes_low": 240,
        "notify_email": "on",
        "slack_webhook_url": "",
        "webhook_url": "",
        "webhook_secret": "",
        **fields,
    }
