"""The Redis-backed production path: channel layer between consumers, Celery through a real worker."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator

from supportai.channel_layer import channels_redis_settings
from supportai.tests.websockets import disconnect

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.redis


class GroupEchoConsumer(AsyncJsonWebsocketConsumer):
    """Joins one group and forwards every group event to its socket."""

    group = ""

    async def connect(self) -> None:
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: dict[str, Any], **kwargs: Any) -> None:
        await self.channel_layer.group_send(self.group, {"type": "relay", "text": content["text"]})

    async def relay(self, event: dict[str, Any]) -> None:
        await self.send_json({"text": event["text"], "to": self.channel_name})


@pytest.fixture
def redis_channel_layer(settings, redis_url: str) -> Iterator[None]:
    settings.CHANNEL_LAYERS = {"default": channels_redis_settings(redis_url, f"test-{uuid.uuid4().hex[:8]}")}
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.mark.asyncio
@pytest.mark.django_db  # Channels closes stale DB connections around each consumer event
async def test_group_send_reaches_two_consumers_through_redis(redis_channel_layer: None) -> None:
    # given two consumers in one group on the Redis layer
    GroupEchoConsumer.group = f"room-{uuid.uuid4().hex[:8]}"
    first = WebsocketCommunicator(GroupEchoConsumer.as_asgi(), "/ws/test/")
    second = WebsocketCommunicator(GroupEchoConsumer.as_asgi(), "/ws/test/")
    assert (await first.connect())[0]
    assert (await second.connect())[0]
    try:
        # when the first sends into the group
        await first.send_json_to({"text": "hello over redis"})
        # then both receive it, each on its own channel
        got_first = await first.receive_json_from(timeout=5)
        got_second = await second.receive_json_from(timeout=5)
    finally:
        await disconnect(first)
        await disconnect(second)
    assert got_first["text"] == got_second["text"] == "hello over redis"
    assert got_first["to"] != got_second["to"]
    assert got_first["to"].startswith("specific.") or "!" in got_first["to"]


@pytest.fixture
def celery_worker_process(redis_url: str) -> Iterator[tuple[str, str]]:
    """A real ``celery worker`` subprocess consuming a private queue through Redis."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "REDIS_URL": redis_url, "DEBUG": "1"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "supportai", "worker", "--pool=solo", "-Q", queue, "--loglevel=WARNING"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield redis_url, queue
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


@pytest.mark.slow
def test_celery_task_runs_in_a_real_worker_through_redis(celery_worker_process: tuple[str, str]) -> None:
    # given a client app talking to the same broker (not eager)
    redis_url, queue = celery_worker_process
    client = Celery("test-client", broker=redis_url, backend=redis_url)
    # when
    result = client.send_task("supportai.ping", queue=queue)
    # then the worker process executed it (it touched the database too)
    assert result.get(timeout=90) == {"pong": True, "database": True}
    assert result.successful()
