"""The conversation engine: customer question → retrieval → routed generation → stored answer.

``answer_turn`` is a coroutine the websocket consumer (and the SSE endpoint) runs as a task it
owns. It emits protocol frames through ``emit`` as they happen. If the task is cancelled (the
customer went away), the partial answer is stored as ``interrupted`` before the cancellation
propagates.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any, cast
from urllib.parse import urlsplit

from bookings.assistant import tools_for
from chat.customer_context import customer_context_for
from chat.models import Conversation, Message, MessageRole, MessageStatus
from chat.protocol import end_frame, start_frame
from chat.services import (
    INTERRUPTED_EMPTY,
    AssistantOutcome,
    ReplyAlreadyFinished,
    assistant_message_finish,
    assistant_message_start,
    message_answer_claim,
    message_answer_release,
)
from chat.streaming import DeltaStream
from chat.tools import turn_with_tools
from escalations import handoff
from escalations.realtime import publish, to_customer
from escalations.watch import publish_message
from knowledge.timeouts import RetrievalTimedOut
from knowledge.types import Passage
from routing.contracts import ContextPassage, HistoryTurn, Role, TurnRequest, TurnResult
from routing.phrases import phrases_for
from routing.services import partial_answer_check
from routing.tokens import estimate_tokens
from supportai.db import db_call
from supportai.models import Tenant
from supportai.outbound import browser_url_text

logger = logging.getLogger(__name__)

Emit = Callable[[dict[str, Any]], Awaitable[None]]
PASSAGES_PER_TURN = 5
# Budget for prior turns in the prompt, in estimated tokens (routing/tokens.py).
HISTORY_TOKEN_BUDGET = 1_500


def source_url(url: str) -> str:
    """A document's address as the answer may show it: http(s), or relative (the widget resolves it
    against the tenant's page); any other scheme (``javascript:``, ``data:`` from front matter or a
    CSV column) is dropped, as a browser would read the address."""
    url = browser_url_text(url)
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return ""
    return url if scheme in {"", "http", "https"} else ""


def retrieve_passages(*, tenant: Tenant, question: str) -> list[Passage]:
    """The turn's passages; the model, the widget and the stored answer all see these addresses."""
    from knowledge.selectors import retrieve

    try:
        passages = retrieve(tenant=tenant, query=question, k=PASSAGES_PER_TURN)
    except RetrievalTimedOut as exc:  # a locked or overloaded table: the answer goes on without knowledge
        logger.warning("retrieval timed out for tenant %s: %s", tenant.pk, exc)
        return []
    except Exception:  # retrieval trouble must not cost the customer an answer; the router says "not covered"
        logger.exception("retrieval failed for tenant %s", tenant.pk)
        return []
    return [replace(p, url=source_url(p.url)) for p in passages]


def history_for_prompt(*, tenant: Tenant, conversation: Conversation, before: Message) -> tuple[HistoryTurn, ...]:
    """Most recent complete turns before ``before``, newest kept first, within the token budget."""
    recent = (
        Message.objects.for_tenant(tenant)
        .filter(conversation=conversation, pk__lt=before.pk, status=MessageStatus.COMPLETE)
        .exclude(role=MessageRole.SYSTEM)
        .order_by("-pk")
        .values_list("role", "text")[:20]
    )
    kept: list[HistoryTurn] = []
    budget = HISTORY_TOKEN_BUDGET
    for role, text in recent:
        budget -= estimate_tokens(text)
        if budget < 0:
            break
        kept.append(HistoryTurn(role=cast(Role, role), text=text))
    return tuple(reversed(kept))


def prompt_memory(
    *, tenant: Tenant, conversation: Conversation, before: Message
) -> tuple[tuple[HistoryTurn, ...], str]:
    """The conversation so far and what we know of a verified customer, in one database hop."""
    return (
        history_for_prompt(tenant=tenant, conversation=conversation, before=before),
        customer_context_for(tenant=tenant, conversation=conversation),
    )


def context_passages(passages: Sequence[Passage]) -> tuple[ContextPassage, ...]:
    return tuple(
        ContextPassage(
            index=p.index, title=p.title, url=p.url, text=p.text, document_id=p.document_id, chunk_id=p.chunk_id
        )
        for p in passages
    )


def cited_sources(passages: Sequence[Passage], cited: Sequence[int]) -> list[dict[str, Any]]:
    by_index = {p.index: p for p in passages}
    return [
        {
            "index": p.index,
            "title": p.title,
            "url": p.url,
            "document_id": p.document_id,
            "chunk_id": p.chunk_id,
        }
        for p in (by_index[i] for i in dict.fromkeys(cited) if i in by_index)
    ]


def _outcome(result: TurnResult, sources: list[dict[str, Any]]) -> AssistantOutcome:
    return AssistantOutcome(
        text=result.text,
        status=MessageStatus.INTERRUPTED if result.interrupted else MessageStatus.COMPLETE,
        sources=sources,
        tier=result.tier,
        provider=result.provider,
        model=result.model,
        confidence=result.confidence,
        outcome=result.outcome,
        used_tools=bool(result.tool_calls),
    )


async def _start_reply(*, tenant: Tenant, conversation: Conversation, question: Message) -> Message:
    """The streaming reply row. A cancellation while it is being inserted (the customer left) cannot
    stop the insert on its database thread; the row is then finalized as interrupted, never left
    streaming, even if the caller is cancelled again while that happens."""
    insert = asyncio.ensure_future(
        db_call(assistant_message_start)(tenant=tenant, conversation=conversation, reply_to=question)
    )
    try:
        return await asyncio.shield(insert)
    except asyncio.CancelledError:
        await asyncio.shield(asyncio.ensure_future(_interrupt_when_inserted(insert, tenant=tenant)))
        raise


async def _interrupt_when_inserted(insert: asyncio.Future[Message], *, tenant: Tenant) -> None:
    try:
        started = await insert
    except Exception:  # nothing was stored, so there is nothing to finalize
        logger.exception("reply row insert failed while the turn was cancelled")
        return
    await _finish(tenant=tenant, message_id=started.pk, outcome=INTERRUPTED_EMPTY)


async def _finish(*, tenant: Tenant, message_id: int, outcome: AssistantOutcome) -> Message:
    """Store the final answer and show it to the staff watching the conversation; the stored row.

    A reply finished meanwhile as abandoned (the turn outlived ``reply_abandoned_after``) keeps that
    version: staff have seen it already, and the turn ends with it."""
    try:
        stored = await db_call(assistant_message_finish)(tenant=tenant, message_id=message_id, outcome=outcome)
    except ReplyAlreadyFinished as exc:
        logger.warning("reply %s was finished as abandoned while its turn still ran", message_id)
        return exc.reply
    await publish_message(stored)
    return stored


async def _store_partial(
    *,
    tenant: Tenant,
    message_id: int,
    request: TurnRequest,
    passages: Sequence[Passage],
    text: str,
    time_to_first_token_ms: float | None,
    latency_ms: float,
) -> None:
    """Store the text streamed before the customer left, through the output check a finished
    answer passes (the partial is replayed as history and shown to staff)."""
    try:
        checked = await db_call(partial_answer_check)(tenant=tenant, request=request, text=text)
        text, cited = checked.text, checked.cited_indexes
    except Exception:  # the row must still become final, and unchecked text is never stored
        logger.exception("output check of the interrupted answer %s failed", message_id)
        text, cited = "", ()
    partial = AssistantOutcome(
        text=text,
        status=MessageStatus.INTERRUPTED,
        # What the customer saw cites passages; the stored partial answer keeps their sources.
        sources=cited_sources(passages, cited),
        time_to_first_token_ms=time_to_first_token_ms,
        latency_ms=latency_ms,
    )
    await _finish(tenant=tenant, message_id=message_id, outcome=partial)


async def answer_turn(
    *, tenant: Tenant, conversation: Conversation, question: Message, emit: Emit, sender: str, ip: str, language: str
) -> Message | None:
    """Answer one customer turn, once however many requests carry it; None, with nothing emitted, when
    another request or connection (in any process) is answering it, and None when a human has the
    conversation (the assistant stays silent).

    The turn's final ``message.end`` also goes to the conversation's other sockets (``sender`` is the
    channel name of the socket ``emit`` reaches, "" for HTTP); ``ip`` is the customer's client address;
    ``language`` the conversation's with ``question`` (``chat.selectors.conversation_language``), which the
    assistant's proposals are said in: the socket keeps it as its messages come, the HTTP turn reads it once."""
    if not await _claim(tenant=tenant, question=question):
        return None
    emit = _sharing_end(emit, conversation=conversation, sender=sender)
    reply: Message | None = None
    try:
        reply = await _answer_claimed(
            tenant=tenant, conversation=conversation, question=question, emit=emit, ip=ip, language=language
        )
    finally:
        # A live handoff, or a turn cut off or failed: a resend may answer, unless a reply row was
        # stored before the turn ended (resends then get that row, see message_receive).
        if reply is None:
            await asyncio.shield(db_call(message_answer_release)(tenant=tenant, question=question))
    return reply


def _sharing_end(emit: Emit, *, conversation: Conversation, sender: str) -> Emit:
    """``emit``, publishing each ``message.end`` to the conversation's group as well: a second tab, or
    a reconnected socket whose resend got the ack alone, learns the answer is ready."""

    async def emit_and_share(frame: dict[str, Any]) -> None:
        await emit(frame)
        if frame["type"] != "message.end":
            return
        event = {"type": "answer.end", "frame": frame, "sender": sender}
        try:
            await publish([to_customer(conversation.pk, event)])
        except Exception as exc:  # best effort: the answer is stored and its own socket has it; the others
            # get it on resend (a channel-layer failure, Redis down say, as in publish_message)
            logger.warning(
                "message.end of message %s of conversation %s (tenant %s) was not shared with its other sockets: %r",
                frame["message_id"],
                conversation.pk,
                conversation.tenant_id,
                exc,
            )

    return emit_and_share


async def _claim(*, tenant: Tenant, question: Message) -> bool:
    """``message_answer_claim``. A cancellation while it runs (the customer left) cannot stop the update
    on its database thread; a claim it then obtains is released, so a resend is answered at once."""
    claim = asyncio.ensure_future(db_call(message_answer_claim)(tenant=tenant, question=question))
    try:
        return await asyncio.shield(claim)
    except asyncio.CancelledError:
        await asyncio.shield(asyncio.ensure_future(_release_when_claimed(claim, tenant=tenant, question=question)))
        raise


async def _release_when_claimed(claim: asyncio.Future[bool], *, tenant: Tenant, question: Message) -> None:
    try:
        claimed = await claim
    except Exception:  # nothing was claimed, so there is nothing to release
        logger.exception("answer claim failed while the turn was cancelled")
        return
    if claimed:
        await db_call(message_answer_release)(tenant=tenant, question=question)


async def _answer_claimed(
    *, tenant: Tenant, conversation: Conversation, question: Message, emit: Emit, ip: str, language: str
) -> Message | None:
    started = time.perf_counter()
    handled = await handoff.intercept_turn(tenant=tenant, conversation=conversation, question=question, emit=emit)
    if handled.done:  # a person has the conversation, or a trigger handed it over just now
        return handled.reply
    # Database hops run on the database pool (supportai/db.py), not on Channels' single shared
    # thread, so simultaneous turns don't queue behind each other; query embeddings of simultaneous
    # turns share a forward pass (knowledge/batching.py).
    passages = await db_call(retrieve_passages)(tenant=tenant, question=question.text)
    history, customer_context = await db_call(prompt_memory)(tenant=tenant, conversation=conversation, before=question)
    tools = await db_call(tools_for)(tenant=tenant)
    # From here on the reply row exists: every exit, cancellation included, must leave it final.
    reply = await _start_reply(tenant=tenant, conversation=conversation, question=question)
    request = TurnRequest(
        question=question.text,
        passages=context_passages(passages),
        history=history,
        customer_context=customer_context,
        tools=tools,
        conversation_id=conversation.pk,
        message_id=reply.pk,
    )
    parts: list[str] = []
    first_token_ms: float | None = None
    stream = DeltaStream(emit, message_id=reply.pk)

    async def on_delta(text: str) -> None:
        nonlocal first_token_ms
        if first_token_ms is None:
            first_token_ms = (time.perf_counter() - started) * 1000
        parts.append(text)
        await stream.delta(text)

    try:
        await emit(start_frame(reply, question=question))
        result = await turn_with_tools(
            tenant=tenant,
            conversation=conversation,
            ip=ip,
            language=language,
            request=request,
            emit=stream.frame,
            on_delta=on_delta,
        )
        await stream.flush()
        outcome = replace(
            _outcome(result, cited_sources(passages, result.cited_indexes)),
            time_to_first_token_ms=first_token_ms,
            latency_ms=(time.perf_counter() - started) * 1000,
        )
    except asyncio.CancelledError:
        stream.discard()
        partial = _store_partial(
            tenant=tenant,
            message_id=reply.pk,
            request=request,
            passages=passages,
            text="".join(parts),
            time_to_first_token_ms=first_token_ms,
            latency_ms=(time.perf_counter() - started) * 1000,
        )
        await asyncio.shield(partial)
        raise
    except Exception:
        stream.discard()  # the end frame carries the failure line instead of half an answer
        logger.exception("answer failed in conversation %s", conversation.pk)
        failed = phrases_for(question.text).failed  # in the customer's language, as the turn's other phrases
        outcome = AssistantOutcome(
            text=failed,
            status=MessageStatus.FAILED,
            sources=[],
            outcome="error",
            time_to_first_token_ms=first_token_ms,
            latency_ms=(time.perf_counter() - started) * 1000,
        )
    stored = await _finish(tenant=tenant, message_id=reply.pk, outcome=outcome)
    raised = await handoff.after_answer(tenant=tenant, conversation=conversation, reply=stored)
    await emit(end_frame(stored, question=question, escalated=raised is not None))
    if raised is not None:
        await handoff.announce(raised, emit)
    return stored
