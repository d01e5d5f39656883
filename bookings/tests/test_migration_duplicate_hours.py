"""Migrations 0010 and 0011 on opening hours added twice before the database refused them (through the
admin, or two adds at once): the first of each is kept, with the largest capacity of its copies (where
hours overlap, the larger capacity counts: what the customers could book stays), then the constraint."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import time
from typing import Any

import pytest

from bookings.tests.migrations_under_test import at_migration, migrate

BEFORE = [("bookings", "0009_booking_refund_requested_at")]
AFTER = [("bookings", "0011_availabilityrule_rule_unique_hours")]


@pytest.fixture
def bookings_at_0009() -> Iterator[Any]:
    yield from at_migration(BEFORE)


@pytest.mark.django_db(transaction=True)
def test_migration_keeps_the_first_of_hours_added_twice_with_their_largest_capacity(bookings_at_0009: Any) -> None:
    # given: Saturday 10:00-12:00 three times as the tenant's hours (capacities 2, 5, 1) and twice as the
    # massage's own, Sunday's hours once, and the same Saturday hours of another tenant
    apps = bookings_at_0009
    tenant_model = apps.get_model("supportai", "Tenant")
    alpha, bravo = (tenant_model.objects.create(slug=slug, name=slug) for slug in ("alpha", "bravo"))
    massage = apps.get_model("bookings", "Service").objects.create(tenant=alpha, name="Massage", duration_minutes=60)
    rule = apps.get_model("bookings", "AvailabilityRule")

    def hours(tenant: Any, capacity: int, service: Any = None, weekday: int = 5) -> int:
        row = rule.objects.create(
            tenant=tenant, service=service, weekday=weekday, start_time=time(10), end_time=time(12), capacity=capacity
        )
        return int(row.pk)

    tenant_hours = [hours(alpha, 2), hours(alpha, 5), hours(alpha, 1)]
    own_hours = [hours(alpha, 3, massage), hours(alpha, 1, massage)]
    sunday, others = hours(alpha, 4, weekday=6), hours(bravo, 1)
    # when: the migrations run
    migrated = migrate(AFTER).get_model("bookings", "AvailabilityRule")
    # then: the first of each is left, with the largest capacity of its copies; the others are as they were
    kept = dict(migrated.objects.values_list("pk", "capacity"))
    assert kept == {tenant_hours[0]: 5, own_hours[0]: 3, sunday: 4, others: 1}
