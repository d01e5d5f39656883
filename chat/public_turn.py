"""One customer message sent over HTTP: the request checked and its conversation found or opened
(``prepare_turn``), then the frames the websocket would send for it (``turn_frames``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from chat import services
from chat.engine import answer_turn
from chat.limits import ip_allows_conversation, ip_allows_message
from chat.models import Conversation, Message, MessageStatus
from chat.phrases import ErrorText, error_message
from chat.protocol import (
    MAX_IDENTITY_TOKEN_CHARS,
    ErrorCode,
    ProtocolError,
    SendMessage,
    end_frame,
    optional_string,
    parse_object,
)
from chat.public_http import PublicRequest, public_request, unavailable_on_database_error
from chat.public_language import said_in
from chat.selectors import conversation_language_get
from escalations.presence import publish_customer_wrote
from escalations.watch import publish_message
from routing.language import detect_language
from supportai.client_address import client_ip_from_request
from supportai.db import db_call
from supportai.identity import IdentityError
from supportai.models import Tenant

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublicTurn:
    tenant: Tenant
    conversation: Conversation
    resume_token: str
    command: SendMessage
    origin: str
    ip: str
    # answers a dead server left streaming, finished as interrupted by this resume: for staff to see
    finished_replies: list[Message]
    language: str  # of the message sent: the turn's errors are in it, as on the socket


def prepare_turn(request: HttpRequest) -> PublicTurn:
    """Validate the request and find (or open) the conversation; raises ``ProtocolError``.

    As on the socket, a body refused before its message is read is answered in the conversation's
    language, and anything after in the language of the message sent.
    """
    checked = public_request(request)
    with said_in(checked.customer_language):
        command = parse_object({**checked.body, "type": "message.send"})
        # Checked like the frame's fields: a number or a list is refused, not read as its text.
        identity_token = optional_string(checked.body, "identity_token", limit=MAX_IDENTITY_TOKEN_CHARS)
    assert isinstance(command, SendMessage)
    language = detect_language(command.text)
    with said_in(lambda: language):
        return _open_turn(
            checked,
            command=command,
            identity_token=identity_token,
            ip=client_ip_from_request(request),
            language=language,
        )


def _open_turn(
    checked: PublicRequest, *, command: SendMessage, identity_token: str, ip: str, language: str
) -> PublicTurn:
    """The turn of ``command``, in the conversation it resumes or opens; raises ``ProtocolError``."""
    tenant, origin, resume = checked.tenant, checked.origin, checked.resume_token
    if not ip_allows_message(ip):
        raise ProtocolError.of(ErrorCode.RATE_LIMITED, ErrorText.NETWORK_BUSY)
    finished: list[Message] = []
    with unavailable_on_database_error(tenant=tenant):
        conversation = services.conversation_resume(tenant=tenant, resume_token=resume) if resume else None
        resumed = conversation is not None
        if conversation is None:
            if not ip_allows_conversation(ip):
                raise ProtocolError.of(ErrorCode.RATE_LIMITED, ErrorText.TOO_MANY_CHATS)
            opened = services.conversation_open(tenant=tenant, origin=origin, channel="api")
            conversation, resume = opened.conversation, opened.resume_token
    with unavailable_on_database_error(tenant=tenant, conversation=conversation):
        if resumed:  # as on a websocket resume: an answer its server abandoned shows as interrupted
            finished = services.conversation_finish_abandoned_replies(tenant=tenant, conversation=conversation)
        if identity_token:
            _identify(tenant=tenant, conversation=conversation, token=identity_token)
    return PublicTurn(
        tenant=tenant,
        conversation=conversation,
        resume_token=resume,
        command=command,
        origin=origin,
        ip=ip,
        finished_replies=finished,
        language=language,
    )


def _identify(*, tenant: Tenant, conversation: Conversation, token: str) -> None:
    """``conversation_identify``; a token that does not verify, or names another customer, is ``forbidden``."""
    try:
        services.conversation_identify(tenant=tenant, conversation=conversation, token=token)
    except IdentityError as exc:
        raise ProtocolError.of(ErrorCode.FORBIDDEN, services.IDENTITY_REFUSALS[exc.rejection]) from exc
    except services.ChatError as exc:  # the token names another customer than the conversation's
        raise ProtocolError.of(ErrorCode.FORBIDDEN, ErrorText.IDENTITY_CONFLICT) from exc


def _internal_error(turn: PublicTurn) -> dict[str, Any]:
    """The ``internal`` error frame for the turn's message: the client may resend it, with the resume
    token of its conversation (a first message opened it) so that the resend reaches it."""
    return {
        "type": "error",
        "code": ErrorCode.INTERNAL.value,
        "message": error_message(ErrorText.INTERNAL, language=turn.language),
        "client_id": turn.command.client_id,
        "conversation_id": turn.conversation.pk,
        "resume_token": turn.resume_token,
    }


async def turn_frames(turn: PublicTurn) -> AsyncIterator[dict[str, Any]]:
    """The frames of one turn, as the websocket would send them."""
    for reply in turn.finished_replies:
        await publish_message(reply)
    try:
        received = await db_call(services.message_receive)(
            tenant=turn.tenant, conversation=turn.conversation, client_id=turn.command.client_id, text=turn.command.text
        )
    except services.ClientIdReused:
        yield ProtocolError.of(ErrorCode.BAD_REQUEST, ErrorText.CLIENT_ID_REUSED, field="client_id").frame(
            turn.language
        )
        return
    except Exception:  # not stored (a database error): the error frame, never a 500 with a traceback
        logger.exception("storing message %r failed", turn.command.client_id)
        yield _internal_error(turn)
        return
    yield {
        "type": "message.ack",
        "client_id": turn.command.client_id,
        "message_id": received.message.pk,
        "conversation_id": turn.conversation.pk,
        "resume_token": turn.resume_token,
    }
    if received.news is not None:
        await publish_message(received.news)
    if received.created:  # the customer is back, if the inbox said they were away (a socket's turn has its place)
        await publish_customer_wrote(tenant=turn.tenant, conversation_id=turn.conversation.pk)
    if not received.created and received.reply is not None:
        # answered (cut short, or abandoned by a server that died, as interrupted), or being answered
        # by the first request: no second answer
        if received.reply.status != MessageStatus.STREAMING:
            yield end_frame(received.reply, question=received.message)
        return
    # A new question, or a resend of one never answered (its first request was cut off before the
    # reply row existed), is answered now, as on the websocket; an open handoff still intercepts it,
    # and a request still preparing its answer keeps it (answer_turn claims it: ack alone, then 202).
    queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

    async def run() -> None:
        try:
            # the conversation's language (the question stored), read once: the assistant's proposals are said in it
            language = await db_call(conversation_language_get)(tenant=turn.tenant, conversation=turn.conversation)
            await answer_turn(
                tenant=turn.tenant,
                conversation=turn.conversation,
                question=received.message,
                emit=queue.put,
                sender="",  # no socket: every socket of the conversation gets the answer
                ip=turn.ip,
                language=language,
            )
        except Exception:  # the turn's error frame, as on the websocket; a resend is answered (claim released)
            logger.exception("answer to message %s failed", received.message.pk)
            await queue.put(_internal_error(turn))
        finally:
            await queue.put(None)

    task = asyncio.create_task(run())
    try:
        while (frame := await queue.get()) is not None:
            yield frame
    finally:
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
