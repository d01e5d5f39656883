"""``{{ name|isolated }}``: a name from tenant data as a directional isolate (``supportai.bidi``),
for plain text where ``<bdi>`` cannot go, such as ``<title>``."""

from __future__ import annotations

from django import template

from supportai.bidi import isolate

register = template.Library()
register.filter("isolated", isolate)
