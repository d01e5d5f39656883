from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from types import ModuleType
from typing import Any

import pytest
import pytest_asyncio
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.utils import timezone

from chat import engine, services
from chat.models import Message, MessageStatus
from chat.tests.db_failures import Fail
from supportai.asgi import application
from supportai.models import Tenant
from supportai.tests.websockets import disconnect, disconnect_all

ORIGIN = "https://alpha.example.com"


class Client:
    """A websocket client over ``WebsocketCommunicator`` with frame helpers."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator
        self.ready: dict[str, Any] = {}

    async def disconnect(self) -> None:
        """Close the socket and wait until the consumer has finished its disconnect."""
        await disconnect(self.communicator)

    async def send(self, frame: dict[str, Any]) -> None:
        await self.communicator.send_to(text_data=json.dumps(frame))

    async def send_raw(self, text: str | None = None, data: bytes | None = None) -> None:
        await self.communicator.send_to(text_data=text, bytes_data=data)

    async def receive(self, timeout: float = 20) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(await self.communicator.receive_from(timeout=timeout))
        return frame

    async def receive_until(self, kind: str, timeout: float = 30) -> list[dict[str, Any]]:
        """Frames up to and including the first of type ``kind``."""
        frames = []
        while True:
            frame = await self.receive(timeout)
            frames.append(frame)
            if frame["type"] == kind:
                return frames

    async def ask(self, text: str, client_id: str) -> list[dict[str, Any]]:
        await self.send({"type": "message.send", "client_id": client_id, "text": text})
        return await self.receive_until("message.end")


Connect = Callable[..., Any]


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """Per-IP counters live in the cache; every test starts from zero."""
    cache.clear()


@pytest.fixture
def fail(monkeypatch: pytest.MonkeyPatch) -> Fail:
    """``fail(name, error, where=chat.services)``: ``where.<name>`` raises ``error`` once, then works again."""

    def fail_once(name: str, error: Exception, where: ModuleType = services) -> None:
        real = getattr(where, name)

        def failing(**kwargs: Any) -> Any:
            monkeypatch.setattr(where, name, real)
            raise error

        monkeypatch.setattr(where, name, failing)

    return fail_once


@pytest_asyncio.fixture
async def connect(embedding_model_loaded: None) -> AsyncIterator[Connect]:
    """Open widget connections (always disconnected at the end of the test)."""
    opened: list[WebsocketCommunicator] = []

    async def open_client(
        tenant: Tenant | None,
        *,
        origin: str = ORIGIN,
        resume: str = "",
        key: str | None = None,
        expect_ready: bool = True,
        peer: str | None = None,
        accept_language: str = "",
    ) -> Client:
        public_key = key if key is not None else (tenant.public_key if tenant else "")
        path = f"/ws/chat/?key={public_key}" + (f"&resume={resume}" if resume else "")
        headers = [(b"origin", origin.encode()), (b"host", b"testserver")]
        if accept_language:
            headers.append((b"accept-language", accept_language.encode()))
        communicator = WebsocketCommunicator(application, path, headers=headers)
        if peer is not None:  # the address the socket comes from (none by default: no per-IP limit)
            communicator.scope["client"] = [peer, 50000]
        opened.append(communicator)
        connected, _ = await communicator.connect(timeout=20)
        assert connected
        client = Client(communicator)
        if expect_ready:
            client.ready = await client.receive()
            assert client.ready["type"] == "session.ready", client.ready
        return client

    yield open_client
    await disconnect_all(opened)


async def settled_message(message_id: int) -> Message:
    """The message once its answer stopped streaming (the consumer writes the final row shielded,
    after the client has gone), or as it is after 10 s."""
    message = await Message.objects.aget(pk=message_id)
    for _ in range(100):
        if message.status != MessageStatus.STREAMING:
            break
        await asyncio.sleep(0.1)
        message = await Message.objects.aget(pk=message_id)
    return message


@dataclass
class HeldTurn:
    """The first turn to retrieve waits there (its reply row not stored yet) until ``release`` is set."""

    entered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    _first: threading.Lock = field(default_factory=threading.Lock)

    def is_first(self) -> bool:
        with self._first:
            first = not self.entered.is_set()
            self.entered.set()
        return first


@pytest.fixture
def first_turn_held(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldTurn]:
    """Holds the first turn in flight before its reply row exists (later turns pass), on the database
    pool thread that retrieves for it, so that a second request can arrive in that window."""
    held = HeldTurn()
    real_retrieve = engine.retrieve_passages

    def retrieve(**kwargs: Any) -> Any:
        if held.is_first():
            held.release.wait(30)
        return real_retrieve(**kwargs)

    monkeypatch.setattr(engine, "retrieve_passages", retrieve)
    yield held
    held.release.set()  # never leave a pool thread waiting after the test


def conversation_written_in(tenant: Tenant, text: str) -> services.OpenedConversation:
    """A conversation of ``tenant`` whose customer wrote ``text`` (stored, unanswered): errors are in its language."""
    opened = services.conversation_open(tenant=tenant, origin=ORIGIN)
    services.message_receive(tenant=tenant, conversation=opened.conversation, client_id="written-1", text=text)
    return opened


async def refusal(response: Any, *, stream: bool) -> dict[str, Any]:
    """The error a message was refused with: ``/messages``' 400 JSON, or ``/messages/stream``'s first event."""
    if not stream:
        assert response.status_code == 400
        error: dict[str, Any] = response.json()
        return error
    events = b"".join([chunk async for chunk in response.streaming_content]).decode()
    assert events.startswith("event: error\n")
    error = json.loads(events.split("data: ", 1)[1].split("\n", 1)[0])
    return error


def reply_left_streaming(tenant: Tenant, question: Message, *, age: timedelta) -> Message:
    """The reply row a server stored for ``question`` ``age`` ago before it died mid-answer: claimed,
    streaming, never finished (deltas are not written to the row, so it has no text)."""
    assert services.message_answer_claim(tenant=tenant, question=question)
    reply = services.assistant_message_start(tenant=tenant, conversation=question.conversation, reply_to=question)
    then = timezone.now() - age
    Message.objects.filter(pk=question.pk).update(answer_claimed_at=then)
    Message.objects.filter(pk=reply.pk).update(created_at=then)
    reply.refresh_from_db()
    return reply
