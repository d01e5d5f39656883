"""The booking errors and ``proposal.result`` texts, in the customer's language (docs/websocket-protocol.md,
"Errors").

A booking error is raised with its sentence (``BookingText``) and the sentence's parameters
(``BookingError.of``, ``ProtocolError.of``), its ``message`` the English; the one place that turns a
``ProtocolError`` into an ``error`` frame or an HTTP body says it in the customer's language
(``chat.protocol.ProtocolError.message_in``), as the chat's own errors (``chat/phrases/``). A
``proposal.result`` is said so when it is sent (``proposals.decision_frame``). English when the language
has no row. ``code``, ``field`` and the protocol's words stay as they are. Every row has every sentence
with the same placeholders as English (a test holds it to that), in the languages of ``chat/phrases/``.

The table is split by language family: ``sentences.py`` holds its shape, ``european.py``, ``romance.py``,
``asian.py`` and ``arabic.py`` its rows.
"""

from __future__ import annotations

from bookings.phrases.arabic import ARABIC
from bookings.phrases.asian import ASIAN
from bookings.phrases.european import EUROPEAN
from bookings.phrases.romance import ROMANCE
from bookings.phrases.sentences import BookingPhrases, BookingText
from routing.language import DEFAULT

__all__ = ["BOOKING_PHRASES", "BookingPhrases", "BookingText", "booking_message", "english"]

BOOKING_PHRASES: dict[str, BookingPhrases] = {**EUROPEAN, **ROMANCE, **ASIAN, **ARABIC}


def booking_message(text: BookingText, *, language: str, **params: object) -> str:
    """``text`` in ``language`` (English when it has no row), its placeholders filled from ``params``."""
    phrases = BOOKING_PHRASES.get(language, BOOKING_PHRASES[DEFAULT])
    sentence: str = getattr(phrases, text.value)
    return sentence.format(**params)


def english(text: BookingText, **params: object) -> str:
    """``text`` in English: a booking error's ``message``, and what the assistant and the console read."""
    return booking_message(text, language=DEFAULT, **params)
