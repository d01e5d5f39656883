"""Forms of the bookings console pages."""

from __future__ import annotations

from datetime import date

from django import forms
from django.db import connection

from bookings import currency as currencies
from bookings import offline_refunds
from bookings.dates import bookable_range_message, is_bookable_date
from bookings.models import AvailabilityRule, BlackoutDate, Booking, BookingStatus, Service, Weekday
from bookings.selectors import RELEASED, BookingFilters
from bookings.services import BookingError


class BookableDateField(forms.DateField):
    """A date inside ``bookings.dates``' range (outside it, day bounds and UTC conversions overflow)."""

    def validate(self, value: date | None) -> None:
        super().validate(value)
        if value is not None and not is_bookable_date(value):
            raise forms.ValidationError(bookable_range_message(), code="out_of_range")


class BookingFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "Any status"), *BookingStatus.choices, (RELEASED, "Released: not paid in time")], required=False
    )
    service = forms.TypedChoiceField(choices=[], coerce=int, empty_value=None, required=False)
    date_from = BookableDateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = BookableDateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(required=False, max_length=254, label="Code, name or email")
    refund_due = forms.BooleanField(required=False, label="Refund due")

    def __init__(self, *args: object, services: list[Service], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["service"].choices = [("", "Any service"), *[(s.pk, s.name) for s in services]]  # type: ignore[attr-defined]

    def filters(self) -> BookingFilters:
        """The valid fields' filters; an invalid field is left out (the page names it), not every filter."""
        self.is_valid()
        data = self.cleaned_data
        return BookingFilters(
            status=data.get("status") or "",
            service_id=data.get("service"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            query=data.get("q") or "",
            refund_due=bool(data.get("refund_due")),
        )


# The request fields a BookingError names (``BookingError.field``) and the console forms' field for each.
SERVICE_FIELDS = {"service_id": "service", "start": "time", "name": "name", "email": "email", "notes": "notes"}


class StartForm(forms.Form):
    """A local date and time in the tenant's zone."""

    date = BookableDateField(widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time", "step": 300}))

    def local_start(self) -> str:
        return f"{self.cleaned_data['date']:%Y-%m-%d}T{self.cleaned_data['time']:%H:%M}"

    def names_field_of(self, error: BookingError) -> str | None:
        """This form's field ``error`` is about (a taken slot: the time), None when it names none of them."""
        field = SERVICE_FIELDS.get(error.field)
        return field if field in self.fields else None

    def add_booking_error(self, error: BookingError) -> None:
        """``error`` on the field it is about, or the form's own when it names no field of this form."""
        self.add_error(self.names_field_of(error), error.message)


PAY_BY_LINK = "link"
PAID_OFFLINE = "offline"


class StaffBookingForm(StartForm):
    service = forms.ModelChoiceField(queryset=Service.objects.none())
    name = forms.CharField(max_length=200)
    email = forms.EmailField()
    notes = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    payment = forms.ChoiceField(
        choices=[
            (PAY_BY_LINK, "Customer pays online: the booking page shows a payment link; unpaid, the slot is released"),
            (PAID_OFFLINE, "Paid offline (cash, card terminal, transfer): record the payment and confirm now"),
        ],
        initial=PAY_BY_LINK,
        required=False,
        widget=forms.RadioSelect,
        label="Payment (paid services only)",
    )

    def paid_offline(self) -> bool:
        return bool(self.cleaned_data.get("payment") == PAID_OFFLINE)

    def __init__(self, *args: object, services: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["service"].queryset = services  # type: ignore[attr-defined]


class CancelForm(forms.Form):
    reason = forms.CharField(required=False, max_length=300)


AMOUNT_UNREADABLE = "Enter the amount given back in {currency}, e.g. {example}."


class OfflineRefundForm(forms.Form):
    """A refund staff gave back by hand: the amount in the booking's currency (``"95.00"``, ``"1500"``
    for yen), how it was given back, and what the booking owed when the page was rendered."""

    amount = forms.CharField(max_length=20, widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 8}))
    note = forms.CharField(
        max_length=offline_refunds.NOTE_MAX_LENGTH,
        error_messages={"required": offline_refunds.NOTE_MISSING},
        widget=forms.TextInput(attrs={"placeholder": "cash at the desk, bank transfer …", "size": 30}),
    )
    # Written by the page, never typed: a value that is no amount owed was changed on the way, and staff
    # can do nothing about it on the form but open the page again.
    owed = forms.IntegerField(
        min_value=0,
        widget=forms.HiddenInput,
        error_messages={
            "required": offline_refunds.OWED_UNREADABLE,
            "invalid": offline_refunds.OWED_UNREADABLE,
            "min_value": offline_refunds.OWED_UNREADABLE,
        },
    )

    def __init__(self, *args: object, booking: Booking, **kwargs: object) -> None:
        owed = booking.refund_remaining_cents
        kwargs.setdefault("initial", {"amount": currencies.amount_input(owed, booking.currency), "owed": owed})
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.booking = booking

    def clean_amount(self) -> int:
        currency = self.booking.currency
        cents = currencies.parse_amount(self.cleaned_data["amount"], currency)
        if not cents:  # nothing given back is no refund to record
            example = currencies.amount_input(self.booking.refund_remaining_cents, currency)
            raise forms.ValidationError(AMOUNT_UNREADABLE.format(currency=currency.upper(), example=example))
        return cents


PRICE_UNREADABLE = "Enter the price in {currency}, e.g. {example}; 0 means free."
PRICE_TOO_HIGH = "The price can be at most {most}."
# the most the price column holds, in the currency's smallest unit
_, PRICE_MOST_CENTS = connection.ops.integer_field_range(Service._meta.get_field("price_cents").get_internal_type())


class ServiceForm(forms.ModelForm):
    """A service; its price typed in the currency's units (``"45.50"`` EUR, ``"1500"`` JPY), stored in
    the smallest unit (``Service.price_cents``)."""

    price = forms.CharField(
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 10}),
        help_text="In the currency below, e.g. 45.50 (EUR, USD) or 1500 (JPY); 0 means free (no payment step).",
    )

    class Meta:
        model = Service
        fields = [
            "name",
            "description",
            "duration_minutes",
            "buffer_minutes",
            "slot_step_minutes",
            "price",
            "currency",
            "payment",
            "active",
        ]
        widgets = {"payment": forms.RadioSelect}
        labels = {
            "duration_minutes": "Length (minutes)",
            "buffer_minutes": "Buffer after each booking (minutes)",
            "slot_step_minutes": "Start times every (minutes)",
            "active": "Offered (customers can book it)",
        }
        help_texts = {
            "duration_minutes": "How long one booking lasts, 5 to 720 minutes.",
            "buffer_minutes": "Kept free after each booking (clean-up, notes) before the next may start; 0 for none.",
            "slot_step_minutes": (
                "How far apart the start times offered are, within the opening hours: 15 offers 09:00, 09:15, "
                "09:30 …; 60 offers 09:00, 10:00 …"
            ),
            "currency": "ISO 4217 code, e.g. eur, usd, jpy.",
        }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["payment"].required = False
        self.initial.setdefault("price", currencies.amount_input(self.instance.price_cents, self.instance.currency))

    def clean_payment(self) -> str:
        """Left out or empty (a form from before the setting), it keeps the service's mode: online when new."""
        payment: str = self.cleaned_data.get("payment") or self.instance.payment
        return payment

    def clean(self) -> dict[str, object]:
        """The price read in the currency typed (left unread when the currency is refused: its error says why)."""
        cleaned: dict[str, object] = super().clean() or {}
        price, currency = cleaned.get("price"), cleaned.get("currency")
        if isinstance(price, str) and isinstance(currency, str):
            cents = currencies.parse_amount(price, currency)
            if cents is None:
                example = currencies.amount_input(4550, currency)
                self.add_error("price", PRICE_UNREADABLE.format(currency=currency.upper(), example=example))
            elif cents > PRICE_MOST_CENTS:
                most = currencies.amount_text(PRICE_MOST_CENTS, currency)
                self.add_error("price", PRICE_TOO_HIGH.format(most=most))
            else:
                self.instance.price_cents = cents
        return cleaned


class RuleForm(forms.ModelForm):
    weekday = forms.TypedChoiceField(choices=Weekday.choices, coerce=int)

    class Meta:
        model = AvailabilityRule
        fields = ["service", "weekday", "start_time", "end_time", "capacity"]
        help_texts = {
            "capacity": (
                "Bookings allowed at once. Hours may overlap others of the same services and day: where they "
                "do, the larger capacity counts (they do not add up)."
            )
        }
        widgets = {
            "start_time": forms.TimeInput(attrs={"type": "time"}),
            "end_time": forms.TimeInput(attrs={"type": "time"}),
        }

    def __init__(self, *args: object, services: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["service"].queryset = services  # type: ignore[attr-defined]
        self.fields["service"].empty_label = "All services (tenant hours)"  # type: ignore[attr-defined]


class BlackoutForm(forms.ModelForm):
    date = BookableDateField(widget=forms.DateInput(attrs={"type": "date"}))

    class Meta:
        model = BlackoutDate
        fields = ["service", "date", "reason"]

    def __init__(self, *args: object, services: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["service"].queryset = services  # type: ignore[attr-defined]
        self.fields["service"].empty_label = "All services"  # type: ignore[attr-defined]
