"""A message queued under the email task's old name (``bookings.send_booking_email(booking_id, kind)``,
before emails became ``BookingEmail`` rows) by a process still on the previous release during a
rolling deploy is not dropped: it becomes an outbox email, or one WARNING names the booking."""

from __future__ import annotations

import logging

import pytest
from django.core import mail

from bookings import services, tasks  # noqa: F401 (registers the tasks, as a worker's autodiscovery)
from bookings.models import BookingEmail, EmailKind, EmailStatus
from bookings.services import CUSTOMER
from bookings.tests.conftest import customer_booking
from supportai.celery import app

pytestmark = pytest.mark.django_db
OLD_NAME = "bookings.send_booking_email"


def _old_message(*args: object) -> None:
    """Run the task registered under the old name as a worker would, eagerly: no broker in tests.
    (A worker imports ``bookings.tasks`` when it starts, through autodiscovery, as this module does.)"""
    app.tasks[OLD_NAME].apply_async(args)


def test_an_old_message_is_sent_through_the_outbox(tenant, service, django_capture_on_commit_callbacks):
    # given: a booking whose confirmation the previous release queued under the old task name
    booking = customer_booking(tenant, service)
    BookingEmail.objects.all().delete()
    mail.outbox.clear()
    # when: a worker of this release takes the message
    with django_capture_on_commit_callbacks(execute=True):
        _old_message(booking.pk, "confirmation")
    # then: it is a BookingEmail row like any other, sent
    (email,) = BookingEmail.objects.filter(booking=booking)
    assert email.kind == EmailKind.CONFIRMATION and email.status == EmailStatus.SENT
    (message,) = mail.outbox
    assert message.subject == f"Your booking {booking.confirmation_code} is confirmed"


def test_an_old_message_the_booking_outdated_is_superseded(tenant, service, django_capture_on_commit_callbacks):
    # given: the confirmation was queued, then the booking was canceled
    booking = customer_booking(tenant, service)
    services.booking_cancel(tenant=tenant, booking=booking, actor=CUSTOMER)
    mail.outbox.clear()
    # when
    with django_capture_on_commit_callbacks(execute=True):
        _old_message(booking.pk, "confirmation")
    # then: not sent, as any confirmation of a canceled booking
    email = BookingEmail.objects.filter(booking=booking, kind=EmailKind.CONFIRMATION).latest("pk")
    assert email.status == EmailStatus.SUPERSEDED and mail.outbox == []


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("missing", "confirmation"), "booking 'missing'"),
        ((999_999, "confirmation"), "booking 999999"),
        (("{pk}", "reminder"), "booking {pk}"),
    ],
)
def test_an_old_message_that_cannot_be_mapped_logs_one_warning(tenant, service, caplog, args, named):
    # given: a booking, and an old message naming no booking of ours or an email kind we do not know
    booking = customer_booking(tenant, service)
    before = BookingEmail.objects.count()
    booking_id, kind = args
    booking_id = booking.pk if booking_id == "{pk}" else booking_id
    # when
    with caplog.at_level(logging.WARNING, logger="bookings"):
        _old_message(booking_id, kind)
    # then: one warning naming the booking, no email
    (record,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert named.format(pk=booking.pk) in record.getMessage()
    assert BookingEmail.objects.count() == before
