"""Demo step: service hours for the demo studio, open most of the day so ``/demo/`` shows a live handoff."""

from __future__ import annotations

from decimal import Decimal

from escalations.models import EscalationPolicy
from supportai.models import Tenant

DEMO_DAY = [["06:00", "24:00"]]  # studio-local (America/Denver); nights go to the out-of-hours ticket path
DEMO_HOURS = {day: DEMO_DAY for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def seed_demo_escalations(tenant: Tenant) -> str:
    """Idempotent: creates the policy once and never overwrites what staff changed later."""
    _, created = EscalationPolicy.objects.get_or_create(
        tenant=tenant,
        defaults={
            "team_name": "front desk team",
            "weekly_hours": DEMO_HOURS,
            "billing_dispute_threshold": Decimal("150.00"),
        },
    )
    return "escalations: service hours 06:00-24:00 daily (America/Denver)" + (" created" if created else " kept")
