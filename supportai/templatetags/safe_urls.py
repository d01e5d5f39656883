"""Template filters for links whose address comes from tenant data (uploaded documents, sources).

Autoescaping keeps such an address inside its ``href`` attribute but not out of a dangerous scheme:
``javascript:alert(document.cookie)`` from a document's front matter would still run when a staff
member clicks it. ``{{ url|http_url }}`` lets through only absolute http(s) addresses, the rule of
``safeUrl`` in the customer widget (static/widget/supportai.js) minus the relative addresses the
widget resolves against the page: a document's relative address means nothing in the console.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django import template

register = template.Library()

HTTP_SCHEMES = frozenset({"http", "https"})

# What a browser's URL parser drops before it reads the scheme (WHATWG URL standard): C0 control
# characters and spaces at either end, and every tab and newline wherever they are, so that
# " javascript:" and "java\tscript:" are javascript: to a browser and must be to this check too.
_C0_CONTROL_OR_SPACE = "".join(chr(code) for code in range(0x21))
_DROP_TAB_AND_NEWLINE = str.maketrans("", "", "\t\n\r")


@register.filter
def http_url(value: object) -> str:
    """``value`` as a browser would read it when that is an absolute http or https address with a
    host; otherwise "" (so ``{% if %}`` on the result decides between a link and plain text)."""
    if not isinstance(value, str):
        return ""
    url = value.strip(_C0_CONTROL_OR_SPACE).translate(_DROP_TAB_AND_NEWLINE)
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket: no browser would follow it either
        return ""
    if parts.scheme.lower() not in HTTP_SCHEMES or not parts.netloc:
        return ""
    return url
