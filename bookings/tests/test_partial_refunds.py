"""A partial refund (made in Stripe's dashboard) is recorded as the amount Stripe gave back: the
booking keeps owing the rest (it stays "refund due"), the customer's email and the console name the
amount actually refunded (in the currency's own format), and the console refunds only what is left."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from bookings import notifications, refund_records, services
from bookings.models import Booking, BookingEmail, BookingEventKind, EmailKind, EmailStatus
from bookings.services import CUSTOMER, STRIPE
from bookings.tests.conftest import customer_booking, local, logged_in, marked_text, next_weekday
from bookings.tests.factories import ServiceFactory
from bookings.tests.mail_backends import UNREACHABLE
from bookings.tests.stripe_fake import FakeStripe
from bookings.tests.test_console_refund import INTENT, _owing, _refund, _webhook

pytestmark = pytest.mark.django_db


def _charge(amount_refunded: int) -> dict[str, Any]:
    return {"id": "ch_1", "object": "charge", "payment_intent": INTENT, "amount_refunded": amount_refunded}


def _refunded_emails(booking: Booking) -> list[BookingEmail]:
    return list(BookingEmail.objects.filter(booking=booking, kind=EmailKind.PAYMENT_REFUNDED).order_by("pk"))


def test_a_partial_refund_is_recorded_as_such_and_the_rest_stays_owed(
    client, webhook_secret, tenant, owner, paid_service, stripe_api: FakeStripe, django_capture_on_commit_callbacks
):
    # given: a booking owing a refund of 95.00 EUR
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    mail.outbox.clear()
    # when: 50.00 EUR is refunded in Stripe's dashboard, and Stripe reports it twice
    with django_capture_on_commit_callbacks(execute=True):
        _webhook(client, "evt_1", "charge.refunded", _charge(5000))
        _webhook(client, "evt_2", "charge.refunded", _charge(5000))
    # then: 50.00 EUR is recorded refunded, once; 45.00 EUR is still owed
    booking.refresh_from_db()
    assert booking.refunded_cents == 5000 and booking.refunded_at is None and booking.refund_due
    (event,) = booking.events.filter(kind=BookingEventKind.REFUNDED)
    assert event.data == {"amount_cents": 5000, "remaining_cents": 4500}
    # and the customer is told what was refunded, not the whole price, in the subject too
    (message,) = [m for m in mail.outbox if m.to == ["ann@example.org"]]
    assert message.subject == f"50.00 EUR of your payment for booking {booking.confirmation_code} was refunded"
    assert "we have refunded 50.00 EUR of your payment of 95.00 EUR" in message.body
    assert isinstance(message, EmailMultiAlternatives)
    assert "we have refunded 50.00 EUR of your payment of 95.00 EUR" in str(message.alternatives[0][0])
    # and the console shows it, and offers to refund the rest
    page = logged_in(owner).get(f"/console/bookings/{booking.pk}/").content.decode()
    assert "50.00 EUR of 95.00 EUR refunded, 45.00 EUR still owed" in page and "Refund 45.00 EUR" in page
    # when: the owner refunds the rest from the console
    done = _refund(owner, booking, django_capture_on_commit_callbacks)
    # then: Stripe is asked for the 45.00 EUR left, under a key of its own
    (request,) = [r for r in stripe_api.seen if r.path == "/v1/refunds"]
    assert request.form["amount"] == "4500"
    assert request.headers["idempotency-key"] == f"refund-{booking.confirmation_code}-after5000"
    assert f"Refunded 45.00 EUR for booking {booking.confirmation_code}" in done
    booking.refresh_from_db()
    assert booking.refunded_cents == 9500 and booking.refunded_at is not None and not booking.refund_due
    last = booking.events.filter(kind=BookingEventKind.REFUNDED).order_by("pk").last()
    assert last is not None and last.data == {"amount_cents": 4500, "refund_id": "re_test_0001"}
    final = mail.outbox[-1]
    assert final.to == ["ann@example.org"] and "we have refunded your payment of 95.00 EUR" in final.body
    assert final.subject == f"Your payment for booking {booking.confirmation_code} was refunded"
    # when: Stripe reports the charge refunded in full
    with django_capture_on_commit_callbacks(execute=True):
        _webhook(client, "evt_3", "charge.refunded", _charge(9500))
    # then: nothing more
    assert booking.events.filter(kind=BookingEventKind.REFUNDED).count() == 2
    assert len(_refunded_emails(booking)) == 2


def test_a_partial_refund_in_a_zero_decimal_currency_reads_in_whole_units(
    client, webhook_secret, tenant, owner, service, django_capture_on_commit_callbacks
):
    # given: a canceled booking paid 1500 JPY
    yen = ServiceFactory.create(tenant=tenant, name="Shiatsu", price_cents=1500, currency="jpy")
    booking = customer_booking(tenant, yen, day=next_weekday(3))
    booking = services.booking_mark_paid(booking=booking, actor=STRIPE, payment_intent=INTENT)
    booking = services.booking_cancel(tenant=tenant, booking=booking, actor=CUSTOMER)
    mail.outbox.clear()
    # when: 500 JPY is refunded in Stripe
    with django_capture_on_commit_callbacks(execute=True):
        _webhook(client, "evt_1", "charge.refunded", _charge(500))
    # then
    (message,) = [m for m in mail.outbox if m.to == ["ann@example.org"]]
    assert "we have refunded 500 JPY of your payment of 1500 JPY" in message.body
    page = logged_in(owner).get(f"/console/bookings/{booking.pk}/").content.decode()
    assert "500 JPY of 1500 JPY refunded, 1000 JPY still owed" in page


def test_the_rest_refunded_before_the_first_email_went_out_is_told_once(
    client, webhook_secret, tenant, paid_service, django_capture_on_commit_callbacks
):
    # given: two refunds in Stripe, the second before the first one's email was sent
    booking = _owing(tenant, paid_service)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks() as queued:
        _webhook(client, "evt_1", "charge.refunded", _charge(5000))
        _webhook(client, "evt_2", "charge.refunded", _charge(9500))
    # when: the emails go out
    for send in queued:
        send()
    # then: the customer reads one email, saying the whole payment was refunded
    first, second = _refunded_emails(booking)
    assert first.status == EmailStatus.SUPERSEDED and second.status == EmailStatus.SENT
    (message,) = [m for m in mail.outbox if m.to == ["ann@example.org"]]
    assert "we have refunded your payment of 95.00 EUR" in message.body


def test_a_refund_and_a_new_time_of_a_kept_booking_are_both_told(
    client, webhook_secret, tenant, paid_service, settings, django_capture_on_commit_callbacks
):
    # given: a paid, confirmed booking whose new time's email waits for its retry (the mail server is down)
    booking = customer_booking(tenant, paid_service, day=next_weekday(3), name="Ann Lee", email="ann@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        booking = services.booking_mark_paid(booking=booking, actor=STRIPE, payment_intent=INTENT)
    settings.EMAIL_BACKEND = UNREACHABLE
    with django_capture_on_commit_callbacks(execute=True):
        booking = services.booking_reschedule(
            tenant=tenant, booking=booking, start=local(tenant, next_weekday(3), 11), actor=CUSTOMER
        )
    # when: staff give 20.00 EUR back for the trouble in Stripe's dashboard (the booking is kept)
    with django_capture_on_commit_callbacks(execute=True):
        _webhook(client, "evt_1", "charge.refunded", _charge(2000))
    # and: the mail server is back, and the sweeper finds the new time's email overdue
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    BookingEmail.objects.filter(status=EmailStatus.PENDING).update(
        next_attempt_at=timezone.now() - notifications.STUCK_AFTER - timedelta(seconds=1)
    )
    notifications.emails_requeue_overdue()
    # then: the customer learns both: the new time (with its .ics) and the refund
    new_time = BookingEmail.objects.get(booking=booking, kind=EmailKind.RESCHEDULE)
    assert new_time.status == EmailStatus.SENT
    code = booking.confirmation_code
    assert sorted(m.subject for m in mail.outbox) == [
        f"20.00 EUR of your payment for booking {code} was refunded",
        f"Your booking {code} has a new time",
    ]


def test_a_refund_email_waiting_is_still_sent_after_the_booking_is_moved(
    client, webhook_secret, tenant, paid_service, settings, django_capture_on_commit_callbacks
):
    # given: a paid, confirmed booking; 20.00 EUR given back while the mail server is down
    booking = customer_booking(tenant, paid_service, day=next_weekday(3), name="Ann Lee", email="ann@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        booking = services.booking_mark_paid(booking=booking, actor=STRIPE, payment_intent=INTENT)
    settings.EMAIL_BACKEND = UNREACHABLE
    with django_capture_on_commit_callbacks(execute=True):
        _webhook(client, "evt_1", "charge.refunded", _charge(2000))
    # when: the booking is moved, and the mail server is back for the retries
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_reschedule(
            tenant=tenant, booking=booking, start=local(tenant, next_weekday(3), 11), actor=CUSTOMER
        )
    BookingEmail.objects.filter(status=EmailStatus.PENDING).update(
        next_attempt_at=timezone.now() - notifications.STUCK_AFTER - timedelta(seconds=1)
    )
    notifications.emails_requeue_overdue()
    # then: the refund is still told (the new time's email says nothing of it)
    assert BookingEmail.objects.get(booking=booking, kind=EmailKind.PAYMENT_REFUNDED).status == EmailStatus.SENT


def test_the_console_says_what_of_a_kept_bookings_payment_was_refunded_and_owes_nothing(
    tenant, owner, outsider, paid_service
):
    # given: paid, confirmed bookings; Stripe refunded 12.00 EUR of one (a goodwill refund), all of another
    def paid(hour: int) -> Booking:
        booking = customer_booking(tenant, paid_service, day=next_weekday(3), hour=hour)
        return services.booking_mark_paid(booking=booking, actor=STRIPE, payment_intent=f"pi_{hour}")

    part = refund_records.booking_mark_refunded(booking=paid(10), actor=STRIPE, refunded_cents=1200)
    whole = refund_records.booking_mark_refunded(booking=paid(12), actor=STRIPE, refunded_cents=9500)
    # when staff open their pages and the bookings list
    client = logged_in(owner)
    prices = [marked_text(client.get(f"/console/bookings/{b.pk}/").content.decode(), "price") for b in (part, whole)]
    listed = client.get("/console/bookings/").content.decode()
    # then: what was refunded, and nothing said to be owed: the booking is kept, no refund is due
    assert not part.refund_due
    assert prices[0].startswith("95.00 EUR · paid ") and prices[0].endswith(" · 12.00 EUR of 95.00 EUR refunded")
    assert prices[1].endswith(" · refunded")
    assert marked_text(listed, f"paid-{part.pk}") == "✓ 12.00 EUR of 95.00 EUR refunded"
    assert marked_text(listed, f"paid-{whole.pk}") == "refunded"
    # and another tenant's staff see neither
    outside = logged_in(outsider)
    assert outside.get(f"/console/bookings/{part.pk}/").status_code == 404
    assert part.confirmation_code not in outside.get("/console/bookings/").content.decode()
