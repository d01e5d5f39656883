"""Closing a test's websockets (``channels.testing.WebsocketCommunicator``), for every app's tests."""

from __future__ import annotations

from collections.abc import Iterable

from channels.testing import WebsocketCommunicator

# How long a closing socket's consumer may take over its disconnect (the chat consumer cancels its turn
# and waits for the turn's shielded writes). After the test client's default, 1 s, it cancels the
# consumer: on a loaded machine that cut the consumer's clean-up short, and the CancelledError stopped
# pytest's teardown before the test database was flushed, so the following tests failed on its rows.
DISCONNECT_TIMEOUT_S = 20


async def disconnect(communicator: WebsocketCommunicator) -> None:
    """Close the socket and wait until its consumer has finished its disconnect.

    A socket the test client already cancelled (a receive or a disconnect timed out: the test failed
    there) is left alone: closing it would raise CancelledError, a BaseException that hides that
    failure and stops the teardown before the test database is flushed."""
    if communicator.future.cancelled():
        return
    await communicator.disconnect(timeout=DISCONNECT_TIMEOUT_S)


async def disconnect_all(communicators: Iterable[WebsocketCommunicator]) -> None:
    """``disconnect`` each of a fixture's sockets at the end of its test."""
    for communicator in communicators:
        await disconnect(communicator)
