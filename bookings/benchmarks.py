"""Booking benchmarks (``make bench``): double-booking races and Stripe webhook replays.

``bookings-concurrency``: 50 customers (each in their own conversation, each on their own database
connection and thread) confirm a proposal for the same last slot at the same instant; then 50 for
two *overlapping* services that share one pool (a 60-minute massage at 10:00 and a 30-minute
facial at 10:30). Target: exactly one booking each time, 0 double bookings.

``bookings-webhook-replay``: a paid booking's ``checkout.session.completed`` and
``checkout.session.expired`` events, each delivered 10 times, shuffled, through the real view with
real signatures. Target: exactly one effect (one PAID event, booking CONFIRMED).
"""

from __future__ import annotations

import json
import random
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from datetime import time as clock
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.db import connection
from django.test import override_settings

from supportai.benchmarks import BenchmarkResult, benchmark

T = TypeVar("T")
RACERS = 50
QUIET_EMAIL = "django.core.mail.backends.locmem.EmailBackend"  # measure bookings, not console output
REPLAYS = 10


def race(count: int, work: Callable[[int], T]) -> list[T | BaseException]:
    """Run ``work(i)`` on ``count`` threads released together; each thread closes its DB connection."""
    gate = threading.Barrier(count)

    def run(index: int) -> T | BaseException:
        try:
            connection.ensure_connection()  # connect first, so the race starts at the queries
            gate.wait(timeout=60)
            return work(index)
        except BaseException as exc:  # reported to the caller, which decides what counts as failure
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def _scratch_tenant(label: str) -> Any:
    from bookings.models import AvailabilityRule
    from supportai.models import Tenant

    tenant = Tenant.objects.create(
        name=f"Bench {label}", slug=f"bench-{label}-{uuid.uuid4().hex[:8]}", timezone="America/Denver"
    )
    AvailabilityRule.objects.bulk_create(
        AvailabilityRule(tenant=tenant, weekday=d, start_time=clock(9), end_time=clock(17), capacity=1)
        for d in range(7)
    )
    return tenant


def _next_day() -> date:
    return date.today() + timedelta(days=8)


def _race_for_slot(tenant: Any, starts: list[tuple[Any, datetime]]) -> dict[str, Any]:
    """Each racer proposes (service, start) in its own conversation, then all confirm at once."""
    from bookings import proposals
    from bookings.models import Booking, BookingStatus
    from chat.services import conversation_open

    prepared = []
    for index in range(RACERS):
        service, start = starts[index % len(starts)]
        conversation = conversation_open(tenant=tenant).conversation
        proposal = proposals.booking_propose_book(
            tenant=tenant,
            conversation=conversation,
            service_id=service.pk,
            start=start,
            name=f"Racer {index}",
            email=f"racer{index}@example.org",
        )
        prepared.append((conversation, str(proposal.public_id)))

    def confirm(index: int) -> tuple[str, float]:
        conversation, public_id = prepared[index]
        started = time.perf_counter()
        decision = proposals.proposal_execute(tenant=tenant, conversation=conversation, public_id=public_id)
        return decision.status, (time.perf_counter() - started) * 1000

    outcomes = race(RACERS, confirm)
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    done = [o for o in outcomes if not isinstance(o, BaseException)]
    bookings = Booking.objects.for_tenant(tenant).filter(status=BookingStatus.CONFIRMED).count()
    latencies = [ms for _, ms in done]
    return {
        "racers": RACERS,
        "executed": sum(1 for status, _ in done if status == "executed"),
        "failed_slot_taken": sum(1 for status, _ in done if status == "failed"),
        "errors": len(errors),
        "bookings": bookings,
        "double_bookings": max(0, bookings - 1),
        "confirm_p50_ms": round(statistics.median(latencies), 1) if latencies else 0.0,
        "confirm_max_ms": round(max(latencies), 1) if latencies else 0.0,
    }


def _drop(tenants: list[Any]) -> None:
    """Remove the scratch tenants, with their services and bookings."""
    for tenant in tenants:
        tenant.delete()


@benchmark("bookings-concurrency")
@override_settings(EMAIL_BACKEND=QUIET_EMAIL)
def concurrency_benchmark() -> BenchmarkResult:
    from bookings.models import Service

    rows = []
    scratch = []
    tenant = _scratch_tenant("one-slot")
    scratch.append(tenant)
    massage = Service.objects.create(tenant=tenant, name="Massage", duration_minutes=60, slot_step_minutes=30)
    tz = ZoneInfo(tenant.timezone)
    day = _next_day()
    ten = datetime.combine(day, clock(10), tzinfo=tz)
    rows.append({"case": "one slot, one service", **_race_for_slot(tenant, [(massage, ten)])})
    tenant = _scratch_tenant("overlap")
    scratch.append(tenant)
    massage = Service.objects.create(tenant=tenant, name="Massage", duration_minutes=60, slot_step_minutes=30)
    facial = Service.objects.create(tenant=tenant, name="Facial", duration_minutes=30, slot_step_minutes=30)
    half_past = datetime.combine(day, clock(10, 30), tzinfo=tz)
    rows.append(
        {"case": "overlapping services, one pool", **_race_for_slot(tenant, [(massage, ten), (facial, half_past)])}
    )
    _drop(scratch)
    return {"rows": rows}


def signed(payload: dict[str, Any], secret: str, *, timestamp: int | None = None) -> tuple[str, str]:
    """A JSON body and its ``Stripe-Signature`` header, signed by the SDK as Stripe does."""
    import stripe

    body = json.dumps(payload)
    return body, stripe.WebhookSignature.generate_signature_header(body, secret, timestamp)


def checkout_event(event_id: str, kind: str, booking: Any, *, payment_status: str = "paid") -> dict[str, Any]:
    """A Checkout Session event as Stripe sends it for ``booking``'s own session (see ``payments``)."""
    return {
        "id": event_id,
        "object": "event",
        "type": kind,
        "livemode": False,
        "created": int(time.time()),
        "api_version": "2025-01-27.acacia",
        "data": {
            "object": {
                "id": booking.stripe_checkout_session_id or f"cs_test_{booking.pk}",
                "object": "checkout.session",
                "payment_status": payment_status if kind.endswith("completed") else "unpaid",
                "payment_intent": f"pi_test_{booking.pk}" if kind.endswith("completed") else None,
                "amount_total": booking.price_cents,
                "currency": booking.currency,
                "metadata": {
                    "booking_id": str(booking.pk),
                    "tenant_id": str(booking.tenant_id),
                    "code": booking.confirmation_code,
                },
            }
        },
    }


@benchmark("bookings-webhook-replay")
@override_settings(EMAIL_BACKEND=QUIET_EMAIL)
def webhook_replay_benchmark() -> BenchmarkResult:
    from django.test import Client

    from bookings.models import Booking, BookingEvent, BookingEventKind, Service, StripeEvent
    from bookings.services import CUSTOMER, booking_create

    secret = "whsec_bench_" + uuid.uuid4().hex
    tenant = _scratch_tenant("webhook")
    service = Service.objects.create(tenant=tenant, name="Paid massage", duration_minutes=60, price_cents=9500)
    start = datetime.combine(_next_day(), clock(11), tzinfo=ZoneInfo(tenant.timezone))
    booking = booking_create(
        tenant=tenant, service=service, start=start, name="Pat", email="pat@example.org", actor=CUSTOMER
    )
    prefix = uuid.uuid4().hex[:8]
    events = [checkout_event(f"evt_{prefix}_done", "checkout.session.completed", booking)] * REPLAYS
    events += [checkout_event(f"evt_{prefix}_expired", "checkout.session.expired", booking)] * REPLAYS
    random.Random(7).shuffle(events)  # noqa: S311 - a reproducible order, not security
    client = Client(HTTP_HOST="localhost")
    statuses: list[int] = []
    timings: list[float] = []
    with override_settings(STRIPE_WEBHOOK_SECRET=secret):
        for event in events:
            body, header = signed(event, secret)
            started = time.perf_counter()
            response = client.post(
                "/webhooks/stripe/", data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
            )
            timings.append((time.perf_counter() - started) * 1000)
            statuses.append(response.status_code)
    booking = Booking.objects.get(pk=booking.pk)
    paid_events = BookingEvent.objects.filter(booking=booking, kind=BookingEventKind.PAID).count()
    stored = StripeEvent.objects.filter(event_id__startswith=f"evt_{prefix}").count()
    StripeEvent.objects.filter(event_id__startswith=f"evt_{prefix}").delete()
    _drop([tenant])
    return {
        "rows": [
            {
                "deliveries": len(events),
                "distinct_events": 2,
                "http_200": statuses.count(200),
                "stored_events": stored,
                "paid_effects": paid_events,
                "booking_status": booking.status,
                "p50_ms": round(statistics.median(timings), 2),
            }
        ]
    }
