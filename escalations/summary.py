"""A plain-text summary of the recent conversation for agents, emails and tickets.

It stays plain text: control characters are removed and it is always escaped where it is rendered
(console templates, HTML email), never trusted as markup.
"""

from __future__ import annotations

import re

from chat.models import Conversation, Message, MessageStatus
from supportai.models import Tenant

SUMMARY_MESSAGES = 12
LINE_CHARS = 300
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
LABELS = {"customer": "Customer", "assistant": "Assistant", "agent": "Agent", "system": "System"}


def clean_line(text: str) -> str:
    flat = _CONTROL.sub(" ", text).replace("\n", " ").strip()
    return flat if len(flat) <= LINE_CHARS else flat[: LINE_CHARS - 1] + "…"


def conversation_summary(*, tenant: Tenant, conversation: Conversation) -> str:
    recent = (
        Message.objects.for_tenant(tenant)
        .filter(conversation=conversation)
        .exclude(status=MessageStatus.STREAMING)
        .order_by("-pk")[:SUMMARY_MESSAGES]
    )
    return "\n".join(f"{LABELS.get(m.role, m.role)}: {clean_line(m.text)}" for m in reversed(list(recent)))
