from __future__ import annotations

import calendar
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.core.cache import caches
from django.test import Client as HttpClient
from django.utils import timezone

from chat.tests.conftest import _fresh_rate_limits, connect  # noqa: F401  (shared fixtures)
from escalations.models import EscalationPolicy
from supportai.asgi import application
from supportai.models import Tenant
from supportai.tests.websockets import disconnect_all

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS = {day: [["00:00", "24:00"]] for day in DAYS}
NEVER: dict[str, list[list[str]]] = {}


def set_hours(tenant: Tenant, weekly: dict[str, Any], **extra: Any) -> EscalationPolicy:
    policy, _ = EscalationPolicy.objects.update_or_create(tenant=tenant, defaults={"weekly_hours": weekly, **extra})
    return policy


@pytest.fixture
def always_open(tenant: Tenant) -> EscalationPolicy:
    return set_hours(tenant, ALWAYS, team_name="care team")


@pytest.fixture
def redis_cache(settings: Any, redis_url: str) -> Iterator[None]:
    """The default cache on the real Redis, under a prefix of its own (only its keys are deleted after)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}",
        }
    }
    yield
    caches["default"].delete_pattern("*")  # type: ignore[attr-defined]  # django-redis: the prefix's keys, not FLUSHDB


def closed_now(tenant: Tenant) -> dict[str, list[list[str]]]:
    """Hours open on one day only, the day after tomorrow in the tenant's zone: closed when a test
    runs, whatever the day and time (a fixed Monday's hours were open on Mondays)."""
    day = DAYS[(timezone.now().astimezone(ZoneInfo(tenant.timezone)).weekday() + 2) % 7]
    return {day: [["09:00", "17:00"]]}


def opening_day(policy: EscalationPolicy) -> str:
    """The English name of the one day ``closed_now``'s hours open: "Wednesday"."""
    [day] = policy.weekly_hours
    return calendar.day_name[DAYS.index(day)]


@pytest.fixture
def always_closed(tenant: Tenant) -> EscalationPolicy:
    return set_hours(tenant, closed_now(tenant), team_name="care team")


class Staff:
    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator

    async def send(self, frame: dict[str, Any]) -> None:
        await self.communicator.send_to(text_data=json.dumps(frame))

    async def receive(self, timeout: float = 10) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(await self.communicator.receive_from(timeout=timeout))
        return frame

    async def receive_until(self, kind: str, timeout: float = 10) -> dict[str, Any]:
        while True:
            frame = await self.receive(timeout)
            if frame["type"] == kind:
                return frame


StaffConnect = Callable[..., Any]


def session_cookie(user: User) -> bytes:
    client = HttpClient()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


@pytest_asyncio.fixture
async def staff_connect() -> AsyncIterator[StaffConnect]:
    opened: list[WebsocketCommunicator] = []

    async def open_staff(user: User | None, tenant: Tenant, *, expect_queue: bool = True) -> Staff:
        headers = [(b"host", b"testserver"), (b"origin", b"http://testserver")]
        if user is not None:
            headers.append((b"cookie", await sync_to_async(session_cookie)(user)))
        communicator = WebsocketCommunicator(application, f"/ws/inbox/?tenant={tenant.pk}", headers=headers)
        opened.append(communicator)
        connected, _ = await communicator.connect(timeout=20)
        assert connected
        staff = Staff(communicator)
        if expect_queue:
            first = await staff.receive()
            assert first["type"] == "queue", first
        return staff

    yield open_staff
    await disconnect_all(opened)
