"""The demo tenant: an invented wellness studio that takes appointments.

Each app that has demo content adds a step to ``DEMO_STEPS`` (knowledge articles, bookable
services, …); ``seed_demo_tenant`` runs them in order. Every step must be idempotent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction

from supportai.memberships import membership_set
from supportai.models import Role, Tenant

DEMO_SLUG = "juniper-sage"
DEMO_NAME = "Juniper & Sage Wellness Studio"
LOCAL_ORIGINS = ("http://127.0.0.1:8000", "http://localhost:8000")


@dataclass(frozen=True)
class DemoStaff:
    username: str
    role: Role
    password: str
    email: str


DEMO_STAFF = (
    DemoStaff("demo-owner", Role.OWNER, "juniper-owner-2026", "owner@juniper-sage.example"),
    DemoStaff("demo-admin", Role.ADMIN, "juniper-admin-2026", "admin@juniper-sage.example"),
    DemoStaff("demo-agent", Role.AGENT, "juniper-agent-2026", "agent@juniper-sage.example"),
    DemoStaff("demo-analyst", Role.ANALYST, "juniper-analyst-2026", "analyst@juniper-sage.example"),
)


@dataclass
class SeedResult:
    tenant: Tenant
    created: bool
    report: list[str] = field(default_factory=list)


DemoStep = Callable[[Tenant], str]
DEMO_STEPS: list[DemoStep] = []


def _seed_staff(tenant: Tenant) -> None:
    user_model = get_user_model()
    for staff in DEMO_STAFF:
        user, _ = user_model.objects.get_or_create(username=staff.username, defaults={"email": staff.email})
        user.email = staff.email
        # Owners and admins manage the tenant in Django admin too; agents and analysts use the console.
        user.is_staff = staff.role in (Role.OWNER, Role.ADMIN)
        user.set_password(staff.password)
        user.save()
        membership_set(actor=None, tenant=tenant, user=user, role=staff.role)


@transaction.atomic
def seed_demo_tenant(*, extra_origins: list[str] | None = None) -> SeedResult:
    tenant, created = Tenant.objects.get_or_create(
        slug=DEMO_SLUG,
        defaults={
            "name": DEMO_NAME,
            "timezone": "America/Denver",
            "locale": "en",
            "brand_colour": "#2f6f5e",
            "escalation_email": "frontdesk@juniper-sage.example",
        },
    )
    origins = list(dict.fromkeys([*tenant.allowed_origins, *LOCAL_ORIGINS, *(extra_origins or [])]))
    if origins != tenant.allowed_origins:
        tenant.allowed_origins = origins
        tenant.full_clean()
        tenant.save(update_fields=["allowed_origins"])
    _seed_staff(tenant)
    result = SeedResult(tenant=tenant, created=created)
    result.report.extend(step(tenant) for step in DEMO_STEPS)
    return result
