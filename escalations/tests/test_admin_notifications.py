"""Admin of notification targets and deliveries: the webhook is always signed (and over HTTPS
in production); retrying failed deliveries reaches only tenants the user manages and clears what
would hold the new attempt back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.utils import timezone

from escalations.models import Channel, DeliveryStatus, EscalationPolicy, NotificationDelivery
from escalations.tests.admin_forms import logged_in, policy_form
from escalations.tests.factories import EscalationFactory
from supportai.models import Role, Tenant
from supportai.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

NEEDS_SECRET = b"A webhook URL needs a signing secret"
NEEDS_HTTPS = b"The webhook URL must start with https://"


def change_url(policy: EscalationPolicy) -> str:
    return f"/admin/escalations/escalationpolicy/{policy.pk}/change/"


def test_a_webhook_url_without_a_secret_is_refused(owner: User, tenant: Tenant) -> None:
    policy = EscalationPolicy.objects.create(tenant=tenant)
    page = logged_in(owner).post(change_url(policy), policy_form(tenant, webhook_url="https://hooks.example.com/x"))
    assert page.status_code == 200 and NEEDS_SECRET in page.content
    policy.refresh_from_db()
    assert policy.webhook_url == ""


def test_a_stored_url_without_a_secret_is_refused_on_the_next_save(owner: User, tenant: Tenant) -> None:
    policy = EscalationPolicy.objects.create(tenant=tenant, webhook_url="https://hooks.example.com/x")
    client = logged_in(owner)
    page = client.post(change_url(policy), policy_form(tenant, webhook_url=policy.webhook_url, team_name="new"))
    assert page.status_code == 200 and NEEDS_SECRET in page.content
    policy.refresh_from_db()
    assert policy.team_name != "new"
    signed = policy_form(tenant, webhook_url=policy.webhook_url, webhook_secret="s3cret", team_name="new")
    fixed = client.post(change_url(policy), signed)
    assert fixed.status_code == 302
    policy.refresh_from_db()
    assert policy.team_name == "new" and policy.webhook_secret == "s3cret"


def test_a_stored_secret_still_counts_and_clearing_it_needs_the_url_gone(owner: User, tenant: Tenant) -> None:
    policy = EscalationPolicy.objects.create(
        tenant=tenant, webhook_url="https://hooks.example.com/x", webhook_secret="s3cret"
    )
    client = logged_in(owner)
    kept = client.post(change_url(policy), policy_form(tenant, webhook_url=policy.webhook_url))
    assert kept.status_code == 302
    cleared = client.post(change_url(policy), policy_form(tenant, webhook_url=policy.webhook_url, clear_secrets="on"))
    assert cleared.status_code == 200 and NEEDS_SECRET in cleared.content
    policy.refresh_from_db()
    assert policy.webhook_secret == "s3cret"
    both = client.post(change_url(policy), policy_form(tenant, webhook_url="", clear_secrets="on"))
    assert both.status_code == 302
    policy.refresh_from_db()
    assert policy.webhook_url == "" and policy.webhook_secret == ""


def test_plain_http_is_refused_when_debug_is_off(owner: User, tenant: Tenant, settings: Any) -> None:
    settings.DEBUG = False
    policy = EscalationPolicy.objects.create(tenant=tenant)
    form = policy_form(tenant, webhook_url="http://hooks.example.com/x", webhook_secret="s3cret")
    page = logged_in(owner).post(change_url(policy), form)
    assert page.status_code == 200 and NEEDS_HTTPS in page.content
    policy.refresh_from_db()
    assert policy.webhook_url == "" and policy.webhook_secret == ""


def test_plain_http_is_allowed_in_development(owner: User, tenant: Tenant, settings: Any) -> None:
    settings.DEBUG = True
    policy = EscalationPolicy.objects.create(tenant=tenant)
    form = policy_form(tenant, webhook_url="http://127.0.0.1:9000/hook", webhook_secret="s3cret")
    assert logged_in(owner).post(change_url(policy), form).status_code == 302
    policy.refresh_from_db()
    assert policy.webhook_url == "http://127.0.0.1:9000/hook"


def test_another_tenants_policy_cannot_be_changed(owner: User, tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = EscalationPolicy.objects.create(tenant=other_tenant)
    form = policy_form(other_tenant, webhook_url="https://evil.example.com/x", webhook_secret="s3cret")
    response = logged_in(owner).post(change_url(theirs), form)
    assert response.status_code in (302, 403, 404)
    theirs.refresh_from_db()
    assert theirs.webhook_url == ""


DELIVERIES = "/admin/escalations/notificationdelivery/"


def failed_email_delivery(tenant: Tenant, **fields: Any) -> NotificationDelivery:
    tenant.escalation_email = f"care@{tenant.slug}.example.com"
    tenant.save(update_fields=["escalation_email"])
    escalation = EscalationFactory.create(conversation__tenant=tenant)
    delivery: NotificationDelivery = NotificationDelivery.objects.create(
        tenant=tenant,
        escalation=escalation,
        channel=Channel.EMAIL,
        status=DeliveryStatus.FAILED,
        attempts=5,
        last_error="email: connection refused",
        **fields,
    )
    return delivery


def retry(client: Client, *deliveries: NotificationDelivery) -> None:
    client.post(DELIVERIES, {"action": "retry", "_selected_action": [delivery.pk for delivery in deliveries]})


def test_retry_leaves_deliveries_of_tenants_the_user_only_views(
    owner: User, tenant: Tenant, other_tenant: Tenant
) -> None:
    MembershipFactory.create(user=owner, tenant=other_tenant, role=Role.ANALYST)
    ours = failed_email_delivery(tenant)
    theirs = failed_email_delivery(other_tenant)
    retry(logged_in(owner), ours, theirs)
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert ours.status == DeliveryStatus.SENT and ours.attempts == 1
    assert theirs.status == DeliveryStatus.FAILED and theirs.attempts == 5
    assert theirs.last_error == "email: connection refused"
    assert [message.to for message in mail.outbox] == [[f"care@{tenant.slug}.example.com"]]


def test_retry_clears_a_lease_and_a_due_time_left_on_the_row(owner: User, tenant: Tenant) -> None:
    later = timezone.now() + timedelta(hours=1)
    delivery = failed_email_delivery(tenant, leased_until=later, next_attempt_at=later)
    retry(logged_in(owner), delivery)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 1
    assert delivery.leased_until is None and delivery.next_attempt_at <= timezone.now()
    assert len(mail.outbox) == 1


def test_delivery_page_shows_the_lease_and_due_time_read_only(
    owner: User, tenant: Tenant, other_tenant: Tenant
) -> None:
    later = timezone.now() + timedelta(hours=1)
    delivery = failed_email_delivery(tenant, leased_until=later, next_attempt_at=later)
    client = logged_in(owner)
    page = client.get(f"{DELIVERIES}{delivery.pk}/change/").content.decode()
    assert "Next attempt at" in page and "Leased until" in page
    assert 'name="next_attempt_at_0"' not in page and 'name="leased_until_0"' not in page
    theirs = failed_email_delivery(other_tenant, leased_until=later)
    assert client.get(f"{DELIVERIES}{theirs.pk}/change/").status_code == 302
