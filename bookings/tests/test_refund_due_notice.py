"""When a booking comes to owe a refund (canceled after payment, or paid after its hold ran out and the
time was taken), the tenant's staff get an email saying how much, for which booking and customer, with
a link to it in the console; it is a BookingEmail row like every booking email."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.mail import EmailMessage, EmailMultiAlternatives

from bookings import delivery, refund_records, services
from bookings.models import Booking, BookingEmail, EmailKind, EmailStatus, Service
from bookings.services import CUSTOMER, STRIPE, SYSTEM
from bookings.tests.conftest import customer_booking, logged_in, next_weekday
from supportai.models import Tenant

pytestmark = pytest.mark.django_db
PUBLIC = "https://support.example.com"


@pytest.fixture(autouse=True)
def _public_url(settings) -> None:
    settings.BOOKINGS_PUBLIC_URL = PUBLIC


def _book(tenant: Tenant, service: Service, *, email: str = "ann@example.org") -> Booking:
    return customer_booking(tenant, service, day=next_weekday(3), name="Ann <b>Lee</b>", email=email)


def _pay(booking: Booking) -> Booking:
    return services.booking_mark_paid(booking=booking, actor=STRIPE, payment_intent="pi_1")


def _staff_notices() -> list[EmailMessage]:
    return [m for m in mail.outbox if m.subject.startswith("Refund due")]


def test_staff_are_emailed_when_a_paid_booking_is_canceled(
    tenant, owner, outsider, paid_service, django_capture_on_commit_callbacks
):
    # given: a booking the customer paid
    booking = _pay(_book(tenant, paid_service))
    mail.outbox.clear()
    # when: the customer cancels it
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel(tenant=tenant, booking=booking, actor=CUSTOMER, reason="Sick")
    # then: one row, sent to this tenant's managers (not the other tenant's), with what staff need
    notice = BookingEmail.objects.get(booking=booking, kind=EmailKind.TENANT_REFUND_DUE)
    assert notice.status == EmailStatus.SENT and notice.tenant_id == tenant.pk and notice.to_staff
    (message,) = _staff_notices()
    assert message.to == ["alice@example.com"]
    assert message.subject == f"Refund due for booking {booking.confirmation_code}: 95.00 EUR"
    link = f"{PUBLIC}/console/bookings/{booking.pk}/"
    for text in ("95.00 EUR", booking.confirmation_code, "Ann <b>Lee</b> <ann@example.org>", link, "Sick"):
        assert text in message.body
    assert isinstance(message, EmailMultiAlternatives)
    html = str(message.alternatives[0][0])
    assert "Ann &lt;b&gt;Lee&lt;/b&gt;" in html and "<b>Lee</b>" not in html and f'href="{link}"' in html


def test_staff_are_emailed_when_a_late_payment_cannot_keep_the_booking(
    tenant, paid_service, django_capture_on_commit_callbacks
):
    # given: the tenant's escalation address; the hold ran out and someone else took the time
    tenant.escalation_email = "desk@alpha.example"
    tenant.save()
    booking = _book(tenant, paid_service)
    services.booking_release_hold(booking=booking, actor=SYSTEM)
    _book(tenant, paid_service, email="bo@example.org")
    # when: the payment arrives
    with django_capture_on_commit_callbacks(execute=True):
        _pay(booking)
    # then
    (message,) = _staff_notices()
    assert message.to == ["desk@alpha.example"]
    assert "arrived after the time reserved for payment" in message.body


@pytest.mark.parametrize("paid", [False, True])
def test_no_notice_when_nothing_is_owed(tenant, owner, paid_service, service, paid):
    # given: an unpaid booking, or a paid one Stripe already refunded
    booking = _book(tenant, paid_service if paid else service)
    if paid:
        refund_records.booking_mark_refunded(booking=_pay(booking), actor=STRIPE, refunded_cents=9500)
    # when
    services.booking_cancel(tenant=tenant, booking=booking, actor=CUSTOMER)
    # then
    assert not BookingEmail.objects.filter(kind=EmailKind.TENANT_REFUND_DUE).exists()


def test_a_notice_for_a_refund_stripe_made_meanwhile_is_not_sent(tenant, owner, paid_service):
    # given: the notice was recorded, then Stripe reported the refund before it went out
    booking = _pay(_book(tenant, paid_service))
    services.booking_cancel(tenant=tenant, booking=booking, actor=CUSTOMER)
    refund_records.booking_mark_refunded(booking=booking, actor=STRIPE, refunded_cents=9500)
    notice = BookingEmail.objects.get(booking=booking, kind=EmailKind.TENANT_REFUND_DUE)
    # when
    delivery.deliver_email(notice.pk)
    # then
    notice.refresh_from_db()
    assert notice.status == EmailStatus.SUPERSEDED and _staff_notices() == []


@pytest.mark.parametrize("stripe_set_up", [False, True])
def test_the_notice_says_where_to_refund(
    tenant, owner, paid_service, settings, django_capture_on_commit_callbacks, stripe_set_up
):
    # given: Stripe set up (the console refunds through it) or not (test-mode checkout)
    settings.STRIPE_SECRET_KEY = "sk_test_fake" if stripe_set_up else ""
    booking = _pay(_book(tenant, paid_service))
    # when: the booking is canceled
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel(tenant=tenant, booking=booking, actor=CUSTOMER)
    # then: staff are sent to the Refund button, or to Stripe
    (message,) = _staff_notices()
    html = str(message.alternatives[0][0]) if isinstance(message, EmailMultiAlternatives) else ""
    for text in (message.body, html):
        assert ("Refund button on the booking's console page" in text) is stripe_set_up
        assert ("refund the payment in Stripe" in text) is not stripe_set_up


def test_the_notice_of_a_payment_taken_offline_links_to_the_record_refund_form(
    tenant, owner, outsider, paid_service, django_capture_on_commit_callbacks
):
    # given: a booking staff recorded paid at the desk (Stripe never took it)
    booking = services.booking_mark_paid(booking=_book(tenant, paid_service), actor=SYSTEM)
    assert not booking.paid_through_stripe
    # when: it is canceled
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel(tenant=tenant, booking=booking, actor=CUSTOMER)
    # then: staff are told to give it back and record it, with a link to the form on the booking's page
    (message,) = _staff_notices()
    form_link = f"{PUBLIC}/console/bookings/{booking.pk}/#record-refund"
    assert (
        "give it back where it was paid, then an owner or admin records it with Record refund (given back "
        f"offline) on the booking's console page: {form_link}" in message.body
    )
    assert isinstance(message, EmailMultiAlternatives)
    html = str(message.alternatives[0][0])
    assert f'<a href="{form_link}">Record refund (given back offline)</a>' in html
    # and the link leads to that form for this tenant's owner, to nothing for another tenant's staff
    path = form_link.removeprefix(PUBLIC).split("#")[0]
    assert 'id="record-refund"' in logged_in(owner).get(path).content.decode()
    assert logged_in(outsider).get(path).status_code == 404


def test_the_notice_of_a_stripe_payment_has_no_record_refund_link(
    tenant, owner, paid_service, django_capture_on_commit_callbacks
):
    # given: a payment Stripe took
    booking = _pay(_book(tenant, paid_service))
    # when
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel(tenant=tenant, booking=booking, actor=CUSTOMER)
    # then: no offer to record a refund given back by hand
    (message,) = _staff_notices()
    html = str(message.alternatives[0][0]) if isinstance(message, EmailMultiAlternatives) else ""
    for text in (message.body, html):
        assert "#record-refund" not in text and "given back offline" not in text
