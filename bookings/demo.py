"""Demo step: bookable services and opening hours for the demo wellness studio (idempotent)."""

from __future__ import annotations

from datetime import time

from django.db import transaction

from bookings.models import AvailabilityRule, Service, Weekday
from supportai.models import Tenant

# name, description, minutes, buffer, step, price in cents
DEMO_SERVICES = (
    ("Free consultation", "A 15-minute chat about your goals and which treatment fits.", 15, 0, 15, 0),
    ("Swedish massage", "A relaxing full-body massage, 60 minutes.", 60, 15, 30, 9500),
    ("Facial skin check", "A short skin assessment with product advice.", 30, 0, 30, 0),
    ("Community yoga class", "Evening yoga in our studio, all levels; up to 12 people.", 60, 0, 60, 0),
)
WEEKDAY_HOURS = (time(9), time(18))
SATURDAY_HOURS = (time(10), time(16))
STUDIO_CAPACITY = 2  # two practitioners share the treatment rooms
YOGA_DAYS = (Weekday.TUESDAY, Weekday.THURSDAY, Weekday.SATURDAY)
YOGA_CAPACITY = 12


@transaction.atomic
def seed_demo_bookings(tenant: Tenant) -> str:
    services = {}
    for name, description, minutes, buffer, step, price in DEMO_SERVICES:
        services[name], _ = Service.objects.update_or_create(
            tenant=tenant,
            name=name,
            defaults={
                "description": description,
                "duration_minutes": minutes,
                "buffer_minutes": buffer,
                "slot_step_minutes": step,
                "price_cents": price,
                "currency": "usd",
                "active": True,
            },
        )
    rules = AvailabilityRule.objects.for_tenant(tenant)
    if not rules.filter(service__isnull=True).exists():
        opening = [(day, *WEEKDAY_HOURS) for day in range(Weekday.MONDAY, Weekday.SATURDAY)]
        opening.append((Weekday.SATURDAY, *SATURDAY_HOURS))
        AvailabilityRule.objects.bulk_create(
            AvailabilityRule(tenant=tenant, weekday=d, start_time=s, end_time=e, capacity=STUDIO_CAPACITY)
            for d, s, e in opening
        )
    yoga = services["Community yoga class"]
    if not rules.filter(service=yoga).exists():
        AvailabilityRule.objects.bulk_create(
            AvailabilityRule(
                tenant=tenant, service=yoga, weekday=d, start_time=time(18), end_time=time(19), capacity=YOGA_CAPACITY
            )
            for d in YOGA_DAYS
        )
    return f"bookings: {len(services)} services (1 paid), opening hours Mon-Sat"
