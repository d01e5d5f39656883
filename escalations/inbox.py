"""Read models of the staff inbox: queue rows and a transcript, as plain dicts for templates and the socket."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User

from chat.models import Message, MessageRole
from escalations.models import Escalation
from escalations.selectors import escalation_queue, waiting_positions
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


def _preview(escalation: Escalation) -> str:
    lines = [line for line in escalation.summary.splitlines() if line.startswith("Customer: ")]
    return lines[-1].removeprefix("Customer: ")[:140] if lines else escalation.reason[:140]


def queue_rows(*, tenant: Tenant) -> list[dict[str, Any]]:
    positions = waiting_positions(tenant=tenant)
    return [
        {
            "escalation_id": escalation.pk,
            "conversation_id": escalation.conversation_id,
            "priority": escalation.priority,
            "status": escalation.status,
            "mode": escalation.mode,
            "reason_codes": list(escalation.reason_codes),
            "assigned_to": _agent_name(escalation.assigned_to),
            "sla_due_at": escalation.sla_due_at.isoformat(),
            "created_at": escalation.created_at.isoformat(),
            "position": positions.get(escalation.pk),
            "preview": _preview(escalation),
        }
        for escalation in escalation_queue(tenant=tenant)
    ]


def transcript_rows(*, tenant: Tenant, escalation: Escalation) -> list[dict[str, Any]]:
    messages = (
        Message.objects.for_tenant(tenant)
        .filter(conversation_id=escalation.conversation_id)
        .exclude(role=MessageRole.SYSTEM)
        .select_related("agent")
        .order_by("created_at", "pk")
    )
    return [transcript_row(m) for m in messages]
