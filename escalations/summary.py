"""A plain-text summary of the recent conversation for agents, emails and tickets.

It stays plain text, one line per message: control characters and line breaks are removed, and it is
always escaped where it is rendered (console templates, HTML email), never trusted as markup.
"""

from __future__ import annotations

import re

from chat.models import Conversation, Message, MessageStatus
from escalations.graphemes import clip
from supportai.models import Tenant

SUMMARY_MESSAGES = 12
LINE_CHARS = 300
# Control characters (C0 but the tab, DEL, C1) and every other line break ``str.splitlines`` knows
# (U+2028, U+2029): a customer's text must not start a line of the summary that reads as someone else's.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]+")
LABELS = {"customer": "Customer", "assistant": "Assistant", "agent": "Agent", "system": "System"}


def clean_line(text: str) -> str:
    flat = _CONTROL.sub(" ", text).strip()
    return clip(flat, LINE_CHARS)


def one_line(text: str) -> str:
    """``text`` on one line: each of its lines cleaned as the summary's (``str.splitlines``' breaks, so
    U+2028 too), joined by " / ", so text a customer wrote cannot start a line of what staff read."""
    return " / ".join(flat for line in text.splitlines() if (flat := _CONTROL.sub(" ", line).strip()))


def conversation_summary(*, tenant: Tenant, conversation: Conversation) -> str:
    recent = (
        Message.objects.for_tenant(tenant)
        .filter(conversation=conversation)
        .exclude(status=MessageStatus.STREAMING)
        .order_by("-pk")[:SUMMARY_MESSAGES]
    )
    return "\n".join(f"{LABELS.get(m.role, m.role)}: {clean_line(m.text)}" for m in reversed(list(recent)))
