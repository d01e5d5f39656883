"""Bookable services, their prices and payment mode, weekly opening hours and closed dates."""

from __future__ import annotations

from collections.abc import Collection
from datetime import time

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from bookings.currency import amount_text, normalize, validate_currency
from supportai.models import TenantScopedModel


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
RULE_ENDS_BEFORE_START = (
    "The closing time must be after the opening time ({start}); for hours past midnight, add a rule per day."
)


def _duplicate_said(exc: ValidationError, *, code: str, duplicate: ValidationError) -> ValidationError:
    """``exc`` (``validate_constraints``'s) with its violation of the unique constraint ``code`` said as
    ``duplicate`` (on a field, in words naming the row) instead of Django's general message."""
    errors = exc.update_error_dict({})
    general = errors.pop(NON_FIELD_ERRORS, [])
    errors[NON_FIELD_ERRORS] = [e for e in general if getattr(e, "code", None) != code]
    if len(errors[NON_FIELD_ERRORS]) < len(general):
        errors = duplicate.update_error_dict(errors)
    return ValidationError({field: found for field, found in errors.items() if found})


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

    def clean(self) -> None:
        """A closing time not after the opening time refused on the closing time, naming the opening time
        (console and admin alike; the database's ``rule_end_after_start`` would only say it is violated)."""
        start, end = self.start_time, self.end_time
        if isinstance(start, time) and isinstance(end, time) and end <= start:
            message = RULE_ENDS_BEFORE_START.format(start=f"{start:%H:%M}")
            raise ValidationError({"end_time": ValidationError(message, code="ends_before_start")})

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
            raise _duplicate_said(exc, code=RULE_UNIQUE_HOURS, duplicate=self.duplicate_error()) from exc


BLACKOUT_UNIQUE_DATE = "blackout_unique_date"  # the constraint refusing the same closed date twice; its code
BLACKOUT_DUPLICATE = "{day} is already closed for {whose}: to change the reason, remove that date and close it again."


class BlackoutDate(TenantScopedModel):
    """A local date with no bookings (holiday, training day); ``service`` empty closes every service."""

    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.CASCADE, related_name="blackouts")
    date = models.DateField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            # The same date twice for the same services (whatever the reason), every service's too: their
            # empty service is one scope (NULLS NOT DISTINCT). Another tenant's same date is its own.
            models.UniqueConstraint(
                fields=["tenant", "service", "date"],
                nulls_distinct=False,
                name=BLACKOUT_UNIQUE_DATE,
                violation_error_code=BLACKOUT_UNIQUE_DATE,
                violation_error_message="This closed date exists already.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} closed{f' ({self.reason})' if self.reason else ''}"

    def duplicate_error(self) -> ValidationError:
        """This date refused because the tenant has closed it already (for the same services), on the date."""
        whose = self.service.name if self.service_id and self.service else "all services"
        message = BLACKOUT_DUPLICATE.format(day=f"{self.date:%Y-%m-%d}", whose=whose)
        return ValidationError({"date": ValidationError(message, code="duplicate")})

    def validate_constraints(self, exclude: Collection[str] | None = None) -> None:
        """Django's checks, the same date twice said as ``duplicate_error`` (console and admin alike)."""
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as exc:
            raise _duplicate_said(exc, code=BLACKOUT_UNIQUE_DATE, duplicate=self.duplicate_error()) from exc
