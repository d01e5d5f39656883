"""The public HTTP endpoints' errors in the customer's language, chosen as the socket chooses it.

The socket (``chat.consumers``) writes an error in the conversation's language: that of the customer's
latest message that tells one (``conversation_language`` of the history it resumes with), then that of
each message sent that tells one. The HTTP fallbacks do the same: a body refused before its message is
read gets the conversation's language, anything after the message's (``routing.language.detect_language``,
English for a message that tells none). Without
a conversation its customer has written in, they say it as the request's ``Accept-Language`` asks.

An error about the request itself, most found before its tenant is known (``chat/public_http.py``: not
JSON, over the size limit, an unknown widget key, a foreign Origin, ...), has no conversation to take a
language from: it is said in the best language of the request's ``Accept-Language`` header that has
our sentences (``accepted_language``); a foreign Origin, found once the tenant is known, in the language
of the conversation the body resumes when its customer has written in it.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Iterator

from django.db import DatabaseError, InterfaceError
from django.http import HttpRequest

from chat import services
from chat.phrases import ERROR_PHRASES
from chat.protocol import ProtocolError
from chat.selectors import conversation_history, conversation_language
from routing.language import DEFAULT
from supportai.models import Tenant

logger = logging.getLogger(__name__)

# A language range of Accept-Language (RFC 9110, 12.5.4): a tag, then an optional weight of 0 to 1.
_LANGUAGE_RANGE = re.compile(
    r"\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)\s*(?:;\s*q\s*=\s*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?))?\s*"
)
# Chinese tags that mean the traditional script: Taiwan, Hong Kong and Macau write it.
_TRADITIONAL_CHINESE = frozenset({"zh-hant", "zh-tw", "zh-hk", "zh-mo"})
_LANGUAGES = {language.lower(): language for language in ERROR_PHRASES}


def resumed_language(*, tenant: Tenant, resume_token: str, otherwise: str = DEFAULT) -> str:
    """The language of the customer's latest message in ``tenant``'s conversation for ``resume_token``,
    as the socket reads it on resume; ``otherwise`` when the token names none of ``tenant``'s
    conversations, or one its customer has not written in."""
    try:
        conversation = services.conversation_resume(tenant=tenant, resume_token=resume_token)
        history = conversation_history(tenant=tenant, conversation=conversation) if conversation else []
    except (DatabaseError, InterfaceError):  # the error is answered all the same, in ``otherwise``
        logger.exception("the customer's language in a chat of tenant %s could not be read", tenant.pk)
        return otherwise
    return conversation_language(history, otherwise=otherwise)


def _our_language(tag: str) -> str | None:
    """The language of ours a language tag asks for: itself, else its base language (``pt-BR``: ``pt``);
    Chinese by its script or region (``zh-TW``, ``zh-Hant-HK``: ``zh-Hant``)."""
    subtags = tag.lower().split("-")
    if subtags[0] == "zh" and "-".join(subtags[:2]) in _TRADITIONAL_CHINESE:
        return _LANGUAGES["zh-hant"]
    return _LANGUAGES.get(tag.lower()) or _LANGUAGES.get(subtags[0])


def accepted_language(header: str) -> str:
    """The language of ours an ``Accept-Language`` header prefers most: the highest weight first (in
    the header's order on a tie), a weight of 0 never; English when it names none of ours (``*`` is
    none), and a range that cannot be read is skipped."""
    weighted: list[tuple[float, str]] = []
    for item in header.split(","):
        matched = _LANGUAGE_RANGE.fullmatch(item)
        if matched is None:
            continue
        language, weight = _our_language(matched[1]), float(matched[2] or 1)
        if language and weight > 0:
            weighted.append((weight, language))
    return max(weighted, key=lambda pair: pair[0], default=(1.0, DEFAULT))[1]


def request_language(request: HttpRequest) -> str:
    """``accepted_language`` of ``request``'s ``Accept-Language`` header."""
    return accepted_language(request.headers.get("Accept-Language", ""))


@contextlib.contextmanager
def said_in(language: Callable[[], str]) -> Iterator[None]:
    """A ``ProtocolError`` raised in the block is raised again with its message in ``language()``, asked
    only then; an error that is none of our sentences (``ProtocolError.text``) stays English."""
    try:
        yield
    except ProtocolError as exc:
        if exc.text is None:
            raise
        raise exc.in_language(language()) from exc
