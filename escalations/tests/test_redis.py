"""The production path on a real Redis: staff reply → customer socket through the Redis channel layer,
and the escalation limiter counting in the shared Redis cache."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from channels.layers import channel_layers
from django.contrib.auth.models import User

from chat.tests.conftest import Connect
from escalations.limits import EscalationSlots
from escalations.models import EscalationPolicy
from escalations.tests.conftest import StaffConnect
from supportai.channel_layer import channels_redis_settings
from supportai.models import Tenant

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_layer(settings: Any, redis_url: str) -> Iterator[None]:
    settings.CHANNEL_LAYERS = {"default": channels_redis_settings(redis_url, f"test-{uuid.uuid4().hex[:8]}")}
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_agent_reply_reaches_the_customer_through_redis(
    redis_layer: None,
    connect: Connect,
    staff_connect: StaffConnect,
    tenant: Tenant,
    agent: User,
    always_open: EscalationPolicy,
) -> None:
    customer = await connect(tenant)
    staff = await staff_connect(agent, tenant)
    await staff.send({"type": "watch", "conversation_id": customer.ready["conversation_id"]})
    assert (await staff.receive())["type"] == "watch.ack"
    await customer.send({"type": "escalate", "reason": "help"})
    escalation = await customer.receive()
    queue = await staff.receive_until("queue")
    assert queue["items"][0]["escalation_id"] == escalation["escalation_id"]
    await customer.send({"type": "message.send", "client_id": "r-1", "text": "still there?"})
    seen = await staff.receive_until("message")  # the watched conversation's message, through Redis
    assert (seen["role"], seen["text"]) == ("customer", "still there?") and seen["created_at"]
    await staff.send({"type": "reply", "escalation_id": escalation["escalation_id"], "text": "Yes, via Redis"})
    frames = [await customer.receive() for _ in range(3)]  # ack of r-1, joined, the reply (in order)
    assert [frame["type"] for frame in frames] == ["message.ack", "escalation", "agent.message"]
    assert frames[1]["status"] == "acknowledged" and frames[2]["text"] == "Yes, via Redis"


def _take(ip: str, customer_key: str) -> tuple[bool, EscalationSlots]:
    slots = EscalationSlots()
    return slots.take(tenant_id=1, ip=ip, customer_key=customer_key), slots


def test_limiter_counts_in_the_shared_redis_cache(redis_cache: None) -> None:
    verdicts = [_take("203.0.113.7", f"c{n}")[0] for n in range(4)]
    assert verdicts == [True, True, True, False]
    assert _take("198.51.100.7", "c99")[0]


def test_limiter_slots_given_back_on_the_shared_redis_cache_are_free_again(redis_cache: None) -> None:
    taken = [_take("203.0.113.7", f"c{n}") for n in range(4)]
    for _, slots in taken[2:]:  # the third raise failed, the fourth was refused
        slots.give_back()
    assert [_take("203.0.113.7", f"c{n}")[0] for n in (5, 6)] == [True, False]
