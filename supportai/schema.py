"""drf-spectacular hooks for ``/api/schema/``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import reverse

from chat.public_schema import PublicMessageDoc, PublicMessageStreamDoc
from escalations.public_schema import PublicEscalateDoc

# URL name → the documentation view of a plain (async) view that drf-spectacular cannot find itself.
PLAIN_VIEW_DOCS = {
    "public-chat-message": PublicMessageDoc,
    "public-chat-stream": PublicMessageStreamDoc,
    "public-chat-escalate": PublicEscalateDoc,
}

Endpoint = tuple[str, str, str, Callable[..., Any]]


def public_chat_endpoints(endpoints: list[Endpoint]) -> list[Endpoint]:
    """Preprocessing hook: the public chat endpoints' ``POST``, documented by their documentation views."""
    documented = []
    for name, view in PLAIN_VIEW_DOCS.items():
        path = reverse(name)
        documented.append((path, path.lstrip("/"), "POST", view.as_view()))
    return [*endpoints, *documented]
