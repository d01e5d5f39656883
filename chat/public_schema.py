"""The OpenAPI contract of the public (widget) HTTP endpoints: request bodies, answers, error frames.

``POST /api/v1/public/chat/messages`` and ``…/messages/stream`` are plain async Django views (DRF's
``APIView`` is synchronous and would buffer the stream), so the views here are documentation only:
never routed, ``supportai.schema.public_chat_endpoints`` puts them in ``/api/schema/`` at the real
paths. The proposal endpoints (bookings/public_api.py) are APIViews and share the error frame.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chat.protocol import MAX_CLIENT_ID_CHARS, MAX_MESSAGE_CHARS, ErrorCode

TAG = "public chat"
KEY_HELP = "The tenant's public widget key (pk_…); a browser's Origin must be one of the tenant's"


class PublicErrorSerializer(serializers.Serializer[Any]):
    """The protocol's ``error`` frame."""

    type = serializers.ChoiceField(choices=["error"])
    code = serializers.ChoiceField(choices=[code.value for code in ErrorCode])
    message = serializers.CharField()
    field = serializers.CharField(
        required=False,
        help_text="The request's field that is wrong (e.g. email, start, service_id, proposal_id), when the error is "
        "about one; absent otherwise, and when a booking's code or email does not match (neither is named)",
    )
    conversation_id = serializers.IntegerField(
        required=False, help_text="/messages, once the message's conversation was found or opened: that conversation"
    )
    resume_token = serializers.CharField(
        required=False,
        help_text="With conversation_id: send it with the resend, so that it reaches that conversation (a first "
        "message opened it)",
    )


def error_responses(descriptions: dict[int, str]) -> dict[int, OpenApiResponse]:
    """The ``error`` frame for each status, described by what answers it."""
    return {status: OpenApiResponse(PublicErrorSerializer, description=text) for status, text in descriptions.items()}


class MessageInputSerializer(serializers.Serializer[Any]):
    key = serializers.CharField(help_text=KEY_HELP)
    client_id = serializers.CharField(
        max_length=MAX_CLIENT_ID_CHARS,
        help_text="Unique per message: a resend with it and the same text stores nothing new; "
        "with another text it is refused (400)",
    )
    text = serializers.CharField(
        max_length=MAX_MESSAGE_CHARS,
        help_text="The customer's message, stored and limited without its surrounding whitespace; "
        "each Unicode code point counts one character",
    )
    resume_token = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Continue this conversation (from session.ready or an earlier answer); "
        "unknown or another tenant's: a new conversation",
    )
    identity_token = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=4096,
        help_text="An HS256 JWT the tenant's server signed (docs/identity-verification.md)",
    )


class SourceSerializer(serializers.Serializer[Any]):
    index = serializers.IntegerField(help_text="The n of [n] in the text")
    title = serializers.CharField()
    url = serializers.CharField(allow_blank=True)
    document_id = serializers.IntegerField()
    chunk_id = serializers.IntegerField()


class MessageEndSerializer(serializers.Serializer[Any]):
    """The websocket's ``message.end`` frame (docs/websocket-protocol.md)."""

    type = serializers.ChoiceField(choices=["message.end"])
    message_id = serializers.IntegerField()
    reply_to = serializers.CharField(
        allow_null=True, help_text="The client_id of the question this answers (null when it was sent without one)"
    )
    text = serializers.CharField(allow_blank=True)
    sources = SourceSerializer(many=True, help_text="The passages the text cites as [n]")
    tier = serializers.IntegerField(allow_null=True)
    model = serializers.CharField(allow_blank=True)
    escalated = serializers.BooleanField(help_text="The answer handed the conversation to a person")
    confidence = serializers.FloatField(allow_null=True)
    status = serializers.ChoiceField(
        choices=["complete", "failed", "interrupted"],
        help_text="interrupted: a resend of an answer cut short when its connection closed; text is what it had",
    )


class PublicAnswerSerializer(serializers.Serializer[Any]):
    conversation_id = serializers.IntegerField()
    resume_token = serializers.CharField(help_text="Send it with the next message to continue this conversation")
    message_id = serializers.IntegerField(help_text="The customer's message")
    answer = MessageEndSerializer(allow_null=True, help_text="null (202) when no answer is written now")


class ServerSentEventSerializer(serializers.Serializer[Any]):
    """One event of the stream (OpenAPI before 3.2 describes an event stream by its events)."""

    event = serializers.CharField(help_text="The frame's type: message.ack, message.start, message.delta, …")
    # The SSE field is named data; it shadows Serializer.data, never used on this documentation serializer.
    data = serializers.CharField(help_text="The frame as JSON")  # type: ignore[assignment]


MESSAGE_ERRORS = error_responses(
    {
        400: "bad_request: not a JSON object in UTF-8; client_id or text missing, blank, not a string or with a NUL; "
        "resume_token or identity_token not a string; a client_id the conversation already has for another text",
        403: "forbidden: the Origin is not one of the tenant's, or the identity_token does not verify",
        404: "not_found: unknown widget key",
        413: "too_long: body over 16,384 bytes; client_id over 64, text over 2,000, identity_token over 4,096 "
        "characters",
        429: "rate_limited: CHAT_MESSAGES_PER_MINUTE_PER_IP, or CHAT_CONVERSATIONS_PER_MINUTE_PER_IP for a message "
        "that opens a conversation",
        503: "unavailable: the widget key could not be looked up, or the conversation opened, resumed or "
        "identified (a database error, say); nothing of the message is stored, send it again",
    }
)


# /messages only: the stream has begun (200) by then, and ends with the error event instead.
INTERNAL_ERROR = error_responses(
    {
        500: "internal: the message could not be stored, or its answer failed in our own code (a database "
        "error, say); no traceback, and a resend of the client_id with the resume_token given is answered, once",
    }
)
MESSAGE_DESCRIPTION = (
    "The websocket's message.send over HTTP: the same validation, origin check, rate limits and client_id "
    "idempotency. No resume_token (or an unknown one) opens a conversation. No authentication: the widget "
    "key is public; a browser's Origin must be one of the tenant's (without one, as from a server, it passes)."
)
STREAM_DESCRIPTION = """Server-Sent Events, one per websocket frame: `event: <frame type>` and `data: <the frame as
JSON>`. First `message.ack {client_id, message_id, conversation_id, resume_token}`, then the frames the
websocket sends for the turn: `message.start {message_id, reply_to}`, `message.delta {message_id, text}`… (append
them), `message.end` (as the whole-answer endpoint's `answer`), and any other frame of the turn (a
tool's `proposal`, a handoff's `escalation`). In a live handoff only `message.ack` comes; a resend of a
`client_id` gets `message.ack` and, once answered, the first `message.end` again. Comment lines
(`: keep-alive`) every 15 s while nothing else is sent. Errors before the stream starts are JSON."""


# Documentation only (see the module docstring): never routed, never answers. No authentication:
# the widget's public key identifies the tenant, a browser's Origin must be one of its origins.
class PublicDocView(APIView):
    authentication_classes = ()
    permission_classes = ()
    parser_classes = (JSONParser,)
    renderer_classes = (JSONRenderer,)

    def post(self, request: Request) -> Response:
        """The method the schema documents (each subclass with ``extend_schema_view``); the real
        endpoints are the async views of ``chat.public_api`` and ``escalations.public_api``, so this one,
        were it ever routed, finds nothing."""
        return Response(status=status.HTTP_404_NOT_FOUND)


@extend_schema_view(
    post=extend_schema(
        operation_id="public_chat_message",
        summary="Send a customer message, get the whole answer (widget fallback for message.send)",
        description=MESSAGE_DESCRIPTION,
        request=MessageInputSerializer,
        responses={
            200: OpenApiResponse(PublicAnswerSerializer, description="answer is the message.end frame"),
            202: OpenApiResponse(
                PublicAnswerSerializer,
                description="answer is null: a person has the conversation (live handoff), or a resend whose "
                "answer is still being written",
            ),
            **MESSAGE_ERRORS,
            **INTERNAL_ERROR,
        },
        auth=[],
        tags=[TAG],
    )
)
class PublicMessageDoc(PublicDocView):
    """POST /api/v1/public/chat/messages, served by ``chat.public_api.post_message``."""


@extend_schema_view(
    post=extend_schema(
        operation_id="public_chat_message_stream",
        summary="Send a customer message, get the websocket's frames as Server-Sent Events",
        description=MESSAGE_DESCRIPTION,
        request=MessageInputSerializer,
        responses={
            (200, "text/event-stream"): OpenApiResponse(ServerSentEventSerializer, description=STREAM_DESCRIPTION),
            **MESSAGE_ERRORS,
        },
        auth=[],
        tags=[TAG],
    )
)
class PublicMessageStreamDoc(PublicDocView):
    """POST /api/v1/public/chat/messages/stream, served by ``chat.public_api.stream_message``."""
