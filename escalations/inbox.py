"""Read models of the staff inbox: queue rows and a transcript, as plain dicts for templates and the socket."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.paginator import Page, Paginator

from chat.models import Message, MessageRole
from escalations.graphemes import clip
from escalations.models import Escalation, Mode, Status
from escalations.presence import CustomerPresence, customer_presence
from escalations.selectors import escalation_queue
from escalations.watch import transcript_row
from supportai.models import Membership, Role, Tenant

REPLY_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.AGENT})
READ_ROLES = REPLY_ROLES | {Role.ANALYST}


def inbox_membership(*, user: User | AnonymousUser, tenant_id: int) -> Membership | None:
    """The user's membership when it may read this tenant's inbox (analysts read, never act)."""
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.select_related("tenant", "user")
        .filter(user=user, user__is_active=True, tenant_id=tenant_id, tenant__is_active=True, role__in=list(READ_ROLES))
        .first()
    )


def console_origin_allowed(*, origin: str, host: str) -> bool:
    """May a browser page of ``origin`` open the staff socket with the console's session cookie?

    Only the console itself (same host) or an origin in ``CSRF_TRUSTED_ORIGINS``: the socket is
    authenticated by the cookie alone, so another site's page must not open it in a logged-in
    browser (cross-site websocket hijacking). No ``Origin`` at all is not a browser, which would send one.
    """
    if not origin:
        return True
    normalized = origin.strip().rstrip("/").lower()
    trusted = {o.rstrip("/").lower() for o in settings.CSRF_TRUSTED_ORIGINS}
    return normalized in trusted or (bool(host) and urlsplit(normalized).netloc == host.lower())


def can_act(membership: Membership) -> bool:
    return membership.role in REPLY_ROLES


def _agent_name(user: Any) -> str:
    return "" if user is None else str(user.first_name or user.username)


PREVIEW_CHARS = 140


def _preview(escalation: Escalation) -> str:
    lines = [line for line in escalation.summary.splitlines() if line.startswith("Customer: ")]
    return clip(lines[-1].removeprefix("Customer: ") if lines else escalation.reason, PREVIEW_CHARS)


QUEUE_LIMIT = 200
BACKLOG_PAGE_SIZE = 50


def queue_row(escalation: Escalation) -> dict[str, Any] | None:
    """What the live queue shows of ``escalation`` apart from its place (None: a ticket, only counted there).
    Its place follows from the row's priority and SLA (``selectors.QueueKey``): a change that leaves the row
    as it was leaves the live queue's frame as it was."""
    return _row(escalation, None) if escalation.mode == Mode.LIVE and escalation.is_open else None


def _row(escalation: Escalation, position: int | None) -> dict[str, Any]:
    return {
        "escalation_id": escalation.pk,
        "conversation_id": escalation.conversation_id,
        "priority": escalation.priority,
        "status": escalation.status,
        "mode": escalation.mode,
        "reason_codes": list(escalation.reason_codes),
        "assigned_to": _agent_name(escalation.assigned_to),
        "assigned_to_id": escalation.assigned_to_id,
        "sla_due_at": escalation.sla_due_at.isoformat(),
        "created_at": escalation.created_at.isoformat(),
        "position": position,
        "preview": _preview(escalation),
    }


@dataclass(frozen=True)
class LiveQueue:
    """The first ``QUEUE_LIMIT`` live escalations in queue order, how many more there are, and the
    size of the ticket backlog (out-of-hours escalations waiting for an email reply, shown apart).
    ``presence`` is whether each row's customer is in the chat (by conversation id), also in the rows."""

    rows: list[dict[str, Any]]
    more: int
    tickets: int
    presence: dict[int, CustomerPresence]

    def frame(self) -> dict[str, Any]:
        return {"type": "queue", "items": self.rows, "more": self.more, "tickets": self.tickets}


def live_queue(*, tenant: Tenant) -> LiveQueue:
    """Three queries and one cache read however long the queue is, and a fourth query when a customer of
    it left the chat (``presence.customer_presence``: whether each row's customer is in the chat).

    Places in line are counted over the rows shown: they are the head of the live queue, and the
    escalations waiting in line (``selectors.waiting_position``) are its pending rows in the same
    order, so the n-th pending row shown is number n in line, as the customer's banner says.
    """
    live = escalation_queue(tenant=tenant).filter(mode=Mode.LIVE)
    rows: list[dict[str, Any]] = []
    waiting = 0
    for escalation in live[:QUEUE_LIMIT]:
        position = None
        if escalation.status == Status.PENDING:
            waiting += 1
            position = waiting
        rows.append(_row(escalation, position))
    more = max(0, live.count() - len(rows))  # counted just after: rows closed meanwhile are no minus
    presence = customer_presence(tenant=tenant, conversation_ids=[row["conversation_id"] for row in rows])
    for row in rows:
        row.update(presence[row["conversation_id"]].frame_fields())
    tickets = escalation_queue(tenant=tenant).filter(mode=Mode.TICKET).count()
    return LiveQueue(rows=rows, more=more, tickets=tickets, presence=presence)


@dataclass(frozen=True)
class Backlog:
    """One page of the ticket backlog: its rows, and the page for its number and neighbours."""

    rows: list[dict[str, Any]]
    page: Page[Escalation]


def ticket_backlog(*, tenant: Tenant, page: str | None) -> Backlog:
    """Open ticket-mode escalations in queue order, ``BACKLOG_PAGE_SIZE`` a page; a page number that
    is no number is the first page, one past the end the last (two queries)."""
    found = Paginator(escalation_queue(tenant=tenant).filter(mode=Mode.TICKET), BACKLOG_PAGE_SIZE).get_page(page)
    return Backlog(rows=[_row(escalation, None) for escalation in found], page=found)


def transcript_rows(*, tenant: Tenant, escalation: Escalation) -> list[dict[str, Any]]:
    messages = (
        Message.objects.for_tenant(tenant)
        .filter(conversation_id=escalation.conversation_id)
        .exclude(role=MessageRole.SYSTEM)
        .select_related("agent")
        .order_by("created_at", "pk")
    )
    return [transcript_row(m) for m in messages]
