"""``/favicon.ico``: browsers ask for it on every page whatever the page links, so it leads to the
product's icon (``static/console/icon.svg``, which the pages link with ``<link rel="icon">``)
rather than answering 404 and filling the log."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.views.decorators.http import require_GET

ICON = "console/icon.svg"


@require_GET
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """A permanent redirect to the icon's static URL (hashed in production, so it is looked up
    per request rather than when the URLconf loads)."""
    return HttpResponsePermanentRedirect(static(ICON))
