"""``POST /api/v1/public/chat/proposals/confirm`` and ``…/reject``: proposal decisions without websockets.

Body ``{"key", "resume_token", "proposal_id"}``. Same checks as the other public endpoints
(``chat.public_http.public_request``: JSON body, widget key, allowed origin), the per-IP message limit
and the ``proposal.confirm`` / ``proposal.reject`` frame's validation. Answers the websocket's
``proposal.result`` frame as JSON; errors in the customer's language as on the socket
(``chat/public_language.py``). No live conversation of that tenant for the resume token, or a
proposal that is not one of that conversation's (unknown, another conversation's or tenant's): 404.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser, JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from bookings.models import PaymentMode, ProposalAction, ProposalStatus
from bookings.phrases import BookingText
from bookings.widget import handle_proposal_decision
from chat import services as chat_services
from chat.limits import ip_allows_message
from chat.phrases import ErrorText
from chat.protocol import ErrorCode, ProposalDecision, ProtocolError, parse_object
from chat.public_http import (
    error_response,
    method_not_allowed,
    preflight_response,
    public_request,
    unavailable_on_database_error,
)
from chat.public_language import said_in
from chat.public_schema import PublicErrorSerializer
from supportai.client_address import client_ip_from_request


def proposal_decide(request: HttpRequest, *, confirm: bool) -> dict[str, Any]:
    """The ``proposal.result`` frame for a decision sent over HTTP; raises ``ProtocolError``."""
    checked = public_request(request)
    tenant = checked.tenant
    kind = "proposal.confirm" if confirm else "proposal.reject"
    with said_in(checked.customer_language):
        command = parse_object({**checked.body, "type": kind})
    if not isinstance(command, ProposalDecision):  # parse_object maps these types to ProposalDecision
        raise ProtocolError.of(ErrorCode.BAD_REQUEST, BookingText.NOT_A_DECISION)
    if not ip_allows_message(client_ip_from_request(request)):
        with said_in(checked.customer_language):
            raise ProtocolError.of(ErrorCode.RATE_LIMITED, ErrorText.TOO_MANY_REQUESTS)
    # Our database failing is said at once, outside said_in: a language is not asked of it again.
    with unavailable_on_database_error(tenant=tenant):
        conversation = chat_services.conversation_resume(tenant=tenant, resume_token=checked.resume_token)
    if conversation is None:  # no conversation to take a language from: as the request asks
        raise ProtocolError.of(ErrorCode.NOT_FOUND, ErrorText.NO_CHAT_FOR_TOKEN).in_language(checked.requested_language)
    # The decision is one transaction; a paid booking's payment link, recorded after it, is made again
    # by the retry (proposals.proposal_execute). Its result is said as its errors are (a language that
    # cannot be read is the one the request asks for).
    with unavailable_on_database_error(tenant=tenant, conversation=conversation), said_in(checked.customer_language):
        return handle_proposal_decision(
            tenant=tenant,
            conversation=conversation,
            proposal_id=command.proposal_id,
            confirm=command.confirm,
            language=checked.customer_language(),
        )


class ProposalDecisionInputSerializer(serializers.Serializer[Any]):
    key = serializers.CharField(help_text="The tenant's public widget key (pk_…)")
    resume_token = serializers.CharField(
        help_text="The conversation's resume token (from session.ready or message.ack)"
    )
    proposal_id = serializers.CharField(max_length=64, help_text="The proposal frame's proposal_id (a UUID)")


class ProposalResultSerializer(serializers.Serializer[Any]):
    """The websocket's ``proposal.result`` frame (docs/websocket-protocol.md)."""

    type = serializers.ChoiceField(choices=["proposal.result"])
    proposal_id = serializers.UUIDField()
    status = serializers.ChoiceField(
        choices=[ProposalStatus.EXECUTED, ProposalStatus.FAILED, ProposalStatus.REJECTED, ProposalStatus.EXPIRED]
    )
    action = serializers.ChoiceField(choices=ProposalAction.choices)
    confirmation_code = serializers.CharField(required=False, help_text="executed")
    booking_status = serializers.CharField(required=False, help_text="executed: pending (held until paid) or confirmed")
    service = serializers.CharField(required=False, help_text="executed")
    start = serializers.DateTimeField(required=False, help_text="executed")
    start_local = serializers.CharField(required=False, help_text="executed: in the tenant's time zone")
    payment = serializers.ChoiceField(
        choices=PaymentMode.choices, required=False, help_text="executed: paid online, or at the venue (on_arrival)"
    )
    checkout_url = serializers.CharField(required=False, allow_blank=True, help_text="executed, paid online")
    hold_expires_at = serializers.DateTimeField(required=False, allow_null=True, help_text="executed, unpaid hold")
    error = serializers.CharField(required=False, help_text="failed: the booking error code")
    message = serializers.CharField(
        required=False, help_text="failed, rejected, expired: what to show, in the customer's language"
    )
    field = serializers.CharField(
        required=False, help_text="failed: the proposal's field that no longer holds (start: the slot was taken)"
    )


DECISION_RESPONSES = {
    200: ProposalResultSerializer,
    400: OpenApiResponse(
        PublicErrorSerializer,
        description="bad_request: not a JSON object in UTF-8, proposal_id missing or not a string",
    ),
    403: OpenApiResponse(PublicErrorSerializer, description="forbidden: the Origin is not one of the tenant's"),
    404: OpenApiResponse(
        PublicErrorSerializer,
        description="not_found: unknown key, no conversation for resume_token, or not a proposal of that conversation",
    ),
    413: OpenApiResponse(
        PublicErrorSerializer, description="too_long: body over 16,384 bytes; proposal_id over 64 characters"
    ),
    429: OpenApiResponse(PublicErrorSerializer, description="rate_limited: CHAT_MESSAGES_PER_MINUTE_PER_IP"),
    503: OpenApiResponse(
        PublicErrorSerializer,
        description="unavailable: the widget key could not be looked up, the conversation resumed or the proposal "
        "decided (a database error, say); nothing was decided (a paid booking may be held without its payment "
        "link), try again",
    ),
}


class AlwaysJson(BaseContentNegotiation):
    """JSON whatever the client's ``Accept`` or ``?format=`` says, as the other public endpoints answer:
    the tenant API's negotiation refuses ``Accept: text/html`` with 406 (``{"detail": ...}``) and
    ``?format=xml`` with 400 (``supportai.api_negotiation``), before the view could answer the protocol's frame."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, str(renderer.media_type)


class _ProposalDecisionApi(APIView):
    """Public (widget) endpoint: the key in the body identifies the tenant, the resume token the conversation."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    parser_classes = (JSONParser,)
    renderer_classes = (JSONRenderer,)
    content_negotiation_class = AlwaysJson

    def decide(self, request: Request, *, confirm: bool) -> HttpResponse:
        origin = request.headers.get("Origin", "")
        try:
            frame = proposal_decide(request._request, confirm=confirm)
        except ProtocolError as exc:
            return error_response(exc.code, exc.message, origin, field=exc.field)
        response = JsonResponse(frame)
        if origin:
            response["Access-Control-Allow-Origin"] = origin
            response["Vary"] = "Origin"
        return response

    # Answered like the other public endpoints (CORS preflight, protocol errors), not DRF's defaults.
    def options(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:  # type: ignore[override]
        return preflight_response(request._request)

    def http_method_not_allowed(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:  # type: ignore[override]
        return method_not_allowed(request._request)


class ProposalConfirmApi(_ProposalDecisionApi):
    @extend_schema(
        operation_id="public_chat_proposal_confirm",
        summary="Confirm a proposal (widget fallback for proposal.confirm)",
        request=ProposalDecisionInputSerializer,
        responses=DECISION_RESPONSES,
        auth=[],
        tags=["public chat"],
    )
    def post(self, request: Request) -> HttpResponse:
        return self.decide(request, confirm=True)


class ProposalRejectApi(_ProposalDecisionApi):
    @extend_schema(
        operation_id="public_chat_proposal_reject",
        summary="Reject a proposal (widget fallback for proposal.reject)",
        request=ProposalDecisionInputSerializer,
        responses=DECISION_RESPONSES,
        auth=[],
        tags=["public chat"],
    )
    def post(self, request: Request) -> HttpResponse:
        return self.decide(request, confirm=False)
