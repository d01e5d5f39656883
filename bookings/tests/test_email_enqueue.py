"""Booking emails after commit: one that cannot be queued or sent never drops the others nor fails the
request, and is kept (pending) for a later attempt instead of lost.

These tests commit for real (``transaction=True``) so the on-commit callbacks run inside the request,
as they do in production.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

import pytest
from django.core import mail
from kombu.exceptions import OperationalError

from bookings import tasks
from bookings.benchmarks import checkout_event, signed
from bookings.models import Booking, BookingEmail, BookingStatus, EmailFailure, EmailStatus
from bookings.tests.conftest import SECRET, customer_booking, next_weekday, open_every_day
from bookings.tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _pending(tenant, service, *, email: str) -> Booking:
    booking = customer_booking(tenant, service, day=next_weekday(3), hour=11, name="Pat", email=email)
    mail.outbox.clear()
    return booking


def _post(client, payload: dict[str, Any]) -> Any:
    body, header = signed(payload, SECRET)
    return client.post("/webhooks/stripe/", data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _statuses(booking: Booking) -> dict[str, tuple[str, int]]:
    return {e.kind: (e.status, e.attempts) for e in BookingEmail.objects.filter(booking=booking)}


def test_a_broker_error_on_one_email_still_sends_the_others_and_keeps_it(
    client, webhook_secret, tenant, paid_service, owner, outsider, monkeypatch, caplog
):
    booking = _pending(tenant, paid_service, email="pat@example.org")
    real_apply_async = tasks.deliver_email.apply_async
    queued: list[int] = []

    def broker_blips_once(args: tuple[int], **options: Any) -> Any:
        queued.append(args[0])
        if len(queued) == 1:
            raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")
        return real_apply_async(args, **options)

    monkeypatch.setattr(tasks.deliver_email, "apply_async", broker_blips_once)
    with caplog.at_level(logging.WARNING, logger="bookings.notifications"):
        response = _post(client, checkout_event("evt_blip", "checkout.session.completed", booking))

    assert response.status_code == 200 and response.json()["duplicate"] is False
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert [BookingEmail.objects.get(pk=pk).kind for pk in queued] == [
        "payment_received",
        "confirmation",
        "tenant_new_booking",
    ]
    # The two emails behind the failed one went out, each to this booking's people only.
    assert sorted((m.subject, tuple(m.to)) for m in mail.outbox) == [
        (f"New booking {booking.confirmation_code}: Deep tissue", (owner.email,)),
        (f"Your booking {booking.confirmation_code} is confirmed", ("pat@example.org",)),
    ]
    assert all(outsider.email not in m.to for m in mail.outbox)
    # The one that could not be queued is kept for the sweeper, not lost.
    assert _statuses(booking) == {
        "payment_received": (EmailStatus.PENDING, 0),
        "confirmation": (EmailStatus.SENT, 1),
        "tenant_new_booking": (EmailStatus.SENT, 1),
    }
    warnings = [r.getMessage() for r in caplog.records if r.name == "bookings.notifications"]
    assert len(warnings) == 1 and str(queued[0]) in warnings[0]


def test_the_kept_emails_are_their_own_bookings(client, webhook_secret, tenant, other_tenant, paid_service):
    """Another tenant's booking paid while the broker is down keeps its own emails, under its own tenant."""
    open_every_day(other_tenant)
    other_service = ServiceFactory.create(tenant=other_tenant, name="Sauna", price_cents=4000, currency="eur")
    mine = _pending(tenant, paid_service, email="pat@example.org")
    theirs = _pending(other_tenant, other_service, email="sam@example.org")

    def broker_down(*args: Any, **options: Any) -> Any:
        raise OperationalError("Connection refused.")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tasks.deliver_email, "apply_async", broker_down)
        response = _post(client, checkout_event("evt_theirs", "checkout.session.completed", theirs))

    assert response.status_code == 200
    kept = BookingEmail.objects.filter(status=EmailStatus.PENDING)
    assert sorted(kept.values_list("kind", flat=True)) == ["confirmation", "payment_received", "tenant_new_booking"]
    assert {(e.tenant_id, e.booking_id) for e in kept} == {(other_tenant.pk, theirs.pk)}
    assert not BookingEmail.objects.filter(booking=mine).exists()
    mine.refresh_from_db()
    assert mine.status == BookingStatus.PENDING


def test_unreachable_smtp_in_eager_mode_does_not_fail_the_request(
    client, webhook_secret, settings, tenant, paid_service, owner
):
    booking = _pending(tenant, paid_service, email="pat@example.org")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", _closed_port(), 2
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False

    response = _post(client, checkout_event("evt_smtp", "checkout.session.completed", booking))

    assert response.status_code == 200 and response.json()["duplicate"] is False
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED and booking.paid_at is not None
    # One attempt each in the request (eager mode cannot wait for a retry); each kept for the next.
    emails = BookingEmail.objects.filter(booking=booking)
    assert [(e.status, e.attempts, e.failure) for e in emails] == [
        (EmailStatus.PENDING, 1, EmailFailure.UNREACHABLE)
    ] * 3
