"""``Booking.hold_expired``: a lost hold recorded by the system instead of read from ``cancel_reason``
(free text a customer can type). Existing rows get it when they carry the system's sentence AND their
last status event is the system's ``hold_released`` (not a later confirm or a customer's cancel)."""

from typing import Any

from django.db import migrations, models
from django.db.models import OuterRef, Subquery

# services.HOLD_EXPIRED_REASON as it was written when this migration was made.
HOLD_EXPIRED_REASON = "Payment not completed in time; the slot was released."
STATUS_EVENTS = ("hold_released", "canceled", "confirmed")


def mark_released_holds(apps: Any, schema_editor: Any) -> None:
    Booking = apps.get_model("bookings", "Booking")
    BookingEvent = apps.get_model("bookings", "BookingEvent")
    last_status_event = (
        BookingEvent.objects.filter(booking=OuterRef("pk"), kind__in=STATUS_EVENTS)
        .order_by("-created_at", "-pk")
        .values("kind")[:1]
    )
    released = (
        Booking.objects.filter(status="canceled", cancel_reason=HOLD_EXPIRED_REASON)
        .annotate(last_kind=Subquery(last_status_event))
        .filter(last_kind="hold_released")
        .values_list("pk", flat=True)
    )
    Booking.objects.filter(pk__in=list(released)).update(hold_expired=True)


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0002_service_currency_iso4217"),
    ]

    operations = [
        migrations.AddField(
            model_name="booking",
            name="hold_expired",
            field=models.BooleanField(
                default=False,
                editable=False,
                help_text="Canceled because the unpaid hold ran out (set only by the system)",
            ),
        ),
        migrations.RunPython(mark_released_holds, migrations.RunPython.noop),
    ]
