"""Daphne hands request bodies to Django untouched; Twisted must not parse uploads first, nor read a
body past its path's limit (public chat, the Stripe webhook, sign-in forms, knowledge uploads, and a
default for every other path).

Twisted's ``http.Request`` parses every ``multipart/form-data`` POST into ``request.args`` before
daphne sees it, although daphne never reads ``args``: it passes the raw body to the ASGI
application, where Django parses it again, streaming files to disk. Twisted's parse goes through
the ``email`` package with the whole body in memory: an 81 MB upload raised daphne's peak memory by
~740 MB, and a malformed multipart body got a bare ``400`` with no message, before any of our code
could explain it. Twisted's ``parsePOSTFormSubmission=False`` turns that parse off; daphne builds
its requests from the module global ``daphne.http_protocol.WebRequest`` (``HTTPFactory``) and offers
no other hook, so that global is replaced by a subclass that passes the flag.

Twisted also reads a request's whole body before daphne hands it on: in memory when its declared
length is under 100,000 bytes, else (a chunked body too) in a temporary file on disk
(``twisted.web.http._getContentFile``, called from ``gotLength``). Once it is complete, daphne reads
that file into the application's queue at once, in 8 KiB messages (the whole body in memory, the file
kept until the request ends), and Django copies the queue into a ``SpooledTemporaryFile`` (in memory up
to ``FILE_UPLOAD_MAX_MEMORY_SIZE``, 2.5 MiB, then on disk) before any view runs. So a view's size check
comes once the client has sent it all, however large. Bodies to the paths below are held to a limit
there instead: a body declared larger is answered ``413`` before a byte of it is read, one sent without
a length (chunked) as soon as it passes the limit. The connection then lingers (``LingeringClose``, as
nginx's ``lingering_close``): no other request is read from it, its write side is shut once the answer
is out, and what the client still sends is read and dropped, never kept, until the client closes, for
at most ``LINGER_SECONDS`` (5 s) and ``linger_bytes`` (twice the limit, at least 16 MiB); then it is
closed. Closed at once, it was reset under a client still writing its body (a browser's form upload,
most HTTP libraries: no ``Expect: 100-continue``), whose send failed, and which often never read the
``413`` (a reset may erase what the client had received, RFC 9112, 9.6).

* the public chat endpoints (``/api/v1/public/``): ``MAX_FRAME_BYTES``, the protocol's ``too_long`` error;
* the Stripe webhook: ``STRIPE_EVENT_MAX_BYTES`` (1 MiB), its ``{"error"}`` JSON;
* the sign-in forms (the console's and admin's log-in, log-out and password change, and the admin's
  page that sets another user's password):
  ``AUTH_FORM_MAX_BYTES`` (16 KiB), a plain-text message;
* the knowledge uploads (the REST API's and the console's): ``KNOWLEDGE_MAX_UPLOAD_REQUEST_BYTES``
  (default 100 MiB: a batch of files, each up to ``KNOWLEDGE_MAX_UPLOAD_BYTES``, which the upload
  checks file by file), the API's ``{"detail"}`` JSON or a plain-text message.
* every other path (health checks, unknown paths, the API's JSON endpoints, the admin, the console):
  ``HTTP_MAX_BODY_BYTES`` (default 2.5 MiB, ``DATA_UPLOAD_MAX_MEMORY_SIZE``: Django reads no larger
  form, and no other path takes files), ``{"detail"}`` JSON under ``/api/``, a plain-text message elsewhere.

The path is the one Django routes: decoded, less the root path (``--root-path``, or the
``Daphne-Root-Path`` header daphne takes from any client), resolved as Django resolves it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from daphne import http_protocol
from django.conf import settings
from django.urls import Resolver404, resolve
from twisted.internet import tcp

from chat.protocol import MAX_FRAME_BYTES, ErrorCode
from chat.public_api import BODY_TOO_LONG
from knowledge.uploads import upload_request_max_bytes, upload_request_too_large

PUBLIC_PREFIX = "/api/v1/public/"
# A Stripe event carries one API object (embedded lists cut at 10 items, metadata at 50 keys of 500
# characters): a few KiB, rarely tens. Below DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MiB), Django's own guard.
STRIPE_EVENT_MAX_BYTES = 1_048_576
# A user name, a password or three, a CSRF token and a ``next`` URL.
AUTH_FORM_MAX_BYTES = 16_384
# Once a body is refused, what the client still sends is read and dropped for at most this long, and
# at most linger_bytes: time for a client that writes its whole body before it reads (a browser's form
# upload) to finish and read the 413, as nginx's lingering_close (5 s between reads, 30 s in all).
# 5 s lets a client on 100 Mbit/s finish ~60 MiB; a slower or endless one is cut off then.
LINGER_SECONDS = 5.0
# The least a refused request may still send (linger_bytes): a body up to twice its limit (a batch of
# uploads well over it), or up to 16 MiB on a path of a small limit (a file sent to a sign-in form or a
# 2.5 MiB path), still gets its 413. Dropping costs reads, never memory; a fast endless sender is cut
# off after it, long before LINGER_SECONDS.
LINGER_MIN_BYTES = 16_777_216

STRIPE_EVENT_TOO_LARGE = "The request body is over the {limit:,}-byte limit of a Stripe event."
AUTH_FORM_TOO_LARGE = "The form is over the {limit:,}-byte limit of a sign-in form."
BODY_TOO_LARGE = "The request body is over the {limit:,}-byte limit of a request to this path."
API_PREFIX = "/api/"
STRIPE_WEBHOOK = "bookings:stripe_webhook"
AUTH_FORMS = frozenset(
    {
        "console:login",
        "console:logout",
        "admin:login",
        "admin:logout",
        "admin:password_change",
        "admin:auth_user_password_change",
    }
)
API_UPLOAD = "api-knowledge-documents"
CONSOLE_UPLOAD = "knowledge_console:documents"


@dataclass(frozen=True)
class BodyLimit:
    """The most bytes a request body may have, and the ``413`` that refuses one over it."""

    limit: int
    content_type: bytes
    body: bytes

    @classmethod
    def json_error(cls, limit: int, payload: dict[str, Any]) -> BodyLimit:
        return cls(limit, b"application/json", json.dumps(payload).encode())

    @classmethod
    def text_error(cls, limit: int, message: str) -> BodyLimit:
        return cls(limit, b"text/plain; charset=utf-8", message.encode())

    def answer(self) -> bytes:
        return (
            b"HTTP/1.1 413 Request Entity Too Large\r\nContent-Type: %s\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n" % (self.content_type, len(self.body))
        ) + self.body


def linger_bytes(limit: int) -> int:
    """The most bytes read and dropped after refusing a body over ``limit``."""
    return max(2 * limit, LINGER_MIN_BYTES)


def upload_limit() -> BodyLimit:
    """The knowledge uploads' limit: a request's ``KNOWLEDGE_MAX_UPLOAD_REQUEST_BYTES``."""
    return BodyLimit.text_error(upload_request_max_bytes(), upload_request_too_large())


def default_limit(path: str) -> BodyLimit:
    """The limit of a path without one of its own: ``HTTP_MAX_BODY_BYTES``, JSON under ``/api/``."""
    limit: int = settings.HTTP_MAX_BODY_BYTES
    message = BODY_TOO_LARGE.format(limit=limit)
    if path.startswith(API_PREFIX):
        return BodyLimit.json_error(limit, {"detail": message})
    return BodyLimit.text_error(limit, message)


def body_limit(target: bytes, root_path: str = "") -> BodyLimit:
    """The limit of a request body to ``target`` (the request line's, query included) here. The path
    is decoded as daphne gives it to Django, which routes it less ``root_path`` (decoded, as daphne
    gives it)."""
    path = unquote(target.split(b"?", 1)[0].decode("latin-1"))
    if root_path:
        path = path.removeprefix(root_path)
    if path.startswith(PUBLIC_PREFIX):
        return BodyLimit.json_error(
            MAX_FRAME_BYTES, {"type": "error", "code": ErrorCode.TOO_LONG.value, "message": BODY_TOO_LONG}
        )
    try:
        view = resolve(path).view_name
    except Resolver404:
        return default_limit(path)
    if view == STRIPE_WEBHOOK:
        return BodyLimit.json_error(
            STRIPE_EVENT_MAX_BYTES, {"error": STRIPE_EVENT_TOO_LARGE.format(limit=STRIPE_EVENT_MAX_BYTES)}
        )
    if view in AUTH_FORMS:
        return BodyLimit.text_error(AUTH_FORM_MAX_BYTES, AUTH_FORM_TOO_LARGE.format(limit=AUTH_FORM_MAX_BYTES))
    if view == API_UPLOAD:
        limit = upload_limit()
        return BodyLimit.json_error(limit.limit, {"detail": limit.body.decode()})
    if view == CONSOLE_UPLOAD:
        return upload_limit()
    return default_limit(path)


class LingeringClose:
    """A connection whose request's body was refused, once its ``413`` is written: it parses nothing
    more (the body's rest, or a request after it), reads and drops what the client sends, its own side
    shut for writing (a TCP or Unix socket's; a TLS connection's stays open: its wrapper has no half-close
    of its own and would pass the call to the socket under it), until the client closes,
    ``LINGER_SECONDS`` pass or more than ``max_bytes`` came; then it is closed at once."""

    def __init__(self, channel: Any, max_bytes: int) -> None:
        self.transport = channel.transport
        self.left = max_bytes
        channel.dataReceived = channel.rawDataReceived = self.discard
        if isinstance(self.transport, tcp.Connection):
            self.transport.loseWriteConnection()
        self.deadline = channel.callLater(LINGER_SECONDS, self.close)

    def discard(self, data: bytes) -> None:
        self.left -= len(data)
        if self.left < 0:
            self.close()

    def close(self) -> None:
        """Closed without waiting for writes: a client that has not read the ``413`` by now never will."""
        self.transport.abortConnection()

    def stop(self) -> None:
        """The connection is gone: no close is due."""
        if self.deadline.active():
            self.deadline.cancel()


class DjangoParsesUploads(http_protocol.WebRequest):
    """Daphne's request without Twisted's form parsing (``request.args`` holds only the query string)."""

    body_limit: BodyLimit | None = None  # this request's body limit, once its headers are in
    body_read = 0
    body_refused = False
    lingering: LingeringClose | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "parsePOSTFormSubmission": False})

    def gotLength(self, length: int | None) -> None:
        """The headers are in: a body declared over its path's limit is refused now."""
        self.body_limit = body_limit(self.channel._path, self.root_path_for_django())
        if length is not None and length > self.body_limit.limit:
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
        if self.body_limit is not None and self.body_read > self.body_limit.limit:
            self.refuse_body()
            return
        super().handleContentChunk(data)

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
        if not self.body_refused:  # a refused body that was complete in its last read reaches no view
            super().requestReceived(command, path, version)

    def refuse_body(self) -> None:
        """Answer the limit's ``413``, then linger: what the client still sends is dropped, then closed."""
        assert self.body_limit is not None
        self.body_refused = True
        self.requestHeaders.removeHeader(b"expect")  # no "100 Continue" after the answer
        self.channel.transport.write(self.body_limit.answer())
        self.lingering = LingeringClose(self.channel, linger_bytes(self.body_limit.limit))

    def connectionLost(self, reason: Any) -> None:
        if self.lingering is not None:
            self.lingering.stop()
        super().connectionLost(reason)


def leave_form_parsing_to_django() -> None:
    """Make daphne build ``DjangoParsesUploads`` requests (idempotent; before it serves a request)."""
    http_protocol.WebRequest = DjangoParsesUploads
