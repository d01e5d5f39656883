"""The error frames the chat socket answers a refused or failed frame with, in the customer's language.

Contract: ``refusal_frame`` is the ``error`` frame of an exception that a frame's handling raises for the
client's mistake: a ``ProtocolError`` (its own frame), feedback on a message that is not an answer of the
conversation (``not_found``), or on one still streaming or that failed (``bad_request``); None for any
other exception, which is ours (the caller logs it and answers ``internal``).
``question_failed_frame`` is the ``internal`` error of one question (the widget lets the customer resend
it), ``identity_conflict_frame`` the refusal of an ``identify`` on another customer's conversation. Every
message is in ``language`` (English when a sentence has no row in it).
"""

from __future__ import annotations

from typing import Any

from chat import services
from chat.models import MessageStatus
from chat.phrases import ErrorText, error_message
from chat.protocol import ErrorCode, ProtocolError, error_frame

# why feedback on an answer is refused, by the answer's status (``services.FEEDBACK_REFUSED_STATUSES``)
FEEDBACK_REFUSED = {
    MessageStatus.STREAMING: ErrorText.FEEDBACK_TOO_EARLY,
    MessageStatus.FAILED: ErrorText.FEEDBACK_ON_FAILED,
}


def refusal_frame(exc: Exception, *, language: str) -> dict[str, Any] | None:
    """The client's error for ``exc``, None when ``exc`` is not the client's mistake."""
    if isinstance(exc, ProtocolError):
        return exc.frame(language)
    if isinstance(exc, services.ChatError):  # feedback on a message that is not an answer of this conversation
        text = error_message(ErrorText.MESSAGE_NOT_FOUND, language=language)
        return error_frame(ErrorCode.NOT_FOUND, text, field="message_id")
    if isinstance(exc, services.FeedbackRefused):  # on an answer still streaming, or one that failed
        text = error_message(FEEDBACK_REFUSED[exc.status], language=language)
        return error_frame(ErrorCode.BAD_REQUEST, text, field="message_id")
    return None


def question_failed_frame(client_id: str, *, language: str) -> dict[str, Any]:
    """The ``internal`` error of the message ``client_id``: the widget marks that question failed (resend it)."""
    return {
        "type": "error",
        "code": ErrorCode.INTERNAL.value,
        "message": error_message(ErrorText.INTERNAL, language=language),
        "client_id": client_id,
    }


def identity_conflict_frame(*, language: str) -> dict[str, Any]:
    """``identify`` refused: the conversation belongs to another identified customer. The widget starts a
    fresh conversation on this reason."""
    return {
        "type": "error",
        "code": ErrorCode.FORBIDDEN.value,
        "message": error_message(ErrorText.IDENTITY_CONFLICT, language=language),
        "reason": "identity_conflict",
    }
