"""What every public (widget) HTTP endpoint shares: reading the body, the widget key and the Origin
(``public_request``), and answering the protocol's ``error`` frame, a ``405`` or a CORS preflight.

The chat fallbacks (``chat/public_api.py``), ``escalations/public_api.py`` and ``bookings/public_api.py``
validate alike through it.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError
from django.http import HttpRequest, HttpResponse, JsonResponse

from chat.models import Conversation
from chat.origins import origin_allowed
from chat.phrases import ErrorText, error_message
from chat.protocol import MAX_FRAME_BYTES, ErrorCode, ProtocolError, error_frame, optional_string
from chat.public_language import request_language, resumed_language, said_in
from supportai.models import Tenant
from supportai.selectors import tenant_get_by_public_key

logger = logging.getLogger(__name__)

STATUS_FOR_CODE = {
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.TOO_LONG: 413,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.INTERNAL: 500,
}


def error_response(code: ErrorCode, message: str, origin: str = "", *, field: str = "") -> JsonResponse:
    """The protocol's ``error`` frame as JSON, with the status for its code (shared by the public endpoints)."""
    response = JsonResponse(error_frame(code, message, field=field), status=STATUS_FOR_CODE[code])
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
    return response


def method_not_allowed(request: HttpRequest) -> JsonResponse:
    """405 with ``Allow``, as HTTP asks for a method the resource has not; the body is the protocol's error."""
    message = error_message(ErrorText.USE_POST, language=request_language(request))
    response = error_response(ErrorCode.BAD_REQUEST, message, request.headers.get("Origin", ""))
    response.status_code = 405
    response["Allow"] = "POST, OPTIONS"
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


@dataclass(frozen=True)
class PublicRequest:
    body: dict[str, Any]
    tenant: Tenant
    origin: str
    resume_token: str  # "" when the body names none
    requested_language: str  # the one its Accept-Language asks for (``request_language``)

    def customer_language(self) -> str:
        """The language of errors refused before a message is read: the conversation's (``resumed_language``),
        else the one the request's Accept-Language asks for."""
        return resumed_language(tenant=self.tenant, resume_token=self.resume_token, otherwise=self.requested_language)


def _body_text(request: HttpRequest) -> str:
    """The body as text, at most ``MAX_FRAME_BYTES`` of UTF-8; raises ``ProtocolError``.

    A declared larger body is refused unread; one over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (Django's
    ``RequestDataTooBig``, a bare 400 page otherwise) gets the same ``too_long``.
    """
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not (declared.isascii() and declared.isdigit()):  # Django's int() of it would be a 500
        raise ProtocolError.of(ErrorCode.BAD_REQUEST, ErrorText.BAD_CONTENT_LENGTH)
    significant = declared.lstrip("0")  # compared as text first: int() refuses over 4,300 digits
    if len(significant) > len(str(MAX_FRAME_BYTES)) or int(significant or "0") > MAX_FRAME_BYTES:
        raise body_too_long()
    try:
        raw = request.body
    except RequestDataTooBig:
        raise body_too_long() from None
    if len(raw) > MAX_FRAME_BYTES:  # sent without Content-Length (chunked)
        raise body_too_long()
    try:
        # Strictly UTF-8, as a websocket text frame: json.loads(bytes) would also take UTF-16 and UTF-32.
        # A leading UTF-8 byte order mark is ignored, as RFC 8259 allows (some HTTP clients add one).
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ProtocolError.of(ErrorCode.BAD_REQUEST, ErrorText.BODY_NOT_JSON) from None


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


def body_too_long() -> ProtocolError:
    """The ``too_long`` of a body over ``MAX_FRAME_BYTES`` (English; ``in_language`` for others)."""
    return ProtocolError.of(ErrorCode.TOO_LONG, ErrorText.BODY_TOO_LONG, limit=MAX_FRAME_BYTES)


def _json_body(request: HttpRequest) -> dict[str, Any]:
    """The body, a JSON object; raises ``ProtocolError``."""
    try:
        body = json.loads(_body_text(request) or "{}")
    except (ValueError, RecursionError):  # ValueError: not JSON, or an integer over 4,300 digits
        raise ProtocolError.of(ErrorCode.BAD_REQUEST, ErrorText.BODY_NOT_JSON) from None
    if not isinstance(body, dict):
        raise ProtocolError.of(ErrorCode.BAD_REQUEST, ErrorText.BODY_NOT_JSON)
    return body


def public_request(request: HttpRequest) -> PublicRequest:
    """The JSON body, the tenant of its widget ``key`` and the checked Origin; raises ``ProtocolError``.

    Shared by every public (widget) HTTP endpoint so they validate alike. The body stands for the
    websocket's frame and has its limit: ``MAX_FRAME_BYTES`` of UTF-8 as received. Its errors come
    before a conversation is known: they are said in the request's ``Accept-Language``
    (``request_language``), a foreign Origin's in the language of the conversation the body resumes
    when its customer has written (``PublicRequest.customer_language`` chooses alike for the errors
    found after).
    """
    requested = request_language(request)
    with said_in(lambda: requested):
        body = _json_body(request)
        # Checked like a frame's text fields: a number, a list or half a surrogate pair is refused, not
        # read as its text (a lone surrogate cannot even be encoded for the database).
        key = optional_string(body, "key", limit=MAX_FRAME_BYTES)
        resume_token = optional_string(body, "resume_token", limit=MAX_FRAME_BYTES)
        with unavailable_on_database_error(tenant=None):
            tenant = tenant_get_by_public_key(public_key=key)
        if tenant is None:
            raise ProtocolError.of(ErrorCode.NOT_FOUND, ErrorText.UNKNOWN_KEY)
    origin = request.headers.get("Origin", "")
    if origin and not origin_allowed(tenant=tenant, origin=origin, host=request.get_host()):
        language = resumed_language(tenant=tenant, resume_token=resume_token, otherwise=requested)
        raise ProtocolError.of(ErrorCode.FORBIDDEN, ErrorText.FOREIGN_ORIGIN).in_language(language)
    return PublicRequest(
        body=body, tenant=tenant, origin=origin, resume_token=resume_token, requested_language=requested
    )
