"""What the assistant knows about a verified returning customer (the prompt's customer-context block).

Only customers proven by identity verification get a context: an unverified visitor's claims never
reach the prompt. Apps add their own lines (bookings adds past bookings) by appending a contributor
to ``CONTEXT_CONTRIBUTORS``; each returns plain text lines about one end user of one tenant.
"""

from __future__ import annotations

from collections.abc import Callable

from chat.models import Conversation, Message, MessageRole
from supportai.models import EndUser, Tenant

ContextContributor = Callable[[Tenant, EndUser, Conversation], list[str]]
RECENT_CONVERSATIONS = 3
QUESTION_PREVIEW_CHARS = 160
CONTEXT_CHAR_BUDGET = 2_000


def greeting_for(*, tenant: Tenant, end_user: EndUser | None) -> str:
    first_name = end_user.full_name.split()[0] if end_user is not None and end_user.full_name.strip() else ""
    hello = f"Hi {first_name}, welcome back!" if first_name else "Hi!"
    return (
        f"{hello} I'm the {tenant.name} assistant. "
        "Ask me anything — I answer from our help centre and can get you a human."
    )


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= QUESTION_PREVIEW_CHARS else flat[: QUESTION_PREVIEW_CHARS - 1] + "…"


def identity_lines(tenant: Tenant, end_user: EndUser, conversation: Conversation) -> list[str]:
    details = [
        f"name: {end_user.full_name}" if end_user.full_name else "",
        f"email: {end_user.email}" if end_user.email else "",
    ]
    described = ", ".join(d for d in details if d) or "no name or email on file"
    return [
        f"Verified customer (their identity was confirmed by {tenant.name}'s website): {described}.",
        f"Customer since {end_user.created_at:%Y-%m-%d}.",
    ]


def recent_conversation_lines(tenant: Tenant, end_user: EndUser, conversation: Conversation) -> list[str]:
    earlier = (
        Conversation.objects.for_tenant(tenant)
        .filter(end_user=end_user)
        .exclude(pk=conversation.pk)
        .order_by("-last_activity_at")[:RECENT_CONVERSATIONS]
    )
    lines: list[str] = []
    for past in earlier:
        first_question = (
            Message.objects.for_tenant(tenant)
            .filter(conversation=past, role=MessageRole.CUSTOMER)
            .order_by("pk")
            .values_list("text", flat=True)
            .first()
        )
        if first_question:
            status = past.get_status_display().lower()
            lines.append(f"- {past.last_activity_at:%Y-%m-%d}, {status}: asked “{_preview(first_question)}”")
    return ["Recent conversations (newest first):", *lines] if lines else []


CONTEXT_CONTRIBUTORS: list[ContextContributor] = [identity_lines, recent_conversation_lines]


def customer_context_for(*, tenant: Tenant, conversation: Conversation) -> str:
    """The customer-context text for the prompt; empty for anonymous or unverified visitors."""
    end_user = conversation.end_user
    if end_user is None or end_user.tenant_id != tenant.pk:
        return ""
    lines = [line for contribute in CONTEXT_CONTRIBUTORS for line in contribute(tenant, end_user, conversation)]
    text = "\n".join(lines)
    return text if len(text) <= CONTEXT_CHAR_BUDGET else text[: CONTEXT_CHAR_BUDGET - 1] + "…"
