"""The OpenAPI contract of ``POST /api/v1/public/chat/escalate`` (a plain async view; see chat/public_schema.py)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers

from chat.protocol import MAX_COMMENT_CHARS, MAX_PHONE_CHARS
from chat.public_schema import KEY_HELP, TAG, PublicDocView, error_responses
from escalations.models import Mode


class EscalateInputSerializer(serializers.Serializer[Any]):
    key = serializers.CharField(help_text=KEY_HELP)
    resume_token = serializers.CharField(help_text="The live conversation's resume token")
    reason = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=MAX_COMMENT_CHARS, help_text="In their words"
    )
    email = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=254, help_text="Where the team may reply"
    )
    phone = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=MAX_PHONE_CHARS,
        help_text="Where the team may call: 7 to 15 digits, an optional leading +, spaces, dashes, dots, parentheses",
    )


class EscalationFrameSerializer(serializers.Serializer[Any]):
    """The protocol's ``escalation`` frame (docs/websocket-protocol.md, "Human handoff")."""

    type = serializers.ChoiceField(choices=["escalation"])
    escalation_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["pending", "acknowledged", "returned", "resolved"])
    mode = serializers.ChoiceField(choices=Mode.choices)
    position = serializers.IntegerField(allow_null=True, help_text="Place among waiting live handoffs")
    expected_reply_at = serializers.DateTimeField(allow_null=True, help_text="ticket mode: the team replies by then")
    message = serializers.CharField(help_text="What to show the customer")
    version = serializers.IntegerField(
        allow_null=True,
        help_text="The waiting line's version the frame was read at (grows with every change to the line); "
        "a frame below one already shown is stale. null: no change to the line made it (tickets)",
    )


@extend_schema_view(
    post=extend_schema(
        operation_id="public_chat_escalate",
        summary='Hand the conversation to a person ("Talk to a human"; widget fallback for escalate)',
        description="The websocket's escalate over HTTP, with the same rules (docs/websocket-protocol.md, "
        '"Human handoff"). No authentication: the widget key is public; a browser\'s Origin must be one of '
        "the tenant's.",
        request=EscalateInputSerializer,
        responses={
            200: OpenApiResponse(EscalationFrameSerializer, description="a second one answers the open handoff"),
            **error_responses(
                {
                    400: "bad_request: not a JSON object in UTF-8; a field not a string or with a NUL; "
                    "a malformed email or phone",
                    403: "forbidden: the Origin is not one of the tenant's",
                    404: "not_found: unknown widget key, or no live conversation of that tenant for resume_token",
                    413: "too_long: body over 16,384 bytes; reason over 1,000, email over 254, phone over 32 "
                    "characters",
                    429: "rate_limited: more than ESCALATIONS_PER_HOUR new handoffs from one IP or customer",
                    503: "unavailable: the widget key could not be looked up, the conversation resumed or handed "
                    "over (a database error, say); nothing was handed over, try again",
                }
            ),
        },
        auth=[],
        tags=[TAG],
    )
)
class PublicEscalateDoc(PublicDocView):
    """POST /api/v1/public/chat/escalate, served by ``escalations.public_api.escalate``."""
