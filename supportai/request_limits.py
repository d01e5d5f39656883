"""What to tell a client whose request tripped one of Django's request-size guards.

Django refuses a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (JSON or form fields; files do not
count), more than ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` fields or ``DATA_UPLOAD_MAX_NUMBER_FILES``
files, and answers with a bare 400 page. The REST API (``supportai.api_errors``) and the staff
pages (``supportai.error_pages``) say instead which limit it was.
"""

from __future__ import annotations

from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent

BODY_TOO_LARGE = (
    "The request body is over the {limit:,}-byte limit for data sent as JSON or form fields; "
    "send large content as uploaded files."
)
TOO_MANY_FIELDS = "The request has more than {limit:,} form fields."
TOO_MANY_FILES = "The request has more than {limit:,} files; send them in smaller batches."
# The REST API takes at most this many files a request, below Django's guard (100 by default): a
# client that trips the guard is told this limit, the one it has to keep to.
API_MAX_FILES = 50


class LimitError(NamedTuple):
    status: int
    message: str


def request_limit_error(exc: BaseException, *, max_files: int | None = None) -> LimitError | None:
    """The status and message for one of Django's request-size guards; None for anything else.
    ``max_files``: the caller's own, lower limit on files, named instead of Django's."""
    if isinstance(exc, RequestDataTooBig):
        return LimitError(413, BODY_TOO_LARGE.format(limit=settings.DATA_UPLOAD_MAX_MEMORY_SIZE))
    if isinstance(exc, TooManyFieldsSent):
        return LimitError(400, TOO_MANY_FIELDS.format(limit=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS))
    if isinstance(exc, TooManyFilesSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        return LimitError(400, TOO_MANY_FILES.format(limit=min(limit, max_files) if max_files else limit))
    return None
