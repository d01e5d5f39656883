"""The booking e-mails' outbox: what is sent to customers and staff, and how it failed."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from bookings.models.booking import Booking
from supportai.models import TenantScopedModel
from supportai.outbox import OutboxRow


class EmailKind(models.TextChoices):
    CONFIRMATION = "confirmation", "Confirmation"
    TENANT_NEW_BOOKING = "tenant_new_booking", "New-booking notice"
    CANCELLATION = "cancellation", "Cancellation"
    RESCHEDULE = "reschedule", "New time"
    PAYMENT_RECEIVED = "payment_received", "Payment received"
    PAYMENT_REFUND_DUE = "payment_refund_due", "Refund due"
    TENANT_REFUND_DUE = "tenant_refund_due", "Refund-due notice"
    PAYMENT_REFUNDED = "payment_refunded", "Refund made"


class EmailStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SUPERSEDED = "superseded", "Not sent: the booking changed since"


# Emails to the tenant's staff; every other kind goes to the customer.
STAFF_EMAIL_KINDS = frozenset({EmailKind.TENANT_NEW_BOOKING, EmailKind.TENANT_REFUND_DUE})


class EmailFailure(models.TextChoices):
    """Why the last attempt failed, in words staff can act on (``last_error`` has the detail)."""

    UNREACHABLE = "unreachable", "the mail server could not be reached"
    REFUSED = "refused", "the mail server did not take the message"
    NO_RECIPIENT = "no_recipient", "there was no address to send it to"
    ERROR = "error", "an unexpected error (the server log has the details)"


class BookingEmail(TenantScopedModel, OutboxRow):
    """One email about a booking, recorded with the change that causes it; every attempt updates it,
    so an email is sent, waiting for its next attempt, visibly failed, or superseded: not sent because
    the booking changed so that it no longer applies (see ``bookings.delivery``)."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="emails")
    kind = models.CharField(max_length=24, choices=EmailKind.choices)
    status = models.CharField(max_length=10, choices=EmailStatus.choices, default=EmailStatus.PENDING)
    failure = models.CharField(max_length=16, choices=EmailFailure.choices, blank=True)
    last_error = models.TextField(blank=True, help_text="The last failed attempt's error, for operators")

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=models.Q(status="pending"), name="booking_email_pending_due"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} email for booking {self.booking_id}: {self.status}"

    @property
    def to_staff(self) -> bool:
        return self.kind in STAFF_EMAIL_KINDS

    @property
    def sending(self) -> bool:
        """An attempt holds the row now (``attempts`` counts it already)."""
        return self.leased_at(timezone.now())
