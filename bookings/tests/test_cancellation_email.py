"""The cancellation email says what happens to the customer's money: an online payment will be refunded
(the rest of it, after a partial refund; nothing more once it is refunded), a payment taken at the venue
is the venue's to give back (nothing is refunded online), and an unpaid booking mentions no payment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.utils.html import strip_tags

from bookings import refund_records, services
from bookings.models import Booking, Service
from bookings.services import CUSTOMER, STRIPE, Actor
from bookings.tests.conftest import customer_booking, logged_in
from supportai.models import Tenant

pytestmark = pytest.mark.django_db

DESK = (
    "You paid 45.00 EUR at the venue, so nothing is refunded online: refunds of payments made at the venue "
    "are handled by {tenant}. Please contact them about yours."
)

PARTLY = "30.00 EUR of your payment of 95.00 EUR was refunded already; the remaining 65.00 EUR will be refunded."


def _cancellation_texts(
    booking: Booking, cancel: Callable[[], object], django_capture_on_commit_callbacks: Any
) -> tuple[str, str]:
    """The text and HTML (tags stripped, spaces joined) of the cancellation email ``cancel()`` sends."""
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        cancel()
    (message,) = [m for m in mail.outbox if m.subject == f"Your booking {booking.confirmation_code} is canceled"]
    assert isinstance(message, EmailMultiAlternatives)
    html = " ".join(strip_tags(str(message.alternatives[0][0])).split())
    return " ".join(message.body.split()), html


def _customer_cancels(tenant: Tenant, booking: Booking) -> Callable[[], Booking]:
    return lambda: services.booking_cancel(tenant=tenant, booking=booking, actor=CUSTOMER)


def _paid_online(tenant: Tenant, service: Service) -> Booking:
    booking = customer_booking(tenant, service)
    return services.booking_mark_paid(booking=booking, actor=STRIPE, payment_intent="pi_1")


def test_a_booking_paid_at_the_desk_is_not_promised_an_online_refund(
    tenant, agent, at_desk, django_capture_on_commit_callbacks
):
    # given: staff recorded that the customer paid at the desk in advance
    booking = services.booking_record_payment(
        tenant=tenant, booking=customer_booking(tenant, at_desk), actor=Actor.staff(agent)
    )
    # when: staff cancel it
    client = logged_in(agent)
    cancel = lambda: client.post(f"/console/bookings/{booking.pk}/cancel/", {"reason": "Closed"})  # noqa: E731
    text, html = _cancellation_texts(booking, cancel, django_capture_on_commit_callbacks)
    # then: the email says the venue gives the money back, and nothing of a refund to come
    for body in (text, html):
        assert DESK.format(tenant=tenant.name) in body
        assert "will be refunded" not in body


def test_a_booking_paid_online_is_told_its_payment_will_be_refunded(
    tenant, paid_service, django_capture_on_commit_callbacks
):
    booking = _paid_online(tenant, paid_service)
    text, html = _cancellation_texts(booking, _customer_cancels(tenant, booking), django_capture_on_commit_callbacks)
    for body in (text, html):
        assert "Your payment of 95.00 EUR will be refunded." in body
        assert "venue" not in body


def test_a_booking_refunded_in_part_is_told_the_rest_will_be_refunded(
    tenant, paid_service, django_capture_on_commit_callbacks
):
    # given: a paid booking of which Stripe refunded 30.00 EUR (a goodwill refund in its dashboard)
    booking = _paid_online(tenant, paid_service)
    booking = refund_records.booking_mark_refunded(booking=booking, actor=STRIPE, refunded_cents=3000)
    # when
    text, html = _cancellation_texts(booking, _customer_cancels(tenant, booking), django_capture_on_commit_callbacks)
    # then
    for body in (text, html):
        assert PARTLY in body


def test_a_booking_refunded_in_full_is_promised_no_further_refund(
    tenant, paid_service, django_capture_on_commit_callbacks
):
    booking = _paid_online(tenant, paid_service)
    booking = refund_records.booking_mark_refunded(booking=booking, actor=STRIPE, refunded_cents=9500)
    text, html = _cancellation_texts(booking, _customer_cancels(tenant, booking), django_capture_on_commit_callbacks)
    for body in (text, html):
        assert "Your payment of 95.00 EUR has been refunded." in body
        assert "will be refunded" not in body


@pytest.mark.parametrize("kind", ["online_unpaid", "on_arrival_unpaid", "free"])
def test_an_unpaid_booking_mentions_no_payment(
    tenant, service, paid_service, at_desk, kind, django_capture_on_commit_callbacks
):
    chosen = {"online_unpaid": paid_service, "on_arrival_unpaid": at_desk, "free": service}[kind]
    booking = customer_booking(tenant, chosen)
    text, html = _cancellation_texts(booking, _customer_cancels(tenant, booking), django_capture_on_commit_callbacks)
    for body in (text, html):
        assert "has been canceled." in body
        assert "refund" not in body and "paid" not in body and "payment" not in body


def test_the_venue_sentence_escapes_the_tenants_name_in_html(
    tenant, agent, at_desk, django_capture_on_commit_callbacks
):
    # given: a tenant whose name holds markup, and a booking paid at its desk
    tenant.name = "Cut <b>&</b> Co"
    tenant.save(update_fields=["name"])
    booking = services.booking_record_payment(
        tenant=tenant, booking=customer_booking(tenant, at_desk), actor=Actor.staff(agent)
    )
    # when
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel(tenant=tenant, booking=booking, actor=CUSTOMER)
    # then
    (message,) = [m for m in mail.outbox if m.subject.endswith("is canceled")]
    assert isinstance(message, EmailMultiAlternatives)
    assert "handled by Cut <b>&</b> Co." in message.body
    assert "handled by Cut &lt;b&gt;&amp;&lt;/b&gt; Co." in str(message.alternatives[0][0])


def test_another_tenants_staff_cannot_cancel_the_booking(tenant, outsider, at_desk, django_capture_on_commit_callbacks):
    booking = customer_booking(tenant, at_desk)
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in(outsider).post(f"/console/bookings/{booking.pk}/cancel/", {"reason": "x"})
    assert response.status_code == 404
    booking.refresh_from_db()
    assert booking.status == "confirmed" and not [m for m in mail.outbox if m.subject.endswith("is canceled")]
