"""HTTP fallbacks for clients without websockets: a whole-answer endpoint and an SSE stream.

Both take ``POST`` JSON ``{"key", "client_id", "text", "resume_token"?, "identity_token"?}`` and apply the same
validation, origin check, rate limits and ``client_id`` idempotency as the websocket, and write their
errors in the customer's language as it does (``chat/public_language.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from chat import services
from chat.engine import answer_turn
from chat.error_phrases import ErrorText, error_message
from chat.limits import TOO_MANY_CONVERSATIONS, ip_allows_conversation, ip_allows_message
from chat.models import Conversation, Message, MessageStatus
from chat.origins import origin_allowed
from chat.protocol import (
    MAX_FRAME_BYTES,
    MAX_IDENTITY_TOKEN_CHARS,
    ErrorCode,
    ProtocolError,
    SendMessage,
    end_frame,
    error_frame,
    optional_string,
    parse_object,
)
from chat.public_language import resumed_language, said_in
from escalations.watch import publish_message
from routing.language import detect_language
from supportai.client_address import client_ip_from_request
from supportai.db import db_call
from supportai.identity import IdentityError
from supportai.models import Tenant
from supportai.selectors import tenant_get_by_public_key

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0
USE_POST = "Use POST."
BODY_TOO_LONG = f"The request body is limited to {MAX_FRAME_BYTES:,} bytes of UTF-8, like a websocket frame."
NOT_A_JSON_OBJECT = "The body must be a JSON object, sent as UTF-8."
BAD_CONTENT_LENGTH = "The Content-Length header must be a number of bytes."
STATUS_FOR_CODE = {
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.TOO_LONG: 413,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.INTERNAL: 500,
}


@dataclass(frozen=True)
class PublicTurn:
    tenant: Tenant
    conversation: Conversation
    resume_token: str
    command: SendMessage
    origin: str
    ip: str
    # answers a dead server left streaming, finished as interrupted by this resume: for staff to see
    finished_replies: list[Message]
    language: str  # of the message sent: the turn's errors are in it, as on the socket


def error_response(code: ErrorCode, message: str, origin: str = "", *, field: str = "") -> JsonResponse:
    """The protocol's ``error`` frame as JSON, with the status for its code (shared by the public endpoints)."""
    response = JsonResponse(error_frame(code, message, field=field), status=STATUS_FOR_CODE[code])
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
    return response


def method_not_allowed(request: HttpRequest) -> JsonResponse:
    """405 with ``Allow``, as HTTP asks for a method the resource has not; the body is the protocol's error."""
    response = error_response(ErrorCode.BAD_REQUEST, USE_POST, request.headers.get("Origin", ""))
    response.status_code = 405
    response["Allow"] = "POST, OPTIONS"
    return response


@dataclass(frozen=True)
class PublicRequest:
    body: dict[str, Any]
    tenant: Tenant
    origin: str
    resume_token: str  # "" when the body names none

    def customer_language(self) -> str:
        """The language of errors refused before a message is read: the conversation's (``resumed_language``)."""
        return resumed_language(tenant=self.tenant, resume_token=self.resume_token)


def _body_text(request: HttpRequest) -> str:
    """The body as text, at most ``MAX_FRAME_BYTES`` of UTF-8; raises ``ProtocolError``.

    A declared larger body is refused unread; one over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (Django's
    ``RequestDataTooBig``, a bare 400 page otherwise) gets the same ``too_long``.
    """
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not (declared.isascii() and declared.isdigit()):  # Django's int() of it would be a 500
        raise ProtocolError(ErrorCode.BAD_REQUEST, BAD_CONTENT_LENGTH)
    significant = declared.lstrip("0")  # compared as text first: int() refuses over 4,300 digits
    if len(significant) > len(str(MAX_FRAME_BYTES)) or int(significant or "0") > MAX_FRAME_BYTES:
        raise ProtocolError(ErrorCode.TOO_LONG, BODY_TOO_LONG)
    try:
        raw = request.body
    except RequestDataTooBig:
        raise ProtocolError(ErrorCode.TOO_LONG, BODY_TOO_LONG) from None
    if len(raw) > MAX_FRAME_BYTES:  # sent without Content-Length (chunked)
        raise ProtocolError(ErrorCode.TOO_LONG, BODY_TOO_LONG)
    try:
        # Strictly UTF-8, as a websocket text frame: json.loads(bytes) would also take UTF-16 and UTF-32.
        # A leading UTF-8 byte order mark is ignored, as RFC 8259 allows (some HTTP clients add one).
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ProtocolError(ErrorCode.BAD_REQUEST, NOT_A_JSON_OBJECT) from None


@contextlib.contextmanager
def unavailable_on_database_error(*, tenant: Tenant | None, conversation: Conversation | None = None) -> Iterator[None]:
    """Our database failing in the block is the protocol's ``unavailable`` error (``ProtocolError``, 503
    over HTTP), logged with the tenant and conversation ids.

    Only around work a failure leaves undone, so that the customer is told to try again and the retry
    does it once: the public endpoints' steps before anything of the request is stored (the widget key,
    the conversation) and the ones that are each one transaction (the escalate handoff, a proposal's
    decision).
    """
    try:
        yield
    except (DatabaseError, InterfaceError) as exc:
        logger.exception(
            "chat of tenant %s, conversation %s, could not be set up",
            tenant and tenant.pk,
            conversation and conversation.pk,
        )
        raise ProtocolError.of(ErrorCode.UNAVAILABLE, ErrorText.INTERNAL) from exc


def public_request(request: HttpRequest) -> PublicRequest:
    """The JSON body, the tenant of its widget ``key`` and the checked Origin; raises ``ProtocolError``.

    Shared by every public (widget) HTTP endpoint so they validate alike. The body stands for the
    websocket's frame and has its limit: ``MAX_FRAME_BYTES`` of UTF-8 as received.
    """
    try:
        body = json.loads(_body_text(request) or "{}")
    except (ValueError, RecursionError):  # ValueError: not JSON, or an integer over 4,300 digits
        raise ProtocolError(ErrorCode.BAD_REQUEST, NOT_A_JSON_OBJECT) from None
    if not isinstance(body, dict):
        raise ProtocolError(ErrorCode.BAD_REQUEST, NOT_A_JSON_OBJECT)
    # Checked like a frame's text fields: a number, a list or half a surrogate pair is refused, not
    # read as its text (a lone surrogate cannot even be encoded for the database).
    key = optional_string(body, "key", limit=MAX_FRAME_BYTES)
    resume_token = optional_string(body, "resume_token", limit=MAX_FRAME_BYTES)
    with unavailable_on_database_error(tenant=None):
        tenant = tenant_get_by_public_key(public_key=key)
    if tenant is None:
        raise ProtocolError(ErrorCode.NOT_FOUND, "Unknown widget key.")
    origin = request.headers.get("Origin", "")
    if origin and not origin_allowed(tenant=tenant, origin=origin, host=request.get_host()):
        raise ProtocolError(ErrorCode.FORBIDDEN, "This website may not use this chat.")
    return PublicRequest(body=body, tenant=tenant, origin=origin, resume_token=resume_token)


def _prepare(request: HttpRequest) -> PublicTurn:
    """Validate the request and find (or open) the conversation; raises ``ProtocolError``.

    As on the socket, a body refused before its message is read is answered in the conversation's
    language, and anything after in the language of the message sent.
    """
    checked = public_request(request)
    with said_in(checked.customer_language):
        command = parse_object({**checked.body, "type": "message.send"})
        # Checked like the frame's fields: a number or a list is refused, not read as its text.
        identity_token = optional_string(checked.body, "identity_token", limit=MAX_IDENTITY_TOKEN_CHARS)
    assert isinstance(command, SendMessage)
    language = detect_language(command.text)
    with said_in(lambda: language):
        return _open_turn(
            checked,
            command=command,
            identity_token=identity_token,
            ip=client_ip_from_request(request),
            language=language,
        )


def _open_turn(
    checked: PublicRequest, *, command: SendMessage, identity_token: str, ip: str, language: str
) -> PublicTurn:
    """The turn of ``command``, in the conversation it resumes or opens; raises ``ProtocolError``."""
    tenant, origin, resume = checked.tenant, checked.origin, checked.resume_token
    if not ip_allows_message(ip):
        raise ProtocolError.of(ErrorCode.RATE_LIMITED, ErrorText.NETWORK_BUSY)
    finished: list[Message] = []
    with unavailable_on_database_error(tenant=tenant):
        conversation = services.conversation_resume(tenant=tenant, resume_token=resume) if resume else None
        resumed = conversation is not None
        if conversation is None:
            if not ip_allows_conversation(ip):
                raise ProtocolError(ErrorCode.RATE_LIMITED, TOO_MANY_CONVERSATIONS)
            opened = services.conversation_open(tenant=tenant, origin=origin, channel="api")
            conversation, resume = opened.conversation, opened.resume_token
    with unavailable_on_database_error(tenant=tenant, conversation=conversation):
        if resumed:  # as on a websocket resume: an answer its server abandoned shows as interrupted
            finished = services.conversation_finish_abandoned_replies(tenant=tenant, conversation=conversation)
        if identity_token:
            _identify(tenant=tenant, conversation=conversation, token=identity_token)
    return PublicTurn(
        tenant=tenant,
        conversation=conversation,
        resume_token=resume,
        command=command,
        origin=origin,
        ip=ip,
        finished_replies=finished,
        language=language,
    )


def _identify(*, tenant: Tenant, conversation: Conversation, token: str) -> None:
    """``conversation_identify``; a token that does not verify, or names another customer, is ``forbidden``."""
    try:
        services.conversation_identify(tenant=tenant, conversation=conversation, token=token)
    except IdentityError as exc:
        raise ProtocolError(ErrorCode.FORBIDDEN, exc.rejection.value) from exc
    except services.ChatError as exc:
        raise ProtocolError(ErrorCode.FORBIDDEN, str(exc)) from exc


def _internal_error(turn: PublicTurn) -> dict[str, Any]:
    """The ``internal`` error frame for the turn's message: the client may resend it, with the resume
    token of its conversation (a first message opened it) so that the resend reaches it."""
    return {
        "type": "error",
        "code": ErrorCode.INTERNAL.value,
        "message": error_message(ErrorText.INTERNAL, language=turn.language),
        "client_id": turn.command.client_id,
        "conversation_id": turn.conversation.pk,
        "resume_token": turn.resume_token,
    }


async def _turn_frames(turn: PublicTurn) -> AsyncIterator[dict[str, Any]]:
    """The frames of one turn, as the websocket would send them."""
    for reply in turn.finished_replies:
        await publish_message(reply)
    try:
        received = await db_call(services.message_receive)(
            tenant=turn.tenant, conversation=turn.conversation, client_id=turn.command.client_id, text=turn.command.text
        )
    except services.ClientIdReused:
        yield ProtocolError.of(ErrorCode.BAD_REQUEST, ErrorText.CLIENT_ID_REUSED, field="client_id").frame(
            turn.language
        )
        return
    except Exception:  # not stored (a database error): the error frame, never a 500 with a traceback
        logger.exception("storing message %r failed", turn.command.client_id)
        yield _internal_error(turn)
        return
    yield {
        "type": "message.ack",
        "client_id": turn.command.client_id,
        "message_id": received.message.pk,
        "conversation_id": turn.conversation.pk,
        "resume_token": turn.resume_token,
    }
    if received.news is not None:
        await publish_message(received.news)
    if not received.created and received.reply is not None:
        # answered (cut short, or abandoned by a server that died, as interrupted), or being answered
        # by the first request: no second answer
        if received.reply.status != MessageStatus.STREAMING:
            yield end_frame(received.reply, question=received.message)
        return
    # A new question, or a resend of one never answered (its first request was cut off before the
    # reply row existed), is answered now, as on the websocket; an open handoff still intercepts it,
    # and a request still preparing its answer keeps it (answer_turn claims it: ack alone, then 202).
    queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

    async def run() -> None:
        try:
            await answer_turn(
                tenant=turn.tenant,
                conversation=turn.conversation,
                question=received.message,
                emit=queue.put,
                sender="",  # no socket: every socket of the conversation gets the answer
                ip=turn.ip,
            )
        except Exception:  # the turn's error frame, as on the websocket; a resend is answered (claim released)
            logger.exception("answer to message %s failed", received.message.pk)
            await queue.put(_internal_error(turn))
        finally:
            await queue.put(None)

    task = asyncio.create_task(run())
    try:
        while (frame := await queue.get()) is not None:
            yield frame
    finally:
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@csrf_exempt
async def post_message(request: HttpRequest) -> HttpResponse:
    """``POST /api/v1/public/chat/messages`` → the whole answer as one JSON object."""
    if request.method == "OPTIONS":
        return preflight_response(request)
    if request.method != "POST":
        return method_not_allowed(request)
    try:
        turn = await db_call(_prepare)(request)
    except ProtocolError as exc:
        return error_response(exc.code, exc.message, request.headers.get("Origin", ""), field=exc.field)
    ack: dict[str, Any] = {}
    answer: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    async for frame in _turn_frames(turn):
        if frame["type"] == "message.ack":
            ack = frame
        elif frame["type"] == "message.end":
            answer = frame
        elif frame["type"] == "error":
            error = frame
    if error is not None:  # refused, or the turn failed: no traceback (a failed turn's resend is answered)
        code = ErrorCode(error["code"])
        body = error_frame(code, error["message"], field=error.get("field", ""))
        # the conversation (a first message opened it), so that a resend reaches it and is answered once
        body |= {"conversation_id": turn.conversation.pk, "resume_token": turn.resume_token}
        response = JsonResponse(body, status=STATUS_FOR_CODE[code])
    else:
        response = JsonResponse(
            {
                "conversation_id": ack["conversation_id"],
                "resume_token": ack["resume_token"],
                "message_id": ack["message_id"],
                "answer": answer,
            },
            status=200 if answer is not None else 202,
        )
    if turn.origin:
        response["Access-Control-Allow-Origin"] = turn.origin
        response["Vary"] = "Origin"
    return response


def preflight_response(request: HttpRequest) -> HttpResponse:
    """CORS preflight. The real request enforces the tenant's origins (it carries the key)."""
    response = HttpResponse(status=204)
    origin = request.headers.get("Origin", "")
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "600"
        response["Vary"] = "Origin"
    return response


def _sse(frame: dict[str, Any]) -> bytes:
    return f"event: {frame['type']}\ndata: {json.dumps(frame)}\n\n".encode()


async def _with_heartbeats(frames: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    iterator = frames.__aiter__()
    pending: asyncio.Task[dict[str, Any]] | None = None
    try:
        while True:
            pending = pending or asyncio.ensure_future(iterator.__anext__())
            done, _ = await asyncio.wait({pending}, timeout=HEARTBEAT_SECONDS)
            if not done:
                yield b": keep-alive\n\n"
                continue
            try:
                frame = pending.result()
            except StopAsyncIteration:
                return
            pending = None
            yield _sse(frame)
    finally:
        if pending is not None and not pending.done():
            pending.cancel()
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()


@csrf_exempt
async def stream_message(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """``POST /api/v1/public/chat/messages/stream`` → Server-Sent Events with the websocket's frames."""
    if request.method == "OPTIONS":
        return preflight_response(request)
    if request.method != "POST":
        return method_not_allowed(request)
    try:
        turn = await db_call(_prepare)(request)
    except ProtocolError as exc:
        return error_response(exc.code, exc.message, request.headers.get("Origin", ""), field=exc.field)
    response = StreamingHttpResponse(_with_heartbeats(_turn_frames(turn)), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    if turn.origin:
        response["Access-Control-Allow-Origin"] = turn.origin
        response["Vary"] = "Origin"
    return response
