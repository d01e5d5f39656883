"""The contract between chat and routing: what a turn needs and what it yields.

``routing.services.turn_stream(*, tenant, request)`` is an async iterator that yields zero or more
``TextDelta`` and ends with exactly one ``TurnResult`` (also on failure: then ``outcome`` says so
and ``text`` is the polite fallback). It never raises for provider errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

Role = Literal["customer", "assistant", "agent", "system"]
Modality = Literal["text", "voice", "screen_share", "video"]
Outcome = Literal["success", "low_confidence", "error", "fallback", "blocked", "budget_limited"]


@dataclass(frozen=True)
class ContextPassage:
    """A knowledge passage as the prompt sees it; cited as ``[index]``."""

    index: int
    title: str
    url: str
    text: str
    document_id: int | None = None
    chunk_id: int | None = None


@dataclass(frozen=True)
class HistoryTurn:
    role: Role
    text: str


@dataclass(frozen=True)
class ToolSpec:
    """A tool the model may call (JSON Schema parameters)."""

    name: str
    description: str
    parameters: Mapping[str, Any]


@dataclass(frozen=True)
class ThinkingBlock:
    """Reasoning a model wrote before a tool call, never shown to the customer, sent back unchanged before
    the call in the next round of the turn (Anthropic's ``thinking`` block: its text, possibly empty, and
    ``signature``; a ``redacted_thinking`` block: only its encrypted ``redacted_data``)."""

    thinking: str = ""
    signature: str = ""
    redacted_data: str = ""

    @property
    def redacted(self) -> bool:
        return bool(self.redacted_data)


@dataclass(frozen=True)
class ReasoningItem:
    """Reasoning an OpenAI model wrote before a function call (a Responses API ``reasoning`` output item), never
    shown to the customer, sent back unchanged before the call in the next round of the turn: OpenAI keeps
    nothing of ours (``store=False``), so its ``encrypted_content`` is the reasoning itself; ``summary``: its
    summary texts, in order (none unless asked for)."""

    id: str
    encrypted_content: str
    summary: tuple[str, ...] = ()


@dataclass(frozen=True)
class ToolCall:
    """A tool call the model made, with what its vendor wants back with it in the next round of the turn:
    ``signature``, opaque, byte for byte (Gemini's ``thoughtSignature``); ``thinking``, the reasoning
    blocks the model wrote after the previous call and before this one, in order (Anthropic's); ``reasoning``
    and ``item_id``, the same for OpenAI's Responses API (its reasoning items, and the ID of the call's own
    output item, which names it apart from ``id``, the ``call_id`` its result answers). Empty for the others."""

    id: str
    name: str
    arguments: Mapping[str, Any]
    signature: bytes = b""
    thinking: tuple[ThinkingBlock, ...] = ()
    reasoning: tuple[ReasoningItem, ...] = ()
    item_id: str = ""


@dataclass(frozen=True)
class ToolResult:
    """What a tool returned for one call, fed back to the model (``content`` is JSON text)."""

    call_id: str
    name: str
    content: str
    is_error: bool = False


@dataclass(frozen=True)
class ToolRound:
    """An earlier round of the same turn: the model's text and tool calls, then our results."""

    text: str
    calls: tuple[ToolCall, ...]
    results: tuple[ToolResult, ...]


@dataclass(frozen=True)
class TurnRequest:
    question: str
    passages: tuple[ContextPassage, ...] = ()
    history: tuple[HistoryTurn, ...] = ()
    customer_context: str = ""
    modality: Modality = "text"
    tools: tuple[ToolSpec, ...] = ()
    # Rounds already run in this turn (read-only tool results the model asked for), oldest first.
    tool_rounds: tuple[ToolRound, ...] = ()
    conversation_id: int | None = None
    message_id: int | None = None


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class TurnResult:
    text: str
    tier: int
    provider: str
    model: str
    confidence: float
    outcome: Outcome
    cited_indexes: tuple[int, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0  # input tokens written to a prompt cache; 0 where the vendor reports none
    cost_usd: Decimal = Decimal("0")
    latency_ms: float = 0.0
    time_to_first_token_ms: float | None = None
    interrupted: bool = False
    suggest_human: bool = False
    guardrail_flags: tuple[str, ...] = ()
    complexity: Mapping[str, Any] = field(default_factory=dict)
    # Added by routing (optional): the SHA-256 naming the prompt templates used (``PromptVersion``).
    prompt_version: str = ""
