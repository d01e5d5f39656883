"""Booking emails after commit: one that cannot be queued or sent never drops the others nor fails the request.

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
from bookings.models import Booking, BookingStatus
from bookings.services import CUSTOMER, booking_create
from bookings.tests.conftest import SECRET, local, next_weekday, open_every_day
from bookings.tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _pending(tenant, service, *, email: str) -> Booking:
    booking = booking_create(
        tenant=tenant,
        service=service,
        start=local(tenant, next_weekday(3), 11),
        name="Pat",
        email=email,
        actor=CUSTOMER,
    )
    mail.outbox.clear()
    return booking


def _post(client, payload: dict[str, Any]) -> Any:
    body, header = signed(payload, SECRET)
    return client.post("/webhooks/stripe/", data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_broker_error_on_one_email_still_sends_the_others(
    client, webhook_secret, tenant, paid_service, owner, outsider, monkeypatch, caplog
):
    booking = _pending(tenant, paid_service, email="pat@example.org")
    real_delay = tasks.send_booking_email.delay
    calls: list[tuple[Any, ...]] = []

    def broker_blips_once(*args: Any) -> Any:
        calls.append(args)
        if len(calls) == 1:
            raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")
        return real_delay(*args)

    monkeypatch.setattr(tasks.send_booking_email, "delay", broker_blips_once)
    with caplog.at_level(logging.ERROR, logger="bookings.notifications"):
        response = _post(client, checkout_event("evt_blip", "checkout.session.completed", booking))

    assert response.status_code == 200 and response.json()["duplicate"] is False
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert [args[1] for args in calls] == ["payment_received", "confirmation", "tenant_new_booking"]
    # The two emails behind the failed one went out, each to this booking's people only.
    assert sorted((m.subject, tuple(m.to)) for m in mail.outbox) == [
        (f"New booking {booking.confirmation_code}: Deep tissue", (owner.email,)),
        (f"Your booking {booking.confirmation_code} is confirmed", ("pat@example.org",)),
    ]
    assert all(outsider.email not in m.to for m in mail.outbox)
    failures = [r for r in caplog.records if r.name == "bookings.notifications"]
    assert len(failures) == 1
    assert booking.confirmation_code in failures[0].getMessage() and "payment_received" in failures[0].getMessage()


def test_a_failure_names_only_its_own_booking(client, webhook_secret, tenant, other_tenant, paid_service, caplog):
    """Another tenant's booking with the same broker failure is logged under its own code, not this one's."""
    open_every_day(other_tenant)
    other_service = ServiceFactory.create(tenant=other_tenant, name="Sauna", price_cents=4000, currency="eur")
    mine = _pending(tenant, paid_service, email="pat@example.org")
    theirs = _pending(other_tenant, other_service, email="sam@example.org")

    def broker_down(*args: Any) -> Any:
        raise OperationalError("Connection refused.")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tasks.send_booking_email, "delay", broker_down)
        with caplog.at_level(logging.ERROR, logger="bookings.notifications"):
            response = _post(client, checkout_event("evt_theirs", "checkout.session.completed", theirs))

    assert response.status_code == 200
    messages = [r.getMessage() for r in caplog.records if r.name == "bookings.notifications"]
    assert len(messages) == 3 and all(theirs.confirmation_code in m for m in messages)
    assert not any(mine.confirmation_code in m for m in messages)
    mine.refresh_from_db()
    assert mine.status == BookingStatus.PENDING


def test_unreachable_smtp_in_eager_mode_does_not_fail_the_request(
    client, webhook_secret, settings, tenant, paid_service, owner, caplog
):
    booking = _pending(tenant, paid_service, email="pat@example.org")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", _closed_port(), 2
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False

    with caplog.at_level(logging.ERROR, logger="bookings.notifications"):
        response = _post(client, checkout_event("evt_smtp", "checkout.session.completed", booking))

    assert response.status_code == 200 and response.json()["duplicate"] is False
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED and booking.paid_at is not None
    failures = [r.getMessage() for r in caplog.records if r.name == "bookings.notifications"]
    assert len(failures) == 3 and all(booking.confirmation_code in m for m in failures)
