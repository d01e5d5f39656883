"""Bookings whose start has passed can't be canceled or moved; housekeeping completes ended ones."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings import proposals, services
from bookings.housekeeping import run_housekeeping
from bookings.models import Booking, BookingEventKind, BookingStatus, ProposalStatus
from bookings.services import CUSTOMER, SYSTEM, BookingError, booking_create
from bookings.tests.conftest import local, next_weekday
from chat.services import conversation_open

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(tenant):
    return conversation_open(tenant=tenant).conversation


def _booking(tenant, service, *, hour=10):
    start = local(tenant, next_weekday(2), hour)
    return booking_create(tenant=tenant, service=service, start=start, name="Pat", email="pat@x.org", actor=CUSTOMER)


def _move(booking, *, started_ago, length=timedelta(hours=1)):
    """Put ``booking`` in the past (or under way): it started ``started_ago``."""
    start = timezone.now() - started_ago
    Booking.objects.filter(pk=booking.pk).update(start_at=start, end_at=start + length, blocked_until=start + length)
    booking.refresh_from_db()
    return booking


@pytest.mark.parametrize("started_ago", [timedelta(hours=2), timedelta(minutes=10)])
def test_a_started_booking_cannot_be_proposed_for_cancel_or_reschedule(tenant, service, conversation, started_ago):
    # given: a booking that happened (or is under way)
    booking = _move(_booking(tenant, service), started_ago=started_ago)
    new_start = local(tenant, next_weekday(2), 14)
    # when / then
    with pytest.raises(BookingError) as canceled:
        proposals.booking_propose_cancel(
            tenant=tenant, conversation=conversation, code=booking.confirmation_code, email="pat@x.org"
        )
    with pytest.raises(BookingError) as moved:
        proposals.booking_propose_reschedule(
            tenant=tenant,
            conversation=conversation,
            code=booking.confirmation_code,
            email="pat@x.org",
            start=new_start,
        )
    assert canceled.value.code == moved.value.code == services.NOT_CHANGEABLE
    assert canceled.value.message == moved.value.message == services.NOT_UPCOMING


def test_services_refuse_to_change_a_started_booking(tenant, service):
    booking = _move(_booking(tenant, service), started_ago=timedelta(minutes=5))
    with pytest.raises(BookingError) as canceled:
        services.booking_cancel(tenant=tenant, booking=booking, actor=CUSTOMER)
    with pytest.raises(BookingError) as moved:
        services.booking_reschedule(
            tenant=tenant, booking=booking, start=local(tenant, next_weekday(2), 14), actor=CUSTOMER
        )
    assert canceled.value.message == moved.value.message == services.NOT_UPCOMING
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert not booking.events.filter(kind__in=[BookingEventKind.CANCELED, BookingEventKind.RESCHEDULED]).exists()


def test_a_proposal_confirmed_after_the_start_fails(tenant, service, conversation):
    # given: a cancel proposed while the booking was upcoming
    booking = _booking(tenant, service)
    proposal = proposals.booking_propose_cancel(
        tenant=tenant, conversation=conversation, code=booking.confirmation_code, email="pat@x.org"
    )
    # when: the start passes before the customer confirms
    _move(booking, started_ago=timedelta(minutes=1))
    decision = proposals.proposal_execute(tenant=tenant, conversation=conversation, public_id=str(proposal.public_id))
    # then
    assert decision.status == ProposalStatus.FAILED
    assert decision.result == {"error": services.NOT_CHANGEABLE, "message": services.NOT_UPCOMING}
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_another_tenants_past_booking_is_just_not_found(tenant, other_tenant, other_service):
    # given: the other tenant's past booking
    theirs = _move(_booking(other_tenant, other_service), started_ago=timedelta(hours=2))
    conversation = conversation_open(tenant=tenant).conversation
    # when / then: the generic not-found, nothing about its state
    with pytest.raises(BookingError) as caught:
        proposals.booking_propose_cancel(
            tenant=tenant, conversation=conversation, code=theirs.confirmation_code, email="pat@x.org"
        )
    assert (caught.value.code, caught.value.message) == (services.NOT_FOUND, services.GENERIC_NOT_FOUND)
    with pytest.raises(BookingError) as refused:
        services.booking_cancel(tenant=tenant, booking=theirs, actor=CUSTOMER)
    assert refused.value.code == services.NOT_FOUND


def test_housekeeping_completes_confirmed_bookings_once_they_ended(tenant, service, paid_service):
    # given: ended, under way, upcoming, an ended canceled one and an ended unpaid one
    ended = _move(_booking(tenant, service, hour=9), started_ago=timedelta(hours=2))
    under_way = _move(_booking(tenant, service, hour=10), started_ago=timedelta(minutes=10))
    upcoming = _booking(tenant, service, hour=11)
    canceled = _booking(tenant, service, hour=12)
    services.booking_cancel(tenant=tenant, booking=canceled, actor=CUSTOMER)
    _move(canceled, started_ago=timedelta(hours=3))
    unpaid = _move(_booking(tenant, paid_service, hour=13), started_ago=timedelta(hours=4))
    Booking.objects.filter(pk=unpaid.pk).update(hold_expires_at=timezone.now() - timedelta(hours=5))
    # when
    first = run_housekeeping()
    again = run_housekeeping()
    # then
    assert first.bookings_completed == 1 and again.bookings_completed == 0
    statuses = dict(Booking.objects.values_list("pk", "status"))
    assert statuses == {
        ended.pk: BookingStatus.COMPLETED,
        under_way.pk: BookingStatus.CONFIRMED,
        upcoming.pk: BookingStatus.CONFIRMED,
        canceled.pk: BookingStatus.CANCELED,
        unpaid.pk: BookingStatus.CANCELED,  # its hold ran out long ago: released, not completed
    }
    event = ended.events.order_by("pk").last()
    assert event is not None and event.actor == SYSTEM.label
    assert event.data == {"status": BookingStatus.COMPLETED}
