"""``{{ value|from_iso }}``: an ISO 8601 time kept as text (a queue row, which the inbox socket also
sends as JSON) back as a datetime, for ``|date`` to draw in the active time zone; ``{{ value|clock }}``:
a recent time as the inbox says it, "14:02" today and "2026-03-01 14:02" on another day."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.dateparse import parse_datetime

register = template.Library()


@register.filter
def from_iso(value: str) -> datetime | None:
    """The datetime ``value`` writes, or None (``|date`` then draws nothing) when it is none."""
    try:
        return parse_datetime(value)
    except (TypeError, ValueError):
        return None


@register.filter
def clock(value: datetime | None) -> str:
    """``value`` in the active time zone: its time of day when that is today there, else its date too."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return date_format(local, "H:i" if local.date() == timezone.localdate() else "Y-m-d H:i")
