"""Bookings: their statuses, holds, payments, refunds and the filters that read them."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone

from bookings.models.catalogue import PaymentMode, Service, price_text
from supportai.models import EndUser, TenantScopedModel


class BookingStatus(models.TextChoices):
    PENDING = "pending", "Pending payment"
    CONFIRMED = "confirmed", "Confirmed"
    CANCELED = "canceled", "Canceled"
    COMPLETED = "completed", "Completed"
    NO_SHOW = "no_show", "No-show"


# Bookings that occupy their slot (a PENDING one only while its hold lasts).
ACTIVE_STATUSES = (BookingStatus.PENDING, BookingStatus.CONFIRMED)
# The cancel reason of a booking released because its unpaid hold ran out (``Booking.hold_expired``).
HOLD_EXPIRED_REASON = "Payment not completed in time; the slot was released."
# How long a console refund asked of Stripe counts as in flight (``Booking.refund_requested_at``): longer
# than its Stripe calls can take (each times out, retried once), so a request whose worker was killed
# holds the refund-due notice back no longer than this.
REFUND_IN_FLIGHT = timedelta(minutes=10)
# Bookings staff may mark a no-show once their start has passed (housekeeping completes one at its end).
NO_SHOW_FROM = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED)
# Bookings paid on arrival whose payment staff may record (``Booking.due_on_arrival``): before or after the visit.
PAYABLE_ON_ARRIVAL = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED)


# Canceled bookings still owing the customer a refund through Stripe (``Booking.refund_due``, as a filter).
REFUND_DUE = models.Q(
    status=BookingStatus.CANCELED, payment=PaymentMode.ONLINE, paid_at__isnull=False, refunded_at__isnull=True
)


def lapsed_holds(now: datetime) -> models.Q:
    """Bookings whose unpaid hold has run out at ``now`` and that housekeeping has not released yet
    (``Booking.hold_lapsed``, as a filter): every read shows them released (canceled)."""
    return models.Q(
        status=BookingStatus.PENDING, paid_at__isnull=True, hold_expires_at__isnull=False, hold_expires_at__lte=now
    )


class BookingSource(models.TextChoices):
    CHATBOT = "chatbot", "Chat assistant"
    CONSOLE = "console", "Console (staff)"
    API = "api", "API"


class Booking(TenantScopedModel):
    # RESTRICT, not PROTECT: a service with bookings cannot be deleted alone (the admin says so,
    # ``catalog.service_deletion_refusal``), but its tenant can, bookings and services together.
    service = models.ForeignKey(Service, on_delete=models.RESTRICT, related_name="bookings")
    end_user = models.ForeignKey(EndUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    conversation = models.ForeignKey(
        "chat.Conversation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    customer_name = models.CharField(max_length=200)
    customer_email = models.EmailField()
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    blocked_until = models.DateTimeField(help_text="End plus the service's buffer; what capacity checks use")
    status = models.CharField(max_length=16, choices=BookingStatus.choices, default=BookingStatus.CONFIRMED)
    confirmation_code = models.CharField(max_length=16, unique=True, editable=False)
    source = models.CharField(max_length=16, choices=BookingSource.choices, default=BookingSource.CHATBOT)
    price_cents = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3, default="usd")
    payment = models.CharField(
        max_length=16, choices=PaymentMode.choices, default=PaymentMode.ONLINE, help_text="The service's, when booked"
    )
    hold_expires_at = models.DateTimeField(null=True, blank=True, help_text="Unpaid bookings release the slot then")
    paid_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True, help_text="When the payment was refunded in full")
    refunded_cents = models.PositiveIntegerField(
        default=0, help_text="What Stripe has refunded of the payment so far, in the currency's smallest unit"
    )
    refund_requested_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Set while a console refund is being asked of Stripe"
    )
    stripe_checkout_session_id = models.CharField(max_length=255, blank=True, db_index=True)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    checkout_url = models.URLField(max_length=1000, blank=True)
    notes = models.TextField(blank=True, max_length=2000)
    cancel_reason = models.CharField(max_length=300, blank=True)
    hold_expired = models.BooleanField(
        default=False, editable=False, help_text="Canceled because the unpaid hold ran out (set only by the system)"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["start_at"]
        indexes = [
            models.Index(fields=["tenant", "start_at"]),
            models.Index(fields=["tenant", "status", "start_at"]),
            models.Index(fields=["tenant", "customer_email"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(end_at__gt=models.F("start_at")), name="booking_end_after_start")
        ]

    def __str__(self) -> str:
        return f"{self.confirmation_code} {self.service_id} {self.start_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def price_display(self) -> str:
        """The price this booking was made at (and charged), whatever the service costs now."""
        return price_text(self.price_cents, self.currency)

    @property
    def refunded_display(self) -> str:
        return price_text(self.refunded_cents, self.currency)

    @property
    def refunded_part_display(self) -> str:
        """``"12.00 EUR of 40.00 EUR refunded"``: the words the console and the widget use for a refund."""
        return f"{self.refunded_display} of {self.price_display} refunded"

    @property
    def refund_remaining_cents(self) -> int:
        """What is still to be given back of a payment (all of it until a refund is recorded)."""
        return max(self.price_cents - self.refunded_cents, 0)

    @property
    def refund_remaining_display(self) -> str:
        return price_text(self.refund_remaining_cents, self.currency)

    @property
    def due_on_arrival(self) -> bool:
        """A paid booking the customer pays at the venue, not paid yet, and still to be paid: confirmed, or
        completed (paid after the visit); not one canceled or missed (no-show)."""
        return (
            self.payment == PaymentMode.ON_ARRIVAL
            and self.price_cents > 0
            and self.paid_at is None
            and self.status in PAYABLE_ON_ARRIVAL
        )

    @property
    def refund_due(self) -> bool:
        """Canceled after the customer paid online, and Stripe has not refunded it in full yet (owners
        and admins refund it from its console page, ``payments.booking_refund``, or in Stripe; after a
        partial refund, ``refund_remaining_cents`` is still owed). Never for a booking paid on arrival:
        money taken at the desk is given back at the desk."""
        return (
            self.status == BookingStatus.CANCELED
            and self.payment == PaymentMode.ONLINE
            and self.paid_at is not None
            and self.refunded_at is None
        )

    def refund_in_flight_until(self, now: datetime) -> datetime | None:
        """Until when a console refund asked of Stripe at ``refund_requested_at`` counts as in flight at
        ``now`` (``refunds_in_flight``); None when none is."""
        if self.refund_requested_at is None or self.refund_requested_at + REFUND_IN_FLIGHT <= now:
            return None
        return self.refund_requested_at + REFUND_IN_FLIGHT

    @property
    def paid_through_stripe(self) -> bool:
        """Stripe took the payment (a Checkout Session paid): its refund is made in Stripe. Not one staff
        recorded paid offline, nor one paid on the test-mode checkout page."""
        return bool(self.stripe_checkout_session_id or self.stripe_payment_intent_id)

    @property
    def no_show_markable(self) -> bool:
        """Booked and started: staff may record that the customer did not come."""
        return self.status in NO_SHOW_FROM and self.start_at <= timezone.now()

    @property
    def hold_lapsed(self) -> bool:
        """Held until paid, unpaid, and its hold has run out: housekeeping releases it (CANCELED,
        ``hold_expired``) within minutes, and until then every read shows it released already
        (``lapsed_holds`` as a filter)."""
        return (
            self.status == BookingStatus.PENDING
            and self.paid_at is None
            and self.hold_expires_at is not None
            and self.hold_expires_at <= timezone.now()
        )

    @property
    def hold_ran_out(self) -> bool:
        """Released, or about to be, because its unpaid hold ran out: the customer may book again."""
        return self.hold_expired or self.hold_lapsed

    @property
    def shown_status(self) -> str:
        """The status every read shows (widget, assistant, console): a lapsed hold reads released."""
        return BookingStatus.CANCELED if self.hold_lapsed else self.status

    @property
    def shown_status_display(self) -> str:
        return BookingStatus(self.shown_status).label

    @property
    def shown_cancel_reason(self) -> str:
        return HOLD_EXPIRED_REASON if self.hold_lapsed else self.cancel_reason

    def holds_slot(self, now: datetime | None = None) -> bool:
        if self.status == BookingStatus.CONFIRMED:
            return True
        if self.status != BookingStatus.PENDING:
            return False
        return self.hold_expires_at is None or self.hold_expires_at > (now or timezone.now())
