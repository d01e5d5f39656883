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

from chat.phrases.asian import ASIAN
from chat.phrases.european import EUROPEAN
from chat.phrases.sentences import ErrorPhrases, ErrorText
from routing.language import DEFAULT

__all__ = ["ERROR_PHRASES", "ErrorPhrases", "ErrorText", "error_message"]

ERROR_PHRASES: dict[str, ErrorPhrases] = {**EUROPEAN, **ASIAN}


def error_message(text: ErrorText, *, language: str, **params: object) -> str:
    """``text`` in ``language`` (English when it has no row), its placeholders filled from ``params``."""
    phrases = ERROR_PHRASES.get(language, ERROR_PHRASES[DEFAULT])
    sentence: str = getattr(phrases, text.value)
    return sentence.format(**params)
