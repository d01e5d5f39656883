"""The shape of the error sentences table: which sentences there are (``ErrorText``) and the sentences
of one language (``ErrorPhrases``); the languages' rows are in ``european.py``, ``asian.py`` and
``arabic.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorText(StrEnum):
    """Which sentence: the name of an ``ErrorPhrases`` field."""

    BINARY = "binary"
    FRAME_TOO_LONG = "frame_too_long"
    NOT_JSON = "not_json"
    UNKNOWN_TYPE = "unknown_type"
    NOT_STRING = "not_string"
    NOT_TEXT = "not_text"
    REQUIRED = "required"
    FIELD_TOO_LONG = "field_too_long"
    NOT_INTEGER = "not_integer"
    FEEDBACK_VALUE = "feedback_value"
    RATING_RANGE = "rating_range"
    BAD_PHONE = "bad_phone"
    BAD_EMAIL = "bad_email"
    FRAME_FLOOD = "frame_flood"
    TOO_QUICKLY = "too_quickly"
    NETWORK_BUSY = "network_busy"
    MESSAGE_NOT_FOUND = "message_not_found"
    FEEDBACK_TOO_EARLY = "feedback_too_early"
    FEEDBACK_ON_FAILED = "feedback_on_failed"
    CLIENT_ID_REUSED = "client_id_reused"
    INTERNAL = "internal"
    USE_POST = "use_post"
    BODY_TOO_LONG = "body_too_long"
    BODY_NOT_JSON = "body_not_json"
    BAD_CONTENT_LENGTH = "bad_content_length"
    UNKNOWN_KEY = "unknown_key"
    FOREIGN_ORIGIN = "foreign_origin"
    TOO_MANY_CHATS = "too_many_chats"
    TOO_MANY_REQUESTS = "too_many_requests"
    NO_CHAT_FOR_TOKEN = "no_chat_for_token"
    NO_CHAT_TO_HAND_OVER = "no_chat_to_hand_over"
    HANDOFF_CHAT_ENDED = "handoff_chat_ended"
    HANDOFF_TOO_OFTEN = "handoff_too_often"
    IDENTITY_NOT_CONFIGURED = "identity_not_configured"
    IDENTITY_INVALID = "identity_invalid"
    IDENTITY_EXPIRED = "identity_expired"
    IDENTITY_TOO_LONG_LIVED = "identity_too_long_lived"
    IDENTITY_UNAVAILABLE = "identity_unavailable"
    IDENTITY_CONFLICT = "identity_conflict"


@dataclass(frozen=True)
class ErrorPhrases:
    binary: str  # a binary frame
    frame_too_long: str  # {limit}: bytes
    not_json: str  # not JSON, or JSON that is not an object
    unknown_type: str  # {kind}: the type the client sent, quoted and cut to 40 characters
    not_string: str  # {field}
    not_text: str  # {field}: a NUL or half a surrogate pair, which PostgreSQL cannot store
    required: str  # {field}
    field_too_long: str  # {field}, {limit}: characters
    not_integer: str  # {field}
    feedback_value: str
    rating_range: str
    bad_phone: str  # escalate's phone: letters, other signs, or fewer than 7 or more than 15 digits
    bad_email: str  # escalate's email: not an email address (Django's validate_email)
    frame_flood: str  # then the socket is closed with 4429
    too_quickly: str  # more messages a minute than this connection may send
    network_busy: str  # more messages a minute than the customer's address may send
    message_not_found: str  # feedback on a message that is not an answer of this conversation
    feedback_too_early: str  # feedback on an answer still streaming
    feedback_on_failed: str  # feedback on an answer that failed
    client_id_reused: str  # message.send with the client_id of another message of the conversation
    internal: str  # our own code failed on the frame
    # The public HTTP endpoints' errors about the request itself, most found before its tenant is known
    # (chat/public_http.py): said in the language of its Accept-Language header.
    use_post: str  # another method than POST (or OPTIONS)
    body_too_long: str  # {limit}: bytes
    body_not_json: str  # not UTF-8, not JSON, or JSON that is not an object
    bad_content_length: str  # a Content-Length header that is no number
    unknown_key: str  # the body's widget key is no tenant's
    foreign_origin: str  # the Origin is not one of the tenant's
    # The customer-facing errors of other modules, raised with these sentences by name: the rate limits, no
    # conversation, the handoff's (escalations) and the identity token's (``chat.services.IDENTITY_REFUSALS``).
    # The booking errors have their own table (``bookings/phrases/``).
    too_many_chats: str  # chat.limits.TOO_MANY_CONVERSATIONS: a network opening too many conversations
    too_many_requests: str  # a proposal decision over the per-IP message limit
    no_chat_for_token: str  # a proposal decision whose resume_token names no conversation of the tenant
    no_chat_to_hand_over: str  # /escalate whose resume_token names no conversation of the tenant
    handoff_chat_ended: str  # escalations.services.NO_CONVERSATION: the conversation is no longer live
    handoff_too_often: str  # escalations.limits.RATE_LIMITED_MESSAGE
    identity_not_configured: str  # supportai.identity.IdentityRejection.NOT_CONFIGURED, and so on
    identity_invalid: str
    identity_expired: str
    identity_too_long_lived: str
    identity_unavailable: str
    identity_conflict: str  # chat.services.IDENTITY_BELONGS_TO_OTHER
