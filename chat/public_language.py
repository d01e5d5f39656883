"""The public HTTP endpoints' errors in the customer's language, chosen as the socket chooses it.

The socket (``chat.consumers``) writes an error in the language of the customer's latest message in
its conversation (``conversation_language`` of the history it resumes with), then in that of each
message sent. The HTTP fallbacks do the same: a body refused before its message is read gets the
conversation's language, anything after the message's (``routing.language.detect_language``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator

from django.db import DatabaseError, InterfaceError

from chat import services
from chat.protocol import ProtocolError
from chat.selectors import conversation_history, conversation_language
from routing.language import DEFAULT
from supportai.models import Tenant

logger = logging.getLogger(__name__)


def resumed_language(*, tenant: Tenant, resume_token: str) -> str:
    """The language of the customer's latest message in ``tenant``'s conversation for ``resume_token``,
    as the socket reads it on resume; English when the token names none of ``tenant``'s conversations."""
    try:
        conversation = services.conversation_resume(tenant=tenant, resume_token=resume_token)
        history = conversation_history(tenant=tenant, conversation=conversation) if conversation else []
    except (DatabaseError, InterfaceError):  # the error is answered all the same, in English
        logger.exception("the customer's language in a chat of tenant %s could not be read", tenant.pk)
        return DEFAULT
    return conversation_language(history)


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
