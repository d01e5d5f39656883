"""Cohere embeddings (``embed-english-light-v3.0``, 384-d) and Cohere Rerank through the v2 SDK client."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial
from typing import Any

import cohere
import httpx
from cohere.core.api_error import ApiError
from cohere.core.parse_error import ParsingError

from knowledge.providers.base import (
    EMBEDDING_KEYS,
    RERANK_SETTING,
    ProviderError,
    RerankResult,
    missing_key,
)
from knowledge.providers.bulk_retry import embed_batches, embed_text
from knowledge.providers.remote import (
    MALFORMED_ERRORS,
    QUERY_TIMEOUT_S,
    TIMEOUT_S,
    batches,
    count_check,
    malformed,
    normalise,
    status_error,
    unreachable,
)
from supportai.env import env_str

RERANK_TIMEOUT_S = 3.0


def _client(api_key: str, base_url: str | None, timeout: float) -> cohere.ClientV2 | None:
    """The SDK's client, or None without a key: nothing is sent then (``missing_key``)."""
    key = api_key or env_str(EMBEDDING_KEYS["cohere"])
    return cohere.ClientV2(api_key=key, base_url=base_url, timeout=timeout, max_retries=0) if key else None


def _error(what: str, exc: Exception) -> ProviderError:
    if isinstance(exc, ApiError):
        return status_error(f"Cohere {what}", exc.status_code, exc.body, exc.headers)
    return unreachable(f"Cohere {what}", exc)


class CohereEmbeddingProvider:
    name = "cohere"
    dimensions = 384
    hosted = True

    def __init__(
        self, model: str = "embed-english-light-v3.0", *, api_key: str = "", base_url: str | None = None
    ) -> None:
        self.model = model
        self._client = _client(api_key, base_url, TIMEOUT_S)

    def setup_error(self) -> ProviderError | None:
        return missing_key(self.name) if self._client is None else None

    def _embed_batch(self, batch: Sequence[str], input_type: str, *, timeout_s: float) -> list[list[float]]:
        """The vectors of one request's texts."""
        if self._client is None:
            raise missing_key(self.name)
        try:
            response = self._client.embed(
                model=self.model,
                texts=list(batch),
                input_type=input_type,
                embedding_types=["float"],
                request_options={"timeout": timeout_s},
            )
            floats = response.embeddings.float_ or []
            count_check("Cohere embed", floats, batch)
            return [normalise(vector) for vector in floats]
        except (ApiError, httpx.HTTPError) as exc:
            raise _error("embed", exc) from exc
        except (ParsingError, *MALFORMED_ERRORS) as exc:
            raise malformed("Cohere embed", exc) from exc

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        embed_batch = partial(self._embed_batch, input_type="search_document", timeout_s=TIMEOUT_S)
        return embed_batches(self.name, batches(texts), embed_batch)

    def embed_query(self, text: str) -> list[float]:
        return embed_text(
            self.name, text, partial(self._embed_batch, input_type="search_query", timeout_s=QUERY_TIMEOUT_S)
        )


class CohereRerankProvider:
    """Reranks the fused candidates; a short timeout so a slow API degrades to the fused order."""

    name = "cohere"

    def __init__(
        self,
        model: str = "rerank-v3.5",
        *,
        api_key: str = "",
        base_url: str | None = None,
        timeout: float = RERANK_TIMEOUT_S,
    ) -> None:
        self.model = model
        self._client = _client(api_key, base_url, timeout)

    def rerank(self, *, query: str, documents: Sequence[str], top_n: int) -> list[RerankResult]:
        if not documents:
            return []
        if self._client is None:
            raise missing_key(self.name, setting=RERANK_SETTING)
        try:
            # The API refuses a top_n over the number of documents (a small tenant's few candidates).
            top_n = min(top_n, len(documents))
            response = self._client.rerank(model=self.model, query=query, documents=list(documents), top_n=top_n)
            return [_rerank_result(result) for result in response.results]
        except (ApiError, httpx.HTTPError) as exc:
            raise _error("rerank", exc) from exc
        except (ParsingError, *MALFORMED_ERRORS) as exc:
            raise malformed("Cohere rerank", exc) from exc


def _rerank_result(result: Any) -> RerankResult:
    """One of the API's results, refused (``TypeError``) unless it has an integer index and a finite
    numeric score: the SDK builds its models from the JSON without checking types, and reads JSON's
    ``NaN`` and ``Infinity`` (a passage's score, which no JSON answer of ours could carry)."""
    index, score = getattr(result, "index", None), getattr(result, "relevance_score", None)
    if not isinstance(index, int) or not isinstance(score, int | float) or not math.isfinite(score):
        raise TypeError(f"result {result!r} has no integer index and finite numeric relevance_score")
    return RerankResult(index=index, score=float(score))
