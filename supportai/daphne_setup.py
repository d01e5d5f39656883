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

* the public chat endpoints (``/api/v1/public/``): ``MAX_FRAME_BYTES``, the protocol's ``too_long`` error, in the
  language of the request's ``Accept-Language`` as the view would say it;
* the Stripe webhook: ``STRIPE_EVENT_MAX_BYTES`` (1 MiB), its ``{"error"}`` JSON;
* the sign-in forms (the console's and admin's log-in, log-out and password change, and the admin's
  page that sets another user's password):
  ``AUTH_FORM_MAX_BYTES`` (16 KiB), a plain-text message;
* the knowledge uploads (the REST API's and the console's): ``KNOWLEDGE_MAX_UPLOAD_REQUEST_BYTES``
  (default 100 MiB: a batch of files, each up to ``KNOWLEDGE_MAX_UPLOAD_BYTES``, which the upload
  checks file by file), the API's ``{"detail"}`` JSON or a plain-text message; but only for a request
  whose credentials may upload (below);
* every other path (health checks, unknown paths, the API's JSON endpoints, the admin, the console):
  ``HTTP_MAX_BODY_BYTES`` (default 2.5 MiB, ``DATA_UPLOAD_MAX_MEMORY_SIZE``: Django reads no larger
  form, and no other path takes files), ``{"detail"}`` JSON under ``/api/``, a plain-text message elsewhere.

The path is the one Django routes: decoded, less the root path (``--root-path``, or the
``Daphne-Root-Path`` header daphne takes from any client), resolved as Django resolves it.

The uploads' limit would let anyone make daphne hold 100 MiB a request, before Django authenticates
anyone. So an upload's body declared over ``HTTP_MAX_BODY_BYTES``, or chunked, is read only once its
``Authorization`` and ``Cookie`` headers are found to carry credentials that may upload
(``knowledge/upload_credentials.py``: an active API key, an owner's or admin's session). That check
needs the database: it runs on the database pool (``supportai.db.db_submit``, whose threads keep and
close their connections as ``db_call``'s do), never on the reactor's thread, which serves every other
connection meanwhile. Until it answers, the connection is not read from and what was read already
(the rest of the headers' last read) waits in the channel's buffer (``LineReceiver``'s pause; Twisted's
``HTTPChannel.pauseProducing`` only stops the socket), and an ``Expect: 100-continue`` is not
answered. Then the body is read as any other (``100 Continue`` first, if it was expected), or the
view's own refusal (a 401, a 403, the console's redirect to log in) is written instead and the
connection lingers as after a ``413``; a check that has not answered within ``CHECK_SECONDS`` (10 s: the
pool busy, our database slow) is given up, dropped from the pool's queue if it has not started, and
the upload answered ``503``, unread. No more than ``CHECKS_AT_ONCE`` checks (half the pool's threads) are
under way at once; an upload announced beyond them gets the same ``503`` at once, unread, so that a
flood of them leaves chat's database work the other half. A client gone meanwhile is left alone once
the check ends. A
body within ``HTTP_MAX_BODY_BYTES`` goes to Django unchecked, which answers it as before. What a client
with valid credentials sends is still held whole, up to the uploads' limit.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import unquote

from daphne import http_protocol
from django.conf import settings
from django.urls import Resolver404, resolve
from django.utils.encoding import escape_uri_path, iri_to_uri
from twisted.internet import tcp
from twisted.internet.interfaces import IReactorFromThreads
from twisted.protocols.basic import LineReceiver

from chat.protocol import MAX_FRAME_BYTES
from chat.public_http import body_too_long
from chat.public_language import accepted_language
from knowledge.upload_credentials import UploadView, upload_refusal
from knowledge.uploads import upload_request_max_bytes, upload_request_too_large
from supportai.db import db_submit
from supportai.raw_answer import RawAnswer

logger = logging.getLogger(__name__)

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

TOO_LARGE = b"413 Request Entity Too Large"
UNAVAILABLE = b"503 Service Unavailable"
CHECK_FAILED = "The upload's credentials could not be checked just now: send it again shortly."
# How long an upload waits for its credentials' check (the database pool busy, our database slow or
# locked) before it is answered 503: unanswered, Twisted would close it after its idle minute, and a
# check not yet started is dropped from the pool's queue.
CHECK_SECONDS = 10.0
# Credential checks share the database pool with chat's turns: at most half its threads' worth wait on
# it at once, so that uploads announced faster than the database answers (a flood of anonymous ones,
# or a slow database) leave chat the other half. An upload beyond them is answered 503 at once, unread.
CHECKS_AT_ONCE = max(1, settings.DB_ASYNC_THREADS // 2)
# The 503's Retry-After, in seconds: a check takes milliseconds when the database is well.
RETRY_AFTER_SECONDS = b"1"
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
    """The most bytes a request body may have, and the ``413`` that refuses one over it; on an upload
    path, the view whose credentials a body over ``HTTP_MAX_BODY_BYTES`` needs."""

    limit: int
    answer: RawAnswer
    upload: UploadView | None = None

    @classmethod
    def json_error(cls, limit: int, payload: dict[str, Any], upload: UploadView | None = None) -> BodyLimit:
        return cls(limit, RawAnswer.json(TOO_LARGE, payload), upload)

    @classmethod
    def text_error(cls, limit: int, message: str, upload: UploadView | None = None) -> BodyLimit:
        return cls(limit, RawAnswer.text(TOO_LARGE, message), upload)

    def needs_credentials(self, length: int | None) -> bool:
        """Whether a body of ``length`` (None: chunked) is read only once its credentials are checked."""
        return self.upload is not None and (length is None or length > settings.HTTP_MAX_BODY_BYTES)


def linger_bytes(limit: int) -> int:
    """The most bytes read and dropped after refusing a body over ``limit``."""
    return max(2 * limit, LINGER_MIN_BYTES)


def default_limit(path: str) -> BodyLimit:
    """The limit of a path without one of its own: ``HTTP_MAX_BODY_BYTES``, JSON under ``/api/``."""
    limit: int = settings.HTTP_MAX_BODY_BYTES
    message = BODY_TOO_LARGE.format(limit=limit)
    if path.startswith(API_PREFIX):
        return BodyLimit.json_error(limit, {"detail": message})
    return BodyLimit.text_error(limit, message)


def routed_path(target: bytes, root_path: str = "") -> str:
    """The path of ``target`` (the request line's, query included) that Django routes: decoded as
    daphne gives it to Django, less ``root_path`` (decoded, as daphne gives it)."""
    path = unquote(target.split(b"?", 1)[0].decode("latin-1"))
    return path.removeprefix(root_path) if root_path else path


def full_path(target: bytes, root_path: str = "") -> str:
    """The path and query of ``target`` as Django's ``request.get_full_path()`` gives them."""
    query = target.partition(b"?")[2].decode("latin-1")
    path = escape_uri_path(root_path.rstrip("/") + routed_path(target, root_path))
    return f"{path}?{iri_to_uri(query)}" if query else path


def body_limit(target: bytes, root_path: str = "", *, accept_language: str = "") -> BodyLimit:
    """The limit of a request body to ``target`` (the request line's, query included) here, routed as
    Django routes it (``routed_path``); the public chat's ``too_long`` is in the language
    ``accept_language`` (the request's header) prefers, as its view would say it."""
    path = routed_path(target, root_path)
    if path.startswith(PUBLIC_PREFIX):
        return BodyLimit.json_error(MAX_FRAME_BYTES, body_too_long().frame(accepted_language(accept_language)))
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
        return BodyLimit.json_error(upload_request_max_bytes(), {"detail": upload_request_too_large()}, "api")
    if view == CONSOLE_UPLOAD:
        return BodyLimit.text_error(upload_request_max_bytes(), upload_request_too_large(), "console")
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


@dataclass
class CheckCount:
    """The uploads whose credentials' check is on the database pool, queued or running; only the
    reactor's thread reads and changes it."""

    count: int = 0


CHECKS_UNDER_WAY = CheckCount()


class DjangoParsesUploads(http_protocol.WebRequest):
    """Daphne's request without Twisted's form parsing (``request.args`` holds only the query string)."""

    body_limit: BodyLimit | None = None  # this request's body limit, once its headers are in
    body_read = 0
    body_refused = False
    lingering: LingeringClose | None = None
    continue_expected = False  # a body read once its credentials are checked: "100 Continue" is due then

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "parsePOSTFormSubmission": False})

    def gotLength(self, length: int | None) -> None:
        """The headers are in: a body declared over its path's limit is refused now; an upload's body
        over ``HTTP_MAX_BODY_BYTES`` (or chunked) waits for its credentials to be checked."""
        root_path = self.root_path_for_django()
        accept_language = self.header_value(b"accept-language")
        self.body_limit = limit = body_limit(self.channel._path, root_path, accept_language=accept_language)
        if length is not None and length > limit.limit:
            super().gotLength(0)
            self.refuse_body(limit.answer)
            return
        if limit.upload is not None and limit.needs_credentials(length):
            self.check_credentials(limit.upload, length, full_path(self.channel._path, root_path))
            return
        super().gotLength(length)

    def check_credentials(self, upload: UploadView, length: int | None, path: str) -> None:
        """Reads nothing more from the connection, and hands nothing more of what was read to Twisted's
        parser (LineReceiver's own pause: HTTPChannel's only stops the socket), while the credentials
        are checked on the database pool; then goes on, or answers instead (``credentials_checked``).
        With ``CHECKS_AT_ONCE`` checks under way already, answers 503 at once, unread."""
        if CHECKS_UNDER_WAY.count >= CHECKS_AT_ONCE:
            logger.warning("An upload was refused unread: %s credential checks are under way", CHECKS_UNDER_WAY.count)
            super().gotLength(0)
            self.refuse_body(self.check_failed())
            return
        LineReceiver.pauseProducing(self.channel)
        expect = self.requestHeaders.getRawHeaders(b"expect") or [b""]
        self.continue_expected = expect[0].lower() == b"100-continue" and self.channel._version == b"HTTP/1.1"
        self.requestHeaders.removeHeader(b"expect")  # told to continue only once allowed to
        checked = db_submit(
            upload_refusal,
            upload,
            authorization=self.header_value(b"authorization"),
            cookie=self.header_value(b"cookie", b"; "),
            full_path=path,
        )
        CHECKS_UNDER_WAY.count += 1
        reactor = cast(IReactorFromThreads, twisted_reactor())
        checked.add_done_callback(lambda done: reactor.callFromThread(self.check_ended, done, length))
        self.channel.callLater(CHECK_SECONDS, lambda: self.check_overdue(checked))

    def header_value(self, name: bytes, separator: bytes = b",") -> str:
        """A header's value as Django reads it: its lines joined (Cookie's with "; "), decoded as Latin-1."""
        return separator.join(self.requestHeaders.getRawHeaders(name) or []).decode("latin-1")

    def check_ended(self, checked: Future[RawAnswer | None], length: int | None) -> None:
        """A check is done or dropped (``check_overdue``): its place is free, and its upload goes on."""
        CHECKS_UNDER_WAY.count -= 1
        self.credentials_checked(checked, length)

    def credentials_checked(self, checked: Future[RawAnswer | None], length: int | None) -> None:
        """The credentials are checked: a body they may send is read from now on; else the view's answer
        is given, unread. A client gone meanwhile, or answered already (``check_overdue``), is left alone."""
        if self.channel is None or self.body_refused or checked.cancelled():
            return
        try:
            refusal = checked.result()
        except Exception:  # the database is down or slow to answer: the view would fail alike
            logger.exception("Checking the credentials of an upload failed")
            refusal = self.check_failed()
        if refusal is not None:
            super().gotLength(0)
            self.refuse_body(refusal)
        else:
            super().gotLength(length)
            if self.continue_expected:
                self.channel.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        LineReceiver.resumeProducing(self.channel)  # what was read meanwhile goes on to the parser, or is dropped

    def check_overdue(self, checked: Future[RawAnswer | None]) -> None:
        """The check took ``CHECK_SECONDS``: the upload is answered 503, unread, and the check dropped if
        it has not started (``credentials_checked`` then finds it done or cancelled, and does nothing)."""
        if self.channel is None or checked.done():
            return
        checked.cancel()
        logger.error("Checking the credentials of an upload took over %s s", CHECK_SECONDS)
        super().gotLength(0)
        self.refuse_body(self.check_failed())
        LineReceiver.resumeProducing(self.channel)

    def check_failed(self) -> RawAnswer:
        """The 503 of an upload whose credentials could not be checked, as its view would answer it."""
        retry = ((b"Retry-After", RETRY_AFTER_SECONDS),)
        if self.body_limit is not None and self.body_limit.upload == "api":
            return RawAnswer.json(UNAVAILABLE, {"detail": CHECK_FAILED}, retry)
        return RawAnswer.text(UNAVAILABLE, CHECK_FAILED, retry)

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
            self.refuse_body(self.body_limit.answer)
            return
        super().handleContentChunk(data)

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
        if not self.body_refused:  # a refused body that was complete in its last read reaches no view
            super().requestReceived(command, path, version)

    def refuse_body(self, answer: RawAnswer) -> None:
        """Give ``answer`` instead of reading the body, then linger: what the client still sends is
        dropped (as much as the path's limit lets it send), then it is closed."""
        assert self.body_limit is not None
        self.body_refused = True
        self.requestHeaders.removeHeader(b"expect")  # no "100 Continue" after the answer
        self.channel.transport.write(answer.encode())
        self.lingering = LingeringClose(self.channel, linger_bytes(self.body_limit.limit))

    def connectionLost(self, reason: Any) -> None:
        if self.lingering is not None:
            self.lingering.stop()
        super().connectionLost(reason)


def twisted_reactor() -> object:
    """The reactor daphne installed (imported when first needed: importing it earlier installs another)."""
    from twisted.internet import reactor

    return reactor


def leave_form_parsing_to_django() -> None:
    """Make daphne build ``DjangoParsesUploads`` requests (idempotent; before it serves a request)."""
    http_protocol.WebRequest = DjangoParsesUploads
