"""The Stripe webhook answers any body a 400 or a 200, never a 5xx, and applies nothing unsigned.

Properties over generated bodies (any bytes, JSON of any shape, events shaped like Checkout Session
ones whose fields are real, another booking's or anything) and signature headers, with a pending paid
booking that must stay as it is unless a signed event for it says otherwise; then the regressions
they found, as plain tests.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import stripe
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from bookings import webhooks
from bookings.benchmarks import checkout_event, signed
from bookings.models import Booking, StripeEvent
from bookings.services import CUSTOMER, booking_create
from bookings.tests.conftest import local, next_weekday, open_every_day
from bookings.tests.factories import ServiceFactory
from supportai.models import Tenant
from supportai.tests.input_strategies import JSON, NOT_JSON_BODIES, PROPERTY_SETTINGS, TEXT, assert_no_traceback_logged

WEBHOOK = "/webhooks/stripe/"
SECRET = "whsec_properties"
SIGNATURES = st.one_of(
    st.just(""),
    TEXT.map(lambda text: text.encode("utf-8", "surrogatepass").decode("latin-1")),
    st.builds(lambda t, v: f"t={t},v1={v}", st.integers() | TEXT, st.text("0123456789abcdef", max_size=64)),
)


@pytest.fixture(autouse=True)
def webhook_secret(settings: Any) -> str:
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    return SECRET


def post(body: bytes | str, signature: str) -> Any:
    return Client().post(WEBHOOK, body, content_type="application/json", headers={"stripe-signature": signature})


@pytest.fixture
def pending(tenant: Tenant) -> Booking:
    """A paid service's booking, held until paid."""
    open_every_day(tenant)
    service = ServiceFactory.create(tenant=tenant, name="Deep tissue", price_cents=9500, currency="eur")
    start = local(tenant, next_weekday(3), 11)
    return booking_create(tenant=tenant, service=service, start=start, name="Pat", email="pat@ex.org", actor=CUSTOMER)


def _state(booking: Booking) -> tuple[Any, ...]:
    booking.refresh_from_db()
    return booking.status, booking.paid_at, booking.refunded_at, booking.stripe_payment_intent_id


@pytest.mark.django_db
def test_any_body_without_a_valid_signature_is_refused_and_changes_nothing(
    pending: Booking, caplog: pytest.LogCaptureFixture
) -> None:
    before = _state(pending)
    real_event = json.dumps(checkout_event("evt_1", "checkout.session.completed", pending)).encode()

    @given(body=NOT_JSON_BODIES | JSON.map(lambda v: json.dumps(v).encode()) | st.just(real_event), header=SIGNATURES)
    @PROPERTY_SETTINGS
    def unsigned(body: bytes, header: str) -> None:
        caplog.clear()
        response = post(body, header)
        assert response.status_code == 400 and response.json()["error"]
        assert_no_traceback_logged(caplog)

    unsigned()
    assert not StripeEvent.objects.exists() and _state(pending) == before


def _events(booking: Booking) -> st.SearchStrategy[Any]:
    """Events of the handled types whose fields are the booking's own, nearly so, or anything."""
    real = checkout_event("evt", "checkout.session.completed", booking)["data"]["object"]

    def field(name: str) -> st.SearchStrategy[Any]:
        return st.one_of(st.just(real[name]), JSON)

    session = st.fixed_dictionaries({}, optional={name: field(name) for name in real})
    kinds = ["checkout.session.completed", "checkout.session.expired", "charge.refunded"]
    return st.fixed_dictionaries(
        {"id": TEXT | JSON, "data": st.fixed_dictionaries({"object": session | st.dictionaries(TEXT, JSON)})},
        optional={"type": st.sampled_from(kinds) | JSON, "livemode": JSON},
    )


@pytest.mark.django_db
def test_any_signed_json_is_answered_without_a_5xx(pending: Booking, caplog: pytest.LogCaptureFixture) -> None:
    @given(payload=_events(pending) | JSON)
    @PROPERTY_SETTINGS
    def signed_json(payload: Any) -> None:
        caplog.clear()
        stored = StripeEvent.objects.count()
        response = post(*signed(payload, SECRET))
        assert response.status_code in (200, 400), response.content[:500]
        if response.status_code == 400:  # refused: nothing stored
            assert response.json() == {"error": "Invalid payload."} and StripeEvent.objects.count() == stored
        assert_no_traceback_logged(caplog)

    signed_json()


# --- regressions found by the properties above ----------------------------------------------------


def post_signed(body: str) -> Any:
    return post(body, stripe.WebhookSignature.generate_signature_header(body, SECRET))


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["null", "[]", '"event"', "7", "[" * 100_000 + "]" * 100_000])
def test_a_signed_body_that_is_no_json_object_is_an_invalid_payload(body: str) -> None:
    response = post_signed(body)
    assert response.status_code == 400 and response.json() == {"error": "Invalid payload."}
    assert not StripeEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        '{"id": "evt_\\u0000", "type": "charge.refunded", "data": {"object": {}}}',
        '{"id": "evt_1", "type": "ping", "data": {"object": {"note": "a\\u0000b"}}}',
        '{"id": "evt_1", "type": "ping", "data": {"object": {"\\udfff": 1}}}',
        '{"id": "evt_1", "type": "ping", "data": {"object": {"amount": NaN}}}',
        '{"id": "evt_1", "type": "ping", "data": {"object": {"amount": [1, -Infinity]}}}',
        # longer than the columns that store them (event_id 255, type 100 characters)
        '{"id": "evt_%s", "type": "ping", "data": {"object": {}}}' % ("x" * 252),
        '{"id": "evt_1", "type": "%s", "data": {"object": {}}}' % ("x" * 101),
    ],
)
def test_a_signed_event_the_database_cannot_store_is_an_invalid_payload(body: str) -> None:
    # a NUL or half a surrogate pair (JSON escapes both), NaN or Infinity (Python's json reads them),
    # an id or type too long
    response = post_signed(body)
    assert response.status_code == 400 and response.json() == {"error": "Invalid payload."}
    assert not StripeEvent.objects.exists()


@pytest.mark.django_db
def test_a_signed_event_with_a_surrogate_pair_is_stored() -> None:
    response = post_signed('{"id": "evt_1", "type": "ping", "data": {"object": {"note": "\\ud83d\\ude00"}}}')
    assert response.status_code == 200 and response.json()["outcome"] == "ignored type"
    assert StripeEvent.objects.get().payload["data"]["object"]["note"] == "\U0001f600"


def _nested_event(depth: int) -> str:
    """A signed-shaped event whose object holds lists nested ``depth`` deep."""
    return '{"id": "evt_1", "type": "ping", "data": {"object": {"x": %s}}}' % ("[" * depth + "]" * depth)


@pytest.mark.django_db
def test_a_signed_event_nested_too_deep_to_store_is_an_invalid_payload() -> None:
    # json reads 900 levels, but storing them (json.dumps, deeper in the stack) runs out of recursion
    response = post_signed(_nested_event(900))
    assert response.status_code == 400 and response.json() == {"error": "Invalid payload."}
    assert not StripeEvent.objects.exists()


@pytest.mark.django_db
def test_a_signed_event_nested_as_deep_as_stripe_could_is_stored() -> None:
    response = post_signed(_nested_event(webhooks.MAX_PAYLOAD_DEPTH - 3))  # under the event, data and object
    assert response.status_code == 200 and StripeEvent.objects.count() == 1
