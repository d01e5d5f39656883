"""The refunds waiting for their payment, by payment intent: built without locking ``StripeEvent``
(every event Stripe sent) against the webhooks while it is built."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("bookings", "0007_booking_service_restrict_stripe_event_cascade"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="stripeevent",
            index=models.Index(
                models.F("payload__data__object__payment_intent"),
                condition=models.Q(("booking__isnull", True), ("outcome", "no matching booking")),
                name="stripeevent_waiting_intent",
            ),
        ),
    ]
