"""The shared cache (Redis, when ``REDIS_URL`` is set) failing under a customer's chat.

The cache only holds counters and copies: the per-IP message limit is let through (the socket's own
limits still hold) and the month's LLM spend is summed from the ledger, so the answer still flows.
Decisions per use: docs/architecture.md, "When the shared cache fails".
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from chat.models import Message, MessageStatus
from chat.tests.conftest import Connect
from chat.tests.db_failures import post
from supportai.models import Tenant
from supportai.settings import REDIS_CACHE_OPTIONS
from supportai.tests.throwaway_redis import ThrowawayRedis

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.mark.asyncio
async def test_a_chat_message_is_answered_while_the_cache_is_down(
    throwaway_cache: ThrowawayRedis, connect: Connect, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    # given a customer's open socket, and the cache's Redis gone
    client = await connect(tenant, peer="198.51.100.7")
    throwaway_cache.stop()
    # when they ask a question
    frames = await client.ask("What are your opening hours?", "c-1")
    # then it is stored and answered as ever, with no error frame
    kinds = [frame["type"] for frame in frames]
    assert kinds[0] == "message.ack" and kinds[1] == "message.start" and "error" not in kinds
    end = frames[-1]
    assert end["text"]
    reply = await Message.objects.aget(pk=end["message_id"])
    assert reply.status == MessageStatus.COMPLETE and reply.tenant_id == tenant.pk
    # and the server warned that the limit could not be counted, without an error or a traceback
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert any("per-IP message limit" in record.getMessage() for record in warnings)
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_an_http_fallback_message_is_answered_while_the_cache_is_down(
    throwaway_cache: ThrowawayRedis, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given the cache's Redis gone
    throwaway_cache.stop()
    # when a customer without a socket asks through /messages
    response = post({"key": tenant.public_key, "client_id": "h-1", "text": "Do you open on Sundays?"})
    # then the answer comes back, in a conversation of their tenant only
    assert response.status_code == 200, response.content
    reply = Message.objects.get(pk=response.json()["message_id"])
    assert reply.text and reply.status == MessageStatus.COMPLETE and reply.tenant_id == tenant.pk
    assert not Message.objects.filter(tenant=other_tenant).exists()


@pytest.mark.asyncio
async def test_a_chat_message_is_answered_when_the_cache_stops_answering(
    silent_redis: str, settings: Any, connect: Connect, tenant: Tenant
) -> None:
    # given the cache as REDIS_URL configures it, on a Redis that accepts connections and never answers
    settings.CACHES = {
        "default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": silent_redis, **REDIS_CACHE_OPTIONS}
    }
    client = await connect(tenant, peer="198.51.100.7")
    # when the customer asks a question
    await client.send({"type": "message.send", "client_id": "s-1", "text": "What are your opening hours?"})
    # then the answer comes within a few of the cache's timeouts, not never
    frames = await client.receive_until("message.end", timeout=10)
    assert "error" not in [frame["type"] for frame in frames] and frames[-1]["text"]
