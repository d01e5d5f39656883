"""Every cancel (customer, console, admin) closes the booking's open Checkout Session after the commit,
and a payment that still arrives for a canceled booking is explained by why it was canceled."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.mail import EmailMessage, EmailMultiAlternatives

from bookings import payments, services
from bookings.models import Booking, BookingStatus, Service
from bookings.services import CUSTOMER, booking_create
from bookings.tests.conftest import local, logged_in, next_weekday
from bookings.tests.stripe_fake import FakeStripe
from supportai.models import Tenant

pytestmark = pytest.mark.django_db
CREATE = "/v1/checkout/sessions"
EXPIRE = "/v1/checkout/sessions/cs_test_0001/expire"
LATE_TEXT = "arrived after the time reserved for payment"


def _texts(message: EmailMessage) -> tuple[str, str]:
    """The plain-text body and the HTML alternative."""
    assert isinstance(message, EmailMultiAlternatives)
    return str(message.body), str(message.alternatives[0][0])


@pytest.fixture
def awaiting_payment(tenant: Tenant, paid_service: Service, stripe_api: FakeStripe) -> Booking:
    """A paid booking holding its slot with an open Checkout Session (``cs_test_0001``)."""
    start = local(tenant, next_weekday(3), 11)
    booking = booking_create(
        tenant=tenant, service=paid_service, start=start, name="Pat", email="pat@x.org", actor=CUSTOMER
    )
    booking = payments.checkout_start(booking)
    assert booking.stripe_checkout_session_id == "cs_test_0001"
    return booking


def test_console_cancel_expires_the_open_checkout_session(
    agent, awaiting_payment, stripe_api, django_capture_on_commit_callbacks
):
    # when: staff cancel in the console
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in(agent).post(f"/console/bookings/{awaiting_payment.pk}/cancel/", {"reason": "closed"})
    # then: canceled, and Stripe was told to close the payment page
    assert response.status_code == 302
    awaiting_payment.refresh_from_db()
    assert awaiting_payment.status == BookingStatus.CANCELED
    assert [r.path for r in stripe_api.seen] == [CREATE, EXPIRE]


def test_admin_cancel_action_expires_the_open_checkout_session(
    owner, awaiting_payment, stripe_api, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        logged_in(owner).post(
            "/admin/bookings/booking/", {"action": "cancel_bookings", "_selected_action": [awaiting_payment.pk]}
        )
    awaiting_payment.refresh_from_db()
    assert awaiting_payment.status == BookingStatus.CANCELED
    assert [r.path for r in stripe_api.seen] == [CREATE, EXPIRE]


def test_the_session_is_expired_only_once_the_cancel_committed(tenant, awaiting_payment, stripe_api):
    # given / when: a cancel whose transaction has not committed (the test's transaction stays open)
    services.booking_cancel(tenant=tenant, booking=awaiting_payment, actor=CUSTOMER)
    # then: Stripe has not been called yet
    assert [r.path for r in stripe_api.seen] == [CREATE]


def test_another_tenants_staff_cannot_cancel_or_expire(
    outsider, awaiting_payment, stripe_api, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        console = logged_in(outsider).post(f"/console/bookings/{awaiting_payment.pk}/cancel/", {"reason": "x"})
        logged_in(outsider).post(
            "/admin/bookings/booking/", {"action": "cancel_bookings", "_selected_action": [awaiting_payment.pk]}
        )
    assert console.status_code == 404
    awaiting_payment.refresh_from_db()
    assert awaiting_payment.status == BookingStatus.PENDING
    assert [r.path for r in stripe_api.seen] == [CREATE]


def test_a_payment_for_a_booking_staff_canceled_says_it_was_canceled(
    agent, awaiting_payment, django_capture_on_commit_callbacks
):
    # given: staff canceled the booking
    logged_in(agent).post(f"/console/bookings/{awaiting_payment.pk}/cancel/", {"reason": "closed"})
    # when: the payment still arrives
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_mark_paid(booking=awaiting_payment, actor=services.STRIPE, payment_intent="pi_1")
    # then: the customer is told the booking was canceled and the money comes back, not that they paid late
    (message,) = mail.outbox
    assert "will be refunded" in message.subject
    for text in _texts(message):
        assert "was canceled before your payment arrived" in text and "refunded in full" in text
        assert LATE_TEXT not in text


def test_a_payment_after_the_hold_was_released_still_says_it_was_late(
    tenant, awaiting_payment, django_capture_on_commit_callbacks
):
    # given: the hold was released and someone else took the slot
    services.booking_release_hold(booking=awaiting_payment, actor=services.SYSTEM)
    booking_create(
        tenant=tenant,
        service=awaiting_payment.service,
        start=awaiting_payment.start_at,
        name="Sam",
        email="sam@x.org",
        actor=CUSTOMER,
    )
    # when
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_mark_paid(booking=awaiting_payment, actor=services.STRIPE, payment_intent="pi_1")
    # then
    (message,) = [m for m in mail.outbox if m.to == ["pat@x.org"]]
    assert all(LATE_TEXT in text for text in _texts(message))
