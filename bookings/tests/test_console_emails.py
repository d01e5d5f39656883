"""The console booking page shows each email's state; staff send a failed one again (POST, CSRF,
their own tenant's only)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone
from django.utils.html import strip_tags

from bookings.models import Booking, BookingEmail, EmailFailure, EmailKind, EmailStatus
from bookings.tests.conftest import customer_booking, logged_in, next_weekday

pytestmark = pytest.mark.django_db


@pytest.fixture
def booking(tenant, service) -> Booking:
    # Not committed for real: the emails stay recorded and pending, their tasks never queued.
    return customer_booking(tenant, service, hour=9)


@pytest.fixture
def failed(booking) -> BookingEmail:
    email = BookingEmail.objects.get(booking=booking, kind=EmailKind.CONFIRMATION)
    email.status, email.attempts, email.failure = EmailStatus.FAILED, 5, EmailFailure.UNREACHABLE
    email.last_error = "ConnectionRefusedError: [Errno 111] Connection refused"
    email.save()
    return email


def _retry_url(email: BookingEmail) -> str:
    return f"/console/bookings/{email.booking_id}/emails/{email.pk}/retry/"


def test_the_booking_page_shows_each_emails_state(owner, tenant, booking, failed):
    # given: the new-booking notice waits for its retry, a cancellation went out
    retry_at = timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=4)
    BookingEmail.objects.filter(booking=booking, kind=EmailKind.TENANT_NEW_BOOKING).update(
        attempts=2, failure=EmailFailure.REFUSED, next_attempt_at=retry_at
    )
    BookingEmail.objects.create(
        tenant=tenant,
        booking=booking,
        kind=EmailKind.CANCELLATION,
        status=EmailStatus.SENT,
        attempts=1,
        sent_at=timezone.now(),
    )
    # when
    page = logged_in(owner).get(f"/console/bookings/{booking.pk}/").content.decode()
    # then: a plain reason, never the operator detail
    emails = " ".join(strip_tags(page[page.index('data-testid="emails"') : page.index("<h2>History")]).split())
    assert "Confirmation to the customer: failed (the mail server could not be reached)" in emails
    local_retry = retry_at.astimezone(ZoneInfo(tenant.timezone))
    assert f"New-booking notice to staff: pending, attempt 3 at {local_retry:%Y-%m-%d %H:%M}" in emails
    assert "the mail server did not take the message" in emails
    assert "Cancellation to the customer: sent " in emails
    assert "Connection refused" not in page
    assert f'action="{_retry_url(failed)}"' in page and page.count("Send again") == 1


def test_staff_send_a_failed_email_again(agent, booking, failed, django_capture_on_commit_callbacks):
    # when
    client = logged_in(agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_retry_url(failed))
    # then: a fresh run of attempts, queued after the commit and sent
    assert response.status_code == 302 and response["Location"] == f"/console/bookings/{booking.pk}/"
    failed.refresh_from_db()
    assert failed.status == EmailStatus.SENT and failed.attempts == 1 and failed.last_error == ""
    assert [m.to for m in mail.outbox] == [["ann@example.org"]]
    page = client.get(response["Location"]).content.decode()
    assert "The confirmation email will be sent again." in page


def test_only_a_failed_email_is_sent_again(agent, booking):
    pending = BookingEmail.objects.get(booking=booking, kind=EmailKind.CONFIRMATION)
    response = logged_in(agent).post(_retry_url(pending), follow=True)
    assert response.status_code == 200 and b"Only a failed email can be sent again." in response.content
    pending.refresh_from_db()
    assert pending.status == EmailStatus.PENDING and pending.attempts == 0


def test_another_tenants_staff_cannot_see_or_retry_the_email(outsider, other_tenant, other_service, failed):
    client = logged_in(outsider)
    assert client.post(_retry_url(failed)).status_code == 404
    # nor through a booking of their own tenant with this email's id
    theirs = customer_booking(other_tenant, other_service, hour=9)
    assert client.post(f"/console/bookings/{theirs.pk}/emails/{failed.pk}/retry/").status_code == 404
    failed.refresh_from_db()
    assert failed.status == EmailStatus.FAILED and failed.attempts == 5


def test_an_email_of_another_booking_is_not_found(agent, tenant, service, failed):
    other_booking = customer_booking(tenant, service, day=next_weekday(3), hour=9, name="Bo", email="bo@example.org")
    response = logged_in(agent).post(f"/console/bookings/{other_booking.pk}/emails/{failed.pk}/retry/")
    assert response.status_code == 404
    failed.refresh_from_db()
    assert failed.status == EmailStatus.FAILED


def test_analysts_see_the_emails_but_cannot_retry(analyst, booking, failed):
    client = logged_in(analyst)
    page = client.get(f"/console/bookings/{booking.pk}/").content.decode()
    assert "failed (the mail server could not be reached)" in page and "Send again" not in page
    assert client.post(_retry_url(failed)).status_code == 403
    failed.refresh_from_db()
    assert failed.status == EmailStatus.FAILED


def test_retry_needs_post_and_the_csrf_token(owner, failed):
    assert logged_in(owner).get(_retry_url(failed)).status_code == 405
    strict = logged_in(owner, enforce_csrf_checks=True)
    assert strict.post(_retry_url(failed)).status_code == 403
    failed.refresh_from_db()
    assert failed.status == EmailStatus.FAILED


def test_an_email_being_sent_shows_as_sending_not_as_a_later_attempt(owner, booking):
    # given: the confirmation's first attempt holds the row (counted already, nothing failed yet)
    BookingEmail.objects.filter(booking=booking, kind=EmailKind.CONFIRMATION).update(
        attempts=1, leased_until=timezone.now() + timedelta(minutes=5)
    )
    # when
    page = logged_in(owner).get(f"/console/bookings/{booking.pk}/").content.decode()
    # then: the attempt under way, not a second one still to come after a failure that never happened
    emails = " ".join(strip_tags(page[page.index('data-testid="emails"') : page.index("<h2>History")]).split())
    assert "Confirmation to the customer: sending (attempt 1)" in emails
    assert "attempt 2" not in emails and "(last: )" not in emails
