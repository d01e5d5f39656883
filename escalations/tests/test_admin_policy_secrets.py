"""The policy admin with a stored secret no configured key opens: a clear form error asking for it
again, never a 500; entering or clearing it fixes the policy."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.models import User

from escalations.admin import SECRET_UNREADABLE
from escalations.models import EscalationPolicy
from escalations.tests.admin_forms import logged_in, policy_form
from escalations.tests.test_admin_notifications import NEEDS_SECRET, change_url
from supportai.models import Tenant

pytestmark = pytest.mark.django_db
LOST, NEW = (Fernet.generate_key().decode() for _ in range(2))
LOST_SECRETS = {"slack_webhook_url": "https://hooks.slack.com/services/T/B/lost", "webhook_secret": "lost"}


def _policy_with_lost_secrets(settings: Any, tenant: Tenant) -> EscalationPolicy:
    settings.FIELD_ENCRYPTION_KEYS = [LOST]
    policy = EscalationPolicy.objects.create(tenant=tenant, webhook_url="https://hooks.example.com/x", **LOST_SECRETS)
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    return EscalationPolicy.objects.get(pk=policy.pk)


def test_a_blank_secret_field_over_an_unreadable_stored_one_asks_for_it_again(
    owner: User, tenant: Tenant, settings: Any
) -> None:
    # given a policy whose Slack URL and webhook secret were written under a key since dropped
    policy = _policy_with_lost_secrets(settings, tenant)
    client = logged_in(owner)
    assert client.get(change_url(policy)).status_code == 200
    # when it is saved with both secret fields left blank
    page = client.post(change_url(policy), policy_form(tenant, webhook_url=policy.webhook_url, team_name="new"))
    # then the form says to enter each again (not that the webhook never had a secret), and
    # nothing is saved
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count(SECRET_UNREADABLE) == 2 and NEEDS_SECRET.decode() not in html
    assert EscalationPolicy.objects.get(pk=policy.pk).team_name != "new"


def test_entering_the_unreadable_secrets_again_saves(owner: User, tenant: Tenant, settings: Any) -> None:
    policy = _policy_with_lost_secrets(settings, tenant)
    client = logged_in(owner)
    # when one is entered again and the other left blank, the blank one is still refused
    partly = policy_form(tenant, webhook_url=policy.webhook_url, webhook_secret="s3cret")
    page = client.post(change_url(policy), partly)
    assert page.status_code == 200 and page.content.decode().count(SECRET_UNREADABLE) == 1
    # when both are entered again, they are saved under the current key
    slack = "https://hooks.slack.com/services/T/B/new"
    both = policy_form(tenant, webhook_url=policy.webhook_url, webhook_secret="s3cret", slack_webhook_url=slack)
    assert client.post(change_url(policy), both).status_code == 302
    policy.refresh_from_db()
    assert (policy.slack_webhook_url, policy.webhook_secret) == (slack, "s3cret")


def test_unreadable_secrets_can_be_cleared(owner: User, tenant: Tenant, settings: Any) -> None:
    policy = _policy_with_lost_secrets(settings, tenant)
    cleared = logged_in(owner).post(change_url(policy), policy_form(tenant, clear_secrets="on"))
    assert cleared.status_code == 302
    policy.refresh_from_db()
    assert (policy.slack_webhook_url, policy.webhook_secret, policy.webhook_url) == ("", "", "")


def test_another_tenants_policy_with_unreadable_secrets_stays_out_of_reach(
    owner: User, tenant: Tenant, other_tenant: Tenant, settings: Any
) -> None:
    theirs = _policy_with_lost_secrets(settings, other_tenant)
    client = logged_in(owner)
    form = policy_form(other_tenant, webhook_secret="mine", slack_webhook_url="https://hooks.slack.com/services/x")
    assert client.post(change_url(theirs), form).status_code in (302, 403, 404)
    settings.FIELD_ENCRYPTION_KEYS = [NEW, LOST]
    theirs = EscalationPolicy.objects.get(pk=theirs.pk)
    assert (theirs.slack_webhook_url, theirs.webhook_secret) == tuple(LOST_SECRETS.values())
