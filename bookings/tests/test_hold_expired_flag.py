"""A lost hold is recorded by the system, not read from the cancel reason a customer can type."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.core import mail
from django.utils import timezone

from bookings import services
from bookings.models import Booking, BookingEventKind, BookingStatus
from bookings.services import CUSTOMER, HOLD_EXPIRED_REASON, STRIPE, SYSTEM, booking_create
from bookings.tests.conftest import local, next_weekday

pytestmark = pytest.mark.django_db
backfill = importlib.import_module("bookings.migrations.0003_booking_hold_expired")


def _book(tenant, service, email="pat@x.org"):
    start = local(tenant, next_weekday(3), 11)
    return booking_create(tenant=tenant, service=service, start=start, name="Pat", email=email, actor=CUSTOMER)


def _pay(booking, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_mark_paid(booking=booking, actor=STRIPE, payment_intent="pi_1")
    booking.refresh_from_db()
    return booking


def test_a_customer_cancel_with_the_hold_expired_sentence_is_a_customer_cancel(
    tenant, paid_service, django_capture_on_commit_callbacks
):
    # given: a customer cancels their unpaid booking, typing the system's own sentence as the reason
    booking = _book(tenant, paid_service)
    services.booking_cancel(tenant=tenant, booking=booking, actor=CUSTOMER, reason=HOLD_EXPIRED_REASON)
    mail.outbox.clear()
    # when: their payment arrives while the slot is still free
    booking = _pay(booking, django_capture_on_commit_callbacks)
    # then: the booking stays canceled (the slot is not taken back) and the refund email says they canceled
    assert booking.status == BookingStatus.CANCELED and not booking.hold_expired
    assert not booking.holds_slot()
    assert booking.events.get(kind=BookingEventKind.PAID).data["refund_due"] is True
    (message,) = mail.outbox
    assert "canceled before your payment arrived" in message.body
    assert "no longer available" not in message.body


def test_a_released_hold_paid_while_the_slot_is_free_is_confirmed_again(
    tenant, paid_service, django_capture_on_commit_callbacks
):
    booking = _book(tenant, paid_service)
    assert services.booking_release_hold(booking=booking, actor=SYSTEM)
    booking.refresh_from_db()
    assert booking.hold_expired and booking.cancel_reason == HOLD_EXPIRED_REASON
    booking = _pay(booking, django_capture_on_commit_callbacks)
    assert booking.status == BookingStatus.CONFIRMED and not booking.hold_expired and booking.cancel_reason == ""


def test_a_released_hold_paid_after_the_slot_was_retaken_says_the_time_was_lost(
    tenant, paid_service, django_capture_on_commit_callbacks
):
    booking = _book(tenant, paid_service)
    services.booking_release_hold(booking=booking, actor=SYSTEM)
    _book(tenant, paid_service, "new@x.org")
    booking = _pay(booking, django_capture_on_commit_callbacks)
    assert booking.status == BookingStatus.CANCELED and booking.hold_expired
    (message,) = [m for m in mail.outbox if m.to == ["pat@x.org"]]
    assert "no longer available" in message.body


def test_a_lapsed_hold_paid_after_the_slot_was_retaken_is_marked_hold_expired(
    tenant, paid_service, django_capture_on_commit_callbacks
):
    booking = _book(tenant, paid_service)
    Booking.objects.filter(pk=booking.pk).update(hold_expires_at=timezone.now() - timedelta(minutes=1))
    _book(tenant, paid_service, "new@x.org")
    booking = _pay(booking, django_capture_on_commit_callbacks)
    assert booking.status == BookingStatus.CANCELED and booking.hold_expired
    assert booking.cancel_reason == HOLD_EXPIRED_REASON


def test_the_backfill_marks_only_bookings_the_system_released(tenant, other_tenant, paid_service, other_service):
    # given: a released hold, and in another tenant a customer cancel with the same sentence
    released = _book(tenant, paid_service)
    services.booking_release_hold(booking=released, actor=SYSTEM)
    typed = _book(other_tenant, other_service, "them@x.org")
    services.booking_cancel(tenant=other_tenant, booking=typed, actor=CUSTOMER, reason=HOLD_EXPIRED_REASON)
    # and: a released hold that was paid, confirmed again and then canceled by the customer with the sentence
    revived = local(tenant, next_weekday(4), 11)
    back = booking_create(
        tenant=tenant, service=paid_service, start=revived, name="Al", email="al@x.org", actor=CUSTOMER
    )
    services.booking_release_hold(booking=back, actor=SYSTEM)
    services.booking_mark_paid(booking=back, actor=STRIPE)
    services.booking_cancel(tenant=tenant, booking=back, actor=CUSTOMER, reason=HOLD_EXPIRED_REASON)
    Booking.objects.update(hold_expired=False)  # as the rows were before the field existed
    # when
    backfill.mark_released_holds(apps, None)
    # then
    assert set(Booking.objects.filter(hold_expired=True).values_list("pk", flat=True)) == {released.pk}
