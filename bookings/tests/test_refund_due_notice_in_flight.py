"""The staff's refund-due notice is not sent while a console refund of its booking is being asked of
Stripe: an attempt that falls in that window (its retry due, the sweeper) waits for Stripe's answer. A
refund made supersedes it; a refund Stripe did not make sends it at once; a refund request that never
ended (its worker killed) holds it back no longer than ``REFUND_IN_FLIGHT``.

Stripe's fake answers in its own thread, on its own database connection, so what the console records
before asking must be committed: these tests commit (transactional database)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from django.utils.html import escape

from bookings import delivery, notifications, payments, refunds_in_flight
from bookings.models import REFUND_IN_FLIGHT, Booking, BookingEmail, EmailKind, EmailStatus
from bookings.tests.conftest import logged_in
from bookings.tests.stripe_fake import FakeStripe
from bookings.tests.test_console_refund import _error, _owing
from escalations.tests.threads import in_thread, until_done_or_waiting
from supportai.models import Tenant

pytestmark = pytest.mark.django_db(transaction=True)


def _notice_due_again(booking: Booking) -> BookingEmail:
    """The booking's refund-due notice, as after a first attempt that failed (mail server down): pending,
    its retry due now."""
    notice = BookingEmail.objects.get(booking=booking, kind=EmailKind.TENANT_REFUND_DUE)
    BookingEmail.objects.filter(pk=notice.pk).update(
        status=EmailStatus.PENDING, attempts=1, sent_at=None, next_attempt_at=timezone.now()
    )
    return notice


def _notices_sent(booking: Booking) -> int:
    return len([m for m in mail.outbox if m.subject.startswith(f"Refund due for booking {booking.confirmation_code}")])


def _deliver_meanwhile(stripe_api: FakeStripe, *notices: BookingEmail) -> dict[int, Any]:
    """While the refund is with Stripe (before it answers), the notices' tasks run; their outcomes by email."""
    outcomes: dict[int, Any] = {}

    def deliver() -> None:
        for notice in notices:
            outcomes[notice.pk] = (delivery.deliver_email(notice.pk), BookingEmail.objects.get(pk=notice.pk).status)

    stripe_api.before_refund.append(deliver)
    return outcomes


def _refund(user: Any, booking: Booking) -> str:
    response = logged_in(user).post(f"/console/bookings/{booking.pk}/refund/", follow=True)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def other_owing(other_tenant: Tenant, other_service: Any, stripe_api: FakeStripe) -> Callable[[], Booking]:
    def make() -> Booking:
        other_service.price_cents, other_service.currency = 4000, "eur"
        other_service.save()
        return _owing(other_tenant, other_service, intent="pi_other", stripe=stripe_api)

    return make


def test_the_notice_waits_while_the_refund_is_asked_and_a_refund_made_supersedes_it(
    tenant, owner, outsider, paid_service, stripe_api: FakeStripe, other_owing
):
    # given: a canceled paid booking whose refund-due notice is due again; another tenant's one too
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    other = other_owing()
    notice, other_notice = _notice_due_again(booking), _notice_due_again(other)
    mail.outbox.clear()
    outcomes = _deliver_meanwhile(stripe_api, notice, other_notice)
    # when: the owner refunds, and both notices' tasks run before Stripe answers
    _refund(owner, booking)
    # then: this booking's notice waited (pending, its attempt not counted); the other tenant's went out
    wait, status = outcomes[notice.pk]
    assert status == EmailStatus.PENDING and wait is not None and wait > 0
    assert outcomes[other_notice.pk] == (None, EmailStatus.SENT) and _notices_sent(other) == 1
    # and once the refund is made, the notice is superseded when its task runs, never sent
    booking.refresh_from_db()
    assert booking.refunded_at is not None and booking.refund_requested_at is None
    BookingEmail.objects.filter(pk=notice.pk).update(next_attempt_at=timezone.now())
    delivery.deliver_email(notice.pk)
    notice.refresh_from_db()
    assert notice.status == EmailStatus.SUPERSEDED and notice.attempts == 1 and _notices_sent(booking) == 0


def test_a_refund_stripe_does_not_make_sends_the_waiting_notice_at_once(
    tenant, owner, paid_service, stripe_api: FakeStripe
):
    # given: the notice is due again, and Stripe will decline the refund
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    notice = _notice_due_again(booking)
    mail.outbox.clear()
    outcomes = _deliver_meanwhile(stripe_api, notice)
    stripe_api.errors.append(_error(402, "card_error", "The card was closed.", "expired_card"))
    # when: the owner refunds; the notice's task runs while Stripe is asked
    _refund(owner, booking)
    # then: it waited then, and was sent as soon as Stripe had refused: the refund is still due
    assert outcomes[notice.pk][1] == EmailStatus.PENDING
    notice.refresh_from_db()
    booking.refresh_from_db()
    assert booking.refund_due and booking.refund_requested_at is None
    assert notice.status == EmailStatus.SENT and _notices_sent(booking) == 1


def test_a_refund_request_that_never_ended_holds_the_notice_back_no_longer_than_its_window(
    tenant, owner, paid_service, stripe_api: FakeStripe
):
    # given: a refund request whose worker was killed before Stripe answered (its mark left behind)
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    notice = _notice_due_again(booking)
    mail.outbox.clear()
    started = timezone.now() - REFUND_IN_FLIGHT + timedelta(seconds=30)
    Booking.objects.filter(pk=booking.pk).update(refund_requested_at=started)
    # when: the notice's task runs within the window
    wait = delivery.deliver_email(notice.pk)
    # then: it waits until the window ends
    notice.refresh_from_db()
    assert notice.status == EmailStatus.PENDING and wait is not None and 0 < wait <= 30
    assert notice.next_attempt_at == started + REFUND_IN_FLIGHT
    # when: it runs again once the window has passed
    Booking.objects.filter(pk=booking.pk).update(refund_requested_at=started - timedelta(seconds=31))
    BookingEmail.objects.filter(pk=notice.pk).update(next_attempt_at=timezone.now())
    delivery.deliver_email(notice.pk)
    # then: it is sent: the refund is still due
    notice.refresh_from_db()
    assert notice.status == EmailStatus.SENT and _notices_sent(booking) == 1


def test_a_second_refund_while_one_is_asked_is_refused_and_the_notice_keeps_waiting(
    tenant, owner, paid_service, stripe_api: FakeStripe
):
    # given: a refund of the booking being asked of Stripe by another request (a double click, a second tab),
    # its refund-due notice due again, and Stripe failing the next read of the payment (were it asked)
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    notice = _notice_due_again(booking)
    mail.outbox.clear()
    started = timezone.now() - timedelta(seconds=1)
    Booking.objects.filter(pk=booking.pk).update(refund_requested_at=started)
    stripe_api.intent_errors.extend([_error(500, "api_error", "An unknown error occurred.")] * 2)
    # when: the owner clicks Refund again, and then the notice's task runs while the first is still with Stripe
    page = _refund(owner, booking)
    wait = delivery.deliver_email(notice.pk)
    # then: the second request asked Stripe nothing and said why; the first's mark is left, so the notice waits
    assert escape(payments.REFUND_IN_PROGRESS) in page
    assert stripe_api.seen == []
    booking.refresh_from_db()
    assert booking.refund_requested_at == started and booking.refund_due
    notice.refresh_from_db()
    assert notice.status == EmailStatus.PENDING and wait is not None and wait > 0 and _notices_sent(booking) == 0


def test_a_refund_in_flight_of_another_tenants_booking_does_not_hold_this_one(
    tenant, owner, paid_service, stripe_api: FakeStripe, other_owing
):
    # given: another tenant's booking whose refund is being asked of Stripe
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    other = other_owing()
    Booking.objects.filter(pk=other.pk).update(refund_requested_at=timezone.now())
    # when: the owner refunds this tenant's booking
    page = _refund(owner, booking)
    # then: it is refunded
    booking.refresh_from_db()
    assert booking.refunded_at is not None and escape(payments.REFUND_IN_PROGRESS) not in page


def test_a_notice_held_just_as_the_refund_request_ends_is_queued_at_once(
    tenant, owner, paid_service, stripe_api: FakeStripe, monkeypatch
):
    # given: a refund request in flight, and the notice's task holding it back (its row locked, the mark read)
    booking = _owing(tenant, paid_service, stripe=stripe_api)
    notice = _notice_due_again(booking)
    mail.outbox.clear()
    request = refunds_in_flight.refund_requested(booking)
    request.__enter__()
    ended: list[Any] = []
    read_mark = notifications.held_until

    def held_until_while_the_request_ends(email: BookingEmail, now: Any) -> Any:
        held = read_mark(email, now)
        if ended:  # the notice's task queued by the request's end
            return held
        # when: the request ends (Stripe did not make the refund) on its own connection, before the hold commits
        thread, results, pids = in_thread(lambda: request.__exit__(None, None, None))
        until_done_or_waiting(thread, pids)
        ended.append((thread, results))
        return held

    monkeypatch.setattr(delivery, "held_until", held_until_while_the_request_ends)
    wait = delivery.deliver_email(notice.pk)
    ((thread, results),) = ended
    thread.join(20)
    # then: the task held it, and the request's end still found it and queued it at once: it was sent
    assert wait is not None and wait > 0 and results == [False]
    notice.refresh_from_db()
    booking.refresh_from_db()
    assert booking.refund_requested_at is None and booking.refund_due
    assert notice.status == EmailStatus.SENT and _notices_sent(booking) == 1
