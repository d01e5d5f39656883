"""``{% presence_phrases %}``: the console's phrases for a customer's presence, as a JSON script element for
the page's scripts; ``{{ row|row_presence }}``: what a live queue row (a frame's dict) says of its customer."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import json_script
from django.utils.safestring import SafeString

from escalations.presence_phrases import PHRASES, PHRASES_ID, presence_phrase
from supportai.templatetags.times import from_iso

register = template.Library()


@register.simple_tag
def presence_phrases() -> SafeString:
    return json_script(PHRASES, PHRASES_ID)


@register.filter
def row_presence(row: dict[str, Any]) -> str:
    return presence_phrase(
        present=row.get("customer_present"),
        left_at=from_iso(row.get("customer_left_at") or ""),
        lost_at=from_iso(row.get("customer_lost_at") or ""),
    )
