"""The routing service: the one error boundary between a chat turn and the LLM providers.

``turn_stream`` checks the input, plans tiers (complexity, availability, budget), runs the router,
checks the output, and records every provider call in the cost ledger. It yields ``TextDelta``
values and ends with exactly one ``TurnResult``; provider failures never escape it.

``TurnResult.text`` is authoritative: when an output check rewrites an answer that was already
streamed (a leak, a secret, a citation to a passage that was not provided), the result carries the
corrected text and the flags, and the caller replaces what it showed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from asgiref.sync import async_to_sync
from django.db import transaction

from routing import budgets, guardrails, registry
from routing.complexity import Complexity, analyze
from routing.config import LOCAL_TIER, TierConfig, routing_settings, tiers_for_tenant
from routing.contracts import Outcome, TextDelta, TurnRequest, TurnResult
from routing.models import CostEvent, GuardrailEvent, PromptVersion
from routing.phrases import phrases_for
from routing.prices import call_cost
from routing.prompts.render import (
    PROMPT_NAME,
    TEMPLATE_SHA256,
    TenantVoice,
    system_blocks,
    template_source,
)
from routing.prompts.render import instructions as prompt_instructions
from routing.providers.base import ChatMessage, MessageRole, ProviderRequest
from routing.router import CallRecord, RequestBuilder, Router, RouteResult, RouterPolicy
from routing.terms import stream_pieces
from supportai.db import db_call
from supportai.models import Tenant


@dataclass(frozen=True)
class TurnPlan:
    tiers: tuple[TierConfig, ...]
    complexity: Complexity
    budget_level: str
    prompt_version_id: int
    voice: TenantVoice


def tenant_voice(tenant: Tenant) -> TenantVoice:
    return TenantVoice(
        company=tenant.name,
        assistant_name=f"the {tenant.name} assistant",
        support_contact=tenant.escalation_email or "through this chat",
    )


def prompt_version_current() -> PromptVersion:
    """The ``PromptVersion`` row of the templates in this build (created on first use)."""
    version, _ = PromptVersion.objects.get_or_create(
        sha256=TEMPLATE_SHA256, defaults={"name": PROMPT_NAME, "body": template_source()}
    )
    return version


def plan_tiers(tiers: tuple[TierConfig, ...], *, start_tier: int, budget_level: str) -> tuple[TierConfig, ...]:
    """Tiers to try, in order: available ones from ``start_tier`` up; else the best below; else local."""
    if budget_level == budgets.HARD:
        return (LOCAL_TIER,)
    available = [t for t in tiers if t.provider == "local" or registry.is_available(t.provider)]
    if budget_level == budgets.SOFT:  # downgrade: start one tier lower, never use tier 3
        start_tier = max(1, start_tier - 1)
        available = [t for t in available if t.tier < 3]
    upward = [t for t in available if t.tier >= start_tier]
    if upward:
        return tuple(upward)
    below = sorted((t for t in available if t.tier < start_tier), key=lambda t: -t.tier)
    return (below[0],) if below else (LOCAL_TIER,)


def turn_plan(*, tenant: Tenant, request: TurnRequest) -> TurnPlan:
    settings = routing_settings()
    complexity = analyze(
        request.question, tier2_threshold=settings.tier2_threshold, tier3_threshold=settings.tier3_threshold
    )
    state = budgets.budget_state(tenant=tenant)
    tiers = plan_tiers(tiers_for_tenant(tenant=tenant), start_tier=complexity.tier, budget_level=state.level)
    return TurnPlan(tiers, complexity, state.level, prompt_version_current().pk, tenant_voice(tenant))


def provider_messages(request: TurnRequest) -> tuple[ChatMessage, ...]:
    """History + question as alternating user/assistant messages starting with the user."""
    pairs: list[tuple[MessageRole, str]] = [
        ("user" if turn.role == "customer" else "assistant", turn.text)
        for turn in request.history
        if turn.role != "system"
    ]
    pairs.append(("user", request.question))
    messages: list[ChatMessage] = []
    for role, text in pairs:
        if not text.strip() or (not messages and role == "assistant"):
            continue
        if messages and messages[-1].role == role:
            messages[-1] = ChatMessage(role, f"{messages[-1].text}\n\n{text}")
        else:
            messages.append(ChatMessage(role, text))
    return tuple(messages)


def request_builder(request: TurnRequest, plan: TurnPlan, *, timeout_s: float) -> RequestBuilder:
    messages = provider_messages(request)

    def build(tier: TierConfig) -> ProviderRequest:
        return ProviderRequest(
            model=tier.model,
            system=system_blocks(
                plan.voice,
                tier=tier.tier,
                modality=request.modality,
                passages=request.passages,
                customer_context=request.customer_context,
            ),
            messages=messages,
            temperature=tier.temperature,
            max_tokens=tier.max_tokens,
            tools=request.tools,
            tool_rounds=request.tool_rounds,
            want_logprobs=True,
            question=request.question,
            passages=request.passages,
            timeout_s=timeout_s,
        )

    return build


def default_router() -> Router:
    settings = routing_settings()
    policy = RouterPolicy(
        confidence_threshold=settings.confidence_threshold,
        deadline_s=settings.turn_deadline_s,
        call_timeout_s=settings.call_timeout_s,
        stream_limits_s=settings.stream_limits_s,
    )
    return Router(lookup=registry.get_provider, policy=policy)


@transaction.atomic
def cost_events_record(
    *,
    tenant: Tenant,
    request: TurnRequest,
    calls: tuple[CallRecord, ...],
    fallback: bool,
    prompt_version_id: int | None,
) -> list[CostEvent]:
    rows = [
        CostEvent(
            tenant=tenant,
            conversation_id=request.conversation_id,
            message_id=request.message_id,
            provider=call.provider,
            model=call.model,
            tier=call.tier,
            purpose=call.purpose,
            input_tokens=call.usage.input_tokens,
            output_tokens=call.usage.output_tokens,
            cached_tokens=call.usage.cached_tokens,
            cache_write_tokens=call.usage.cache_write_tokens,
            cost_usd=call_cost(call.model, **call.usage.__dict__),
            latency_ms=call.latency_ms,
            time_to_first_token_ms=call.ttft_ms,
            outcome=call.outcome,
            confidence=call.confidence,
            error=call.error,
            prompt_version_id=prompt_version_id,
        )
        for call in calls
    ]
    if fallback:
        rows.append(
            CostEvent(
                tenant=tenant,
                conversation_id=request.conversation_id,
                message_id=request.message_id,
                provider="none",
                model="none",
                tier=0,
                outcome="fallback",
                prompt_version_id=prompt_version_id,
            )
        )
    created = CostEvent.objects.bulk_create(rows)
    if any(row.cost_usd for row in created):
        budgets.month_spend_changed(tenant=tenant)
    return created


def guardrail_events_record(
    *, tenant: Tenant, request: TurnRequest, stage: str, flags: tuple[str, ...], excerpt: str
) -> None:
    GuardrailEvent.objects.bulk_create(
        GuardrailEvent(
            tenant=tenant,
            stage=stage,
            flag=flag,
            conversation_id=request.conversation_id,
            message_id=request.message_id,
            # Kept for staff to review, without the secret or card number that may have raised it.
            excerpt=guardrails.masked(excerpt)[:300],
        )
        for flag in flags
    )


async def turn_stream(
    *, tenant: Tenant, request: TurnRequest, router: Router | None = None
) -> AsyncGenerator[TextDelta | TurnResult, None]:
    """Answer one customer turn: ``TextDelta`` values, then exactly one ``TurnResult`` (see module doc)."""
    started = time.perf_counter()
    first_delta_at: float | None = None
    phrases = phrases_for(request.question)
    verdict = guardrails.check_input(request.question)
    if verdict.flagged:
        await db_call(guardrail_events_record)(
            tenant=tenant, request=request, stage="input", flags=verdict.flags, excerpt=request.question
        )
        for piece in stream_pieces(phrases.blocked):
            yield TextDelta(piece)
        yield TurnResult(
            text=phrases.blocked,
            tier=0,
            provider="none",
            model="none",
            confidence=1.0,
            outcome="blocked",
            guardrail_flags=verdict.flags,
            latency_ms=_ms_since(started),
            time_to_first_token_ms=_ms_since(started),
        )
        return
    plan = await db_call(turn_plan)(tenant=tenant, request=request)
    router = router or default_router()
    build = request_builder(request, plan, timeout_s=router.policy.call_timeout_s)
    result: RouteResult | None = None
    ledger: list[CallRecord] = []
    routed = router.route(plan.tiers, build, ledger=ledger, phrases=phrases)

    def book(calls: tuple[CallRecord, ...], fallback: bool) -> asyncio.Future[list[CostEvent]]:
        # Shielded: once started, the rows are written even if the turn is cancelled meanwhile.
        return asyncio.shield(
            db_call(cost_events_record)(
                tenant=tenant, request=request, calls=calls, fallback=fallback, prompt_version_id=plan.prompt_version_id
            )
        )

    try:
        async for event in routed:
            if isinstance(event, TextDelta):
                first_delta_at = first_delta_at or time.perf_counter()
                yield event
            else:
                result = event
        assert result is not None  # the router always ends with a RouteResult
        instructions = build(plan.tiers[0]).system[0].text
        checked = guardrails.check_output(
            result.text,
            instructions=instructions,
            passages=request.passages,
            phrases=phrases,
            allowed_context=_allowed_context(request),
        )
        if checked.flags:
            await db_call(guardrail_events_record)(
                tenant=tenant, request=request, stage="output", flags=checked.flags, excerpt=result.text
            )
    except (asyncio.CancelledError, GeneratorExit):
        # The customer left (mid-answer or while we recorded it): what the providers already read and
        # wrote is still billed.
        await routed.aclose()  # closed between deltas: let the router book the call in flight
        await book(tuple(ledger), fallback=result is not None and result.outcome == "fallback")
        raise
    events = await book(result.calls, fallback=result.outcome == "fallback")
    outcome = cast(Outcome, result.outcome)
    if plan.budget_level == budgets.HARD and outcome in {"success", "low_confidence"}:
        outcome = "budget_limited"
    yield TurnResult(
        text=checked.text,
        tier=result.tier,
        provider=result.provider,
        model=result.model,
        confidence=result.confidence,
        outcome=outcome,
        cited_indexes=checked.cited_indexes,
        tool_calls=result.tool_calls,
        input_tokens=sum(call.usage.input_tokens for call in result.calls),
        output_tokens=sum(call.usage.output_tokens for call in result.calls),
        cached_tokens=sum(call.usage.cached_tokens for call in result.calls),
        cache_write_tokens=sum(call.usage.cache_write_tokens for call in result.calls),
        cost_usd=sum((event.cost_usd for event in events), Decimal("0")),
        latency_ms=_ms_since(started),
        time_to_first_token_ms=None if first_delta_at is None else round((first_delta_at - started) * 1000, 3),
        interrupted=result.interrupted,
        suggest_human=result.suggest_human or checked.replaced,
        guardrail_flags=checked.flags,
        complexity=plan.complexity.as_dict() | {"budget": plan.budget_level},
        prompt_version=TEMPLATE_SHA256,
    )


def _allowed_context(request: TurnRequest) -> str:
    """Text whose contacts the answer may repeat: the question, the verified customer, and tool
    results (e.g. a booking the customer proved is theirs)."""
    return "\n".join(
        [request.question, request.customer_context, *(r.content for t in request.tool_rounds for r in t.results)]
    )


def partial_answer_check(*, tenant: Tenant, request: TurnRequest, text: str) -> guardrails.OutputVerdict:
    """``turn_stream``'s output check for the text of an answer cut short (the customer left
    mid-stream), which is stored, replayed as history and shown to staff; flags are recorded as
    GuardrailEvents. Which tier was writing is not known here, so every tier's instructions count
    as the prompt it must not leak."""
    voice = tenant_voice(tenant)
    tiers = sorted({tier.tier for tier in (LOCAL_TIER, *tiers_for_tenant(tenant=tenant))})
    instructions = "\n\n".join(prompt_instructions(voice, tier=tier, modality=request.modality) for tier in tiers)
    checked = guardrails.check_output(
        text,
        instructions=instructions,
        passages=request.passages,
        phrases=phrases_for(request.question),
        allowed_context=_allowed_context(request),
    )
    if checked.flags:
        guardrail_events_record(tenant=tenant, request=request, stage="output", flags=checked.flags, excerpt=text)
    return checked


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def turn_complete(*, tenant: Tenant, request: TurnRequest, router: Router | None = None) -> TurnResult:
    """Synchronous convenience: run ``turn_stream`` to the end and return its ``TurnResult``.

    Its database work runs on the database pool (``supportai/db.py``), on other connections: call
    it outside an open transaction."""

    async def collect() -> TurnResult:
        final: TurnResult | None = None
        async for event in turn_stream(tenant=tenant, request=request, router=router):
            if isinstance(event, TurnResult):
                final = event
        assert final is not None
        return final

    return async_to_sync(collect)()
