"""OpenAI embeddings (``text-embedding-3-small`` shortened to our 384 dimensions) through the SDK."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import openai

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


class OpenAIEmbeddingProvider:
    name = "openai"
    dimensions = 384
    hosted = True

    def __init__(
        self, model: str = "text-embedding-3-small", *, api_key: str = "", base_url: str | None = None
    ) -> None:
        self.model = model
        key = api_key or env_str(EMBEDDING_KEYS[self.name])
        # Without a key there is no client: nothing is sent (the SDK would refuse to be built).
        self._client = openai.OpenAI(api_key=key, base_url=base_url, timeout=TIMEOUT_S, max_retries=0) if key else None

    def setup_error(self) -> ProviderError | None:
        return missing_key(self.name) if self._client is None else None

    def _embed_batch(self, batch: Sequence[str], *, timeout_s: float) -> list[list[float]]:
        """The vectors of one request's texts."""
        if self._client is None:
            raise missing_key(self.name)
        try:
            response = self._client.embeddings.create(
                model=self.model,
                input=list(batch),
                dimensions=self.dimensions,
                encoding_format="float",
                timeout=timeout_s,
            )
            count_check("OpenAI embeddings", response.data, batch)
            ordered = sorted(response.data, key=lambda item: item.index)
            if [item.index for item in ordered] != list(range(len(batch))):  # a repeated or stray index
                raise ValueError(f"vector indexes {[item.index for item in ordered]} for {len(batch)} texts")
            return [normalise(item.embedding) for item in ordered]
        except openai.APIStatusError as exc:
            raise status_error("OpenAI embeddings", exc.status_code, exc.message, exc.response.headers) from exc
        except openai.APIError as exc:  # connection errors and timeouts
            raise unreachable("OpenAI embeddings", exc) from exc
        except MALFORMED_ERRORS as exc:  # the SDK hands a body it cannot parse over as it is
            raise malformed("OpenAI embeddings", exc) from exc

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return embed_batches(self.name, batches(texts), partial(self._embed_batch, timeout_s=TIMEOUT_S))

    def embed_query(self, text: str) -> list[float]:
        return embed_text(self.name, text, partial(self._embed_batch, timeout_s=QUERY_TIMEOUT_S))
