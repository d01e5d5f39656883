"""The tool loop of a turn: stream a routed answer, run the tools the model asked for, feed results back.

Read-only tool results go back to the model in the next round (at most ``MAX_TOOL_ROUNDS`` extra
rounds); proposal frames from state-changing tools go straight to the widget. The returned
``TurnResult`` is the last round's, with the text, citations and tool calls of every round and the
token/cost totals.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

from bookings.assistant import run_tool_calls
from chat.models import Conversation
from routing.contracts import TextDelta, ToolRound, TurnRequest, TurnResult
from routing.services import turn_stream
from supportai.db import db_call
from supportai.models import Tenant

MAX_TOOL_ROUNDS = 3
ROUND_SEPARATOR = "\n\n"

Emit = Callable[[dict[str, Any]], Awaitable[None]]
OnDelta = Callable[[str], Awaitable[None]]


async def turn_with_tools(
    *,
    tenant: Tenant,
    conversation: Conversation,
    ip: str,
    language: str,
    request: TurnRequest,
    emit: Emit,
    on_delta: OnDelta,
) -> TurnResult:
    """``ip``: the customer's client address, for the attempt limits of the booking tools; ``language``: the
    conversation's (``chat.selectors.conversation_language``, as the caller knows it), which a proposal's
    summary is said in, as the widget's Book says it."""
    texts: list[str] = []
    rounds: list[TurnResult] = []
    for round_number in range(MAX_TOOL_ROUNDS + 1):
        result: TurnResult | None = None
        async for event in turn_stream(tenant=tenant, request=request):
            if isinstance(event, TextDelta):
                await on_delta(event.text)
            else:
                result = event
        if result is None:
            raise RuntimeError("router ended without a result")
        texts.append(result.text)
        rounds.append(result)
        if not result.tool_calls or round_number == MAX_TOOL_ROUNDS:
            break
        if result.text.strip():  # keep rounds apart in the streamed and the stored text
            await on_delta(ROUND_SEPARATOR)
            texts.append(ROUND_SEPARATOR)
        step = await db_call(run_tool_calls)(
            tenant=tenant, conversation=conversation, ip=ip, calls=result.tool_calls, language=language
        )
        for frame in step.frames:
            await emit(frame)
        done = ToolRound(text=result.text, calls=result.tool_calls, results=step.results)
        request = replace(request, tool_rounds=(*request.tool_rounds, done))
    return replace(
        rounds[-1],
        text="".join(texts),
        # The text keeps every round's citations, so its sources must too (first citation first).
        cited_indexes=tuple(dict.fromkeys(index for r in rounds for index in r.cited_indexes)),
        tool_calls=tuple(call for r in rounds for call in r.tool_calls),
        input_tokens=sum(r.input_tokens for r in rounds),
        output_tokens=sum(r.output_tokens for r in rounds),
        cached_tokens=sum(r.cached_tokens for r in rounds),
        cache_write_tokens=sum(r.cache_write_tokens for r in rounds),
        cost_usd=sum((r.cost_usd for r in rounds), Decimal("0")),
    )
