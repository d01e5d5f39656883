"""Cancelling a paid booking leaves a refund to do in Stripe: the CANCELED event says so (whoever
cancels), the console tells staff, and the bookings list can show just the bookings owing a refund."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from bookings import refund_records, services
from bookings.models import Booking, BookingEventKind, Service
from bookings.services import CUSTOMER, STRIPE, booking_create
from bookings.tests.conftest import local, logged_in, next_weekday, open_every_day
from bookings.tests.stripe_fake import FakeStripe
from supportai.models import Tenant

pytestmark = pytest.mark.django_db


def _booking(tenant: Tenant, service: Service, hour: int, *, paid: bool) -> Booking:
    booking = booking_create(
        tenant=tenant,
        service=service,
        start=local(tenant, next_weekday(3), hour),
        name="Ann Lee",
        email=f"ann{hour}@example.org",
        actor=CUSTOMER,
    )
    if paid:
        booking = services.booking_mark_paid(booking=booking, actor=STRIPE, payment_intent=f"pi_{hour}")
    return booking


def _canceled_event_data(booking: Booking) -> dict[str, object]:
    data: dict[str, object] = booking.events.get(kind=BookingEventKind.CANCELED).data
    return data


def test_a_console_cancel_of_a_paid_booking_records_the_refund_due_and_tells_staff(agent, tenant, paid_service):
    # given: a booking the customer has paid
    booking = _booking(tenant, paid_service, 10, paid=True)
    # when: staff cancel it in the console
    response = logged_in(agent).post(
        f"/console/bookings/{booking.pk}/cancel/", {"reason": "Therapist ill"}, follow=True
    )
    # then: the event records the refund that is due, and the page says to refund it in Stripe
    assert _canceled_event_data(booking) == {"reason": "Therapist ill", "refund_due": True}
    page = response.content.decode()
    assert "a refund of 95.00 EUR is due: refund it in Stripe" in page
    assert "<em>refund due</em>" in page


def test_customer_and_admin_cancels_of_paid_bookings_record_the_refund_due(owner, tenant, paid_service):
    # given
    by_customer = _booking(tenant, paid_service, 10, paid=True)
    by_admin = _booking(tenant, paid_service, 12, paid=True)
    # when
    services.booking_cancel(tenant=tenant, booking=by_customer, actor=CUSTOMER)
    logged_in(owner).post("/admin/bookings/booking/", {"action": "cancel_bookings", "_selected_action": [by_admin.pk]})
    # then
    assert _canceled_event_data(by_customer) == {"reason": "", "refund_due": True}
    assert _canceled_event_data(by_admin) == {"reason": "Canceled by staff", "refund_due": True}


def test_unpaid_and_already_refunded_cancels_owe_nothing(agent, tenant, service, paid_service):
    # given: a free booking, an unpaid paid one, and a paid one Stripe already refunded
    free = _booking(tenant, service, 9, paid=False)
    unpaid = _booking(tenant, paid_service, 11, paid=False)
    refunded = refund_records.booking_mark_refunded(
        booking=_booking(tenant, paid_service, 13, paid=True), actor=STRIPE, refunded_cents=9500
    )
    client = logged_in(agent)
    # when
    responses = [client.post(f"/console/bookings/{b.pk}/cancel/", follow=True) for b in (free, unpaid, refunded)]
    # then
    for booking, response in zip((free, unpaid, refunded), responses, strict=True):
        assert _canceled_event_data(booking) == {"reason": ""}
        page = response.content.decode()
        assert "refund due" not in page and "is due: refund it in Stripe" not in page


def test_the_refund_due_filter_lists_only_this_tenants_paid_unrefunded_canceled_bookings(
    owner, outsider, tenant, other_tenant, paid_service
):
    # given: in tenant, one canceled paid booking (owes a refund), one refunded, one unpaid, one paid and kept
    owing = _booking(tenant, paid_service, 9, paid=True)
    refunded = _booking(tenant, paid_service, 10, paid=True)
    unpaid = _booking(tenant, paid_service, 11, paid=False)
    kept = _booking(tenant, paid_service, 12, paid=True)
    for booking in (owing, refunded, unpaid):
        services.booking_cancel(tenant=tenant, booking=booking, actor=CUSTOMER)
    refund_records.booking_mark_refunded(booking=refunded, actor=STRIPE, refunded_cents=9500)
    # and in the other tenant, a booking that owes a refund too
    other_service = Service.objects.create(tenant=other_tenant, name="Sauna", duration_minutes=60, price_cents=500)
    open_every_day(other_tenant)
    theirs = _booking(other_tenant, other_service, 9, paid=True)
    services.booking_cancel(tenant=other_tenant, booking=theirs, actor=CUSTOMER)
    # when
    ours_page = logged_in(owner).get("/console/bookings/?refund_due=on").content.decode()
    theirs_page = logged_in(outsider).get("/console/bookings/?refund_due=on").content.decode()
    # then: each tenant sees its own booking owing a refund, and nothing else
    assert owing.confirmation_code in ours_page
    for other in (refunded, unpaid, kept, theirs):
        assert other.confirmation_code not in ours_page
    assert theirs.confirmation_code in theirs_page
    assert owing.confirmation_code not in theirs_page
    # and without the filter the list shows them all, the owing one marked
    full = logged_in(owner).get("/console/bookings/").content.decode()
    assert all(b.confirmation_code in full for b in (owing, refunded, unpaid, kept))
    assert full.count("refund due") == 1


def test_a_payment_staff_took_offline_is_not_sent_to_stripe_for_its_refund(
    agent, owner, outsider, tenant, paid_service, stripe_api: FakeStripe, django_capture_on_commit_callbacks
):
    # given: staff booked a service paid online for a customer who paid them offline (cash, transfer)
    form = {"service": paid_service.pk, "date": next_weekday(3).isoformat(), "time": "10:00", "name": "Walk In"}
    logged_in(agent).post("/console/bookings/new/", {**form, "email": "walk@x.org", "payment": "offline"})
    booking = Booking.objects.get()
    mail.outbox.clear()
    # when: staff cancel it
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in(agent).post(f"/console/bookings/{booking.pk}/cancel/", {"reason": "Ill"}, follow=True)
    # then: a refund is due, to be given back where it was paid (Stripe never had this payment) and
    # recorded on the booking's page by an owner or admin, which the agent cannot do
    page = response.content.decode()
    assert (
        "a refund of 95.00 EUR is due: it was not paid through Stripe, so it is given back where it was paid; "
        "an owner or admin then records that on this page (Record refund (given back offline))." in page
    )
    assert "refund it in Stripe" not in page and 'id="record-refund"' not in page
    (notice,) = [m for m in mail.outbox if m.subject.startswith("Refund due")]
    assert isinstance(notice, EmailMultiAlternatives)
    for text in (notice.body, str(notice.alternatives[0][0])):
        assert (
            "Nothing refunds it automatically: it was not paid through Stripe, so give it back where it was paid, "
            "then an owner or admin records it with Record refund (given back offline) on the booking's console "
            "page" in text
        )
        assert "in Stripe." not in text
    assert stripe_api.seen == []
    # and another tenant's staff cannot cancel it
    assert logged_in(outsider).post(f"/console/bookings/{booking.pk}/cancel/", {"reason": "x"}).status_code == 404


def test_an_owner_canceling_a_payment_taken_offline_is_sent_to_the_record_refund_form(
    owner, tenant, paid_service, stripe_api: FakeStripe
):
    # given: a booking staff recorded paid at the desk
    booking = _booking(tenant, paid_service, 10, paid=False)
    booking = services.booking_mark_paid(booking=booking, actor=CUSTOMER)
    assert not booking.paid_through_stripe
    # when: an owner (who may record refunds) cancels it
    response = logged_in(owner).post(f"/console/bookings/{booking.pk}/cancel/", {"reason": "Ill"}, follow=True)
    # then: the message sends them to the form below it, which the page shows
    page = response.content.decode()
    assert (
        "a refund of 95.00 EUR is due: it was not paid through Stripe, so give it back where it was paid, then "
        "record it below with Record refund (given back offline)." in page
    )
    assert 'id="record-refund"' in page
    assert stripe_api.seen == []
