"""Staff mark a booking whose start has passed as a no-show (and undo it within a week); a no-show keeps
its time and buffer, and housekeeping never completes it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings import availability, no_shows, services
from bookings.housekeeping import run_housekeeping
from bookings.models import Booking, BookingEvent, BookingEventKind, BookingStatus, Service
from bookings.services import CUSTOMER, BookingError
from bookings.tests.conftest import at, customer_booking, local, logged_in, next_weekday, open_every_day
from bookings.tests.factories import ServiceFactory
from supportai.models import Tenant

pytestmark = pytest.mark.django_db
DAY = next_weekday(2)


def _book(tenant: Tenant, service: Service, hour: int = 10) -> Booking:
    return customer_booking(tenant, service, day=DAY, hour=hour, name="Pat", email="pat@x.org")


def _started(booking: Booking, *, ago: timedelta) -> Booking:
    """Move ``booking`` so that it started ``ago`` (60 minutes long)."""
    start = timezone.now() - ago
    end = start + timedelta(hours=1)
    Booking.objects.filter(pk=booking.pk).update(start_at=start, end_at=end, blocked_until=end)
    booking.refresh_from_db()
    return booking


def _url(booking: Booking, action: str = "no-show") -> str:
    return f"/console/bookings/{booking.pk}/{action}/"


@pytest.fixture
def past(tenant, service) -> Booking:
    return _started(_book(tenant, service), ago=timedelta(hours=2))


def test_staff_mark_a_past_booking_as_a_no_show(agent, past):
    # when
    client = logged_in(agent)
    response = client.post(_url(past))
    # then: the status, the history and the page say so
    assert response.status_code == 302 and response["Location"] == f"/console/bookings/{past.pk}/"
    past.refresh_from_db()
    assert past.status == BookingStatus.NO_SHOW
    event = BookingEvent.objects.get(booking=past, kind=BookingEventKind.NO_SHOW)
    assert event.actor == "staff:bob" and event.staff_user == agent and event.tenant_id == past.tenant_id
    page = client.get(response["Location"]).content.decode()
    assert f"Booking {past.confirmation_code} marked as a no-show." in page
    assert "Marked no-show</strong> by staff:bob" in page and _url(past, "no-show/undo") in page


def test_a_completed_booking_can_be_marked_a_no_show(owner, past):
    # given: housekeeping completed it at its end, before staff noticed
    assert run_housekeeping().bookings_completed == 1
    # when
    logged_in(owner).post(_url(past))
    # then
    past.refresh_from_db()
    assert past.status == BookingStatus.NO_SHOW


def test_the_detail_page_offers_no_show_only_once_the_booking_started(owner, tenant, service, past):
    upcoming = _book(tenant, service, 14)
    client = logged_in(owner)
    assert _url(past) in client.get(f"/console/bookings/{past.pk}/").content.decode()
    assert _url(upcoming) not in client.get(f"/console/bookings/{upcoming.pk}/").content.decode()


@pytest.mark.parametrize("status", [BookingStatus.PENDING, BookingStatus.CANCELED])
def test_only_a_booked_past_booking_can_be_a_no_show(owner, tenant, service, past, status):
    upcoming = _book(tenant, service, 14)
    Booking.objects.filter(pk=past.pk).update(status=status)
    client = logged_in(owner)
    for booking, message in ((upcoming, no_shows.NOT_STARTED), (past, no_shows.NO_SHOW_NOT_BOOKED)):
        response = client.post(_url(booking), follow=True)
        assert response.status_code == 200 and message in response.content.decode()
    assert not Booking.objects.filter(status=BookingStatus.NO_SHOW).exists()


def test_marking_twice_changes_nothing_more(tenant, past):
    staff = services.Actor("staff:bob")
    no_shows.booking_mark_no_show(tenant=tenant, booking=past, actor=staff)
    no_shows.booking_mark_no_show(tenant=tenant, booking=past, actor=staff)
    assert BookingEvent.objects.filter(booking=past, kind=BookingEventKind.NO_SHOW).count() == 1


def test_another_tenants_staff_cannot_mark_or_undo(outsider, other_tenant, tenant, past):
    client = logged_in(outsider)
    assert client.post(_url(past)).status_code == 404
    no_shows.booking_mark_no_show(tenant=tenant, booking=past, actor=services.Actor("staff:bob"))
    assert client.post(_url(past, "no-show/undo")).status_code == 404
    past.refresh_from_db()
    assert past.status == BookingStatus.NO_SHOW
    with pytest.raises(BookingError):
        no_shows.booking_undo_no_show(tenant=other_tenant, booking=past, actor=CUSTOMER)


def test_analysts_cannot_mark_a_no_show(analyst, past):
    client = logged_in(analyst)
    assert _url(past) not in client.get(f"/console/bookings/{past.pk}/").content.decode()
    assert client.post(_url(past)).status_code == 403
    past.refresh_from_db()
    assert past.status == BookingStatus.CONFIRMED


def test_no_show_needs_post_and_the_csrf_token(owner, past):
    assert logged_in(owner).get(_url(past)).status_code == 405
    strict = logged_in(owner, enforce_csrf_checks=True)
    assert strict.post(_url(past)).status_code == 403
    past.refresh_from_db()
    assert past.status == BookingStatus.CONFIRMED


@pytest.mark.parametrize(
    ("ago", "back_to"),
    [(timedelta(hours=2), BookingStatus.COMPLETED), (timedelta(minutes=10), BookingStatus.CONFIRMED)],
)
def test_undo_puts_the_booking_back(agent, tenant, service, ago, back_to):
    # given: marked a no-show after it ended, or while it was under way
    booking = _started(_book(tenant, service), ago=ago)
    client = logged_in(agent)
    client.post(_url(booking))
    # when
    response = client.post(_url(booking, "no-show/undo"), follow=True)
    # then
    booking.refresh_from_db()
    assert booking.status == back_to
    assert BookingEvent.objects.filter(booking=booking, kind=BookingEventKind.NO_SHOW_UNDONE).count() == 1
    assert "No-show undone" in response.content.decode()


def test_undo_is_refused_after_a_week(agent, tenant, past):
    no_shows.booking_mark_no_show(tenant=tenant, booking=past, actor=services.Actor("staff:bob"))
    BookingEvent.objects.filter(booking=past, kind=BookingEventKind.NO_SHOW).update(
        created_at=timezone.now() - no_shows.NO_SHOW_UNDO_WINDOW - timedelta(minutes=1)
    )
    client = logged_in(agent)
    assert _url(past, "no-show/undo") not in client.get(f"/console/bookings/{past.pk}/").content.decode()
    response = client.post(_url(past, "no-show/undo"), follow=True)
    assert no_shows.NO_SHOW_UNDO_TOO_LATE in response.content.decode()
    past.refresh_from_db()
    assert past.status == BookingStatus.NO_SHOW


def test_the_list_filters_no_shows(owner, tenant, service, past):
    kept = _book(tenant, service, 14)
    no_shows.booking_mark_no_show(tenant=tenant, booking=past, actor=services.Actor("staff:bob"))
    page = logged_in(owner).get("/console/bookings/?status=no_show").content.decode()
    assert past.confirmation_code in page and kept.confirmation_code not in page
    assert '<option value="no_show" selected>No-show</option>' in page


def test_a_no_show_keeps_its_time_and_buffer_and_housekeeping_leaves_it(tenant):
    # given: 10:00-11:00 then 30 minutes of buffer, marked a no-show at 10:20
    open_every_day(tenant)
    service = ServiceFactory.create(tenant=tenant, duration_minutes=60, buffer_minutes=30, slot_step_minutes=15)
    with at(local(tenant, DAY, 9)):
        booking = _book(tenant, service)
    with at(local(tenant, DAY, 10, 20)):
        no_shows.booking_mark_no_show(tenant=tenant, booking=booking, actor=services.Actor("staff:bob"))
    # when: housekeeping runs after its end
    with at(local(tenant, DAY, 11, 5)):
        assert run_housekeeping().bookings_completed == 0
        starts = [s.start for s in availability.available_slots(tenant=tenant, service=service, first_day=DAY)]
    # then: still a no-show, and nothing opens before its buffer ends
    booking.refresh_from_db()
    assert booking.status == BookingStatus.NO_SHOW
    assert local(tenant, DAY, 11, 15) not in starts and starts[0] == local(tenant, DAY, 11, 30)
