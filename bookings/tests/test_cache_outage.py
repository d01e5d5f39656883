"""Ownership proofs (a confirmation code and email) while the shared cache (Redis) that counts their
failures is down: refused as ``unavailable``, never checked uncounted, since the limit is what stops
codes being guessed (docs/architecture.md, "When the shared cache fails")."""

from __future__ import annotations

import json
import logging

import pytest
from asgiref.sync import sync_to_async

from bookings.assistant import run_tool_calls
from bookings.limits import CANNOT_COUNT
from bookings.models import Proposal, Service
from bookings.tests.conftest import customer_booking, next_weekday
from chat.services import conversation_open
from chat.tests.conftest import Connect
from routing.contracts import ToolCall
from supportai.models import Tenant
from supportai.tests.throwaway_redis import ThrowawayRedis

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]
PEER = "198.51.100.7"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "frame",
    [
        {"type": "booking.lookup"},
        {"type": "booking.cancel"},
        {"type": "booking.reschedule", "start": f"{next_weekday(3).isoformat()}T11:00"},
    ],
)
async def test_a_booking_frame_needing_a_proof_is_unavailable_while_the_cache_is_down(
    throwaway_cache: ThrowawayRedis,
    connect: Connect,
    tenant: Tenant,
    service: Service,
    frame: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given a customer's booking and open socket, and the cache's Redis gone
    booking = await sync_to_async(customer_booking)(tenant, service, email="pat@x.org")
    client = await connect(tenant, peer=PEER)
    throwaway_cache.stop()
    caplog.clear()
    # when they prove they own it with the right code and email
    await client.send({**frame, "code": booking.confirmation_code, "email": "pat@x.org"})
    answer = await client.receive()
    # then they are told to try again later, nothing is shown or proposed, and the socket stays usable
    assert answer == {"type": "error", "code": "unavailable", "message": CANNOT_COUNT}
    assert not await Proposal.objects.aexists()
    await client.send({"type": "ping"})
    assert (await client.receive())["type"] == "pong"
    # and the server warned, without an error
    assert any("ownership proof" in record.getMessage() for record in caplog.records)
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_the_assistants_look_up_is_refused_while_the_cache_is_down(
    throwaway_cache: ThrowawayRedis, tenant: Tenant, service: Service
) -> None:
    # given a booking, and the cache's Redis gone
    booking = customer_booking(tenant, service, email="pat@x.org")
    conversation = conversation_open(tenant=tenant).conversation
    throwaway_cache.stop()
    # when the assistant looks it up for the customer
    call = ToolCall("call-get", "get_booking", {"confirmation_code": booking.confirmation_code, "email": "pat@x.org"})
    step = run_tool_calls(tenant=tenant, conversation=conversation, calls=(call,), ip=PEER)
    # then the model is told it cannot be checked now, and sees nothing of the booking
    (result,) = step.results
    assert result.is_error and json.loads(result.content) == {"error": CANNOT_COUNT}
