"""Template filters for links whose address comes from tenant data (uploaded documents, sources).

Autoescaping keeps such an address inside its ``href`` attribute but not out of a dangerous scheme:
``javascript:alert(document.cookie)`` from a document's front matter would still run when a staff
member clicks it. ``{{ url|http_url }}`` lets through only absolute http(s) addresses, the rule of
``safeUrl`` in the customer widget (static/widget/supportai.js) minus the relative addresses the
widget resolves against the page: a document's relative address means nothing in the console.
"""

from __future__ import annotations

from django import template

from supportai import outbound

register = template.Library()


@register.filter
def http_url(value: object) -> str:
    """``value`` as a browser would read it when that is an absolute http or https address with a
    host; otherwise "" (so ``{% if %}`` on the result decides between a link and plain text)."""
    return outbound.http_url(value)
