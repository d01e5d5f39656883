"""Parsing and validation of client websocket frames (see docs/websocket-protocol.md), and the
server's frames of an answer.

Every problem becomes a ``ProtocolError`` carrying one of the protocol's error codes and a plain
message; the consumer turns it into an ``error`` frame, in the customer's language
(``chat/phrases/``), and keeps the socket open.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from chat.phrases import ErrorText, Sentence, error_message
from routing.language import DEFAULT

if TYPE_CHECKING:
    from chat.models import Message

MAX_FRAME_BYTES = 16_384
MAX_MESSAGE_CHARS = 2_000
MAX_COMMENT_CHARS = 1_000
MAX_CLIENT_ID_CHARS = 64
MAX_IDENTITY_TOKEN_CHARS = 4_096
MAX_PHONE_CHARS = 32
# A phone number as people write one: an optional leading +, then digits grouped by spaces, dashes,
# dots or parentheses; E.164 allows at most 15 digits, and fewer than 7 is no reachable number.
PHONE_SHAPE = re.compile(r"\+?[0-9 ().-]+")
PHONE_DIGITS = range(7, 16)


class ErrorCode(StrEnum):
    BAD_REQUEST = "bad_request"
    TOO_LONG = "too_long"
    RATE_LIMITED = "rate_limited"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal"


class CloseCode:
    """Our close codes, in the private range (4000-4999): daphne refuses to send the standard ones but
    1000 (1011 included), failing the consumer instead."""

    BAD_REQUEST = 4400
    FORBIDDEN_ORIGIN = 4403
    UNKNOWN_KEY = 4404
    RATE_LIMITED = 4429
    UNAVAILABLE = 4503  # our side failed setting the session up (the database, say): connect again


class ProtocolError(Exception):
    """A refused frame. ``message`` is English (unless made by ``in_language``); with ``text`` (a sentence
    of ``chat/phrases/`` or another app's, such as ``bookings/phrases/``) the consumer can say it in
    another language.

    An error raised with a plain ``message`` and no ``text`` is English everywhere: raise the customer's
    errors with their sentence (``of``), other modules' too.
    ``field`` names the frame's (or body's) field that is wrong, when the error is about one.
    """

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        text: ErrorText | Sentence | None = None,
        params: Mapping[str, object] | None = None,
        field: str = "",
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.text = text
        self.params: Mapping[str, object] = params or {}
        self.field = field

    @classmethod
    def of(cls, code: ErrorCode, text: ErrorText | Sentence, /, **params: object) -> ProtocolError:
        """The error whose message is the sentence ``text`` (English here; ``message_in`` for others);
        a ``field`` parameter is the field the error is about."""
        message = error_message(text, language=DEFAULT, **params)
        return cls(code, message, text=text, params=params, field=str(params.get("field", "")))

    def message_in(self, language: str) -> str:
        """The message in ``language`` when it is one of our sentences, else the English ``message``."""
        if self.text is None:
            return self.message
        return error_message(self.text, language=language, **self.params)

    def in_language(self, language: str) -> ProtocolError:
        """This error with its ``message`` in ``language`` (``message_in``), for callers that answer ``message``."""
        return ProtocolError(self.code, self.message_in(language), text=self.text, params=self.params, field=self.field)

    def frame(self, language: str = DEFAULT) -> dict[str, Any]:
        """The ``error`` frame, its message in ``language``."""
        return error_frame(self.code, self.message_in(language), field=self.field)


def error_frame(code: ErrorCode, message: str, *, field: str = "") -> dict[str, Any]:
    """The protocol's ``error`` frame; ``field`` (only when given) names the field that is wrong."""
    frame: dict[str, Any] = {"type": "error", "code": code.value, "message": message}
    if field:
        frame["field"] = field
    return frame


@dataclass(frozen=True)
class SendMessage:
    client_id: str
    text: str


@dataclass(frozen=True)
class Feedback:
    message_id: int
    value: str
    comment: str


@dataclass(frozen=True)
class Rating:
    rating: int
    comment: str


@dataclass(frozen=True)
class Escalate:
    reason: str
    email: str
    phone: str


@dataclass(frozen=True)
class ProposalDecision:
    proposal_id: str
    confirm: bool


@dataclass(frozen=True)
class Identify:
    token: str


@dataclass(frozen=True)
class Ping:
    pass


Command = SendMessage | Feedback | Rating | Escalate | ProposalDecision | Identify | Ping


def _storable(value: str) -> bool:
    """Whether PostgreSQL can store ``value``: no NUL, no half surrogate pair (JSON can escape both)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _string(frame: dict[str, Any], key: str, *, required: bool, limit: int, strip: bool = False) -> str:
    """``frame[key]`` as text of at most ``limit`` characters (code points: an emoji counts one);
    with ``strip``, without its surrounding whitespace, and the limit is on what remains."""
    value = frame.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ProtocolError.of(ErrorCode.BAD_REQUEST, ErrorText.NOT_STRING, field=key)
    if not _storable(value):
        raise ProtocolError.of(ErrorCode.BAD_REQUEST, ErrorText.NOT_TEXT, field=key)
    if strip:
        value = value.strip()
    if required and not value.strip():
        raise ProtocolError.of(ErrorCode.BAD_REQUEST, ErrorText.REQUIRED, field=key)
    if len(value) > limit:
        raise ProtocolError.of(ErrorCode.TOO_LONG, ErrorText.FIELD_TOO_LONG, field=key, limit=limit)
    return value


def optional_string(fields: dict[str, Any], key: str, *, limit: int) -> str:
    """``fields[key]`` checked as a frame's optional text field ("" when absent or null); raises ``ProtocolError``."""
    return _string(fields, key, required=False, limit=limit)


def _integer(frame: dict[str, Any], key: str) -> int:
    value = frame.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError.of(ErrorCode.BAD_REQUEST, ErrorText.NOT_INTEGER, field=key)
    return value


def _send(frame: dict[str, Any]) -> SendMessage:
    client_id = _string(frame, "client_id", required=True, limit=MAX_CLIENT_ID_CHARS)
    # stored without its surrounding whitespace, and limited as stored
    text = _string(frame, "text", required=True, limit=MAX_MESSAGE_CHARS, strip=True)
    return SendMessage(client_id=client_id, text=text)


def _feedback(frame: dict[str, Any]) -> Feedback:
    value = frame.get("value")
    if value not in ("up", "down"):
        raise ProtocolError.of(ErrorCode.BAD_REQUEST, ErrorText.FEEDBACK_VALUE, field="value")
    comment = _string(frame, "comment", required=False, limit=MAX_COMMENT_CHARS)
    return Feedback(message_id=_integer(frame, "message_id"), value=value, comment=comment)


def _rating(frame: dict[str, Any]) -> Rating:
    rating = _integer(frame, "rating")
    if not 1 <= rating <= 5:
        raise ProtocolError.of(ErrorCode.BAD_REQUEST, ErrorText.RATING_RANGE, field="rating")
    return Rating(rating=rating, comment=_string(frame, "comment", required=False, limit=MAX_COMMENT_CHARS))


def _is_phone_number(value: str) -> bool:
    """Whether ``value`` reads as a phone number (``PHONE_SHAPE``, 7 to 15 digits). Full-width digits and
    punctuation, as a Japanese or Chinese keyboard types them, count as their ASCII forms (NFKC)."""
    value = unicodedata.normalize("NFKC", value)
    return PHONE_SHAPE.fullmatch(value) is not None and sum(c.isdigit() for c in value) in PHONE_DIGITS


def _escalate(frame: dict[str, Any]) -> Escalate:
    reason = _string(frame, "reason", required=False, limit=MAX_COMMENT_CHARS)
    email = _string(frame, "email", required=False, limit=254)
    phone = _string(frame, "phone", required=False, limit=MAX_PHONE_CHARS)
    if phone.strip() and not _is_phone_number(phone.strip()):
        raise ProtocolError.of(ErrorCode.BAD_REQUEST, ErrorText.BAD_PHONE, field="phone")
    return Escalate(reason=reason, email=email, phone=phone)


def _proposal(confirm: bool) -> Any:
    def parse(frame: dict[str, Any]) -> ProposalDecision:
        return ProposalDecision(proposal_id=_string(frame, "proposal_id", required=True, limit=64), confirm=confirm)

    return parse


PARSERS: dict[str, Any] = {
    "message.send": _send,
    "feedback": _feedback,
    "rating": _rating,
    "escalate": _escalate,
    "proposal.confirm": _proposal(True),
    "proposal.reject": _proposal(False),
    "identify": lambda frame: Identify(token=_string(frame, "token", required=True, limit=MAX_IDENTITY_TOKEN_CHARS)),
    "ping": lambda frame: Ping(),
}


def parse_frame(raw: str | None) -> Command:
    """Turn one text frame into a command, or raise ``ProtocolError``."""
    if raw is None:
        raise ProtocolError.of(ErrorCode.BAD_REQUEST, ErrorText.BINARY)
    if len(raw.encode("utf-8", errors="replace")) > MAX_FRAME_BYTES:
        raise ProtocolError.of(ErrorCode.TOO_LONG, ErrorText.FRAME_TOO_LONG, limit=MAX_FRAME_BYTES)
    try:
        frame = json.loads(raw)
    except (ValueError, RecursionError):  # ValueError: also an integer of more than 4,300 digits
        raise ProtocolError.of(ErrorCode.BAD_REQUEST, ErrorText.NOT_JSON) from None
    if not isinstance(frame, dict):
        raise ProtocolError.of(ErrorCode.BAD_REQUEST, ErrorText.NOT_JSON)
    return parse_object(frame)


def parse_object(frame: dict[str, Any]) -> Command:
    """A decoded frame (a JSON object with its ``type``) as a command, or raise ``ProtocolError``.

    Its size is the caller's to check, on the text as received (``MAX_FRAME_BYTES``): the HTTP
    fallbacks measure their body, never a re-encoding of it (``json.dumps`` would escape each
    non-ASCII character into up to 12 bytes).
    """
    kind = frame.get("type")
    parser = PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        raise ProtocolError.of(ErrorCode.BAD_REQUEST, ErrorText.UNKNOWN_TYPE, kind=repr(str(kind)[:40]))
    command: Command = parser(frame)
    return command


# --- the server's frames of an answer --------------------------------------------------------------
# An answer names its question in ``reply_to`` (its ``client_id``; null when it was sent without one),
# as ``session.ready.history`` does, so a client settles the question it answers whatever the order
# of acks and answers.


def start_frame(reply: Message, *, question: Message) -> dict[str, Any]:
    """``message.start`` of ``reply``, the answer to ``question`` (its deltas follow)."""
    return {"type": "message.start", "message_id": reply.pk, "reply_to": question.client_id or None}


def end_frame(reply: Message, *, question: Message, escalated: bool = False) -> dict[str, Any]:
    """``message.end`` of ``reply``, the stored answer to ``question``."""
    return {
        "type": "message.end",
        "message_id": reply.pk,
        "reply_to": question.client_id or None,
        "text": reply.text,
        "sources": reply.sources,
        "tier": reply.tier,
        "model": reply.model,
        "escalated": escalated,
        "confidence": reply.confidence,
        "status": reply.status,
    }
