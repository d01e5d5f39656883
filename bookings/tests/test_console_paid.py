"""Staff booking a paid service in the console: the payment link and hold are shown, or staff record
that the customer paid offline and the booking is confirmed at once (no hold for housekeeping to end)."""

from __future__ import annotations

import pytest
from django.core import mail

from bookings.availability import tenant_zone
from bookings.housekeeping import holds_release
from bookings.models import Booking, BookingStatus, Service
from bookings.tests.conftest import logged_in, marked_text, next_weekday, open_every_day
from bookings.tests.factories import ServiceFactory
from bookings.tests.stripe_fake import FakeStripe

pytestmark = pytest.mark.django_db


def _form(service: Service) -> dict[str, object]:
    day = next_weekday(4)
    return {"service": service.pk, "date": day.isoformat(), "time": "10:00", "name": "Walk In", "email": "walk@x.org"}


def test_a_paid_booking_by_link_shows_the_link_and_hold_on_its_page(agent, paid_service, stripe_api: FakeStripe):
    # when: staff book a paid service, the customer to pay online
    response = logged_in(agent).post("/console/bookings/new/", {**_form(paid_service), "payment": "link"}, follow=True)
    # then: the booking holds its slot and its page shows Stripe's link and when the hold ends, locally
    booking = Booking.objects.get()
    assert booking.status == BookingStatus.PENDING and booking.checkout_url
    assert booking.hold_expires_at is not None
    page = response.content.decode()
    assert f'href="{booking.checkout_url}"' in page
    held_until = booking.hold_expires_at.astimezone(tenant_zone(booking.tenant))
    assert f"held until {held_until:%Y-%m-%d %H:%M} ({booking.tenant.timezone})" in page
    assert "send it to the customer" in page


def test_staff_record_an_offline_payment_and_the_booking_is_confirmed_without_a_hold(
    agent, owner, paid_service, stripe_api: FakeStripe, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in(agent).post(
            "/console/bookings/new/", {**_form(paid_service), "payment": "offline"}, follow=True
        )
    # then: confirmed and paid at once, no Stripe session, nothing for housekeeping to release
    booking = Booking.objects.get()
    assert booking.status == BookingStatus.CONFIRMED and booking.paid_at is not None
    assert booking.hold_expires_at is None and booking.checkout_url == ""
    assert stripe_api.seen == []
    assert [(e.kind, e.actor) for e in booking.events.all()] == [
        ("created", "staff:bob"),
        ("paid", "staff:bob"),
        ("confirmed", "staff:bob"),
    ]
    assert holds_release() == 0
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    # the customer: payment received and confirmation; the owner: the new-booking notice
    assert sorted(m.subject.split(" ")[0] for m in mail.outbox) == ["New", "Payment", "Your"]
    assert b"held until" not in response.content


def test_paid_offline_on_a_free_service_books_it_without_a_payment(agent, service):
    logged_in(agent).post("/console/bookings/new/", {**_form(service), "payment": "offline"})
    booking = Booking.objects.get()
    assert booking.status == BookingStatus.CONFIRMED and booking.paid_at is None


def test_an_unknown_payment_choice_is_a_form_error(agent, paid_service):
    response = logged_in(agent).post("/console/bookings/new/", {**_form(paid_service), "payment": "free-please"})
    assert response.status_code == 200 and b"Select a valid choice" in response.content
    assert Booking.objects.count() == 0


def test_the_new_booking_form_offers_the_payment_choice(agent, paid_service):
    page = logged_in(agent).get("/console/bookings/new/").content.decode()
    assert 'name="payment"' in page and "Paid offline" in page


def test_staff_cannot_mark_another_tenants_paid_service_paid_offline(agent, other_tenant):
    open_every_day(other_tenant)
    theirs = ServiceFactory.create(tenant=other_tenant, name="Sauna", price_cents=5000)
    response = logged_in(agent).post("/console/bookings/new/", {**_form(theirs), "payment": "offline"})
    assert response.status_code == 200 and Booking.objects.count() == 0


def test_another_tenant_never_sees_the_payment_link(agent, outsider, paid_service, settings):
    settings.STRIPE_SECRET_KEY, settings.BOOKINGS_TEST_CHECKOUT = "", True
    logged_in(agent).post("/console/bookings/new/", {**_form(paid_service), "payment": "link"})
    booking = Booking.objects.get()
    assert booking.checkout_url
    outside = logged_in(outsider)
    assert outside.get(f"/console/bookings/{booking.pk}/").status_code == 404
    assert booking.checkout_url.encode() not in outside.get("/console/bookings/").content


def test_the_paid_time_on_the_bookings_page_names_the_zone(agent, paid_service):
    # given: a booking paid offline
    logged_in(agent).post("/console/bookings/new/", {**_form(paid_service), "payment": "offline"})
    booking = Booking.objects.get()
    assert booking.paid_at is not None
    # when: staff open its page
    page = logged_in(agent).get(f"/console/bookings/{booking.pk}/").content.decode()
    # then: the time it was paid, local, with the tenant's zone beside it
    paid = booking.paid_at.astimezone(tenant_zone(booking.tenant))
    assert f"paid {paid:%Y-%m-%d %H:%M} ({booking.tenant.timezone})" in marked_text(page, "price")
