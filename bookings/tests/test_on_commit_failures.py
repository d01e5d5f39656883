"""What bookings do after the commit (queue an email, expire a Checkout Session) is robust: if it raises,
the booking change stands and Django logs the error naming the function that failed, instead of an
AttributeError escaping after the commit (Django names a failed robust callback by its ``__qualname__``,
which a ``functools.partial`` lacks)."""

from __future__ import annotations

import logging
from unittest import mock

import pytest

from bookings import notifications
from bookings.models import Booking, BookingEmail, BookingStatus, EmailFailure, EmailKind, EmailStatus
from bookings.services import CUSTOMER, booking_cancel
from bookings.tests.conftest import customer_booking

pytestmark = pytest.mark.django_db
BROKEN = RuntimeError("broken after the commit")


@pytest.fixture
def booking(tenant, service) -> Booking:
    return customer_booking(tenant, service)


def _failure_logged(caplog: pytest.LogCaptureFixture, callee: str) -> bool:
    return any(
        record.levelno == logging.ERROR
        and f"Error calling {callee} in on_commit()" in record.getMessage()
        and record.exc_info is not None
        and record.exc_info[1] is BROKEN
        for record in caplog.records
    )


def test_a_cancel_whose_checkout_expiry_fails_stands_and_the_failure_is_logged(
    tenant, booking, django_capture_on_commit_callbacks, caplog
):
    # given: expiring the Checkout Session fails in a way checkout_expire does not handle
    # when
    with (
        mock.patch("bookings.payments.checkout_expire", autospec=True, side_effect=BROKEN) as expire,
        django_capture_on_commit_callbacks(execute=True),
    ):
        booking_cancel(tenant=tenant, booking=booking, actor=CUSTOMER)

    # then
    expire.assert_called_once_with(booking)
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CANCELED
    assert _failure_logged(caplog, "checkout_expire")


def test_an_email_whose_queueing_fails_stays_recorded_and_the_failure_is_logged(
    booking, django_capture_on_commit_callbacks, caplog
):
    # given: queueing the email's task fails in a way enqueue_email does not handle
    # when
    with (
        mock.patch("bookings.notifications.enqueue_email", autospec=True, side_effect=BROKEN) as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        email = notifications.notify(booking, notifications.RESCHEDULE)

    # then
    enqueue.assert_called_once_with(email.pk)
    assert BookingEmail.objects.get(pk=email.pk).status == EmailStatus.PENDING
    assert _failure_logged(caplog, "enqueue_email")


def test_a_retry_whose_queueing_fails_stands_and_the_failure_is_logged(
    tenant, booking, django_capture_on_commit_callbacks, caplog
):
    # given: a failed email
    email = BookingEmail.objects.get(booking=booking, kind=EmailKind.CONFIRMATION)
    email.status, email.attempts, email.failure = EmailStatus.FAILED, 5, EmailFailure.UNREACHABLE
    email.save()

    # when: staff send it again
    with (
        mock.patch("bookings.notifications.enqueue_email", autospec=True, side_effect=BROKEN) as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        notifications.booking_email_retry(tenant=tenant, email=email)

    # then
    enqueue.assert_called_once_with(email.pk)
    retried = BookingEmail.objects.get(pk=email.pk)
    assert retried.status == EmailStatus.PENDING and retried.attempts == 0
    assert _failure_logged(caplog, "enqueue_email")
