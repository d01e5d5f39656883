"""Daphne hands request bodies to Django untouched; Twisted must not parse uploads first.

Twisted's ``http.Request`` parses every ``multipart/form-data`` POST into ``request.args`` before
daphne sees it, although daphne never reads ``args``: it passes the raw body to the ASGI
application, where Django parses it again, streaming files to disk. Twisted's parse goes through
the ``email`` package with the whole body in memory: an 81 MB upload raised daphne's peak memory by
~740 MB, and a malformed multipart body got a bare ``400`` with no message, before any of our code
could explain it. Twisted's ``parsePOSTFormSubmission=False`` turns that parse off; daphne builds
its requests from the module global ``daphne.http_protocol.WebRequest`` (``HTTPFactory``) and offers
no other hook, so that global is replaced by a subclass that passes the flag.
"""

from __future__ import annotations

from typing import Any

from daphne import http_protocol


class DjangoParsesUploads(http_protocol.WebRequest):
    """Daphne's request without Twisted's form parsing (``request.args`` holds only the query string)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "parsePOSTFormSubmission": False})


def leave_form_parsing_to_django() -> None:
    """Make daphne build ``DjangoParsesUploads`` requests (idempotent; before it serves a request)."""
    http_protocol.WebRequest = DjangoParsesUploads
