"""Bookable services, their availability, bookings, customer-confirmed proposals and audit history.

State changes go through ``bookings.services`` only; these models hold data and small derived
properties. Times are stored in UTC; availability rules are wall-clock times in the tenant's time
zone (``Tenant.timezone``), converted per date so that slots stay correct across DST changes.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from bookings.currency import amount_text, normalize, validate_currency
from supportai.models import EndUser, TenantScopedModel
from supportai.outbox import OutboxRow


def price_text(cents: int, currency: str) -> str:
    """``"95.00 EUR"``, ``"1500 JPY"`` (``cents`` is the currency's smallest unit), or ``"Free"``."""
    if cents <= 0:
        return "Free"
    return amount_text(cents, currency)


class PaymentMode(models.TextChoices):
    """How a paid service is paid (free services ignore it)."""

    ONLINE = "online", "Online: the customer pays by card when booking; unpaid, the slot is released"
    ON_ARRIVAL = "on_arrival", "On arrival: the customer pays at the venue; the booking is confirmed at once"


class Service(TenantScopedModel):
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, max_length=2000)
    duration_minutes = models.PositiveIntegerField(validators=[MinValueValidator(5), MaxValueValidator(12 * 60)])
    buffer_minutes = models.PositiveIntegerField(
        default=0, validators=[MaxValueValidator(240)], help_text="Blocked after each booking (clean-up, notes)"
    )
    slot_step_minutes = models.PositiveIntegerField(
        default=30, validators=[MinValueValidator(5), MaxValueValidator(240)], help_text="Distance between start times"
    )
    price_cents = models.PositiveIntegerField(
        default=0, help_text="In the currency's smallest unit (cents; yen for JPY); 0 means free (no payment step)"
    )
    currency = models.CharField(
        max_length=3, default="usd", validators=[validate_currency], help_text="ISO 4217 code, e.g. eur, usd, jpy"
    )
    payment = models.CharField(
        max_length=16,
        choices=PaymentMode.choices,
        default=PaymentMode.ONLINE,
        help_text=(
            "Paid services only. Online: Stripe Checkout, the slot is held until paid. On arrival: confirmed "
            "at once without a payment link; staff record the payment on the booking's page."
        ),
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="service_unique_name_per_tenant")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.currency = normalize(self.currency)  # stored as Stripe wants it, whoever edits (console, admin)

    @property
    def is_paid(self) -> bool:
        return self.price_cents > 0

    @property
    def is_paid_online(self) -> bool:
        """Paid through a payment link before the booking is confirmed (PENDING with a hold until then)."""
        return self.is_paid and self.payment == PaymentMode.ONLINE

    @property
    def price_display(self) -> str:
        return price_text(self.price_cents, self.currency)


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


RULE_UNIQUE_HOURS = "rule_unique_hours"  # the constraint refusing the same hours twice; its violations' code
RULE_DUPLICATE = (
    "{whose} are already open on {day}s {start}-{end}: to change the capacity, remove those hours and add them again."
)


class AvailabilityRule(TenantScopedModel):
    """Weekly opening window. ``service`` empty: the tenant's hours, shared by every service without
    rules of its own (one pool of capacity, e.g. one practitioner); set: that service's own hours and pool."""

    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.CASCADE, related_name="rules")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()
    capacity = models.PositiveIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(100)], help_text="Bookings allowed at once"
    )

    class Meta:
        ordering = ["weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_time__gt=models.F("start_time")), name="rule_end_after_start"
            ),
            # The same hours twice (same services, day, from and to, whatever the capacity), the tenant's
            # hours too: their empty service is one scope (NULLS NOT DISTINCT), not a new one each time.
            models.UniqueConstraint(
                fields=["tenant", "service", "weekday", "start_time", "end_time"],
                nulls_distinct=False,
                name=RULE_UNIQUE_HOURS,
                violation_error_code=RULE_UNIQUE_HOURS,  # with a message of its own: Django's keeps its own code
                violation_error_message="These opening hours exist already.",
            ),
        ]

    def __str__(self) -> str:
        scope = self.service.name if self.service_id and self.service else "all services"
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M} ({scope})"

    def duplicate_error(self) -> ValidationError:
        """These hours refused because the tenant has them already, on the opening time, in words naming them."""
        whose = f"{self.service.name}'s hours" if self.service_id and self.service else "All services' hours"
        day, start, end = self.get_weekday_display(), f"{self.start_time:%H:%M}", f"{self.end_time:%H:%M}"
        message = RULE_DUPLICATE.format(whose=whose, day=day, start=start, end=end)
        return ValidationError({"start_time": ValidationError(message, code="duplicate")})

    def validate_constraints(self, exclude: Collection[str] | None = None) -> None:
        """Django's checks, the same hours twice said as ``duplicate_error`` (console and admin alike)."""
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict({})
            general = errors.pop(NON_FIELD_ERRORS, [])
            errors[NON_FIELD_ERRORS] = [e for e in general if getattr(e, "code", None) != RULE_UNIQUE_HOURS]
            if len(errors[NON_FIELD_ERRORS]) < len(general):
                errors = self.duplicate_error().update_error_dict(errors)
            raise ValidationError({field: found for field, found in errors.items() if found}) from exc


class BlackoutDate(TenantScopedModel):
    """A local date with no bookings (holiday, training day); ``service`` empty closes every service."""

    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.CASCADE, related_name="blackouts")
    date = models.DateField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} closed{f' ({self.reason})' if self.reason else ''}"


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
STRIPE_NO_BOOKING = "no matching booking"


class StripeEvent(models.Model):
    """Every verified Stripe webhook event, once (the primary key is Stripe's event id)."""

    event_id = models.CharField(max_length=255, primary_key=True)
    type = models.CharField(max_length=100)
    livemode = models.BooleanField(default=False)
    payload = models.JSONField()
    # The payload holds the booking's customer (name, email): it goes with the booking, that is with
    # its tenant (bookings are never deleted alone). Events of no booking stay.
    booking = models.ForeignKey(Booking, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    outcome = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            # Recording a payment looks up the refunds waiting for its payment intent
            # (``webhooks.waiting_refunds``) while it holds the booking's lock; the table keeps every
            # event, the waiting ones are few.
            models.Index(
                models.F("payload__data__object__payment_intent"),
                name="stripeevent_waiting_intent",
                condition=models.Q(booking__isnull=True, outcome=STRIPE_NO_BOOKING),
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


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
