"""Django's error pages for bad requests (``handler400``) and pages not found (``handler404``),
used when ``DEBUG`` is off.

A staff member who drops 150 help articles on the console's upload form trips Django's
``DATA_UPLOAD_MAX_NUMBER_FILES`` before any view runs (the CSRF check reads the form first), and
Django's own page says only "Bad Request (400)". This page names the limit and leads back. A form
whose multipart body Django's parser cannot read (a Content-Type without its boundary, a base64 part
cut short or not base64) is said to be unreadable, to be sent again from its page; Django logs it
with a traceback, which ``UnreadableFormLine`` (a filter on ``django.request``, set in ``LOGGING``)
makes one WARNING line. Any other bad request keeps a generic message (its details are not for the
client). An API client
that calls a path no endpoint serves, or is refused before any view runs (a Host header not in
ALLOWED_HOSTS), gets JSON like every other API error, not an HTML page; a console page not found
(another tenant's document, one deleted meanwhile) is a console page that says what was not found
and leads back, not Django's bare "Not Found".
"""

from __future__ import annotations

import logging

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views import defaults

from supportai.client_address import client_ip_from_request
from supportai.quoted import Quoted
from supportai.request_limits import request_limit_error

GENERIC = "The server could not understand the request."
UNREADABLE_FORM = (
    "The form's data could not be read: the upload arrived malformed or cut short. Try again from the page."
)
STAFF_PAGES = ("/console/", "/admin/")  # where "Back to the page" may lead
API_PREFIX = "/api/"
CONSOLE_PREFIX = "/console/"
NO_SUCH_ENDPOINT = "No API endpoint at this path; /api/docs/ lists them."


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Rendered without the request's context processors: the request may have been refused before
    the middleware that they rely on (sessions, authentication) ran."""
    message, status = _said(exception)
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": message}, status=status)
    back = request.path if request.path.startswith(STAFF_PAGES) else "/console/"
    page = render_to_string("bad_request.html", {"message": message, "back": back})
    return HttpResponse(page, status=status)


def _said(exception: Exception) -> tuple[str, int]:
    """The message and status for a request refused with ``exception``."""
    if limit := request_limit_error(exception):
        return limit.message, limit.status
    if isinstance(exception, MultiPartParserError):
        return UNREADABLE_FORM, 400
    return GENERIC, 400


class UnreadableFormLine(logging.Filter):
    """Makes Django's record of a request whose multipart body could not be read (``MultiPartParserError``)
    one line, without its traceback: the path, the client and what the parser said (cut and escaped:
    it may quote the Content-Type sent). Other records pass as they are."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(request, HttpRequest) and isinstance(error, MultiPartParserError):
            client = client_ip_from_request(request)
            record.msg = (
                f"form data could not be read: refused {Quoted(request.path)!r} from {client}: {Quoted(str(error))!r}"
            )
            record.args = ()
            record.exc_info = record.exc_text = record.stack_info = None
        return True


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": NO_SUCH_ENDPOINT}, status=404)
    if request.path.startswith(CONSOLE_PREFIX):
        return render(request, "console/not_found.html", {"reason": _not_found_reason(exception)}, status=404)
    return defaults.page_not_found(request, exception)


def _not_found_reason(exception: Exception) -> str:
    """What a view's ``Http404("No such document.")`` says; "" for a path no view serves (Django's
    ``Resolver404`` carries the patterns it tried, not for the client)."""
    if type(exception) is Http404 and exception.args and isinstance(exception.args[0], str):
        return exception.args[0]
    return ""
