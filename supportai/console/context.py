from __future__ import annotations

from django.http import HttpRequest

from supportai.console.tenancy import console_memberships, current_membership

CONSOLE_SECTIONS = (
    ("conversations", "Conversations"),
    ("inbox", "Inbox"),
    ("bookings", "Bookings"),
    ("knowledge", "Knowledge"),
    ("analytics", "Analytics"),
    ("experiments", "Experiments"),
    ("settings", "Settings"),
)


def console_context(request: HttpRequest) -> dict[str, object]:
    """Navigation and tenant data for console templates (empty outside ``/console/``)."""
    if not request.path.startswith("/console/") or not request.user.is_authenticated:
        return {}
    return {
        "console_sections": CONSOLE_SECTIONS,
        # the section a page belongs to, inner pages too (/console/knowledge/search/ → knowledge)
        "console_section": request.path.removeprefix("/console/").split("/", 1)[0],
        "console_membership": current_membership(request),
        "console_memberships": console_memberships(request),
    }
