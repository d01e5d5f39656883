"""Daphne hands request bodies to Django untouched; Twisted must not parse uploads first, nor read a
public chat body past its limit.

Twisted's ``http.Request`` parses every ``multipart/form-data`` POST into ``request.args`` before
daphne sees it, although daphne never reads ``args``: it passes the raw body to the ASGI
application, where Django parses it again, streaming files to disk. Twisted's parse goes through
the ``email`` package with the whole body in memory: an 81 MB upload raised daphne's peak memory by
~740 MB, and a malformed multipart body got a bare ``400`` with no message, before any of our code
could explain it. Twisted's ``parsePOSTFormSubmission=False`` turns that parse off; daphne builds
its requests from the module global ``daphne.http_protocol.WebRequest`` (``HTTPFactory``) and offers
no other hook, so that global is replaced by a subclass that passes the flag.

Twisted also reads a request's whole body (in memory, then a temporary file) before daphne hands it
to the application, so a view's size check comes once the client has sent it all, however large.
The public chat endpoints (``/api/v1/public/``) take at most ``MAX_FRAME_BYTES``: a body declared
larger is answered ``413`` with the protocol's ``too_long`` error before a byte of it is read, one
sent without a length (chunked) as soon as it passes the limit, and the connection is closed. The
path is the one Django routes: decoded, less the root path (``--root-path``, or the
``Daphne-Root-Path`` header daphne takes from any client).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from daphne import http_protocol

from chat.protocol import MAX_FRAME_BYTES, ErrorCode
from chat.public_api import BODY_TOO_LONG

PUBLIC_PREFIX = "/api/v1/public/"


def body_limit(target: bytes, root_path: str = "") -> int | None:
    """The most bytes a request body to ``target`` (the request line's, query included) may have here;
    None: Django's own limits apply, once it is read. The path is decoded as daphne gives it to Django,
    which routes it less ``root_path`` (decoded, as daphne gives it)."""
    path = unquote(target.split(b"?", 1)[0].decode("latin-1"))
    if root_path:
        path = path.removeprefix(root_path)
    return MAX_FRAME_BYTES if path.startswith(PUBLIC_PREFIX) else None


class DjangoParsesUploads(http_protocol.WebRequest):
    """Daphne's request without Twisted's form parsing (``request.args`` holds only the query string)."""

    body_limit: int | None = None  # bytes this request's body may have (None: no limit here)
    body_read = 0
    body_refused = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "parsePOSTFormSubmission": False})

    def gotLength(self, length: int | None) -> None:
        """The headers are in: a public chat body declared over its limit is refused now."""
        self.body_limit = body_limit(self.channel._path, self.root_path_for_django())
        if self.body_limit is not None and length is not None and length > self.body_limit:
            super().gotLength(0)
            self.refuse_body()
            return
        super().gotLength(length)

    def root_path_for_django(self) -> str:
        """The root path daphne will give Django: the last ``Daphne-Root-Path`` header's, or the server's."""
        header = self.requestHeaders.getRawHeaders(b"daphne-root-path")
        if header:
            return unquote(header[-1].decode("latin-1"))
        root_path: str = self.channel.factory.server.root_path
        return root_path

    def handleContentChunk(self, data: bytes) -> None:
        if self.body_refused:  # the rest of what had arrived with the refused part
            return
        self.body_read += len(data)
        if self.body_limit is not None and self.body_read > self.body_limit:
            self.refuse_body()
            return
        super().handleContentChunk(data)

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
        if not self.body_refused:  # a refused body that was complete in its last read reaches no view
            super().requestReceived(command, path, version)

    def refuse_body(self) -> None:
        """Answer ``413 too_long`` (the public endpoints' error JSON) and close: nothing more is read."""
        self.body_refused = True
        self.requestHeaders.removeHeader(b"expect")  # no "100 Continue" after the answer
        body = json.dumps({"type": "error", "code": ErrorCode.TOO_LONG.value, "message": BODY_TOO_LONG}).encode()
        head = (
            b"HTTP/1.1 413 Request Entity Too Large\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
        )
        self.channel.transport.write(head + body)
        self.channel.loseConnection()


def leave_form_parsing_to_django() -> None:
    """Make daphne build ``DjangoParsesUploads`` requests (idempotent; before it serves a request)."""
    http_protocol.WebRequest = DjangoParsesUploads
