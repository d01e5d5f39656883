"""The widget's error sentences, in the customer's language (docs/websocket-protocol.md, "Errors").

An ``error`` frame's ``code`` is the protocol's contract and never changes; its ``message`` is for
the customer to read, so the consumer (and the HTTP fallbacks alike, ``chat/public_language.py``)
writes it in the language of their latest message
(``routing/language.py``), as the assistant's own sentences (``routing/phrases.py``): English until
they have written, or when their language has no row here. Field names, frame types and ``"up"`` /
``"down"`` are the protocol's words and stay as they are. Every row has every sentence with the
same placeholders as English (a test holds it to that).

The table is split by language family: ``sentences.py`` holds its shape, ``european.py`` and ``asian.py``
its rows.
"""

from __future__ import annotations

from typing import Protocol

from chat.phrases.asian import ASIAN
from chat.phrases.european import EUROPEAN
from chat.phrases.sentences import ErrorPhrases, ErrorText
from routing.language import DEFAULT

__all__ = ["ERROR_PHRASES", "ErrorPhrases", "ErrorText", "Sentence", "error_message", "said", "sentence_of"]

ERROR_PHRASES: dict[str, ErrorPhrases] = {**EUROPEAN, **ASIAN}
# The English sentences without placeholders: another module's error (the handoff's, an identity
# token's) whose message is one of them is said in the customer's language as ours are.
_BY_ENGLISH = {
    sentence: text for text in ErrorText if "{" not in (sentence := getattr(ERROR_PHRASES[DEFAULT], text.value))
}


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


def sentence_of(message: str) -> ErrorText | None:
    """The sentence whose English (without placeholders) is ``message``; None when it is none of ours."""
    return _BY_ENGLISH.get(message)


def said(message: str, *, language: str) -> str:
    """``message`` in ``language`` when it is one of our sentences (``sentence_of``), else as it is."""
    text = sentence_of(message)
    return message if text is None else error_message(text, language=language)
