"""The base of our websocket consumers: a channel layer that fails (Redis down) closes the socket as
unavailable, instead of crashing the consumer.

Channels listens on each socket's channel beside the websocket (``AsyncConsumer.__call__`` awaits
both through ``await_many_dispatch``). When the layer fails, that listener raises out of the consumer:
daphne logs "Exception inside application" with a traceback, closes the socket with 1011 (the client
learns nothing it can act on) and ``disconnect`` never runs, so tasks the consumer owns are left
behind. Here the failure becomes one ``channel_layer.lost`` event, handled like any other: one warning,
the consumer's ``error unavailable`` and a close with 4503 (clients reconnect with their back-off),
then the normal ``disconnect`` once the socket is gone. Nothing more is read from the lost layer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer

LAYER_LOST = "channel_layer.lost"

Receive = Callable[[], Awaitable[dict[str, Any]]]


class LayerGuardedConsumer(AsyncWebsocketConsumer):
    """Subclasses set the socket up in ``start_session``, say how they refuse a socket our side cannot
    serve (``refuse_unavailable``) and leave their groups with ``leave_group``. They log through the
    logger of their own module."""

    layer_failed = False  # the channel layer failed this socket: nothing more is read from or sent to it
    closing = False  # this side closed the socket (a lost layer then has nothing left to close)
    _channel_receive: Receive

    @property
    def log(self) -> logging.Logger:
        return logging.getLogger(type(self).__module__)

    async def connect(self) -> None:
        await self.accept()  # first, so the close code reaches the client
        try:
            await self.start_session()
        except Exception:  # the database or channel layer failed us: a clear error, never a dropped socket
            self.log.exception("%s could not be set up", self.socket_label())
            await self.refuse_unavailable()

    @property
    def channel_receive(self) -> Receive:
        return self._channel_receive

    @channel_receive.setter
    def channel_receive(self, receive: Receive) -> None:
        # Channels sets this (``AsyncConsumer.__call__``) to the layer's receive for the socket's channel
        # and awaits it again after every event: keep its failure inside the consumer.
        async def guarded() -> dict[str, Any]:
            if self.layer_failed:
                await asyncio.Future()  # waits until the consumer ends and cancels it
            try:
                return await receive()
            except Exception as exc:
                self.layer_failed = True
                return {"type": LAYER_LOST, "error": repr(exc)}

        self._channel_receive = guarded

    async def channel_layer_lost(self, event: dict[str, Any]) -> None:
        if self.closing:  # refused already (its setup failed, as the layer went): nothing more to say
            return
        self.log.warning(
            "%s lost its channel layer (%s); the socket is closed as unavailable", self.socket_label(), event["error"]
        )
        await self.refuse_unavailable()

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        self.closing = True
        await super().close(code=code, reason=reason)

    async def leave_group(self, group: str) -> None:
        """Leave ``group`` as the socket goes; a failed layer costs a warning, never a crash (Redis
        expires the membership)."""
        if self.layer_failed:
            return
        try:
            await self.channel_layer.group_discard(group, self.channel_name)
        except Exception as exc:
            self.layer_failed = True
            self.log.warning("%s could not leave group %s: %r", self.socket_label(), group, exc)

    def socket_label(self) -> str:
        """Names the socket in the log (its tenant, conversation…)."""
        return type(self).__name__

    async def start_session(self) -> None:
        """Accepted: check the socket's credentials and join its groups, or close it with the code of a
        refusal."""
        raise NotImplementedError

    async def refuse_unavailable(self) -> None:
        """Send this protocol's ``unavailable`` error, stop acting on frames and events, and close the
        socket with 4503."""
        raise NotImplementedError
