"""Fixtures for booking tests: a clinic open every day 09:00-17:00 (Europe/Paris by default)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django import test as django_test
from django.contrib.auth.models import User
from django.core.cache import cache
from django.utils.html import strip_tags

from bookings.models import Booking, PaymentMode, Service
from bookings.services import CUSTOMER, booking_create
from bookings.tests.factories import RuleFactory, ServiceFactory
from bookings.tests.stripe_fake import FakeStripe
from supportai.models import Role, Tenant
from supportai.tests.factories import MembershipFactory, UserFactory


def open_every_day(tenant: Tenant, *, capacity: int = 1, **kwargs: object) -> None:
    for weekday in range(7):
        RuleFactory.create(tenant=tenant, weekday=weekday, capacity=capacity, **kwargs)


def next_weekday(weekday: int = 2, *, weeks: int = 1) -> date:
    today = date.today()
    return today + timedelta(days=(weekday - today.weekday()) % 7 + 7 * weeks)


def local(tenant: Tenant, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(tenant.timezone))


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    """Django's clock (``timezone.now``) stopped at ``moment``."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def customer_booking(
    tenant: Tenant,
    service: Service,
    *,
    day: date | None = None,
    hour: int = 10,
    name: str = "Ann",
    email: str = "ann@example.org",
) -> Booking:
    """``service`` booked by a customer at ``hour`` on ``day`` (default: ``next_weekday()``)."""
    start = local(tenant, day or next_weekday(), hour)
    return booking_create(tenant=tenant, service=service, start=start, name=name, email=email, actor=CUSTOMER)


def logged_in(user: User, *, enforce_csrf_checks: bool = False) -> django_test.Client:
    """A console client logged in as ``user`` (CSRF checked only with ``enforce_csrf_checks``)."""
    client = django_test.Client(enforce_csrf_checks=enforce_csrf_checks)
    client.force_login(user)
    return client


def marked_text(page: str, testid: str) -> str:
    """The text of the page's element marked ``data-testid=testid`` (tags stripped, spaces joined)."""
    start = page.index(f'data-testid="{testid}"')
    tag = page[page.rindex("<", 0, start) + 1 :].split(maxsplit=1)[0]
    inner = page[page.index(">", start) + 1 : page.index(f"</{tag}>", start)]
    return " ".join(strip_tags(inner).split())


SECRET = "whsec_test_secret_for_signatures"


@pytest.fixture
def stripe_api(settings) -> Iterator[FakeStripe]:
    """Stripe's API through the official SDK, served by the local fake."""
    with FakeStripe() as fake:
        settings.STRIPE_SECRET_KEY = "sk_test_fake"
        settings.STRIPE_API_BASE = fake.url
        settings.BOOKINGS_TEST_CHECKOUT = False
        yield fake


@pytest.fixture
def webhook_secret(settings) -> str:
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    return SECRET


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def service(tenant: Tenant) -> Service:
    open_every_day(tenant)
    return ServiceFactory.create(tenant=tenant, name="Massage", duration_minutes=60, slot_step_minutes=60)


@pytest.fixture
def paid_service(tenant: Tenant, service: Service) -> Service:
    return ServiceFactory.create(tenant=tenant, name="Deep tissue", price_cents=9500, currency="eur")


@pytest.fixture
def at_desk(tenant: Tenant, service: Service) -> Service:
    """A paid service the customer pays for at the venue (the tenant's hours come with ``service``)."""
    return ServiceFactory.create(
        tenant=tenant, name="Haircut", price_cents=4500, currency="eur", payment=PaymentMode.ON_ARRIVAL
    )


@pytest.fixture
def analyst(tenant: Tenant) -> User:
    """A member of ``tenant`` who reads the console but may change nothing."""
    user = UserFactory.create(username="dora")
    MembershipFactory.create(user=user, tenant=tenant, role=Role.ANALYST)
    return user


@pytest.fixture
def other_service(other_tenant: Tenant) -> Service:
    open_every_day(other_tenant)
    return ServiceFactory.create(tenant=other_tenant, name="Sauna")


# The widget websocket client of the chat tests (always disconnected at the end of a test).
from chat.tests.conftest import Client, connect  # noqa: E402, F401
