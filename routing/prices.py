"""Price table: US dollars per 1M tokens, as the vendors published them.

The only place prices live. ``PRICES_AS_OF`` is the day the table last changed; docs/routing.md ("Default models")
names each row's source and the day it was read. ``cached_input`` is the price of input tokens read from a prompt
cache; ``cache_write`` (Anthropic, and OpenAI from GPT-5.6) the price of writing one, the input price where a row has
none. A pinned ID (OpenAI's dated snapshot ``<base>-YYYY-MM-DD``, Anthropic's ``<base>-YYYYMMDD``, Gemini's stable
version ``<base>-NNN``) without a row of its own costs its base's. Unknown models cost ``FALLBACK`` (the most
expensive row) so that a missing price over-reports instead of hiding spend.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from routing.model_ids import snapshot_base

PRICES_AS_OF = date(2026, 12, 7)
MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class Price:
    input: Decimal
    output: Decimal
    cached_input: Decimal
    cache_write: Decimal | None = None


PRICES: dict[str, Price] = {
    "local": Price(Decimal("0"), Decimal("0"), Decimal("0")),
    "gemini-2.0-flash": Price(Decimal("0.10"), Decimal("0.40"), Decimal("0.025")),  # retired
    "gemini-2.0-flash-lite": Price(Decimal("0.075"), Decimal("0.30"), Decimal("0.01875")),
    "gemini-2.5-flash": Price(Decimal("0.30"), Decimal("2.50"), Decimal("0.075")),  # retired
    # Output includes thinking tokens. The cached rate ($0.03, a tenth of input as for the other Gemini 3
    # models) is quoted by resellers; Google's pages found list only input and output (docs/routing.md).
    "gemini-3.5-flash-lite": Price(Decimal("0.30"), Decimal("2.50"), Decimal("0.03")),
    "gpt-4o-mini": Price(Decimal("0.15"), Decimal("0.60"), Decimal("0.075")),  # shuts down 2027-01-14
    # Output includes reasoning tokens; cache writes at 1.25 x input, as for every GPT-5.6 and later model (the
    # model page and the prompt-caching guide, docs/routing.md).
    "gpt-6-luna": Price(Decimal("0.10"), Decimal("0.50"), Decimal("0.01"), Decimal("0.125")),
    "gpt-4o": Price(Decimal("2.50"), Decimal("10.00"), Decimal("1.25")),
    # Responses API (reasoning without "none"); output includes reasoning tokens, cached input is 5 % of input, cache
    # writes 1.25 x input (its model page, docs/routing.md).
    "gpt-6.1-sol": Price(Decimal("2.00"), Decimal("10.00"), Decimal("0.10"), Decimal("2.50")),
    # Responses API; cached input 10 % of input, cache writes 1.25 x input (OpenAI's models and compare pages,
    # docs/routing.md). The most expensive row, so FALLBACK.
    "gpt-6-astra": Price(Decimal("10.00"), Decimal("50.00"), Decimal("1.00"), Decimal("12.50")),
    "gpt-5-mini": Price(Decimal("0.25"), Decimal("2.00"), Decimal("0.025")),  # Responses API; shuts down 2026-12-11
    "claude-haiku-4-5": Price(Decimal("1.00"), Decimal("5.00"), Decimal("0.10"), Decimal("1.25")),
    "claude-sonnet-4-5": Price(Decimal("3.00"), Decimal("15.00"), Decimal("0.30"), Decimal("3.75")),  # retired
    "claude-sonnet-4-6": Price(Decimal("3.00"), Decimal("15.00"), Decimal("0.30"), Decimal("3.75")),
    "claude-sonnet-5": Price(Decimal("2.00"), Decimal("10.00"), Decimal("0.20"), Decimal("2.50")),
    # Cache reads cut from $0.20 to $0.10 on 2026-10-07 (the Sonnet 5.5 migration guide).
    "claude-sonnet-5-5": Price(Decimal("2.00"), Decimal("10.00"), Decimal("0.10"), Decimal("2.50")),
}
# The most expensive row (by output, then input), whatever rows are added.
FALLBACK = max(PRICES.values(), key=lambda price: (price.output, price.input))
# Model IDs we name (config.MODEL_SHUTDOWNS, openai.MODEL_FAMILIES, docs/routing.md) without a row, because no price
# was found on the vendor's own pages (resellers' figures are not used): booked at FALLBACK, so they over-report. Named
# so that a missing row is a decision (docs/routing.md "Prices of the Responses API models"), not one forgotten. A
# row added later books the calls from then on; a CostEvent already written keeps the dollars it was booked at.
UNPRICED: frozenset[str] = frozenset({"gpt-5", "o3", "o1", "o4-mini", "gpt-6-sol"})


def price_for(model: str) -> Price:
    """``model``'s row, or for a pinned ID without one (``gpt-5-mini-2025-08-07``, ``claude-haiku-4-5-20251001``,
    ``gemini-2.0-flash-lite-001``) its base's (``model_ids.snapshot_base``); ``FALLBACK`` when neither has a row."""
    return PRICES.get(model) or PRICES.get(snapshot_base(model), FALLBACK)


def call_cost(
    model: str, *, input_tokens: int, output_tokens: int, cached_tokens: int = 0, cache_write_tokens: int = 0
) -> Decimal:
    """Cost of one call. ``input_tokens`` excludes cache reads and writes (each is billed at its own rate)."""
    price = price_for(model)
    write_rate = price.cache_write if price.cache_write is not None else price.input
    total = (
        price.input * input_tokens
        + price.output * output_tokens
        + price.cached_input * cached_tokens
        + write_rate * cache_write_tokens
    ) / MILLION
    return total.quantize(Decimal("0.00000001"))
