"""The delivery admin changes nothing of a delivery by hand (its tenant least of all), and the
escalation page shows when each of its deliveries is next tried and who holds it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import formats, timezone

from escalations.tests.admin_forms import logged_in
from escalations.tests.test_admin_notifications import DELIVERIES, failed_email_delivery
from supportai.models import Role, Tenant
from supportai.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_delivery_cannot_be_moved_to_another_managed_tenant_or_its_time_changed(
    owner: User, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given an owner of both tenants and a delivery of the first
    MembershipFactory.create(user=owner, tenant=other_tenant, role=Role.OWNER)
    delivery = failed_email_delivery(tenant)
    before = delivery.updated_at
    client = logged_in(owner)
    page = client.get(f"{DELIVERIES}{delivery.pk}/change/").content.decode()
    assert 'name="tenant"' not in page and 'name="updated_at_0"' not in page
    # when the change form is posted with the other tenant and another time
    form = {"tenant": other_tenant.pk, "updated_at_0": "2020-01-01", "updated_at_1": "00:00:00"}
    client.post(f"{DELIVERIES}{delivery.pk}/change/", form)
    # then the delivery stays with its escalation's tenant, its time unchanged
    delivery.refresh_from_db()
    assert delivery.tenant_id == tenant.pk == delivery.escalation.tenant_id and delivery.updated_at == before


def shown(moment: datetime) -> str:
    """How the admin prints a time (``display_for_field``)."""
    return f"<p>{formats.localize(timezone.localtime(moment))}</p>"


def test_the_escalation_page_shows_each_deliverys_due_time_and_lease(tenant: Tenant, other_tenant: Tenant) -> None:
    # given a delivery due at 13:37 and leased until 13:42, and another tenant's due at 09:09
    # (seen as a superuser; tenant staff see the same rows, as supportai/tests/test_admin_inlines.py checks)
    now = timezone.localtime(timezone.now())
    due = now.replace(hour=13, minute=37, second=0)
    delivery = failed_email_delivery(tenant, next_attempt_at=due, leased_until=due + timedelta(minutes=5))
    their_due = now.replace(hour=9, minute=9, second=0)
    theirs = failed_email_delivery(other_tenant, next_attempt_at=their_due)
    admin = UserFactory.create(username="root", is_staff=True, is_superuser=True)
    # when the first escalation's page is opened
    page = logged_in(admin).get(f"/admin/escalations/escalation/{delivery.escalation_id}/change/").content.decode()
    # then its delivery row shows both times, read-only, and nothing of the other escalation's
    assert "Next attempt at" in page and "Leased until" in page
    assert shown(due) in page and shown(due + timedelta(minutes=5)) in page and shown(their_due) not in page
    assert 'name="deliveries-0-next_attempt_at_0"' not in page
    assert f"/admin/escalations/escalation/{theirs.escalation_id}/" not in page
