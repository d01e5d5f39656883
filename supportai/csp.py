"""Content-Security-Policy for the staff pages (the console and the admin).

Staff pages show what customers and uploads wrote: document titles and addresses, chat
transcripts, escalation reasons. Everything is escaped when rendered; the policy is the second
line: even a script that slipped into a page could not run, load code from elsewhere, send data
off-site or be framed. These pages use only our own files (``static/console``, the admin's) and
no inline script, style element or style attribute (give an element a class in console.css
instead), so the policy can be strict; supportai/tests/test_csp.py walks them in Chromium. The
demo page and the widget are not covered: the widget runs on customers' own sites under their
policies, and styles its shadow root inline.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase
from django.utils.deprecation import MiddlewareMixin

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


class ContentSecurityPolicyMiddleware(MiddlewareMixin):
    """Adds ``STAFF_POLICY`` to responses under ``STAFF_PREFIXES`` (the path below any script
    prefix) that set no policy of their own. MiddlewareMixin keeps it usable on both the sync and
    the async path, so ASGI requests never switch threads for it."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if request.path_info.startswith(STAFF_PREFIXES) and HEADER not in response:
            response[HEADER] = STAFF_POLICY
        return response
