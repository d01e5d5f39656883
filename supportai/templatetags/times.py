"""``{{ value|from_iso }}``: an ISO 8601 time kept as text (a queue row, which the inbox socket also
sends as JSON) back as a datetime, for ``|date`` to draw in the active time zone."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils.dateparse import parse_datetime

register = template.Library()


@register.filter
def from_iso(value: str) -> datetime | None:
    """The datetime ``value`` writes, or None (``|date`` then draws nothing) when it is none."""
    try:
        return parse_datetime(value)
    except (TypeError, ValueError):
        return None
