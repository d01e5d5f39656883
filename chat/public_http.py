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

from chat.error_phrases import ErrorText
from chat.models import Conversation
from chat.origins import origin_allowed
from chat.protocol import MAX_FRAME_BYTES, ErrorCode, ProtocolError, error_frame, optional_string
from chat.public_language import resumed_language
from supportai.models import Tenant
from supportai.selectors import tenant_get_by_public_key

logger = logging.getLogger(__name__)

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
