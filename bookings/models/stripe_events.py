"""Verified Stripe webhook events, kept once each."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from bookings.models.booking import Booking

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
