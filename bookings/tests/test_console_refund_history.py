"""The console booking page's history names what each "Refunded" event gave back, and whether that
refunded the payment in part or in full, in the words and currency format the widget and the
customer's email use ("30.00 EUR of 95.00 EUR refunded")."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User

from bookings import refund_records, services
from bookings.models import Booking, BookingEventKind, Service
from bookings.services import CUSTOMER, STRIPE
from bookings.tests.conftest import customer_booking, logged_in, next_weekday
from bookings.tests.factories import ServiceFactory
from supportai.models import Tenant

pytestmark = pytest.mark.django_db


def _owing(tenant: Tenant, service: Service) -> Booking:
    booking = customer_booking(tenant, service, day=next_weekday(3))
    booking = services.booking_mark_paid(booking=booking, actor=STRIPE, payment_intent="pi_history")
    return services.booking_cancel(tenant=tenant, booking=booking, actor=CUSTOMER)


def _refunded_lines(user: User, booking: Booking) -> list[str]:
    """The history's "Refunded" lines, tags stripped and spaces joined, after the time and kind."""
    page = logged_in(user).get(f"/console/bookings/{booking.pk}/").content.decode()
    history = page[page.index("<h2>History</h2>") :]
    lines = [" ".join(re.sub(r"<[^>]+>", "", item).split()) for item in re.findall(r"<li>(.*?)</li>", history, re.S)]
    return [line.split(" Refunded ", 1)[1] for line in lines if " Refunded " in line]


def test_a_refund_of_the_whole_payment_names_its_amount_in_full(tenant, owner, paid_service):
    booking = _owing(tenant, paid_service)
    refund_records.booking_mark_refunded(
        booking=booking, actor=services.Actor.staff(owner), refunded_cents=9500, refund_id="re_full"
    )
    assert _refunded_lines(owner, booking) == ["by staff:alice — 95.00 EUR refunded, in full — Stripe refund re_full"]


def test_a_partial_refund_then_the_rest_each_name_their_amount(tenant, owner, paid_service):
    # given: 30.00 EUR refunded in Stripe's dashboard, then the rest
    booking = _owing(tenant, paid_service)
    refund_records.booking_mark_refunded(booking=booking, actor=STRIPE, refunded_cents=3000, reported_at=1_800_000_000)
    refund_records.booking_mark_refunded(booking=booking, actor=STRIPE, refunded_cents=9500, reported_at=1_800_003_600)
    # then: each line says what it gave back, the first in part (with how much of the price), the second in full
    assert _refunded_lines(owner, booking) == [
        "by stripe — 30.00 EUR refunded, in part: 30.00 EUR of 95.00 EUR refunded",
        "by stripe — 65.00 EUR refunded, in full: 95.00 EUR of 95.00 EUR refunded",
    ]


def test_a_zero_decimal_currency_reads_as_the_email_writes_it(tenant, owner, service):
    yen = ServiceFactory.create(tenant=tenant, name="Onsen", price_cents=1500, currency="jpy")
    booking = _owing(tenant, yen)
    refund_records.booking_mark_refunded(booking=booking, actor=STRIPE, refunded_cents=500, reported_at=1_800_000_000)
    assert _refunded_lines(owner, booking) == ["by stripe — 500 JPY refunded, in part: 500 JPY of 1500 JPY refunded"]


def test_a_refunded_event_recorded_without_an_amount_names_none(tenant, owner, paid_service):
    # given: an event from before amounts were recorded
    booking = _owing(tenant, paid_service)
    services.event_record(booking, BookingEventKind.REFUNDED, STRIPE)
    assert _refunded_lines(owner, booking) == ["by stripe"]


def test_another_tenants_staff_see_no_history(tenant, owner, outsider, paid_service):
    booking = _owing(tenant, paid_service)
    refund_records.booking_mark_refunded(booking=booking, actor=STRIPE, refunded_cents=9500, reported_at=1_800_000_000)
    response = logged_in(outsider).get(f"/console/bookings/{booking.pk}/")
    assert response.status_code == 404 and b"95.00 EUR" not in response.content
