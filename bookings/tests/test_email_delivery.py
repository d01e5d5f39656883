"""Booking emails are rows: recorded with the booking change, sent once, retried with backoff, swept
up when their task was lost, and failed visibly after the last attempt. Real PostgreSQL throughout;
SMTP failures come from locmem backends that raise (``mail_backends``)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.core.mail.backends import locmem
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from bookings import delivery, notifications, tasks
from bookings.models import Booking, BookingEmail, EmailFailure, EmailKind, EmailStatus
from bookings.tests.conftest import customer_booking, open_every_day
from bookings.tests.factories import ServiceFactory
from bookings.tests.mail_backends import REFUSING, UNREACHABLE
from supportai import config_warnings

pytestmark = pytest.mark.django_db


def _booked(tenant, service, capture) -> Booking:
    """A booking whose emails were recorded and queued after its commit (eager Celery: attempted)."""
    with capture(execute=True):
        return customer_booking(tenant, service)


def _emails(booking: Booking) -> dict[str, BookingEmail]:
    return {email.kind: email for email in BookingEmail.objects.filter(booking=booking)}


def _due_now(email: BookingEmail) -> None:
    BookingEmail.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_the_emails_are_recorded_with_the_booking_and_sent_after_commit(
    tenant, owner, service, django_capture_on_commit_callbacks
):
    # when
    booking = _booked(tenant, service, django_capture_on_commit_callbacks)
    # then: one row per email, each sent once, to its own people
    emails = _emails(booking)
    assert set(emails) == {EmailKind.CONFIRMATION, EmailKind.TENANT_NEW_BOOKING}
    assert all(e.status == EmailStatus.SENT and e.attempts == 1 and e.sent_at for e in emails.values())
    assert all(e.tenant_id == tenant.pk and e.leased_until is None for e in emails.values())
    assert sorted(tuple(m.to) for m in mail.outbox) == [("alice@example.com",), ("ann@example.org",)]


def test_a_booking_change_that_rolls_back_leaves_no_email(tenant, service, django_capture_on_commit_callbacks):
    def book_then_fail() -> None:
        with transaction.atomic():
            customer_booking(tenant, service)
            raise RuntimeError("the request failed after the booking")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        book_then_fail()
    assert not BookingEmail.objects.exists() and callbacks == [] and mail.outbox == []


def test_an_unreachable_mail_server_backs_off_then_the_email_is_sent(
    tenant, owner, service, settings, django_capture_on_commit_callbacks
):
    # given: the mail server is down when the booking is made
    settings.EMAIL_BACKEND = UNREACHABLE
    before = timezone.now()
    booking = _booked(tenant, service, django_capture_on_commit_callbacks)
    email = _emails(booking)[EmailKind.CONFIRMATION]
    assert email.status == EmailStatus.PENDING and email.attempts == 1
    assert email.failure == EmailFailure.UNREACHABLE and "Connection refused" in email.last_error
    assert before + timedelta(seconds=30) <= email.next_attempt_at <= timezone.now() + timedelta(seconds=30)
    # when: a copy of the task runs before the retry is due, the server back up
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    tasks.deliver_email.delay(email.pk)
    # then: it leaves the attempt to its time
    email.refresh_from_db()
    assert email.status == EmailStatus.PENDING and email.attempts == 1 and mail.outbox == []
    # when: the retry is due
    _due_now(email)
    tasks.deliver_email.delay(email.pk)
    # then
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT and email.attempts == 2 and email.failure == "" and email.last_error == ""
    assert [m.to for m in mail.outbox] == [["ann@example.org"]]


def test_in_a_worker_a_failed_attempt_queues_the_next_for_when_it_is_due(tenant, service, settings, monkeypatch):
    # given: an email whose task a worker runs (not eagerly) while the mail server is down
    email = BookingEmail.objects.create(
        tenant=tenant, booking=customer_booking(tenant, service), kind=EmailKind.CONFIRMATION
    )
    settings.EMAIL_BACKEND = UNREACHABLE
    queued: list[tuple[Any, ...]] = []
    monkeypatch.setattr(tasks.deliver_email, "apply_async", lambda args, **options: queued.append((args, options)))
    # when
    tasks.deliver_email(email.pk)
    # then: a new task for the next attempt, due when the row says
    email.refresh_from_db()
    assert queued == [((email.pk,), {"countdown": 30})] and email.attempts == 1


def test_a_refused_message_is_retried_like_an_unreachable_server(
    tenant, owner, service, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = REFUSING
    email = _emails(_booked(tenant, service, django_capture_on_commit_callbacks))[EmailKind.CONFIRMATION]
    assert email.status == EmailStatus.PENDING and email.failure == EmailFailure.REFUSED
    assert "mailbox unavailable" in email.last_error


def test_the_last_failed_attempt_fails_the_email_and_logs_an_error(
    tenant, owner, service, settings, django_capture_on_commit_callbacks, caplog
):
    # given: the mail server stays down
    settings.EMAIL_BACKEND = UNREACHABLE
    booking = _booked(tenant, service, django_capture_on_commit_callbacks)
    email = _emails(booking)[EmailKind.CONFIRMATION]
    # when: every retry comes due and fails
    waits = []
    with caplog.at_level(logging.ERROR, logger="bookings.delivery"):
        for _ in range(delivery.MAX_ATTEMPTS - 1):
            _due_now(email)
            waits.append(delivery.deliver_email(email.pk))
    # then: backoff between attempts, then failed for good, with one error naming the booking
    assert waits == [60, 120, 240, None]
    email.refresh_from_db()
    assert email.status == EmailStatus.FAILED and email.attempts == delivery.MAX_ATTEMPTS
    assert email.failure == EmailFailure.UNREACHABLE
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and booking.confirmation_code in errors[0] and "confirmation" in errors[0]
    # and a later copy of the task sends nothing
    _due_now(email)
    assert delivery.deliver_email(email.pk) is None
    email.refresh_from_db()
    assert email.attempts == delivery.MAX_ATTEMPTS and mail.outbox == []


def test_a_notice_with_nobody_to_send_to_fails_at_once(tenant, service, django_capture_on_commit_callbacks):
    # given: no escalation address and no manager with an email address
    booking = _booked(tenant, service, django_capture_on_commit_callbacks)
    notice = _emails(booking)[EmailKind.TENANT_NEW_BOOKING]
    assert notice.status == EmailStatus.FAILED and notice.attempts == 1
    assert notice.failure == EmailFailure.NO_RECIPIENT
    assert _emails(booking)[EmailKind.CONFIRMATION].status == EmailStatus.SENT


def test_an_attempt_cut_short_at_the_last_attempt_fails_the_email(tenant, service, caplog):
    # given: the worker making the last attempt was killed (its lease ran out, nothing recorded)
    booking = customer_booking(tenant, service)
    email = BookingEmail.objects.create(
        tenant=tenant,
        booking=booking,
        kind=EmailKind.CONFIRMATION,
        attempts=delivery.MAX_ATTEMPTS,
        leased_until=timezone.now() - timedelta(seconds=1),
    )
    # when
    with caplog.at_level(logging.ERROR, logger="bookings.delivery"):
        assert delivery.deliver_email(email.pk) is None
    # then
    email.refresh_from_db()
    assert email.status == EmailStatus.FAILED and email.failure == EmailFailure.ERROR and mail.outbox == []
    assert "interrupted" in email.last_error and booking.confirmation_code in caplog.records[0].getMessage()


def test_the_sweeper_sends_what_a_broker_outage_left_behind(
    tenant, owner, service, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    # given: the broker is down when the booking commits
    def broker_down(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")

    with monkeypatch.context() as patch, caplog.at_level(logging.WARNING, logger="bookings.notifications"):
        patch.setattr(tasks.deliver_email, "apply_async", broker_down)
        booking = _booked(tenant, service, django_capture_on_commit_callbacks)
    emails = _emails(booking)
    assert all(e.status == EmailStatus.PENDING and e.attempts == 0 for e in emails.values()) and mail.outbox == []
    assert len([r for r in caplog.records if "sweeper" in r.getMessage()]) == 2
    # when: the broker is back but the emails are not overdue yet
    assert notifications.emails_requeue_overdue() == 0
    # when: they are overdue
    BookingEmail.objects.update(next_attempt_at=timezone.now() - notifications.STUCK_AFTER - timedelta(seconds=1))
    swept = tasks.sweep_emails.delay().get()
    # then
    assert swept == 2
    assert all(e.status == EmailStatus.SENT for e in _emails(booking).values()) and len(mail.outbox) == 2
    assert notifications.emails_requeue_overdue() == 0


def test_the_sweeper_leaves_leased_waiting_and_finished_emails_alone(tenant, service):
    booking = customer_booking(tenant, service)
    long_ago = timezone.now() - timedelta(hours=1)

    def row(**fields: Any) -> BookingEmail:
        return BookingEmail.objects.create(
            tenant=tenant, booking=booking, kind=EmailKind.RESCHEDULE, **{"next_attempt_at": long_ago, **fields}
        )

    row(leased_until=timezone.now() + timedelta(minutes=1))  # a worker is sending it
    row(status=EmailStatus.SENT)
    row(status=EmailStatus.FAILED)
    row(next_attempt_at=timezone.now() + timedelta(minutes=3))  # waiting for its retry
    stale = row(leased_until=long_ago)  # its worker died mid-send
    assert notifications.emails_requeue_overdue() == 1
    stale.refresh_from_db()
    assert stale.status == EmailStatus.SENT and len(mail.outbox) == 1


def test_the_sweeper_runs_on_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["bookings-sweep-emails"]
    assert entry["task"] == tasks.sweep_emails.name == "bookings.sweep_emails"
    assert entry["schedule"] <= notifications.STUCK_AFTER.total_seconds()


class _SlowBackend(locmem.EmailBackend):
    """Holds the first send until told to finish, so another copy of the task runs meanwhile."""

    sending = threading.Event()
    finish = threading.Event()

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        type(self).sending.set()
        assert type(self).finish.wait(timeout=30)
        return super().send_messages(email_messages)


@pytest.mark.django_db(transaction=True)
def test_two_copies_of_the_task_never_both_send(tenant, service, settings):
    # given: an email whose task was delivered twice (a redelivery, a sweep), each copy on its own connection
    booking = customer_booking(tenant, service)
    mail.outbox.clear()
    email = BookingEmail.objects.create(tenant=tenant, booking=booking, kind=EmailKind.CONFIRMATION)
    settings.EMAIL_BACKEND = f"{__name__}._SlowBackend"
    _SlowBackend.sending.clear()
    _SlowBackend.finish.clear()

    def first_copy() -> None:
        try:
            delivery.deliver_email(email.pk)
        finally:
            connection.close()

    worker = threading.Thread(target=first_copy)
    worker.start()
    try:
        assert _SlowBackend.sending.wait(timeout=30)
        # when: the second copy runs while the first is sending
        second = delivery.deliver_email(email.pk)
    finally:
        _SlowBackend.finish.set()
        worker.join(timeout=30)
    # then: only the first sent it
    assert second is None
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT and email.attempts == 1
    assert [m.subject for m in mail.outbox] == [f"Your booking {booking.confirmation_code} is confirmed"]


def test_notices_with_nobody_to_send_to_are_warned_of_once_an_hour_per_tenant(
    tenant, other_tenant, service, django_capture_on_commit_callbacks, caplog, monkeypatch
):
    # given two tenants with no escalation address and no manager with an email address
    monkeypatch.setattr(config_warnings, "_last_logged", {})
    now = [1000.0]
    monkeypatch.setattr(config_warnings, "clock", lambda: now[0])
    open_every_day(other_tenant)
    other_service = ServiceFactory.create(tenant=other_tenant, duration_minutes=60, slot_step_minutes=60)
    # when three bookings are made at one, one at the other
    with caplog.at_level(logging.INFO, logger="bookings.delivery"):
        for hour in (9, 10, 11):
            with django_capture_on_commit_callbacks(execute=True):
                customer_booking(tenant, service, hour=hour)
        with django_capture_on_commit_callbacks(execute=True):
            customer_booking(other_tenant, other_service)
    # then each notice failed as before, and the log has one warning per tenant, no error
    notices = BookingEmail.objects.filter(kind=EmailKind.TENANT_NEW_BOOKING)
    assert {(n.status, n.failure) for n in notices} == {(EmailStatus.FAILED, EmailFailure.NO_RECIPIENT)}
    assert notices.count() == 4
    records = [r for r in caplog.records if r.name == "bookings.delivery"]
    assert [r.levelno for r in records] == [logging.WARNING, logging.WARNING]
    assert [str(tenant.pk) in records[0].getMessage(), str(other_tenant.pk) in records[1].getMessage()] == [True, True]
    assert all(r.exc_info is None for r in records)
    # and an hour later the first tenant's next one is warned of again
    now[0] += config_warnings.INTERVAL_S
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="bookings.delivery"), django_capture_on_commit_callbacks(execute=True):
        customer_booking(tenant, service, hour=12)
    assert [r.levelno for r in caplog.records if r.name == "bookings.delivery"] == [logging.WARNING]
