"""Periodic clean-up (Celery beat every 5 minutes, and ``manage.py cleanup``). Every step is idempotent."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from bookings import services
from bookings.models import Booking, BookingStatus, Proposal, ProposalStatus
from chat.services import conversation_expire_idle_resume_tokens

PURGE_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class HousekeepingReport:
    proposals_expired: int
    holds_released: int
    bookings_completed: int
    resume_tokens_expired: int
    proposals_purged: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def proposals_expire() -> int:
    return Proposal.objects.filter(status=ProposalStatus.PENDING, expires_at__lte=timezone.now()).update(
        status=ProposalStatus.EXPIRED
    )


def holds_release() -> int:
    """Unpaid bookings whose hold ran out give their slot back (each through the service, with an event)."""
    overdue = Booking.objects.select_related("service").filter(
        status=BookingStatus.PENDING, paid_at__isnull=True, hold_expires_at__lte=timezone.now()
    )
    return sum(services.booking_release_hold(booking=booking, actor=services.SYSTEM) for booking in overdue)


def bookings_complete() -> int:
    """Confirmed bookings that have ended become COMPLETED (each through the service, with an event)."""
    finished = Booking.objects.filter(status=BookingStatus.CONFIRMED, end_at__lte=timezone.now())
    return sum(services.booking_complete(booking=booking, actor=services.SYSTEM) for booking in finished)


def proposals_purge() -> int:
    cutoff = timezone.now() - PURGE_AFTER
    deleted, _ = Proposal.objects.filter(
        status__in=(ProposalStatus.REJECTED, ProposalStatus.EXPIRED), created_at__lte=cutoff
    ).delete()
    return deleted


def run_housekeeping() -> HousekeepingReport:
    expired = proposals_expire()
    released = holds_release()
    completed = bookings_complete()
    tokens = conversation_expire_idle_resume_tokens(idle_for=timedelta(days=settings.CHAT_RESUME_IDLE_DAYS))
    return HousekeepingReport(expired, released, completed, tokens, proposals_purge())
