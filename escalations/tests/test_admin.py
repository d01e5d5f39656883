"""Admin pages: tenant-scoped lists, write-only secrets, read-only escalations, retry action."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from escalations.models import DeliveryStatus, EscalationPolicy, NotificationDelivery
from escalations.tests.admin_forms import logged_in, policy_form
from escalations.tests.factories import EscalationFactory
from supportai.models import Tenant

pytestmark = pytest.mark.django_db


def test_lists_show_only_the_users_tenants(owner: User, tenant: Tenant, other_tenant: Tenant) -> None:
    ours = EscalationFactory.create(conversation__tenant=tenant, reason="ours-reason")
    EscalationFactory.create(conversation__tenant=other_tenant, reason="theirs-reason")
    page = logged_in(owner).get("/admin/escalations/escalation/")
    assert page.status_code == 200
    assert f"/admin/escalations/escalation/{ours.pk}/change/" in page.content.decode()
    assert page.content.decode().count("/admin/escalations/escalation/") >= 1
    theirs = EscalationFactory.create(conversation__tenant=other_tenant)
    assert logged_in(owner).get(f"/admin/escalations/escalation/{theirs.pk}/change/").status_code == 302


def test_policy_secrets_are_write_only_and_kept_when_blank(owner: User, tenant: Tenant, settings: Any) -> None:
    policy = EscalationPolicy.objects.create(tenant=tenant, webhook_secret="s3cret-value")
    url = f"/admin/escalations/escalationpolicy/{policy.pk}/change/"
    client = logged_in(owner)
    assert b"s3cret-value" not in client.get(url).content
    form = policy_form(tenant, updated_at_0="2026-01-01", updated_at_1="00:00:00")
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    policy.refresh_from_db()
    assert policy.webhook_secret == "s3cret-value" and policy.team_name == "care team"
    bad = client.post(url, {**form, "weekly_hours": '{"mon": [["18:00", "09:00"]]}'})
    assert b"must start before" in bad.content


def test_retry_action_requeues_failed_deliveries(owner: User, tenant: Tenant) -> None:
    escalation = EscalationFactory.create(conversation__tenant=tenant)
    delivery = NotificationDelivery.objects.create(
        tenant=tenant, escalation=escalation, channel="webhook", status=DeliveryStatus.FAILED, attempts=5
    )
    logged_in(owner).post(
        "/admin/escalations/notificationdelivery/", {"action": "retry", "_selected_action": [delivery.pk]}
    )
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.status == DeliveryStatus.FAILED  # re-sent: no URL configured
    assert "no webhook URL" in delivery.last_error
