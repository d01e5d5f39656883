"""The Redis channel layer failing under a staff inbox socket, as under a chat socket
(``chat/tests/test_channel_layer_outage.py``): ``error unavailable`` and close 4503 (the inbox page
reconnects with its back-off), one log line, and a consumer that ends cleanly."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth.models import User

from escalations.consumers import UNAVAILABLE, UNAVAILABLE_MESSAGE
from escalations.tests.conftest import StaffConnect
from supportai.models import Tenant
from supportai.tests.throwaway_redis import ThrowawayRedis
from supportai.tests.websockets import disconnect

pytestmark = [pytest.mark.redis, pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]
REFUSED = {"type": "error", "code": "unavailable", "message": UNAVAILABLE_MESSAGE}
CLOSED = {"type": "websocket.close", "code": UNAVAILABLE}


def _records(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno == level]


async def test_a_redis_outage_closes_an_open_inbox_socket_as_unavailable_with_one_warning(
    throwaway_layer: ThrowawayRedis,
    staff_connect: StaffConnect,
    tenant: Tenant,
    agent: User,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given an agent's open inbox on the Redis channel layer
    staff = await staff_connect(agent, tenant)
    # when Redis goes away
    throwaway_layer.stop()
    # then the inbox is told and closed with the unavailable code
    assert await staff.receive(timeout=30) == REFUSED
    assert await staff.communicator.receive_output(timeout=10) == CLOSED
    # and the consumer ends cleanly once the socket is gone
    await disconnect(staff.communicator)
    assert staff.communicator.future.done() and staff.communicator.future.exception() is None
    [warning] = _records(caplog, logging.WARNING)
    assert f"inbox of tenant {tenant.pk} lost its channel layer" in warning.getMessage()
    assert warning.exc_info is None and not _records(caplog, logging.ERROR)


async def test_an_inbox_set_up_while_redis_is_down_is_refused_and_its_consumer_ends_cleanly(
    throwaway_layer: ThrowawayRedis,
    staff_connect: StaffConnect,
    tenant: Tenant,
    agent: User,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given Redis down
    throwaway_layer.stop()
    # when an agent opens the inbox
    staff = await staff_connect(agent, tenant, expect_queue=False)
    # then it is told and closed with the unavailable code, not crashed
    assert await staff.receive(timeout=30) == REFUSED
    assert await staff.communicator.receive_output(timeout=10) == CLOSED
    await disconnect(staff.communicator)
    assert staff.communicator.future.done() and staff.communicator.future.exception() is None
    [error] = _records(caplog, logging.ERROR)
    assert f"inbox of tenant {tenant.pk} could not be set up" in error.getMessage()
    assert not _records(caplog, logging.WARNING)
