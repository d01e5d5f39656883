"""The widget's error sentences, in the customer's language (docs/websocket-protocol.md, "Errors").

An ``error`` frame's ``code`` is the protocol's contract and never changes; its ``message`` is for
the customer to read, so the consumer (and the HTTP fallbacks alike, ``chat/public_language.py``)
writes it in the language of their latest message
(``routing/language.py``), as the assistant's own sentences (``routing/phrases.py``): English until
they have written, or when their language has no row here. Field names, frame types and ``"up"`` /
``"down"`` are the protocol's words and stay as they are. Every row has every sentence with the
same placeholders as English (a test holds it to that).

The table is split by language family: ``sentences.py`` holds its shape, ``european.py``, ``asian.py``
and ``arabic.py`` its rows.
"""

from __future__ import annotations

from typing import Protocol

from chat.phrases.arabic import ARABIC
from chat.phrases.asian import ASIAN
from chat.phrases.european import EUROPEAN
from chat.phrases.sentences import ErrorPhrases, ErrorText
from routing.language import DEFAULT

__all__ = ["ERROR_PHRASES", "ErrorPhrases", "ErrorText", "Sentence", "english_error", "error_message"]

ERROR_PHRASES: dict[str, ErrorPhrases] = {**EUROPEAN, **ASIAN, **ARABIC}


class Sentence(Protocol):
    """A sentence of another app's table that says itself (``bookings.phrases.BookingText``): an error
    raised with one is said in the customer's language as ours are."""

    def say(self, language: str, /, **params: object) -> str:
        """The sentence in ``language`` (English when it has no row), its placeholders filled from ``params``."""


def error_message(text: ErrorText | Sentence, *, language: str, **params: object) -> str:
    """``text`` in ``language`` (English when it has no row), its placeholders filled from ``params``."""
    if not isinstance(text, ErrorText):
        return text.say(language, **params)
    phrases = ERROR_PHRASES.get(language, ERROR_PHRASES[DEFAULT])
    sentence: str = getattr(phrases, text.value)
    return sentence.format(**params)


def english_error(text: ErrorText, **params: object) -> str:
    """``text`` in English: the ``message`` of an error raised with it, and other modules' constants of it."""
    return error_message(text, language=DEFAULT, **params)
