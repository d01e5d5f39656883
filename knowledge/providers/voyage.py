"""Voyage AI embeddings over its documented REST API (no SDK installed): ``POST /v1/embeddings``."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import httpx

from knowledge.providers.base import EMBEDDING_KEYS, ProviderError, missing_key
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

VOYAGE_URL = "https://api.voyageai.com/v1/embeddings"

# Enough of an error body that is not the API's JSON (a gateway's HTML page) to tell what answered.
RAW_DETAIL_CHARS = 200


def _detail(response: httpx.Response) -> str:
    """The API's ``detail``, else the start of the body as it came."""
    try:
        body = response.json()
    except ValueError:  # not JSON: a proxy's or load balancer's own page
        body = None
    if isinstance(body, dict) and "detail" in body:
        return str(body["detail"])
    return response.text[:RAW_DETAIL_CHARS]


class VoyageEmbeddingProvider:
    """``voyage-3.5-lite`` offers 256/512/1024/2048 dimensions, not 384: it needs a matching vector
    column, so ``dimensions`` says what it returns and indexing refuses a mismatch loudly."""

    name = "voyage"
    hosted = True

    def __init__(
        self, model: str = "voyage-3.5-lite", *, dimensions: int = 512, api_key: str = "", url: str = VOYAGE_URL
    ) -> None:
        self.model = model
        self.dimensions = dimensions
        self._api_key = api_key or env_str(EMBEDDING_KEYS[self.name])
        self._url = url
        self._http = httpx.Client(timeout=TIMEOUT_S)

    def setup_error(self) -> ProviderError | None:
        return None if self._api_key else missing_key(self.name)

    def _embed_batch(self, batch: Sequence[str], input_type: str, *, timeout_s: float) -> list[list[float]]:
        """The vectors of one request's texts."""
        if not self._api_key:
            raise missing_key(self.name)
        payload = {
            "input": list(batch),
            "model": self.model,
            "input_type": input_type,
            "output_dimension": self.dimensions,
        }
        try:
            response = self._http.post(
                self._url, json=payload, headers={"Authorization": f"Bearer {self._api_key}"}, timeout=timeout_s
            )
        except httpx.HTTPError as exc:
            raise unreachable("Voyage embeddings", exc) from exc
        if response.status_code != 200:
            raise status_error("Voyage embeddings", response.status_code, _detail(response), response.headers)
        try:
            data = sorted(response.json()["data"], key=lambda item: item["index"])
            count_check("Voyage embeddings", data, batch)
            return [normalise(item["embedding"]) for item in data]
        except MALFORMED_ERRORS as exc:
            raise malformed("Voyage embeddings", exc) from exc

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        embed_batch = partial(self._embed_batch, input_type="document", timeout_s=TIMEOUT_S)
        return embed_batches(self.name, batches(texts), embed_batch)

    def embed_query(self, text: str) -> list[float]:
        return embed_text(self.name, text, partial(self._embed_batch, input_type="query", timeout_s=QUERY_TIMEOUT_S))
