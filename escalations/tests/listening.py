"""Customers listening on the real channel layer, as their chat socket does: the places in line they hear."""

from __future__ import annotations

import asyncio
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from escalations.models import Escalation
from escalations.realtime import conversation_group

DRAINED_AFTER_SECONDS = 0.05  # what was sent has arrived: an empty wait this long means nothing more came


class Customers:
    """One channel in every listened-to conversation's group; each frame names its escalation."""

    def __init__(self) -> None:
        self.layer: Any = get_channel_layer()
        self.channel: str = async_to_sync(self.layer.new_channel)()

    def listen(self, *conversation_ids: int) -> None:
        for conversation_id in conversation_ids:
            async_to_sync(self.layer.group_add)(conversation_group(conversation_id), self.channel)

    def places_told(self) -> dict[int, list[int | None]]:
        """Conversation id → the places its customer was told since the last call, in order."""
        by_escalation: dict[int, list[int | None]] = {}
        for event in self._drain():
            if event["type"] == "escalation.status":
                frame = event["frame"]
                by_escalation.setdefault(frame["escalation_id"], []).append(frame["position"])
        conversations = dict(Escalation.objects.filter(pk__in=by_escalation).values_list("pk", "conversation_id"))
        return {conversations[pk]: places for pk, places in by_escalation.items()}

    def _drain(self) -> list[dict[str, Any]]:
        events = []
        while True:
            try:
                receive = self.layer.receive(self.channel)
                events.append(async_to_sync(asyncio.wait_for)(receive, DRAINED_AFTER_SECONDS))
            except TimeoutError:
                return events
