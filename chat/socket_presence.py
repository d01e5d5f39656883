"""A chat socket's place among its conversation's sockets, and what staff learn from those places.

Contract: ``SocketPresence.take`` takes one of the conversation's places (``chat.socket_slots``,
CHAT_SOCKETS_PER_CONVERSATION), or returns None when the conversation has all the sockets it may have
open. A taken place is refreshed by a task until ``release`` gives it back (a dead process's places
expire). ``opened`` and ``closed`` tell staff watching a conversation under handoff that its customer
came back with their only socket or left with their last one (``escalations.presence``), and each beat
of a held place marks when the conversation's socket was last seen (what a lost connection is dated by); a beat
that takes a place again after its own expired (the process stalled) tells staff the customer is back if they
were told the connection was lost (``escalations.presence_sweep``);
a socket the cache could not count (its slot has no key) says nothing, and nothing is said while the sockets can't
be counted.
"""

from __future__ import annotations

import asyncio

from chat import socket_slots
from chat.socket_slots import SocketSlot, socket_slot_refresh, socket_slot_release, socket_slot_take, sockets_open
from escalations.presence import publish_presence, socket_seen, sockets_closed
from escalations.presence_sweep import lapse_taken_back
from supportai.db import db_call
from supportai.models import Tenant


def socket_beat(slot: SocketSlot) -> bool:
    """Refresh the socket's place and, while it holds one, mark when the conversation's socket last beat: its
    open mark says when a connection a dead process took with it was lost. Under the slot's lock, so no beat
    marks the conversation open once ``release`` gave the place back (its last socket may have closed).
    Whether the customer is to be told back: the place had expired (the process stalled) and the sweep told
    staff the connection was lost (``presence_sweep.lapse_taken_back``, asked before the mark is dated anew)."""
    took_again = socket_slot_refresh(slot)
    with slot.lock:
        if slot.released or slot.key is None:
            return False
        back = took_again and lapse_taken_back(tenant_id=slot.tenant_id, conversation_id=slot.conversation_id)
        socket_seen(tenant_id=slot.tenant_id, conversation_id=slot.conversation_id)
    return back


class SocketPresence:
    """One socket's place in its conversation, from ``take`` until ``release``."""

    def __init__(self, *, tenant: Tenant, conversation_id: int, slot: SocketSlot) -> None:
        self.tenant = tenant
        self.conversation_id = conversation_id
        self.slot = slot
        self.counted_as_it_closed = False  # set by ``release``, which takes the place's key away
        self.keeper: asyncio.Task[None] = asyncio.create_task(self.keep())

    @classmethod
    async def take(cls, *, tenant: Tenant, conversation_id: int) -> SocketPresence | None:
        """The socket's place, kept fresh from now on; None when the conversation has all it may have."""
        slot = await db_call(socket_slot_take)(tenant_id=tenant.pk, conversation_id=conversation_id)
        if slot is None:
            return None
        return cls(tenant=tenant, conversation_id=conversation_id, slot=slot)

    async def keep(self) -> None:
        """Beat until the socket closes (a dead process's places expire)."""
        while True:
            await asyncio.sleep(socket_slots.SLOT_REFRESH_S)
            await self.beat()

    async def beat(self) -> None:
        """Refresh the place (``socket_beat``); a lost connection told of a socket that only stalled is taken
        back as a socket coming back is (``came_back``)."""
        if await db_call(socket_beat)(self.slot):
            await self.came_back()

    @property
    def counted(self) -> bool:
        """The cache counts this socket among the conversation's (it holds a place: none once released or lost)."""
        return self.slot.key is not None

    async def opened(self, *, resumed: bool) -> bool:
        """Mark the counted socket open, and say whether the customer is back: the resumed conversation's
        only socket (counted as it came, before its session is ready; a new conversation is under no
        handoff: not asked). The mark outlives the place if this process dies with the socket."""
        back = resumed and self.counted and await self.sockets_open() == 1
        if self.counted:
            await db_call(socket_seen)(tenant_id=self.tenant.pk, conversation_id=self.conversation_id)
        return back

    async def came_back(self) -> None:
        """Tell the conversation's watchers that its customer is back."""
        await publish_presence(tenant=self.tenant, conversation_id=self.conversation_id, present=True)

    async def release(self) -> None:
        """Stop refreshing the place and give it back (first as the socket closes: a reconnecting tab need
        not wait for the answer's last write)."""
        self.counted_as_it_closed = self.counted
        self.keeper.cancel()
        await db_call(socket_slot_release)(self.slot)

    async def closed(self) -> None:
        """After ``release``: tell the watchers that the customer left, when this counted socket was the
        conversation's last (others, tabs, may stay open), and clear its open mark."""
        if self.counted_as_it_closed and await self.sockets_open() == 0:
            await publish_presence(tenant=self.tenant, conversation_id=self.conversation_id, present=False)
            await db_call(sockets_closed)(tenant_id=self.tenant.pk, conversation_id=self.conversation_id)

    async def sockets_open(self) -> int | None:
        """How many sockets the conversation has open, in every process (None: the cache failed, unknown)."""
        count: int | None = await db_call(sockets_open)(tenant_id=self.tenant.pk, conversation_id=self.conversation_id)
        return count
