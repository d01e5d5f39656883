"""Escalation reads: tenant-scoped, another tenant's rows are never returned."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from escalations.selectors import staff_member_get
from supportai.models import Tenant

pytestmark = pytest.mark.django_db


def test_staff_member_get_returns_a_member_of_the_tenant(tenant: Tenant, agent: User) -> None:
    assert staff_member_get(tenant=tenant, user_id=agent.pk) == agent


def test_staff_member_get_finds_no_member_of_another_tenant(tenant: Tenant, outsider: User) -> None:
    # charlie is a member (owner) of the other tenant only
    assert staff_member_get(tenant=tenant, user_id=outsider.pk) is None


def test_staff_member_get_finds_nothing_for_an_unknown_user(tenant: Tenant) -> None:
    assert staff_member_get(tenant=tenant, user_id=2**62) is None
