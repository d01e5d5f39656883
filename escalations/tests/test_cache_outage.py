"""Asking for a person while the shared cache (Redis) that counts the hourly escalation limit is down:
the handoff is opened, uncounted, rather than failing (docs/architecture.md, "When the shared cache fails")."""

from __future__ import annotations

import logging

import pytest

from chat.tests.conftest import Connect
from escalations.models import Escalation, EscalationPolicy
from supportai.models import Tenant
from supportai.tests.throwaway_redis import ThrowawayRedis

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]
PEER = "198.51.100.7"


@pytest.mark.asyncio
async def test_the_escalate_button_opens_a_handoff_while_the_cache_is_down(
    throwaway_cache: ThrowawayRedis,
    connect: Connect,
    tenant: Tenant,
    other_tenant: Tenant,
    always_open: EscalationPolicy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given a customer's open socket, and the cache's Redis gone
    customer = await connect(tenant, peer=PEER)
    throwaway_cache.stop()
    # when they press "Talk to a human"
    await customer.send({"type": "escalate", "reason": "help"})
    frame = await customer.receive()
    # then they are in line for their tenant's team, not told our side failed
    assert frame["type"] == "escalation" and frame["status"] == "pending" and frame["position"] == 1, frame
    escalation = await Escalation.objects.aget(pk=frame["escalation_id"])
    assert escalation.tenant_id == tenant.pk and escalation.conversation_id == customer.ready["conversation_id"]
    assert not await Escalation.objects.filter(tenant=other_tenant).aexists()
    # and the server warned that the limit was not counted, without an error
    assert any("escalation limit" in record.getMessage() for record in caplog.records)
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


@pytest.mark.asyncio
async def test_a_question_asking_for_a_person_is_handed_over_while_the_cache_is_down(
    throwaway_cache: ThrowawayRedis, connect: Connect, tenant: Tenant, always_open: EscalationPolicy
) -> None:
    # given a customer's open socket, and the cache's Redis gone
    customer = await connect(tenant, peer=PEER)
    throwaway_cache.stop()
    # when they write that they want a person
    frames = await customer.ask("Can I talk to a human about my invoice?", "h-1")
    # then the turn ends handed over, with no error frame
    assert "error" not in [frame["type"] for frame in frames]
    assert frames[-1]["escalated"] is True
    assert (await customer.receive())["type"] == "escalation"
    assert await Escalation.objects.filter(tenant=tenant, conversation_id=customer.ready["conversation_id"]).aexists()
