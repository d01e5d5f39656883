"""A receiver's answer costs a delivery attempt a bounded time and memory: a Slack or webhook receiver
that dribbles its answer, or sends an endless one, cannot hold a worker past the attempt's lease (when
another copy of the task would send the notification again) nor fill its memory."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import pytest

from escalations.models import DeliveryStatus, NotificationDelivery
from escalations.notifications import targets
from escalations.notifications.dispatch import deliver
from escalations.services import escalation_raise
from escalations.tests.conftest import ALWAYS, set_hours
from escalations.tests.factories import ConversationFactory
from escalations.triggers import ReasonCode, TriggerHit
from supportai.models import Tenant
from supportai.outbound import DEADLINE_PASSED

pytestmark = pytest.mark.django_db
Capture = Callable[..., Any]
FLOOD_BYTES = 64 * 1024 * 1024
DEADLINE_S = 1.0  # the attempt's deadline in the dribble test
# How long a dribbling receiver keeps sending: far past the deadline, so an attempt that ends when the
# answer does (the deadline ignored) cannot pass for one cut off at the deadline.
DRIBBLE_S = 20.0
# What the receiver may see past the deadline before the client hangs up: its wake-up from the deadline's
# timeout and the close: an allowance for a loaded machine, no margin the product promises.
HANG_UP_SLACK_S = 3.0


@dataclass
class Receiver:
    url: str
    sent: int = 0  # bytes of the answer's body the receiver managed to send
    answering_s: float | None = None  # from the answer's start until the client hung up (``dribble``)


def _read_request(connection: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0
    )
    while len(body) < length:
        body += connection.recv(65536)


@contextmanager
def receiver(answer: Callable[[socket.socket, Receiver], None]) -> Iterator[Receiver]:
    """A local server that reads one request per connection and answers it with ``answer``."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)  # to see ``stop`` (a close from another thread does not end an ``accept``)
    found = Receiver(url=f"http://127.0.0.1:{server.getsockname()[1]}/hook")
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            with connection, suppress(OSError):  # OSError: the client hung up
                _read_request(connection)
                answer(connection, found)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        stop.set()
        thread.join(timeout=DRIBBLE_S + 10)
        server.close()


def dribble(connection: socket.socket, found: Receiver) -> None:
    """A 200 whose body comes a byte every 0.1 s (each read well within the read timeout), until the client
    hangs up or ``DRIBBLE_S`` pass; ``found.answering_s`` says when that was, by the receiver's clock."""
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
    started = time.monotonic()
    connection.settimeout(0.1)  # the pause between bytes, cut short by the client's hang-up
    with suppress(OSError):  # ECONNRESET, EPIPE: the client hung up
        while time.monotonic() - started < DRIBBLE_S and _still_connected(connection):
            connection.sendall(b"k")
            found.sent += 1
    found.answering_s = time.monotonic() - started


def _still_connected(connection: socket.socket) -> bool:
    """False once the client has hung up (it sends nothing after its request); waits the socket's timeout."""
    try:
        return connection.recv(1) != b""
    except TimeoutError:
        return True


def flood(connection: socket.socket, found: Receiver) -> None:
    """A 500 whose body is 64 MiB, sent as fast as the client reads it."""
    connection.sendall(f"HTTP/1.1 500 Internal Server Error\r\nContent-Length: {FLOOD_BYTES}\r\n\r\n".encode())
    chunk = b"x" * 65536
    while found.sent < FLOOD_BYTES:
        connection.sendall(chunk)
        found.sent += len(chunk)


def pending_delivery(tenant: Tenant, capture: Capture, **targets_: str) -> NotificationDelivery:
    set_hours(tenant, ALWAYS, notify_email=False, webhook_secret="s3cret", **targets_)
    conversation = ConversationFactory.create(tenant=tenant)
    with capture(execute=False):  # sent by hand below, one attempt
        raised = escalation_raise(
            tenant=tenant, conversation_id=conversation.pk, hits=[TriggerHit(ReasonCode.HUMAN_REQUEST, "a human")]
        )
    return NotificationDelivery.objects.get(escalation=raised.escalation)


@pytest.mark.parametrize("field", ["webhook_url", "slack_webhook_url"])
def test_an_answer_dribbled_a_byte_at_a_time_ends_the_attempt_at_its_deadline(
    tenant: Tenant, django_capture_on_commit_callbacks: Capture, monkeypatch: pytest.MonkeyPatch, field: str
) -> None:
    # given a receiver that sends its answer's body a byte at a time for DRIBBLE_S, and an attempt's deadline of 1 s
    monkeypatch.setattr(targets, "ATTEMPT_DEADLINE_S", DEADLINE_S)
    with receiver(dribble) as slow:
        delivery = pending_delivery(tenant, django_capture_on_commit_callbacks, **{field: slow.url})
        # when one attempt is made
        started = time.monotonic()
        again = deliver(delivery.pk, keep_schedule=False)
        took = time.monotonic() - started
    # then it gave up at the deadline (the receiver saw it hang up then, however long the attempt's
    # database work took on a loaded machine), recorded, to be retried
    delivery.refresh_from_db()
    assert took >= DEADLINE_S, took
    assert slow.answering_s is not None and slow.answering_s < DEADLINE_S + HANG_UP_SLACK_S, slow.answering_s
    assert again is not None and again.retry and delivery.status == DeliveryStatus.RETRYING
    assert delivery.last_error.endswith(f": {DEADLINE_PASSED}"), delivery.last_error


def test_an_endless_error_answer_is_read_no_further_than_its_start(
    tenant: Tenant, django_capture_on_commit_callbacks: Capture
) -> None:
    # given a Slack receiver answering 500 with a 64 MiB body
    with receiver(flood) as flooding:
        delivery = pending_delivery(tenant, django_capture_on_commit_callbacks, slack_webhook_url=flooding.url)
        # when one attempt is made
        again = deliver(delivery.pk, keep_schedule=False)
    # then the error recorded quotes the answer's start, and the rest was never read
    delivery.refresh_from_db()
    assert again is not None and again.retry and delivery.status == DeliveryStatus.RETRYING
    assert delivery.last_error == "slack answered 500: " + "x" * 200
    assert flooding.sent < FLOOD_BYTES // 4, flooding.sent
