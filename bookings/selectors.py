"""Reads for bookings (tenant always explicit)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone

from bookings.availability import local_day_bounds
from bookings.models import (
    REFUND_DUE,
    AvailabilityRule,
    BlackoutDate,
    Booking,
    BookingEmail,
    BookingEvent,
    BookingStatus,
    Proposal,
    ProposalStatus,
    Service,
    lapsed_holds,
)
from chat.models import Conversation
from supportai.models import Tenant

# The status filter's value for bookings released because their unpaid hold ran out (``hold_expired``,
# or lapsed and not released by housekeeping yet): they show as canceled.
RELEASED = "released"


def _shown_status(status: str) -> Q:
    """The bookings whose shown status (``Booking.shown_status``) is ``status``, or which were
    ``RELEASED``: a hold that ran out shows canceled before housekeeping releases it."""
    lapsed = lapsed_holds(timezone.now())
    if status == RELEASED:
        return Q(hold_expired=True) | lapsed
    if status == BookingStatus.PENDING:
        return Q(status=status) & ~lapsed
    if status == BookingStatus.CANCELED:
        return Q(status=status) | lapsed
    return Q(status=status)


@dataclass(frozen=True)
class BookingFilters:
    status: str = ""  # a ``BookingStatus`` as the rows show it, or ``RELEASED``
    service_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    query: str = ""
    refund_due: bool = False


def booking_list(*, tenant: Tenant, filters: BookingFilters | None = None) -> QuerySet[Booking]:
    """Latest start first; ties (a class books many per slot) newest first, so pages never overlap."""
    bookings = Booking.objects.for_tenant(tenant).select_related("service").order_by("-start_at", "-pk")
    if filters is None:
        return bookings
    if filters.status:
        bookings = bookings.filter(_shown_status(filters.status))
    if filters.service_id:
        bookings = bookings.filter(service_id=filters.service_id)
    if filters.date_from:
        bookings = bookings.filter(start_at__gte=local_day_bounds(tenant, filters.date_from)[0])
    if filters.date_to:
        bookings = bookings.filter(start_at__lt=local_day_bounds(tenant, filters.date_to)[1])
    if filters.refund_due:
        bookings = bookings.filter(REFUND_DUE)
    if filters.query:
        q = filters.query.strip()
        bookings = bookings.filter(
            Q(confirmation_code__iexact=q) | Q(customer_email__icontains=q) | Q(customer_name__icontains=q)
        )
    return bookings


def booking_day(*, tenant: Tenant, day: date) -> QuerySet[Booking]:
    """Bookings starting on a local date of the tenant, in time order."""
    start, end = local_day_bounds(tenant, day)
    return (
        Booking.objects.for_tenant(tenant)
        .select_related("service")
        .filter(start_at__gte=start, start_at__lt=end)
        .order_by("start_at")
    )


def booking_get(*, tenant: Tenant, pk: int) -> Booking | None:
    return Booking.objects.for_tenant(tenant).select_related("service", "tenant").filter(pk=pk).first()


def booking_events(*, tenant: Tenant, booking: Booking) -> QuerySet[BookingEvent]:
    return BookingEvent.objects.for_tenant(tenant).filter(booking=booking).select_related("staff_user")


def booking_emails(*, tenant: Tenant, booking: Booking) -> QuerySet[BookingEmail]:
    return BookingEmail.objects.for_tenant(tenant).filter(booking=booking)


def booking_email_get(*, tenant: Tenant, booking: Booking, pk: int) -> BookingEmail | None:
    return booking_emails(tenant=tenant, booking=booking).filter(pk=pk).first()


def service_list(*, tenant: Tenant) -> QuerySet[Service]:
    return Service.objects.for_tenant(tenant).order_by("name")


def service_get(*, tenant: Tenant, pk: int) -> Service | None:
    return Service.objects.for_tenant(tenant).filter(pk=pk).first()


def rule_list(*, tenant: Tenant) -> QuerySet[AvailabilityRule]:
    return AvailabilityRule.objects.for_tenant(tenant).select_related("service").order_by("service__name", "weekday")


def rule_get(*, tenant: Tenant, pk: int) -> AvailabilityRule | None:
    return AvailabilityRule.objects.for_tenant(tenant).select_related("service").filter(pk=pk).first()


def blackout_list(*, tenant: Tenant) -> QuerySet[BlackoutDate]:
    return BlackoutDate.objects.for_tenant(tenant).select_related("service").order_by("date")


def blackout_get(*, tenant: Tenant, pk: int) -> BlackoutDate | None:
    return BlackoutDate.objects.for_tenant(tenant).select_related("service").filter(pk=pk).first()


def proposal_list_open(*, tenant: Tenant, conversation: Conversation) -> QuerySet[Proposal]:
    """Proposals of this conversation the customer can still confirm (pending, not expired), oldest first."""
    return (
        Proposal.objects.for_tenant(tenant)
        .filter(conversation=conversation, status=ProposalStatus.PENDING, expires_at__gt=timezone.now())
        .order_by("created_at", "pk")
    )
