"""Text deltas are coalesced into frames: first at once, then at most one frame per interval."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from chat.streaming import DeltaStream

pytestmark = pytest.mark.asyncio
INTERVAL_S = 0.05


class Socket:
    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []

    async def emit(self, frame: dict[str, Any]) -> None:
        self.frames.append(frame)

    def texts(self) -> list[str]:
        return [frame["text"] for frame in self.frames if frame["type"] == "message.delta"]


async def test_first_delta_goes_out_at_once_and_the_rest_share_a_frame() -> None:
    socket = Socket()
    stream = DeltaStream(socket.emit, message_id=7, interval_s=INTERVAL_S)

    for word in ["Opening ", "hours ", "are ", "9 ", "to ", "5."]:
        await stream.delta(word)
    assert socket.texts() == ["Opening "]
    await stream.flush()

    assert socket.texts() == ["Opening ", "hours are 9 to 5."]
    assert all(frame["message_id"] == 7 for frame in socket.frames)


async def test_text_waiting_during_a_pause_is_sent_by_the_timer() -> None:
    socket = Socket()
    stream = DeltaStream(socket.emit, message_id=1, interval_s=INTERVAL_S)

    await stream.delta("Let me check")
    await stream.delta(" that.")
    await asyncio.sleep(INTERVAL_S * 4)  # the provider is thinking; no more deltas, no flush call

    assert socket.texts() == ["Let me check", " that."]


async def test_a_new_interval_sends_the_next_delta_at_once() -> None:
    socket = Socket()
    stream = DeltaStream(socket.emit, message_id=1, interval_s=INTERVAL_S)

    await stream.delta("one")
    await asyncio.sleep(INTERVAL_S * 2)
    await stream.delta("two")

    assert socket.texts() == ["one", "two"]


async def test_other_frames_follow_the_text_queued_before_them() -> None:
    socket = Socket()
    stream = DeltaStream(socket.emit, message_id=1, interval_s=INTERVAL_S)

    await stream.delta("I can book that. ")
    await stream.delta("Please confirm:")
    await stream.frame({"type": "proposal", "proposal_id": 3})

    assert [frame["type"] for frame in socket.frames] == ["message.delta", "message.delta", "proposal"]
    assert socket.texts() == ["I can book that. ", "Please confirm:"]


async def test_discard_stops_the_timer_and_drops_queued_text() -> None:
    socket = Socket()
    stream = DeltaStream(socket.emit, message_id=1, interval_s=INTERVAL_S)

    await stream.delta("Partial ")
    await stream.delta("answer")
    stream.discard()
    await asyncio.sleep(INTERVAL_S * 4)

    assert socket.texts() == ["Partial "]


async def test_zero_interval_sends_every_delta_alone() -> None:
    socket = Socket()
    stream = DeltaStream(socket.emit, message_id=1, interval_s=0)

    for word in ["a ", "b ", "c"]:
        await stream.delta(word)

    assert socket.texts() == ["a ", "b ", "c"]
