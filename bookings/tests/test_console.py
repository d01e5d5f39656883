"""Console pages and admin for bookings: roles, cross-tenant isolation, escaping, staff actions."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.test import Client
from django.utils import timezone

from bookings.availability import tenant_zone
from bookings.dates import bookable_range_message
from bookings.models import AvailabilityRule, BlackoutDate, Booking, BookingStatus, Service
from bookings.tests.conftest import customer_booking, local, logged_in, next_weekday
from supportai.models import Role
from supportai.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def booking(tenant, service):
    return customer_booking(tenant, service, hour=9, name="<img src=x onerror=alert(1)>")


def booking_today(tenant) -> date:
    return timezone.now().astimezone(tenant_zone(tenant)).date()


def test_list_day_and_detail_show_the_booking_escaped(owner, booking):
    client = logged_in(owner)
    for url in (
        "/console/bookings/",
        f"/console/bookings/day/?date={next_weekday(2).isoformat()}",
        f"/console/bookings/{booking.pk}/",
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        assert booking.confirmation_code.encode() in page.content
        assert b"<img src=x" not in page.content and b"&lt;img src=x" in page.content
    detail = client.get(f"/console/bookings/{booking.pk}/")
    assert b"Created" in detail.content and b"09:00" in detail.content  # history and local time


def test_nav_lists_bookings(owner):
    assert b'href="/console/bookings/"' in logged_in(owner).get("/console/").content


def test_filters_find_by_code_and_status(owner, booking):
    client = logged_in(owner)
    assert booking.confirmation_code.encode() in client.get(f"/console/bookings/?q={booking.confirmation_code}").content
    assert booking.confirmation_code.encode() not in client.get("/console/bookings/?status=canceled").content
    assert client.get("/console/bookings/?date_from=nonsense").status_code == 200


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1999-12-31"])
def test_dates_outside_the_bookable_range_are_a_form_error_not_a_500(owner, booking, day):
    # given: a business west of UTC, where a day's bounds near 9999-12-31 are year 10000 in UTC
    booking.tenant.timezone = "America/New_York"
    booking.tenant.save(update_fields=["timezone"])
    client = logged_in(owner)
    for field in ("date_from", "date_to"):
        # when
        response = client.get(f"/console/bookings/?{field}={day}&status=canceled")
        # then: the range is shown, the invalid date is left out and the valid status still filters
        assert response.status_code == 200
        assert bookable_range_message().encode() in response.content
        assert b"Not filtered by:" in response.content
        assert booking.confirmation_code.encode() not in response.content
        kept = client.get(f"/console/bookings/?{field}={day}&status={booking.status}")
        assert booking.confirmation_code.encode() in kept.content


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_day_view_outside_the_bookable_range_shows_today(owner, booking, day):
    response = logged_in(owner).get(f"/console/bookings/day/?date={day}")
    assert response.status_code == 200 and response.context["day"] == booking_today(booking.tenant)


@pytest.mark.parametrize("day", ["tomorrow", "2030-02-30", "0001-01-01", "<b>x</b>"])
def test_day_view_says_a_date_it_did_not_understand(owner, booking, day):
    response = logged_in(owner).get("/console/bookings/day/", {"date": day})
    page = response.content.decode()
    assert response.status_code == 200 and response.context["day"] == booking_today(booking.tenant)
    assert "was not understood" in page and "showing today" in page and "<b>x</b>" not in page


def test_day_view_without_a_date_shows_today_without_a_message(owner, booking):
    page = logged_in(owner).get("/console/bookings/day/").content.decode()
    assert "was not understood" not in page


def test_staff_cannot_book_or_reschedule_outside_the_bookable_range(agent, service, booking):
    client = logged_in(agent)
    response = client.post(
        "/console/bookings/new/",
        {"service": service.pk, "date": "9999-12-31", "time": "23:00", "name": "A", "email": "a@x.org"},
    )
    assert response.status_code == 200 and bookable_range_message().encode() in response.content
    response = client.post(
        f"/console/bookings/{booking.pk}/reschedule/", {"date": "9999-12-31", "time": "23:00"}, follow=True
    )
    assert bookable_range_message().encode() in response.content
    assert Booking.objects.get().start_at == booking.start_at


def test_other_tenant_sees_nothing(outsider, booking):
    client = logged_in(outsider)
    assert booking.confirmation_code.encode() not in client.get("/console/bookings/").content
    assert client.get(f"/console/bookings/{booking.pk}/").status_code == 404
    assert client.post(f"/console/bookings/{booking.pk}/cancel/").status_code == 404
    assert (
        client.post(f"/console/bookings/{booking.pk}/reschedule/", {"date": "2030-01-01", "time": "10:00"}).status_code
        == 404
    )
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_anonymous_is_sent_to_login(booking):
    assert Client().get("/console/bookings/").status_code == 302


def test_agent_cancels_and_reschedules_through_services(agent, booking):
    client = logged_in(agent)
    day = next_weekday(2)
    client.post(f"/console/bookings/{booking.pk}/reschedule/", {"date": day.isoformat(), "time": "14:00"})
    booking.refresh_from_db()
    assert booking.start_at == local(booking.tenant, day, 14)
    client.post(f"/console/bookings/{booking.pk}/cancel/", {"reason": "Customer called"})
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELED
    kinds_actors = [(e.kind, e.actor) for e in booking.events.all()]
    assert kinds_actors[-2:] == [("rescheduled", "staff:bob"), ("canceled", "staff:bob")]
    assert booking.events.last().staff_user == agent


def test_reschedule_to_a_closed_time_is_refused(agent, booking):
    client = logged_in(agent)
    response = client.post(
        f"/console/bookings/{booking.pk}/reschedule/",
        {"date": next_weekday(2).isoformat(), "time": "22:00"},
        follow=True,
    )
    assert b"outside the opening hours" in response.content
    booking.refresh_from_db()
    assert booking.start_at == local(booking.tenant, next_weekday(2), 9)


def test_staff_create_booking(agent, service):
    client = logged_in(agent)
    day = next_weekday(4)
    response = client.post(
        "/console/bookings/new/",
        {"service": service.pk, "date": day.isoformat(), "time": "10:00", "name": "Walk In", "email": "walk@x.org"},
    )
    booking = Booking.objects.get()
    assert response.status_code == 302 and booking.source == "console"
    assert booking.events.get().actor == "staff:bob"
    again = client.post(
        "/console/bookings/new/",
        {"service": service.pk, "date": day.isoformat(), "time": "10:00", "name": "Other", "email": "o@x.org"},
    )
    assert again.status_code == 200 and b"fully booked" in again.content


def test_staff_cannot_book_other_tenants_service(agent, other_service):
    response = logged_in(agent).post(
        "/console/bookings/new/",
        {
            "service": other_service.pk,
            "date": next_weekday(4).isoformat(),
            "time": "10:00",
            "name": "X",
            "email": "x@x.org",
        },
    )
    assert response.status_code == 200 and Booking.objects.count() == 0


def test_analyst_reads_but_cannot_change(analyst, booking, service):
    client = logged_in(analyst)
    assert client.get(f"/console/bookings/{booking.pk}/").status_code == 200
    assert b"Cancel booking" not in client.get(f"/console/bookings/{booking.pk}/").content
    assert client.post(f"/console/bookings/{booking.pk}/cancel/").status_code == 403
    assert client.get("/console/bookings/new/").status_code == 403
    assert client.post("/console/bookings/services/new/", {"name": "X"}).status_code == 403
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_owner_edits_the_catalogue(owner, service):
    client = logged_in(owner)
    assert client.get("/console/bookings/services/").status_code == 200
    client.post(
        "/console/bookings/services/new/",
        {
            "name": "Reiki",
            "duration_minutes": 45,
            "buffer_minutes": 0,
            "slot_step_minutes": 15,
            "price": "0",
            "currency": "USD",
            "active": "on",
        },
    )
    reiki = Service.objects.get(name="Reiki")
    assert reiki.tenant == owner.memberships.get().tenant and reiki.currency == "usd"
    client.post(
        "/console/bookings/services/rules/",
        {"service": reiki.pk, "weekday": 2, "start_time": "10:00", "end_time": "12:00", "capacity": 2},
    )
    rule = AvailabilityRule.objects.get(service=reiki)
    client.post(
        "/console/bookings/services/rules/",
        {"service": "", "weekday": 2, "start_time": "12:00", "end_time": "10:00", "capacity": 1},
    )
    assert AvailabilityRule.objects.filter(start_time="12:00:00").count() == 0  # end before start refused
    client.post("/console/bookings/services/blackouts/", {"service": "", "date": "2030-12-25", "reason": "Christmas"})
    assert BlackoutDate.objects.get().reason == "Christmas"
    client.post(f"/console/bookings/services/rules/{rule.pk}/delete/")
    assert not AvailabilityRule.objects.filter(pk=rule.pk).exists()
    duplicate = client.post(
        "/console/bookings/services/new/",
        {
            "name": "Reiki",
            "duration_minutes": 45,
            "buffer_minutes": 0,
            "slot_step_minutes": 15,
            "price": "0",
            "currency": "usd",
        },
    )
    assert duplicate.status_code == 200 and Service.objects.filter(name="Reiki").count() == 1


def test_catalogue_is_tenant_scoped(outsider, service):
    client = logged_in(outsider)
    assert client.get(f"/console/bookings/services/{service.pk}/").status_code == 404
    rule = AvailabilityRule.objects.filter(tenant=service.tenant).first()
    assert rule is not None
    assert client.post(f"/console/bookings/services/rules/{rule.pk}/delete/").status_code == 404
    client.post(
        "/console/bookings/services/rules/",
        {"service": service.pk, "weekday": 1, "start_time": "09:00", "end_time": "10:00", "capacity": 1},
    )
    assert not AvailabilityRule.objects.filter(tenant=outsider.memberships.get().tenant).exists()
    assert b"Massage" not in client.get("/console/bookings/services/").content


def test_admin_pages_are_scoped_and_read_only(owner, outsider, booking):
    client = logged_in(owner)
    assert client.get("/admin/bookings/booking/").status_code == 200
    assert client.get(f"/admin/bookings/booking/{booking.pk}/change/").status_code == 200
    assert client.get("/admin/bookings/booking/add/").status_code == 403
    assert client.get("/admin/bookings/service/").status_code == 200
    assert client.get("/admin/bookings/stripeevent/").status_code == 403
    other = logged_in(outsider)
    assert booking.confirmation_code.encode() not in other.get("/admin/bookings/booking/").content


def test_admin_cancel_action_uses_the_service(owner, booking):
    client = logged_in(owner)
    client.post("/admin/bookings/booking/", {"action": "cancel_bookings", "_selected_action": [booking.pk]})
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELED
    assert booking.events.last().actor == "staff:alice"


SERVICE_FORM = {"name": "Reiki", "duration_minutes": 45, "buffer_minutes": 0, "slot_step_minutes": 15}
SERVICE_FORM |= {"price": "0", "currency": "usd", "active": "on"}


@pytest.mark.parametrize(
    ("page", "action", "data", "model", "said"),
    [
        ("/console/bookings/services/new/", "", SERVICE_FORM, Service, "saved"),
        (
            "/console/bookings/services/",
            "/console/bookings/services/rules/",
            {"service": "", "weekday": 2, "start_time": "10:00", "end_time": "12:00", "capacity": 2},
            AvailabilityRule,
            "added",
        ),
        (
            "/console/bookings/services/",
            "/console/bookings/services/blackouts/",
            {"service": "", "date": "2030-12-25", "reason": "Christmas"},
            BlackoutDate,
            "added",
        ),
        (
            "/console/bookings/new/",
            "",
            {"date": "2030-12-23", "time": "10:00", "name": "A", "email": "a@x.org"},
            Booking,
            "booked",
        ),
    ],
)
def test_a_form_of_a_tab_left_on_one_tenant_adds_nothing_to_the_tenant_switched_to(
    owner, tenant, other_tenant, service, other_service, page, action, data, model, said
):
    # given an owner of two tenants with a form of the first open
    MembershipFactory.create(user=owner, tenant=other_tenant, role=Role.OWNER)
    client = logged_in(owner)
    client.post("/console/switch-tenant/", {"tenant_id": tenant.pk})
    form = client.get(page).content.decode()
    posted = re.findall(r'<input type="hidden" name="tenant" value="(\d+)">', form)
    assert posted and set(posted) == {str(tenant.pk)}  # every creating form says whose it is
    before = model.objects.count()
    # when another tab switches the console to the second tenant, then the first tab's form is sent
    client.post("/console/switch-tenant/", {"tenant_id": other_tenant.pk})
    response = client.post(
        action or page, {**data, "service": data.get("service", service.pk), "tenant": posted[0]}, follow=True
    )
    # then nothing is stored in either tenant, and the page says why
    assert f"Nothing was {said}: the console switched to Bravo Spa".encode() in response.content
    assert model.objects.count() == before
