"""Writes for the booking catalogue: services, weekly availability rules, blackout dates (staff only)."""

from __future__ import annotations

from datetime import date, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet

from bookings.models import AvailabilityRule, BlackoutDate, Service, Weekday
from bookings.services import NOT_FOUND, BookingError
from supportai.models import Tenant

OTHER_TENANT = "That service does not belong to this tenant."
SERVICE_HAS_BOOKINGS = (
    "A service with bookings cannot be deleted, its bookings keep it: {services}. "
    "Untick Active to stop offering it; it goes when its tenant is deleted."
)
RULE_DUPLICATE = (
    "{whose} are already open on {day}s {start}-{end}: to change the capacity, remove those hours and add them again."
)


def _own_service(tenant: Tenant, service: Service | None) -> Service | None:
    if service is not None and service.tenant_id != tenant.pk:
        raise BookingError(NOT_FOUND, OTHER_TENANT)
    return service


def service_deletion_refusal(services: QuerySet[Service]) -> str | None:
    """Why ``services`` may not be deleted (all at once), or None. A booking holds its service
    (``on_delete=RESTRICT``): the service goes only with its tenant."""
    held = (
        services.annotate(booked=Count("bookings"))
        .filter(booked__gt=0)
        .order_by("name", "pk")
        .values_list("name", "booked")
    )
    named = ", ".join(f"{name} ({booked} booking{'' if booked == 1 else 's'})" for name, booked in held)
    return SERVICE_HAS_BOOKINGS.format(services=named) if named else None


@transaction.atomic
def service_save(*, tenant: Tenant, service: Service) -> Service:
    """Create or update ``service`` (an unsaved or edited instance) for ``tenant``."""
    if service.pk is not None and not Service.objects.for_tenant(tenant).filter(pk=service.pk).exists():
        raise BookingError(NOT_FOUND, OTHER_TENANT)
    service.tenant = tenant
    service.full_clean()
    service.save()
    return service


@transaction.atomic
def rule_add(
    *, tenant: Tenant, service: Service | None, weekday: int, start_time: time, end_time: time, capacity: int
) -> AvailabilityRule:
    """Add opening hours; the same hours twice (same services, day, from and to) are refused, hours
    overlapping others are not (the larger capacity counts where they overlap)."""
    same = {"service": service, "weekday": weekday, "start_time": start_time, "end_time": end_time}
    if AvailabilityRule.objects.for_tenant(tenant).filter(**same).exists():
        whose = f"{service.name}'s hours" if service is not None else "All services' hours"
        day, start, end = Weekday(weekday).label, f"{start_time:%H:%M}", f"{end_time:%H:%M}"
        raise ValidationError(RULE_DUPLICATE.format(whose=whose, day=day, start=start, end=end), code="duplicate")
    rule = AvailabilityRule(
        tenant=tenant,
        service=_own_service(tenant, service),
        weekday=weekday,
        start_time=start_time,
        end_time=end_time,
        capacity=capacity,
    )
    rule.full_clean()
    rule.save()
    return rule


def rule_delete(*, tenant: Tenant, rule_id: int) -> bool:
    deleted, _ = AvailabilityRule.objects.for_tenant(tenant).filter(pk=rule_id).delete()
    return bool(deleted)


@transaction.atomic
def blackout_add(*, tenant: Tenant, service: Service | None, day: date, reason: str = "") -> BlackoutDate:
    blackout = BlackoutDate(tenant=tenant, service=_own_service(tenant, service), date=day, reason=reason[:200])
    blackout.full_clean()
    blackout.save()
    return blackout


def blackout_delete(*, tenant: Tenant, blackout_id: int) -> bool:
    deleted, _ = BlackoutDate.objects.for_tenant(tenant).filter(pk=blackout_id).delete()
    return bool(deleted)
