"""Today's English booking errors and ``proposal.result`` texts, pinned word for word over the real
websocket consumer: an English customer (or one who has not written yet) reads exactly these, whatever
table they come from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from bookings.dates import last_bookable_date
from bookings.models import Booking, BookingStatus, Proposal, Service
from bookings.tests.conftest import customer_booking, next_weekday
from bookings.tests.factories import ServiceFactory
from chat.tests.conftest import Connect
from supportai.models import Tenant

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

SLOT_TAKEN = "Sorry, that time is no longer available. Please choose another slot."


@dataclass(frozen=True)
class Shop:
    """What the frames name: the free service, one paid online, a canceled and a started booking."""

    service: int
    paid_online: int
    canceled: str
    started: str
    email: str = "pat@x.org"


def _shop(tenant: Tenant, service: Service) -> Shop:
    paid = ServiceFactory.create(tenant=tenant, name="Deep tissue", price_cents=9500, currency="eur")
    canceled = customer_booking(tenant, service, hour=11, email="pat@x.org")
    Booking.objects.filter(pk=canceled.pk).update(status=BookingStatus.CANCELED)
    started = customer_booking(tenant, service, hour=12, email="pat@x.org")
    begun = timezone.now() - timedelta(minutes=10)
    Booking.objects.filter(pk=started.pk).update(start_at=begun, end_at=begun + timedelta(hours=1))
    return Shop(service.pk, paid.pk, canceled.confirmation_code, started.confirmation_code)


def _day(days: int = 0) -> str:
    return (next_weekday(2) + timedelta(days=days)).isoformat()


def _propose(shop: Shop, start: str, **fields: Any) -> dict[str, Any]:
    return {"type": "booking.propose", "service_id": shop.service, "start": start, "name": "Pat", **fields}


def _error(code: str, message: str, field: str = "") -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message, **({"field": field} if field else {})}


Frame = Callable[[Shop], dict[str, Any]]
ERRORS: dict[str, tuple[Frame, dict[str, Any]]] = {
    "not a date": (
        lambda shop: {"type": "booking.slots", "service_id": shop.service, "date": "2026-02-30"},
        _error("bad_request", "'date' must be a date like 2026-03-09.", "date"),
    ),
    "too many days": (
        lambda shop: {"type": "booking.slots", "service_id": shop.service, "date": _day(), "days": 15},
        _error("bad_request", "'days' must be between 1 and 14.", "days"),
    ),
    "not a time": (
        lambda shop: _propose(shop, "10am", email=shop.email),
        _error("bad_request", "'start' must be a time like 2026-03-09T09:00.", "start"),
    ),
    "no such local time": (
        lambda shop: _propose(shop, f"{_day()}T25:00", email=shop.email),
        _error("bad_request", "That start time is not valid; use a time from the list of free slots.", "start"),
    ),
    "a past slot": (
        lambda shop: _propose(shop, f"{(date.today() - timedelta(days=1)).isoformat()}T10:00", email=shop.email),
        _error("bad_request", SLOT_TAKEN, "start"),
    ),
    "bad email": (
        lambda shop: _propose(shop, f"{_day()}T10:00", email="nope"),
        _error("bad_request", "Please give a valid email address for the confirmation.", "email"),
    ),
    "unknown service": (
        lambda shop: {"type": "booking.slots", "service_id": 999_999, "date": _day()},
        _error("not_found", "That service is not available for booking.", "service_id"),
    ),
    "paid online without payments": (
        lambda shop: {**_propose(shop, f"{_day()}T10:00", email=shop.email), "service_id": shop.paid_online},
        _error(
            "unavailable",
            "This service is paid online, and online payment is not available at the moment, so it cannot be "
            "booked here. Please contact the business to book it.",
        ),
    ),
    "no such booking": (
        lambda shop: {"type": "booking.lookup", "code": "BK-ACDEFG", "email": shop.email},
        _error("not_found", "We couldn't find a booking with that confirmation code and email. Please check both."),
    ),
    "cancel a canceled booking": (
        lambda shop: {"type": "booking.cancel", "code": shop.canceled, "email": shop.email},
        _error("bad_request", "This booking is not active, so there is nothing to cancel."),
    ),
    "reschedule a canceled booking": (
        lambda shop: {
            "type": "booking.reschedule",
            "code": shop.canceled,
            "email": shop.email,
            "start": f"{_day()}T10:00",
        },
        _error("bad_request", "Only upcoming bookings can be rescheduled."),
    ),
    "cancel a started booking": (
        lambda shop: {"type": "booking.cancel", "code": shop.started, "email": shop.email},
        _error("bad_request", "Only upcoming bookings can be changed; this one has already started."),
    ),
    "no such proposal": (
        lambda shop: {"type": "proposal.confirm", "proposal_id": "6b1f0000-0000-4000-8000-000000000000"},
        _error("not_found", "That proposal does not exist or has already been replaced."),
    ),
}


@pytest.mark.parametrize("case", ERRORS)
async def test_booking_errors_say_todays_english(
    connect: Connect, tenant: Tenant, service: Service, settings: Any, case: str
) -> None:
    # given a shop without online payment, and a customer who has not written yet
    settings.STRIPE_SECRET_KEY, settings.BOOKINGS_TEST_CHECKOUT = "", False
    shop = await sync_to_async(_shop)(tenant, service)
    client = await connect(tenant)
    frame, expected = ERRORS[case]
    # when
    await client.send(frame(shop))
    # then
    assert await client.receive() == expected


async def test_dates_out_of_range_say_todays_english(connect: Connect, tenant: Tenant, service: Service) -> None:
    client = await connect(tenant)
    await client.send({"type": "booking.slots", "service_id": service.pk, "date": "1999-12-31"})
    last = last_bookable_date().isoformat()
    assert await client.receive() == _error("bad_request", f"Dates must be between 2000-01-01 and {last}.", "date")


async def _proposed(client: Any, service: Service, hour: int = 10) -> str:
    start = f"{_day()}T{hour}:00"
    await client.send(
        {"type": "booking.propose", "service_id": service.pk, "start": start, "name": "Pat", "email": "p@x.org"}
    )
    proposal = await client.receive()
    assert proposal["type"] == "proposal", proposal
    return str(proposal["proposal_id"])


async def test_proposal_results_say_todays_english(connect: Connect, tenant: Tenant, service: Service) -> None:
    # given three proposals: one to reject, one that expired, one whose slot someone else took
    client = await connect(tenant)
    rejected, expired, taken = [await _proposed(client, service, hour) for hour in (10, 11, 12)]
    await Proposal.objects.filter(public_id=expired).aupdate(expires_at=timezone.now() - timedelta(minutes=1))
    await sync_to_async(customer_booking)(tenant, service, day=next_weekday(2), hour=12)
    # when the customer decides each
    results = []
    for proposal_id, kind in (
        (rejected, "proposal.reject"),
        (expired, "proposal.confirm"),
        (taken, "proposal.confirm"),
    ):
        await client.send({"type": kind, "proposal_id": proposal_id})
        results.append(await client.receive())
    # then
    said = [{key: result.get(key) for key in ("status", "error", "message", "field")} for result in results]
    assert said == [
        {"status": "rejected", "error": None, "message": "Okay, nothing was changed.", "field": None},
        {
            "status": "expired",
            "error": None,
            "message": "This proposal expired; ask again to get a fresh one.",
            "field": None,
        },
        {"status": "failed", "error": "slot_unavailable", "message": SLOT_TAKEN, "field": "start"},
    ]
