"""Which model serves each tier: settings defaults (the seed's production.yaml), tenant overrides."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from django.conf import settings
from django.utils import timezone

from routing.model_ids import snapshot_base
from supportai.env import ConfigurationError
from supportai.memo import TenantMemo
from supportai.models import Tenant


@dataclass(frozen=True)
class TierConfig:
    tier: int
    provider: str
    model: str
    temperature: float
    max_tokens: int


# Models the vendors still serve (sources in docs/routing.md "Default models"). Tier 1 is Gemini 3.5 Flash-Lite,
# the successor Google names for the shut-down 2.5 Flash: minimal thinking by default (its thinking tokens are
# booked as output, its function calls' thought signatures go back with the next tool round) and it ignores a
# custom temperature. Tier 2 is GPT-6 Luna, OpenAI's named replacement for gpt-4o-mini (shut down 2027-01-14), a
# reasoning model asked for no reasoning (``reasoning_effort: "none"``, which Chat Completions needs for function
# tools, a temperature and logprobs). Tier 3 stays on Claude 4.6, the drop-in successor of 4.5: Claude 5 and later
# think before every answer (within max_tokens) and need their thinking blocks passed back across tool rounds,
# which the adapter does (ToolCall.thinking) but only a fake has checked (docs/routing.md "Default models").
DEFAULT_TIERS: tuple[TierConfig, ...] = (
    TierConfig(1, "gemini", "gemini-3.5-flash-lite", 0.1, 512),
    TierConfig(2, "openai", "gpt-6-luna", 0.2, 768),
    TierConfig(3, "anthropic", "claude-sonnet-4-6", 0.3, 1024),
)


@dataclass(frozen=True)
class Retirement:
    shutdown: date
    successor: str


# Known shutdown dates of model IDs, with the replacement the vendor names, or the nearest priced one it names where
# that has no price row (sources: docs/routing.md "Default models"). From its date a model is retired: ModelConfig
# refuses it and the ``routing.W001`` check warns about a ROUTING_TIER<n> that names it; within
# ``SHUTDOWN_WARNING_DAYS`` before it, ``routing.W002`` warns. A pinned ID of a model here (OpenAI's dated snapshot
# ``o3-2025-04-16``, Anthropic's ``claude-sonnet-4-5-20250929``, Gemini's stable version ``gemini-2.0-flash-001``) is
# retired with it (``retirement_of``). Prices stay in prices.py for the calls still booked on a retired model (a
# CostEvent keeps the dollars it was booked at; nothing is re-priced); tenant rows holding a retired default were moved
# by migrations 0003 (Claude), 0004 (Gemini), 0007 (OpenAI), 0008 (OpenAI's dated snapshots), 0009 (Anthropic's) and
# 0010 (Gemini's stable versions).
# Gemini 2.0 Flash's date is the third-party trackers' (Google's deprecations page only greys it out); Google named 2.5
# Flash as its replacement, itself shut down 2026-12-01 in favour of 3.5 Flash-Lite, so both point there. OpenAI's
# deprecations page names gpt-6-luna for GPT-4o and GPT-4o mini (notice of 2026-10-14), and gpt-6.1-sol for GPT-5; every
# successor has a price row, so a tenant moved to it is not booked at FALLBACK. For GPT-5 mini it names gpt-6.1-terra,
# which no OpenAI page found prices: the successor here is gpt-6.1-sol, the nearest priced one OpenAI names
# (docs/routing.md "Default models" says why). The dates of o3, o1 and o4-mini are OpenAI's (the deprecation notes of
# its API spec, as its Python SDK prints them); o3's successor is from copies of the deprecations page; o1's and
# o4-mini's (both shut down; copies of the page name gpt-5.6-sol and gpt-5.6-terra, neither priced) is gpt-6.1-sol for
# the same reason as GPT-5 mini's.
MODEL_SHUTDOWNS: dict[str, Retirement] = {
    "claude-sonnet-4-5": Retirement(date(2026, 11, 30), "claude-sonnet-4-6"),
    "gemini-2.0-flash": Retirement(date(2026, 6, 1), "gemini-3.5-flash-lite"),
    "gemini-2.5-flash": Retirement(date(2026, 12, 1), "gemini-3.5-flash-lite"),
    "gpt-4o": Retirement(date(2027, 1, 14), "gpt-6-luna"),
    "gpt-4o-mini": Retirement(date(2027, 1, 14), "gpt-6-luna"),
    "gpt-5": Retirement(date(2026, 12, 11), "gpt-6.1-sol"),
    "gpt-5-mini": Retirement(date(2026, 12, 11), "gpt-6.1-sol"),
    "o3": Retirement(date(2026, 12, 11), "gpt-6.1-sol"),
    "o1": Retirement(date(2026, 10, 23), "gpt-6.1-sol"),
    "o4-mini": Retirement(date(2026, 10, 23), "gpt-6.1-sol"),
}
SHUTDOWN_WARNING_DAYS = 30


def today() -> date:
    return timezone.localdate()


def retirement_of(model: str) -> Retirement | None:
    """``model``'s entry in ``MODEL_SHUTDOWNS``, or its base's for a pinned ID (``model_ids.snapshot_base``:
    ``o3-2025-04-16`` is ``o3``'s, ``claude-sonnet-4-5-20250929`` ``claude-sonnet-4-5``'s, ``gemini-2.0-flash-001``
    ``gemini-2.0-flash``'s)."""
    return MODEL_SHUTDOWNS.get(model) or MODEL_SHUTDOWNS.get(snapshot_base(model))


def retired_message(model: str) -> str | None:
    """The plain sentence for a model shut down by today ("… was retired on …; use …"), else None."""
    known = retirement_of(model)
    if known is None or known.shutdown > today():
        return None
    return f"{model} was retired on {known.shutdown.isoformat()}; use {known.successor}"


def shutdown_soon_message(model: str) -> str | None:
    """The plain sentence for a model that shuts down within ``SHUTDOWN_WARNING_DAYS`` ("… shuts down on … (in
    n days); use …"), else None (also once it has shut down: see ``retired_message``)."""
    known = retirement_of(model)
    if known is None:
        return None
    days = (known.shutdown - today()).days
    if not 0 < days <= SHUTDOWN_WARNING_DAYS:
        return None
    return f"{model} shuts down on {known.shutdown.isoformat()} (in {days} days); use {known.successor}"


# Seconds one call's whole stream may run, tiers 1, 2 and 3 (``ROUTING_TIER<n>_STREAM_S``; docs/routing.md "One
# turn"): several times a normal answer at the tier's max_tokens (tier 3's long answers take 15-20 s; 1,024 tokens
# at a slow 20 tokens a second take under 55 s), so only a vendor writing far slower than usual is cut short.
DEFAULT_STREAM_LIMITS_S = (30.0, 30.0, 60.0)

KNOWN_PROVIDERS = frozenset({"local", "gemini", "openai", "anthropic"})
LOCAL_TIER = TierConfig(0, "local", "local", 0.0, 512)


@dataclass(frozen=True)
class RoutingSettings:
    tiers: tuple[TierConfig, ...]
    tier2_threshold: float  # complexity at or above → tier 2
    tier3_threshold: float  # complexity at or above → tier 3
    confidence_threshold: float
    turn_deadline_s: float
    call_timeout_s: float
    stream_limits_s: tuple[float, float, float]
    budget_soft_fraction: float


def routing_settings() -> RoutingSettings:
    """Read ``settings.ROUTING`` (see the routing block at the end of settings.py)."""
    raw = getattr(settings, "ROUTING", {})
    tiers = list(DEFAULT_TIERS)
    for index, spec in enumerate(raw.get("TIER_MODELS", ())):
        if spec:
            provider, _, model = spec.partition(":")
            if provider not in KNOWN_PROVIDERS:
                raise ConfigurationError(
                    f"ROUTING_TIER{index + 1} must be provider:model with a provider in "
                    f"{', '.join(sorted(KNOWN_PROVIDERS))}; got {spec!r}"
                )
            tiers[index] = replace(tiers[index], provider=provider, model=model or tiers[index].model)
    return RoutingSettings(
        tiers=tuple(tiers),
        tier2_threshold=float(raw.get("TIER2_THRESHOLD", 0.3)),
        tier3_threshold=float(raw.get("TIER3_THRESHOLD", 0.7)),
        confidence_threshold=float(raw.get("CONFIDENCE_THRESHOLD", 0.8)),
        turn_deadline_s=float(raw.get("TURN_DEADLINE_S", 20.0)),
        call_timeout_s=float(raw.get("CALL_TIMEOUT_S", 15.0)),
        stream_limits_s=_stream_limits(raw.get("STREAM_LIMITS_S", DEFAULT_STREAM_LIMITS_S)),
        budget_soft_fraction=float(raw.get("BUDGET_SOFT_FRACTION", 0.8)),
    )


def _stream_limits(raw: Sequence[float]) -> tuple[float, float, float]:
    first, second, third = (float(seconds) for seconds in raw)
    return first, second, third


def _tier_overrides(tenant: Tenant) -> tuple[tuple[int, bool, TierConfig], ...]:
    from routing.models import ModelConfig

    return tuple(
        (row.tier, row.enabled, TierConfig(row.tier, row.provider, row.model, row.temperature, row.max_tokens))
        for row in ModelConfig.objects.for_tenant(tenant)
    )


_OVERRIDES = TenantMemo(_tier_overrides, invalidated_by=["routing.ModelConfig"])


def tiers_for_tenant(*, tenant: Tenant) -> tuple[TierConfig, ...]:
    """The settings tiers with the tenant's ``ModelConfig`` overrides applied; disabled tiers dropped."""
    overrides = {tier: (enabled, config) for tier, enabled, config in _OVERRIDES.get(tenant)}
    result = []
    for base in routing_settings().tiers:
        enabled, override = overrides.get(base.tier, (True, base))
        if enabled:
            result.append(override)
    return tuple(result)
