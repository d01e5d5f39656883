"""The staff inbox websocket (``/ws/inbox/?tenant=<id>``): live queue, watched transcript, actions.

Session-authenticated. Membership and role are checked when connecting, before every frame *and*
before every event is forwarded (a removed or deactivated agent is cut off at once, even when idle).
Per connection, frames are capped a minute (a flood gets ``rate_limited`` and the socket closes with
4429) and ``typing`` reaches the customer at most once per ``INBOX_TYPING_INTERVAL_MS``.
Analysts may watch but not act. A ``watch`` frame subscribes the socket to one conversation of its
tenant (``escalations.watch``). Thin: services do the work, on the database pool
(``supportai.db.db_call``) like the chat consumer.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from chat.limits import SlidingWindow
from escalations import services, staff
from escalations.inbox import can_act, console_origin_allowed, inbox_membership, live_queue
from escalations.limits import inbox_frames_per_connection, inbox_queue_refresh_interval, inbox_typing_interval
from escalations.realtime import Publication, inbox_group, publish_committed
from escalations.selectors import escalation_get, staff_member_get
from escalations.watch import closed_status, messages_after, watch_group, watchable_conversation
from supportai.db import db_call
from supportai.ids import id_from_text
from supportai.models import Membership, Tenant
from supportai.sockets import LayerGuardedConsumer

logger = logging.getLogger(__name__)
FORBIDDEN = 4403
RATE_LIMITED = 4429
UNAVAILABLE = 4503
MAX_FRAME_CHARS = 16_384
MAX_ROW_ID = 2**63 - 1  # PostgreSQL bigint
LOST_ACCESS = "You no longer have access."
FRAME_FLOOD = "Too many frames; this connection is closed."
UNAVAILABLE_MESSAGE = "The inbox is unavailable right now; it reconnects by itself."
ACTIONS = frozenset({"claim", "assign", "reply", "typing", "hand_back", "resolve"})
FRAMES = ACTIONS | {"watch"}
# Actions that only change the escalation's status (same signature; the others need more than the id).
STATUS_ACTIONS: dict[str, Callable[..., list[Publication]]] = {
    "claim": staff.escalation_claim,
    "hand_back": staff.escalation_hand_back,
    "resolve": staff.escalation_resolve,
}


class InboxError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class InboxConsumer(LayerGuardedConsumer):
    tenant: Tenant | None = None
    group: str | None = None
    watching: str | None = None
    queue_stale = False  # a change came since the queue was last read
    queue_refresh: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        self.frame_window = SlidingWindow(inbox_frames_per_connection())
        self.typing_window = SlidingWindow(1, window=inbox_typing_interval())
        await super().connect()  # accepts, then start_session (refused as unavailable if our side fails)

    async def start_session(self) -> None:
        headers = dict(self.scope.get("headers", []))
        origin = headers.get(b"origin", b"").decode("latin-1")
        if not console_origin_allowed(origin=origin, host=headers.get(b"host", b"").decode("latin-1")):
            await self.close(code=FORBIDDEN)
            return
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        raw = (query.get("tenant") or [""])[0]
        tenant_id = id_from_text(raw)
        membership = await self._membership(tenant_id) if tenant_id is not None else None
        if membership is None:
            await self.close(code=FORBIDDEN)
            return
        self.tenant = membership.tenant
        self.group = inbox_group(membership.tenant_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_queue()

    async def disconnect(self, code: int) -> None:
        if self.queue_refresh is not None:
            self.queue_refresh.cancel()
        if self.group:
            await self.leave_group(self.group)
        if self.watching:
            await self.leave_group(self.watching)

    def socket_label(self) -> str:
        return f"inbox of tenant {self.tenant and self.tenant.pk}"

    async def refuse_unavailable(self) -> None:
        self.tenant = None  # forward nothing more
        await self.send_json({"type": "error", "code": "unavailable", "message": UNAVAILABLE_MESSAGE})
        await self.close(code=UNAVAILABLE)

    async def _membership(self, tenant_id: int) -> Membership | None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return None
        membership: Membership | None = await db_call(inbox_membership)(user=user, tenant_id=tenant_id)
        return membership

    async def send_json(self, payload: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(payload, default=str))

    async def _cut_off(self) -> None:
        """The user lost access: say so, close, and forward nothing more (events may still be queued)."""
        self.tenant = None
        await self.send_json({"type": "error", "code": "forbidden", "message": LOST_ACCESS})
        await self.close(code=FORBIDDEN)

    async def _may_still_read(self) -> bool:
        """Checked before every event is forwarded: a live socket must not outlive the user's access."""
        if self.tenant is None:
            return False
        if await self._membership(self.tenant.pk) is None:
            await self._cut_off()
            return False
        return True

    async def send_queue(self) -> None:
        """The live queue, bounded like the page's (``inbox.QUEUE_LIMIT`` rows, the rest and the ticket
        backlog only counted): on connect, and after queue changes (coalesced, ``inbox_changed``)."""
        assert self.tenant is not None
        queue = await db_call(live_queue)(tenant=self.tenant)
        await self.send_json(queue.frame())

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.tenant is None:
            return
        if not self.frame_window.allow():  # before any parsing or database work
            self.tenant = None  # forward nothing more either
            await self.send_json({"type": "error", "code": "rate_limited", "message": FRAME_FLOOD})
            await self.close(code=RATE_LIMITED)
            return
        try:
            frame = self._parse(text_data)
            membership = await self._membership(self.tenant.pk)
            if membership is None:  # removed from the tenant or deactivated since connecting
                await self._cut_off()
                return
            if frame["type"] == "watch":  # reading: analysts too
                await self.watch(frame)
                return
            if not can_act(membership):
                raise InboxError("forbidden", "Analysts can read the inbox but not act on it.")
            await publish_committed(await self._act(frame, membership))
        except InboxError as exc:
            await self.send_json({"type": "error", "code": exc.code, "message": exc.message})
        except services.EscalationError as exc:
            await self.send_json({"type": "error", "code": exc.code, "message": exc.message})
        except Exception:
            logger.exception("inbox frame failed")
            await self.send_json({"type": "error", "code": "internal", "message": "Something went wrong; try again."})

    def _parse(self, text_data: str | None) -> dict[str, Any]:
        if text_data is None or len(text_data) > MAX_FRAME_CHARS:
            raise InboxError("bad_request", "Send JSON text frames up to 16 KiB.")
        # ValueError (JSONDecodeError's base) is also an integer of more than 4,300 digits;
        # RecursionError, nesting deeper than the decoder goes.
        try:
            frame = json.loads(text_data)
        except (ValueError, RecursionError):
            raise InboxError("bad_request", "Frames must be JSON objects.") from None
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str) or frame["type"] not in FRAMES:
            raise InboxError("bad_request", f"Unknown frame type; use one of {', '.join(sorted(FRAMES))}.")
        if frame["type"] == "watch":
            _row_id(frame, "conversation_id")
            if "after" in frame:
                _row_id(frame, "after", minimum=0)
            if "escalation_id" in frame:
                _row_id(frame, "escalation_id")
            return frame
        escalation_id = frame.get("escalation_id")
        if isinstance(escalation_id, bool) or not isinstance(escalation_id, int):
            raise InboxError("bad_request", "'escalation_id' must be an integer.")
        for key in ("text", "notes"):
            if not isinstance(frame.get(key, ""), str):
                raise InboxError("bad_request", f"'{key}' must be a string.")
        return frame

    async def watch(self, frame: dict[str, Any]) -> None:
        """Follow one conversation (replacing the one followed before); first replay what came after
        ``after``, the last message the page shows, so nothing written meanwhile is missed, then the
        ``status`` of ``escalation_id``, the page's escalation, if it was closed meanwhile."""
        assert self.tenant is not None
        conversation = await db_call(watchable_conversation)(
            tenant=self.tenant, conversation_id=frame["conversation_id"]
        )
        if conversation is None:
            raise InboxError("not_found", "No such conversation.")
        group = watch_group(tenant_id=self.tenant.pk, conversation_id=conversation.pk)
        if self.watching and self.watching != group:
            await self.channel_layer.group_discard(self.watching, self.channel_name)
        self.watching = group
        await self.channel_layer.group_add(group, self.channel_name)  # before the replay: no gap
        if "after" in frame:
            for event in await db_call(messages_after)(
                tenant=self.tenant, conversation=conversation, after=frame["after"]
            ):
                await self.send_json(event)
        if "escalation_id" in frame:
            closed = await db_call(closed_status)(
                tenant=self.tenant, conversation=conversation, escalation_id=frame["escalation_id"]
            )
            if closed is not None:
                await self.send_json(closed)
        await self.send_json({"type": "watch.ack", "conversation_id": conversation.pk})

    async def _act(self, frame: dict[str, Any], membership: Membership) -> list[Publication]:
        assert self.tenant is not None
        tenant, actor, escalation_id = self.tenant, membership.user, frame["escalation_id"]
        kind = frame["type"]
        if kind == "typing":
            escalation = await db_call(escalation_get)(tenant=tenant, pk=escalation_id)
            if escalation is None or not escalation.is_open:
                raise InboxError("not_found", "No such open escalation.")
            if not self.typing_window.allow():  # the customer already shows "typing…": coalesced, no error
                return []
            return [staff.typing_publication(tenant=tenant, escalation=escalation)]
        if kind == "reply":
            reply = await db_call(staff.agent_reply)(
                tenant=tenant, escalation_id=escalation_id, actor=actor, text=frame.get("text", "")
            )
            await self.send_json({"type": "reply.ack", "escalation_id": escalation_id, "message_id": reply.message.pk})
            return reply.publications
        if kind == "assign":
            user_id = frame.get("user_id")
            if isinstance(user_id, bool) or not isinstance(user_id, int):
                raise InboxError("bad_request", "'user_id' must be an integer.")
            assignee = await db_call(staff_member_get)(tenant=tenant, user_id=user_id)
            if assignee is None:
                raise InboxError("bad_request", "Assign to a member of this tenant.")
            return await db_call(staff.escalation_assign)(
                tenant=tenant, escalation_id=escalation_id, actor=actor, assignee=assignee
            )
        extra = {} if kind == "claim" else {"notes": frame.get("notes", "")}
        return await db_call(STATUS_ACTIONS[kind])(tenant=tenant, escalation_id=escalation_id, actor=actor, **extra)

    # --- events from the channel layer -------------------------------------------------------------

    async def inbox_changed(self, event: dict[str, Any]) -> None:
        """Coalesced: the first change re-reads the queue at once, the changes that follow within
        ``INBOX_QUEUE_REFRESH_MS`` are one more read after it (each read is the whole bounded queue)."""
        self.queue_stale = True
        if self.queue_refresh is None or self.queue_refresh.done():
            self.queue_refresh = asyncio.create_task(self._refresh_queue())

    async def _refresh_queue(self) -> None:
        """Runs while changes keep coming; a change during a read marks the queue stale again, so the
        last read starts after the last change arrived and the socket ends on the queue as it is."""
        try:
            while self.queue_stale:
                self.queue_stale = False
                if not await self._may_still_read():
                    return
                await self.send_queue()
                await asyncio.sleep(inbox_queue_refresh_interval())
        except Exception:
            logger.exception("inbox queue refresh failed")

    async def inbox_message(self, event: dict[str, Any]) -> None:
        """A message of the watched conversation."""
        await self._forward_watched(event, "message")

    async def inbox_presence(self, event: dict[str, Any]) -> None:
        """The watched conversation's customer left the chat or came back (``escalations.presence``)."""
        await self._forward_watched(event, "presence")

    async def inbox_status(self, event: dict[str, Any]) -> None:
        """The watched conversation's escalation was resolved or handed back (``watch.status_publication``)."""
        await self._forward_watched(event, "status")

    async def _forward_watched(self, event: dict[str, Any], kind: str) -> None:
        """An event of the watched conversation, as a ``kind`` frame (one still queued for a conversation
        left is dropped)."""
        if self.tenant is None or self.watching is None:
            return
        if watch_group(tenant_id=self.tenant.pk, conversation_id=event["conversation_id"]) != self.watching:
            return
        if await self._may_still_read():
            await self.send_json({**event, "type": kind})


def _row_id(frame: dict[str, Any], key: str, *, minimum: int = 1) -> int:
    """``frame[key]`` as a row id: an integer the database can compare (a bigger one is bad input)."""
    value = frame.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_ROW_ID:
        raise InboxError("bad_request", f"'{key}' must be an id (an integer from {minimum}).")
    return value
