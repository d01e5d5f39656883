"""Writes for the booking catalogue: services, weekly availability rules, blackout dates (staff only)."""

from __future__ import annotations

from datetime import date, time

from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet

from bookings.models import BLACKOUT_UNIQUE_DATE, RULE_UNIQUE_HOURS, AvailabilityRule, BlackoutDate, Service
from bookings.services import NOT_FOUND, BookingError
from supportai.models import Tenant

OTHER_TENANT = "That service does not belong to this tenant."
SERVICE_HAS_BOOKINGS = (
    "A service with bookings cannot be deleted, its bookings keep it: {services}. "
    "Untick Active to stop offering it; it goes when its tenant is deleted."
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
    """Add opening hours; the same hours twice (same services, day, from and to) are refused on the
    opening time (``AvailabilityRule.duplicate_error``), also when another request saved them after
    this one's check; hours overlapping others are not (the larger capacity counts where they overlap)."""
    rule = AvailabilityRule(
        tenant=tenant,
        service=_own_service(tenant, service),
        weekday=weekday,
        start_time=start_time,
        end_time=end_time,
        capacity=capacity,
    )
    _save_once(rule, constraint=RULE_UNIQUE_HOURS)
    return rule


def rule_delete(*, tenant: Tenant, rule_id: int) -> bool:
    deleted, _ = AvailabilityRule.objects.for_tenant(tenant).filter(pk=rule_id).delete()
    return bool(deleted)


def _save_once(row: AvailabilityRule | BlackoutDate, *, constraint: str) -> None:
    """Check and save ``row``; a twin saved by another request after the check (the database's ``constraint``
    refuses it) is said as the check says it (``duplicate_error``)."""
    row.full_clean()
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as exc:
        if constraint not in str(exc):
            raise
        raise row.duplicate_error() from exc


def blackout_add(*, tenant: Tenant, service: Service | None, day: date, reason: str = "") -> BlackoutDate:
    """Close ``day``; the same date twice for the same services is refused on the date
    (``BlackoutDate.duplicate_error``), also when another request saved it after this one's check."""
    blackout = BlackoutDate(tenant=tenant, service=_own_service(tenant, service), date=day, reason=reason[:200])
    _save_once(blackout, constraint=BLACKOUT_UNIQUE_DATE)
    return blackout


def blackout_delete(*, tenant: Tenant, blackout_id: int) -> bool:
    deleted, _ = BlackoutDate.objects.for_tenant(tenant).filter(pk=blackout_id).delete()
    return bool(deleted)
