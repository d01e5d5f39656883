"""``POST /api/v1/public/chat/escalate``: "Talk to a human" for clients without websockets.

Body: ``{"key", "resume_token", "reason"?, "email"?, "phone"?}``. Same checks as the ``escalate``
frame: tenant key, allowed origin, a live conversation of that tenant (the resume token), the
hourly limit. Answers the protocol's ``escalation`` frame as JSON; errors in the customer's language
as on the socket (``chat/public_language.py``).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from chat import services as chat_services
from chat.phrases import ErrorText
from chat.protocol import ErrorCode, Escalate, ProtocolError, parse_object
from chat.public_http import (
    error_response,
    method_not_allowed,
    preflight_response,
    public_request,
    unavailable_on_database_error,
)
from chat.public_language import said_in
from escalations.handoff import button_raise
from escalations.realtime import publish_committed
from escalations.services import Raised
from supportai.client_address import client_ip_from_request
from supportai.db import db_call


def _with_cors(response: HttpResponse, origin: str) -> HttpResponse:
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
    return response


def _raise(request: HttpRequest) -> Raised:
    checked = public_request(request)
    tenant = checked.tenant
    with said_in(checked.customer_language):
        command = parse_object({**checked.body, "type": "escalate"})
    assert isinstance(command, Escalate)
    # Our database failing is said at once, outside said_in: a language is not asked of it again.
    with unavailable_on_database_error(tenant=tenant):
        conversation = chat_services.conversation_resume(tenant=tenant, resume_token=checked.resume_token)
    if conversation is None:  # no conversation to take a language from: as the request asks
        raise ProtocolError.of(ErrorCode.NOT_FOUND, ErrorText.NO_CHAT_TO_HAND_OVER).in_language(
            checked.requested_language
        )
    # button_raise is one transaction
    with unavailable_on_database_error(tenant=tenant, conversation=conversation), said_in(checked.customer_language):
        return button_raise(
            tenant=tenant, conversation_id=conversation.pk, command=command, ip=client_ip_from_request(request)
        )


@csrf_exempt
async def escalate(request: HttpRequest) -> HttpResponse:
    origin = request.headers.get("Origin", "")
    if request.method == "OPTIONS":
        return preflight_response(request)
    if request.method != "POST":
        return method_not_allowed(request)
    try:
        raised = await db_call(_raise)(request)
    except ProtocolError as exc:
        return error_response(exc.code, exc.message, origin, field=exc.field)
    await publish_committed(raised.publications)
    return _with_cors(JsonResponse(raised.frame), origin)
