"""Customer-confirmed proposals (book, cancel, reschedule) and each booking's audit history."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from bookings.models.booking import Booking
from supportai.models import TenantScopedModel


class ProposalAction(models.TextChoices):
    BOOK = "book", "Book"
    CANCEL = "cancel", "Cancel"
    RESCHEDULE = "reschedule", "Reschedule"


class ConfirmationLevel(models.TextChoices):
    """How hard the customer must confirm (the seed's T1/T2/T3).

    T1 — informational, nothing changes (look-ups): never a proposal.
    T2 — soft confirm: one "Confirm" for a booking that can be canceled later at no cost (free, or
    paid on arrival).
    T3 — hard confirm: cancel, reschedule and bookings paid online; the widget shows an explicit warning,
    the proposal expires sooner and ownership (code + email) was proven before it was made.
    """

    T1 = "T1", "T1 informational"
    T2 = "T2", "T2 soft confirm"
    T3 = "T3", "T3 hard confirm"


class ProposalStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the customer"
    CONFIRMED = "confirmed", "Confirmed (executing)"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"
    EXECUTED = "executed", "Executed"
    FAILED = "failed", "Failed"


FINAL_PROPOSAL_STATUSES = (
    ProposalStatus.REJECTED,
    ProposalStatus.EXPIRED,
    ProposalStatus.EXECUTED,
    ProposalStatus.FAILED,
)


class Proposal(TenantScopedModel):
    """A state change the assistant (or a quick action) suggested; nothing happens until confirmed."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    conversation = models.ForeignKey("chat.Conversation", on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=16, choices=ProposalAction.choices)
    level = models.CharField(max_length=2, choices=ConfirmationLevel.choices)
    payload = models.JSONField(default=dict)
    summary = models.CharField(max_length=500)
    status = models.CharField(max_length=16, choices=ProposalStatus.choices, default=ProposalStatus.PENDING)
    idempotency_key = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    result = models.JSONField(default=dict, blank=True)
    booking = models.ForeignKey(Booking, null=True, blank=True, on_delete=models.SET_NULL, related_name="proposals")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One open proposal per key: proposing the same change again returns it.
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"],
                condition=models.Q(status="pending"),
                name="proposal_unique_open_idempotency_key",
            )
        ]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.action} proposal {self.public_id} ({self.status})"


class BookingEventKind(models.TextChoices):
    CREATED = "created", "Created"
    CONFIRMED = "confirmed", "Confirmed"
    PAYMENT_STARTED = "payment_started", "Payment started"
    PAID = "paid", "Paid"
    HOLD_RELEASED = "hold_released", "Unpaid hold released"
    RESCHEDULED = "rescheduled", "Rescheduled"
    CANCELED = "canceled", "Canceled"
    REFUNDED = "refunded", "Refunded"
    NO_SHOW = "no_show", "Marked no-show"
    NO_SHOW_UNDONE = "no_show_undone", "No-show undone"
    NOTE = "note", "Note"


class BookingEvent(TenantScopedModel):
    """Append-only history of a booking: who did what, through which channel."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=BookingEventKind.choices)
    actor = models.CharField(max_length=120, help_text="customer, staff:<username>, stripe, system")
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposal = models.ForeignKey(Proposal, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} by {self.actor}"


# The outcome of an event that matched no booking: a refund stored so waits for its payment.
