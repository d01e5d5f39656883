from __future__ import annotations

from datetime import time

import factory

from bookings.models import AvailabilityRule, Service
from supportai.tests.factories import TenantFactory


class ServiceFactory(factory.django.DjangoModelFactory[Service]):
    class Meta:
        model = Service

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Service {n}")
    duration_minutes = 60
    slot_step_minutes = 60
    price_cents = 0


class RuleFactory(factory.django.DjangoModelFactory[AvailabilityRule]):
    """Tenant-wide hours by default; pass ``service=`` for a service's own pool."""

    class Meta:
        model = AvailabilityRule

    tenant = factory.SubFactory(TenantFactory)
    weekday = 0
    start_time = time(9)
    end_time = time(17)
    capacity = 1
