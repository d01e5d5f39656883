"""Django's error page for bad requests (``handler400``), used when ``DEBUG`` is off.

A staff member who drops 150 help articles on the console's upload form trips Django's
``DATA_UPLOAD_MAX_NUMBER_FILES`` before any view runs (the CSRF check reads the form first), and
Django's own page says only "Bad Request (400)". This page names the limit and leads back; any
other bad request keeps a generic message (its details are not for the client).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from supportai.request_limits import request_limit_error

GENERIC = "The server could not understand the request."
STAFF_PAGES = ("/console/", "/admin/")  # where "Back to the page" may lead


def bad_request(request: HttpRequest, exception: BaseException) -> HttpResponse:
    """Rendered without the request's context processors: the request may have been refused before
    the middleware that they rely on (sessions, authentication) ran."""
    limit = request_limit_error(exception)
    message, status = (limit.message, limit.status) if limit else (GENERIC, 400)
    back = request.path if request.path.startswith(STAFF_PAGES) else "/console/"
    page = render_to_string("bad_request.html", {"message": message, "back": back})
    return HttpResponse(page, status=status)
