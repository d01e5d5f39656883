"""The provider interface: frozen request, streamed events, one error type.

Adapters translate a ``ProviderRequest`` into their vendor's SDK call and the vendor's stream back
into ``StreamEvent`` values. SDK types never leave ``providers/<vendor>.py``; every failure leaves
an adapter as ``ProviderError`` whose ``retryable`` tells the router whether trying again can help.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol, TypeVar

from django.conf import settings

from routing.contracts import ContextPassage, ToolCall, ToolRound, ToolSpec
from routing.tokens import estimate_tokens
from supportai.retry_after import retry_after_seconds

logger = logging.getLogger(__name__)

MessageRole = Literal["user", "assistant"]
Item = TypeVar("Item")


@dataclass(frozen=True)
class SystemBlock:
    """A piece of the system prompt; ``cacheable`` blocks are stable across turns (prompt caching)."""

    text: str
    cacheable: bool = False


@dataclass(frozen=True)
class ChatMessage:
    role: MessageRole
    text: str


@dataclass(frozen=True)
class ProviderRequest:
    model: str
    system: tuple[SystemBlock, ...]
    messages: tuple[ChatMessage, ...]
    temperature: float
    max_tokens: int
    tools: tuple[ToolSpec, ...] = ()
    # Tool calls and their results earlier in this turn; adapters render them after ``messages``.
    tool_rounds: tuple[ToolRound, ...] = ()
    want_logprobs: bool = False
    # The structured turn, for providers that answer without a model (``local``) and for fakes.
    question: str = ""
    passages: tuple[ContextPassage, ...] = ()
    timeout_s: float = 30.0
    # False (a self-evaluation): may name a live prompt cache, but is no sighting that creates one.
    cache_sighting: bool = True

    @property
    def estimated_prompt_tokens(self) -> int:
        """The system blocks', messages' and tool rounds' tokens, estimated (``routing/tokens.py``)."""
        texts = [block.text for block in self.system] + [message.text for message in self.messages]
        for tool_round in self.tool_rounds:
            texts.append(tool_round.text)
            texts.extend(call.name + json.dumps(call.arguments, default=str) for call in tool_round.calls)
            texts.extend(result.content for result in tool_round.results)
        return sum(estimate_tokens(text) for text in texts)


@dataclass(frozen=True)
class TextChunk:
    text: str


@dataclass(frozen=True)
class ToolCallEvent:
    call: ToolCall


# Far above any model's context window plus its output (1M + 128K in 2026): a count past it is a
# vendor fault, not spend. ``Usage`` clamps to it (see there).
MAX_REPORTED_TOKENS = 10_000_000


@dataclass(frozen=True)
class Usage:
    """Token usage; ``cached_tokens`` are input tokens read from a prompt cache (billed cheaper).

    Every count is clamped to ``0..MAX_REPORTED_TOKENS`` on construction: usage enters our code here
    (adapters, fakes, estimates), and an impossible count from a vendor must not fail the turn on the
    ledger's integer columns or its cost column (numeric(12, 8)), which widening alone would not fix.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0

    def __post_init__(self) -> None:
        for name in ("input_tokens", "output_tokens", "cached_tokens", "cache_write_tokens"):
            reported = getattr(self, name)
            clamped = min(max(int(reported), 0), MAX_REPORTED_TOKENS)
            if clamped != reported:
                logger.warning("usage %s=%s reported by a provider clamped to %s", name, reported, clamped)
                object.__setattr__(self, name, clamped)


@dataclass(frozen=True)
class Finish:
    """Last event of a stream: usage plus what the provider says about its own certainty."""

    usage: Usage
    stop_reason: str = ""
    mean_logprob: float | None = None
    confidence: float | None = None  # providers that can judge grounding themselves (``local``)
    suggest_human: bool = False


@dataclass(frozen=True)
class PromptUsage:
    """The prompt's usage as a vendor reports it when its stream starts, before any output (Anthropic's
    ``message_start``: input, cache reads and cache writes). A call that ends without ``Finish`` (cut, timed
    out, cancelled) is booked at it, only its output estimated; ``Finish.usage`` supersedes it."""

    usage: Usage


StreamEvent = TextChunk | ToolCallEvent | PromptUsage | Finish


class ProviderError(Exception):
    """A provider call failed. ``retryable``: rate limits, 5xx, overload, timeouts, cut streams;
    ``retry_after``: the seconds the vendor asked us to wait before trying it again, if it said."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        timed_out: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status = status
        self.timed_out = timed_out  # the vendor may have read the prompt: its usage is estimated
        self.retry_after = retry_after


class Provider(Protocol):
    name: str

    def available(self) -> bool:
        """False when the provider cannot be used here (e.g. no API key)."""

    def stream(self, request: ProviderRequest) -> AsyncIterator[StreamEvent]:
        """Yield text/tool-call events, then exactly one ``Finish``; raise only ``ProviderError``."""


RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


def error_for_status(vendor: str, status: int, detail: str, *, retry_after: float | None = None) -> ProviderError:
    return ProviderError(
        f"{vendor} answered HTTP {status}: {detail[:200]}",
        retryable=status in RETRYABLE_STATUSES,
        status=status,
        retry_after=retry_after,
    )


# No turn waits longer than its deadline (``ROUTING_TURN_DEADLINE_S``, at most 300): a longer wait asked for is
# taken as this one, which is still past every deadline, so the router moves on to the next tier at once.
MAX_RETRY_AFTER_S = 300.0


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    """The wait an HTTP refusal asks for, in seconds, at most ``MAX_RETRY_AFTER_S``: OpenAI's
    ``retry-after-ms``, else Anthropic's ``retry-after`` (seconds or an HTTP date), as
    ``supportai/retry_after.py`` reads them; None without a readable one."""
    return retry_after_seconds(headers, cap=MAX_RETRY_AFTER_S)


def tool_arguments(raw: str | Mapping[str, Any] | None) -> Mapping[str, Any]:
    """Parse streamed tool arguments (JSON text or a mapping); malformed JSON becomes ``{}``."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, Mapping):
        return dict(raw)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def streamed_order(
    round_: ToolRound,
    *,
    before: Callable[[ToolCall], Iterable[Item]],
    text: Callable[[str], Item],
    call: Callable[[ToolCall], Item],
) -> list[Item]:
    """A round's assistant side, in a vendor's item shapes, as the model streamed it: the first call's reasoning
    or thinking (``before``) first, then the round's text, then each later call after its own. The first call's
    goes first even where it was streamed after the text: our round keeps its text as one string, not where it
    stood (and Anthropic refuses a thinking model's tool round whose assistant turn starts otherwise)."""
    calls = round_.calls
    items = list(before(calls[0])) if calls else []
    if round_.text.strip():
        items.append(text(round_.text))
    for position, tool_call in enumerate(calls):
        if position:
            items += before(tool_call)
        items.append(call(tool_call))
    return items


class KeyedProvider:
    """Shared set-up of the vendor adapters: an API key (from ``key_setting`` unless given) and an
    optional base URL (tests point it at a local fake). Without a key the provider is unavailable."""

    key_setting: ClassVar[str]

    def __init__(self, *, api_key: str | None = None, base_url: str | None = None) -> None:
        self.api_key: str = getattr(settings, self.key_setting) if api_key is None else api_key
        self.base_url = base_url

    def available(self) -> bool:
        return bool(self.api_key)
