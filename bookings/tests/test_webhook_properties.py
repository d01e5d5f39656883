"""The Stripe webhook answers any body a 400 or a 200, never a 5xx, and applies nothing unsigned."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from django.test import Client

from bookings.models import StripeEvent

WEBHOOK = "/webhooks/stripe/"
SECRET = "whsec_properties"


@pytest.fixture(autouse=True)
def webhook_secret(settings: Any) -> str:
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    return SECRET


def post_signed(body: str) -> Any:
    signature = stripe.WebhookSignature.generate_signature_header(body, SECRET)
    return Client().post(WEBHOOK, body, content_type="application/json", headers={"stripe-signature": signature})


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["null", "[]", '"event"', "7", "[" * 100_000 + "]" * 100_000])
def test_a_signed_body_that_is_no_json_object_is_an_invalid_payload(body: str) -> None:
    response = post_signed(body)
    assert response.status_code == 400 and response.json() == {"error": "Invalid payload."}
    assert not StripeEvent.objects.exists()
