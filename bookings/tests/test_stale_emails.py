"""An email goes out only while it still applies to the booking: one the booking has outdated since it
was recorded (canceled, moved again) becomes SUPERSEDED, whether the sweeper, its retry or staff's
"Send again" reaches it; a payment recorded since (a receipt) outdates no confirmation nor new time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django.utils.html import strip_tags

from bookings import delivery, notifications
from bookings.models import Booking, BookingEmail, EmailFailure, EmailKind, EmailStatus
from bookings.services import CUSTOMER, booking_cancel, booking_reschedule
from bookings.tests.conftest import customer_booking, local, logged_in, next_weekday
from bookings.tests.mail_backends import UNREACHABLE

pytestmark = pytest.mark.django_db
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


def _email(booking: Booking, kind: EmailKind) -> BookingEmail:
    return BookingEmail.objects.get(booking=booking, kind=kind)


def _overdue() -> None:
    BookingEmail.objects.filter(status=EmailStatus.PENDING).update(
        next_attempt_at=timezone.now() - notifications.STUCK_AFTER - timedelta(seconds=1)
    )


def _retry_url(email: BookingEmail) -> str:
    return f"/console/bookings/{email.booking_id}/emails/{email.pk}/retry/"


def test_the_sweeper_never_sends_the_confirmation_of_a_booking_canceled_since(
    tenant, owner, service, settings, django_capture_on_commit_callbacks
):
    # given: the mail server is down when the booking is made, back up when the customer cancels
    settings.EMAIL_BACKEND = UNREACHABLE
    with django_capture_on_commit_callbacks(execute=True):
        booking = customer_booking(tenant, service)
    settings.EMAIL_BACKEND = LOCMEM
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(tenant=tenant, booking=booking, actor=CUSTOMER)
    # when: the sweeper finds the confirmation and the new-booking notice overdue
    _overdue()
    assert notifications.emails_requeue_overdue() == 2
    # then: only the cancellation went out; the other two say why they never will
    assert [m.subject for m in mail.outbox] == [f"Your booking {booking.confirmation_code} is canceled"]
    for kind in (EmailKind.CONFIRMATION, EmailKind.TENANT_NEW_BOOKING):
        email = _email(booking, kind)
        assert email.status == EmailStatus.SUPERSEDED and email.leased_until is None and email.attempts == 1
    assert notifications.emails_requeue_overdue() == 0


def test_a_reschedule_email_is_not_sent_after_a_later_reschedule(
    tenant, service, settings, django_capture_on_commit_callbacks
):
    # given: the first move's email waits for its retry; the second move's goes out
    booking = customer_booking(tenant, service)
    settings.EMAIL_BACKEND = UNREACHABLE
    with django_capture_on_commit_callbacks(execute=True):
        booking_reschedule(tenant=tenant, booking=booking, start=local(tenant, next_weekday(2), 11), actor=CUSTOMER)
    first = _email(booking, EmailKind.RESCHEDULE)
    settings.EMAIL_BACKEND = LOCMEM
    with django_capture_on_commit_callbacks(execute=True):
        booking_reschedule(tenant=tenant, booking=booking, start=local(tenant, next_weekday(2), 12), actor=CUSTOMER)
    assert len(mail.outbox) == 1
    # when: the first one's retry comes due
    BookingEmail.objects.filter(pk=first.pk).update(next_attempt_at=timezone.now())
    assert delivery.deliver_email(first.pk) is None
    # then
    first.refresh_from_db()
    assert first.status == EmailStatus.SUPERSEDED and len(mail.outbox) == 1


def test_a_reschedule_email_is_not_sent_after_a_cancel(tenant, service, settings, django_capture_on_commit_callbacks):
    booking = customer_booking(tenant, service)
    settings.EMAIL_BACKEND = UNREACHABLE
    with django_capture_on_commit_callbacks(execute=True):
        booking_reschedule(tenant=tenant, booking=booking, start=local(tenant, next_weekday(2), 11), actor=CUSTOMER)
    moved = _email(booking, EmailKind.RESCHEDULE)
    booking_cancel(tenant=tenant, booking=booking, actor=CUSTOMER)
    settings.EMAIL_BACKEND = LOCMEM
    BookingEmail.objects.filter(pk=moved.pk).update(next_attempt_at=timezone.now())
    delivery.deliver_email(moved.pk)
    moved.refresh_from_db()
    assert moved.status == EmailStatus.SUPERSEDED and mail.outbox == []


def test_the_cancellation_goes_out_though_the_earlier_confirmation_does_not(tenant, service):
    # given: neither email of a booking made then canceled was attempted yet
    booking = customer_booking(tenant, service)
    booking_cancel(tenant=tenant, booking=booking, actor=CUSTOMER)
    confirmation, cancellation = _email(booking, EmailKind.CONFIRMATION), _email(booking, EmailKind.CANCELLATION)
    # when
    delivery.deliver_email(cancellation.pk)
    delivery.deliver_email(confirmation.pk)
    # then
    cancellation.refresh_from_db()
    confirmation.refresh_from_db()
    assert (cancellation.status, confirmation.status) == (EmailStatus.SENT, EmailStatus.SUPERSEDED)
    assert [m.subject for m in mail.outbox] == [f"Your booking {booking.confirmation_code} is canceled"]


@pytest.fixture
def stale_failure(tenant, service) -> BookingEmail:
    """A confirmation that failed for good, then the customer canceled the booking."""
    booking = customer_booking(tenant, service)
    email = _email(booking, EmailKind.CONFIRMATION)
    email.status, email.attempts, email.failure = EmailStatus.FAILED, 5, EmailFailure.UNREACHABLE
    email.save()
    booking_cancel(tenant=tenant, booking=booking, actor=CUSTOMER)
    return email


def test_send_again_refuses_an_email_the_booking_outdated(agent, stale_failure, django_capture_on_commit_callbacks):
    # when
    client = logged_in(agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_retry_url(stale_failure))
    # then: not sent, and the page says why
    assert response.status_code == 302
    stale_failure.refresh_from_db()
    assert stale_failure.status == EmailStatus.SUPERSEDED and stale_failure.attempts == 5 and mail.outbox == []
    page = client.get(response["Location"]).content.decode()
    assert notifications.SUPERSEDED_NOT_RETRYABLE in page
    emails = " ".join(strip_tags(page[page.index('data-testid="emails"') : page.index("<h2>History")]).split())
    assert "Confirmation to the customer: not sent: the booking changed since" in emails
    assert _retry_url(stale_failure) not in page
    # and again: still refused, still not sent
    response = client.post(_retry_url(stale_failure), follow=True)
    assert notifications.SUPERSEDED_NOT_RETRYABLE in response.content.decode() and mail.outbox == []


def test_another_tenants_staff_cannot_retry_a_superseded_email(outsider, stale_failure):
    response = logged_in(outsider).post(_retry_url(stale_failure))
    assert response.status_code == 404
    stale_failure.refresh_from_db()
    assert stale_failure.status == EmailStatus.FAILED


def test_recording_a_desk_payment_leaves_the_waiting_confirmation_to_go_out(
    tenant, agent, at_desk, settings, django_capture_on_commit_callbacks
):
    # given: a booking paid on arrival whose confirmation waits for its retry (the mail server was down)
    settings.EMAIL_BACKEND = UNREACHABLE
    with django_capture_on_commit_callbacks(execute=True):
        booking = customer_booking(tenant, at_desk)
    confirmation = _email(booking, EmailKind.CONFIRMATION)
    assert confirmation.status == EmailStatus.PENDING and confirmation.attempts == 1
    # when: the customer pays at the desk in advance, then the confirmation's retry comes due
    settings.EMAIL_BACKEND = LOCMEM
    with django_capture_on_commit_callbacks(execute=True):
        logged_in(agent).post(f"/console/bookings/{booking.pk}/paid/")
    BookingEmail.objects.filter(pk=confirmation.pk).update(next_attempt_at=timezone.now())
    assert delivery.deliver_email(confirmation.pk) is None
    # then: the customer gets the receipt and still their confirmation (with its .ics)
    confirmation.refresh_from_db()
    assert confirmation.status == EmailStatus.SENT
    code = booking.confirmation_code
    subjects = [m.subject for m in mail.outbox]
    assert subjects == [f"Payment received for booking {code}", f"Your booking {code} is confirmed"]
    assert [name for name, _, _ in mail.outbox[1].attachments] == [f"{code}.ics"]


def test_a_desk_payment_recorded_as_staff_book_still_confirms_the_booking(
    tenant, owner, agent, at_desk, django_capture_on_commit_callbacks
):
    # when: staff book a service paid on arrival that the customer paid for at the desk already
    form = {"service": at_desk.pk, "date": next_weekday(4).isoformat(), "time": "10:00", "name": "Walk In"}
    with django_capture_on_commit_callbacks(execute=True):
        logged_in(agent).post("/console/bookings/new/", {**form, "email": "walk@x.org", "payment": "offline"})
    # then: the customer gets both the receipt and the confirmation; none of the booking's emails is superseded
    booking = Booking.objects.get()
    assert booking.paid_at is not None
    statuses = dict(BookingEmail.objects.filter(booking=booking).values_list("kind", "status"))
    assert statuses == {
        EmailKind.CONFIRMATION: EmailStatus.SENT,
        EmailKind.TENANT_NEW_BOOKING: EmailStatus.SENT,
        EmailKind.PAYMENT_RECEIVED: EmailStatus.SENT,
    }
    code = booking.confirmation_code
    assert f"Your booking {code} is confirmed" in [m.subject for m in mail.outbox]


def test_a_receipt_does_not_replace_a_waiting_new_time(
    tenant, agent, at_desk, settings, django_capture_on_commit_callbacks
):
    # given: a booking paid on arrival was moved while the mail server was down
    booking = customer_booking(tenant, at_desk)
    settings.EMAIL_BACKEND = UNREACHABLE
    with django_capture_on_commit_callbacks(execute=True):
        booking_reschedule(tenant=tenant, booking=booking, start=local(tenant, next_weekday(2), 11), actor=CUSTOMER)
    moved = _email(booking, EmailKind.RESCHEDULE)
    # when: staff record its payment, and the new time's retry comes due
    settings.EMAIL_BACKEND = LOCMEM
    with django_capture_on_commit_callbacks(execute=True):
        logged_in(agent).post(f"/console/bookings/{booking.pk}/paid/")
    BookingEmail.objects.filter(pk=moved.pk).update(next_attempt_at=timezone.now())
    delivery.deliver_email(moved.pk)
    # then
    moved.refresh_from_db()
    assert moved.status == EmailStatus.SENT
    assert f"Your booking {booking.confirmation_code} has a new time" in [m.subject for m in mail.outbox]


def test_staff_of_another_tenant_cannot_record_the_payment_nor_send_the_confirmation(
    tenant, outsider, at_desk, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = UNREACHABLE
    with django_capture_on_commit_callbacks(execute=True):
        booking = customer_booking(tenant, at_desk)
    settings.EMAIL_BACKEND = LOCMEM
    assert logged_in(outsider).post(f"/console/bookings/{booking.pk}/paid/").status_code == 404
    confirmation = _email(booking, EmailKind.CONFIRMATION)
    assert logged_in(outsider).post(_retry_url(confirmation)).status_code == 404
    booking.refresh_from_db()
    assert booking.paid_at is None and mail.outbox == []
