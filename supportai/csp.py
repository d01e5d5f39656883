"""Content-Security-Policy for the staff pages (the console and the admin).

Staff pages show what customers and uploads wrote: document titles and addresses, chat
transcripts, escalation reasons. Everything is escaped when rendered; the policy is the second
line: even a script that slipped into a page could not run, load code from elsewhere, send data
off-site or be framed. These pages use only our own files (``static/console``, the admin's) and
no inline script, style element or style attribute (give an element a class in console.css
instead), so the policy can be strict; supportai/tests/test_csp.py walks them in Chromium. The
demo page and the widget are not covered: the widget runs on customers' own sites under their
policies, and styles its shadow root inline.

With ``DEBUG`` on, Django's technical error pages (``django.views.debug``: the 404 and 500 pages that
stand in for ours) bring their own ``<style>`` element. An error response under the staff prefixes that
carries one of those stylesheets, exactly as Django ships it, gets the policy with that stylesheet's hash
added to ``style-src``, so it is drawn styled; nothing else inline is let in (the 500 page's script and
``onclick`` handlers stay blocked: its frames then show their context open). Every other response, and
every response with ``DEBUG`` off, gets ``STAFF_POLICY`` as it is.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.deprecation import MiddlewareMixin
from django.views.debug import builtin_template_path

HEADER = "Content-Security-Policy"
STAFF_PREFIXES = ("/console/", "/admin/")
# 'self' covers ws(s):// of this host in CSP Level 3 (the inbox's live socket).
STAFF_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


DEBUG_PAGES = ("technical_404.html", "technical_500.html")
STYLE_ELEMENT = re.compile(r"<style>(.*?)</style>", re.DOTALL)


@functools.cache
def debug_page_styles() -> frozenset[str]:
    """The text of the ``<style>`` elements of Django's technical error pages, as they are drawn (they
    hold no template tags)."""
    return frozenset(
        style
        for name in DEBUG_PAGES
        for style in STYLE_ELEMENT.findall(builtin_template_path(name).read_text(encoding="utf-8"))
    )


def _hash_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def policy_for(response: HttpResponseBase) -> str:
    """``STAFF_POLICY``; for a technical error page of ``DEBUG`` (see the module), with the hash of its own
    stylesheet in ``style-src``."""
    if not settings.DEBUG or response.status_code < 400 or not isinstance(response, HttpResponse):
        return STAFF_POLICY
    if not response.get("Content-Type", "").startswith("text/html"):
        return STAFF_POLICY
    body = response.content.decode(response.charset or "utf-8", errors="replace")
    known = debug_page_styles()
    hashes = sorted({_hash_source(style) for style in STYLE_ELEMENT.findall(body) if style in known})
    if not hashes:
        return STAFF_POLICY
    return STAFF_POLICY.replace("style-src 'self'", " ".join(["style-src 'self'", *hashes]), 1)


class ContentSecurityPolicyMiddleware(MiddlewareMixin):
    """Adds ``STAFF_POLICY`` (``policy_for``) to responses under ``STAFF_PREFIXES`` (the path below any
    script prefix) that set no policy of their own. MiddlewareMixin keeps it usable on both the sync and
    the async path, so ASGI requests never switch threads for it."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if request.path_info.startswith(STAFF_PREFIXES) and HEADER not in response:
            response[HEADER] = policy_for(response)
        return response
