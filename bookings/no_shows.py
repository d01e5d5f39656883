"""No-shows (staff): a booking whose start has passed is marked NO_SHOW, and a mistake undone within a week.

A no-show keeps its time and buffer like a completed booking (``availability.TIME_HOLDING_STATUSES``)
and housekeeping, which only completes CONFIRMED bookings, leaves it a no-show. Both changes take the
booking's row lock and append to its history, as every booking write does (``bookings.services``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from bookings.models import NO_SHOW_FROM, Booking, BookingEvent, BookingEventKind, BookingStatus
from bookings.services import (
    GENERIC_NOT_FOUND,
    NOT_CHANGEABLE,
    NOT_FOUND,
    Actor,
    BookingError,
    booking_lock,
    event_record,
)
from supportai.models import Tenant

NOT_STARTED = "Only a booking whose start time has passed can be marked as a no-show."
NO_SHOW_NOT_BOOKED = "Only a confirmed or completed booking can be marked as a no-show."
NOT_NO_SHOW = "This booking is not marked as a no-show."
NO_SHOW_UNDO_WINDOW = timedelta(days=7)
NO_SHOW_UNDO_TOO_LATE = "A no-show can only be undone within 7 days of marking it."


def _set_status(booking: Booking, status: BookingStatus, *, now: datetime) -> None:
    booking.status = status
    booking.updated_at = now
    booking.save(update_fields=["status", "updated_at"])


@transaction.atomic
def booking_mark_no_show(*, tenant: Tenant, booking: Booking, actor: Actor) -> Booking:
    """The customer did not come. Idempotent. A CONFIRMED booking whose start has passed, or a
    COMPLETED one (housekeeping completes it at its end), becomes NO_SHOW."""
    if booking.tenant_id != tenant.pk:
        raise BookingError(NOT_FOUND, GENERIC_NOT_FOUND)
    booking = booking_lock(booking)
    if booking.status == BookingStatus.NO_SHOW:
        return booking
    if booking.status not in NO_SHOW_FROM:
        raise BookingError(NOT_CHANGEABLE, NO_SHOW_NOT_BOOKED)
    now = timezone.now()
    if booking.start_at > now:
        raise BookingError(NOT_CHANGEABLE, NOT_STARTED)
    previous = booking.status
    _set_status(booking, BookingStatus.NO_SHOW, now=now)
    event_record(booking, BookingEventKind.NO_SHOW, actor, previous=previous)
    return booking


def no_show_undo_until(booking: Booking) -> datetime | None:
    """Until when the booking's no-show can be undone (``NO_SHOW_UNDO_WINDOW`` after it was marked);
    None when it is not a no-show."""
    if booking.status != BookingStatus.NO_SHOW:
        return None
    marked = (
        BookingEvent.objects.filter(tenant_id=booking.tenant_id, booking=booking, kind=BookingEventKind.NO_SHOW)
        .order_by("-created_at", "-pk")
        .values_list("created_at", flat=True)
        .first()
    )
    return None if marked is None else marked + NO_SHOW_UNDO_WINDOW


@transaction.atomic
def booking_undo_no_show(*, tenant: Tenant, booking: Booking, actor: Actor) -> Booking:
    """Undo a no-show marked by mistake, within ``NO_SHOW_UNDO_WINDOW`` of marking it: COMPLETED again
    if the booking has ended, else CONFIRMED (housekeeping completes it at its end)."""
    if booking.tenant_id != tenant.pk:
        raise BookingError(NOT_FOUND, GENERIC_NOT_FOUND)
    booking = booking_lock(booking)
    if booking.status != BookingStatus.NO_SHOW:
        raise BookingError(NOT_CHANGEABLE, NOT_NO_SHOW)
    now = timezone.now()
    until = no_show_undo_until(booking)
    if until is None or until < now:
        raise BookingError(NOT_CHANGEABLE, NO_SHOW_UNDO_TOO_LATE)
    status = BookingStatus.COMPLETED if booking.end_at <= now else BookingStatus.CONFIRMED
    _set_status(booking, status, now=now)
    event_record(booking, BookingEventKind.NO_SHOW_UNDONE, actor, status=status)
    return booking
