"""Gemini embeddings (``gemini-embedding-001`` truncated to 384 dimensions) through google-genai."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from google import genai
from google.genai import errors, types

from knowledge.providers.base import EMBEDDING_KEYS, ProviderError, ProviderErrorKind, missing_key
from knowledge.providers.bulk_retry import embed_batches, embed_text
from knowledge.providers.remote import (
    MALFORMED_ERRORS,
    MAX_RETRY_AFTER_S,
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
from supportai.google_errors import error_details, retry_delay_s


def _key_refused(exc: errors.APIError) -> bool:
    """Whether the answer refuses the API key: Google says so with a 400 INVALID_ARGUMENT whose
    ``ErrorInfo`` reason is ``API_KEY_INVALID``, not with a 401."""
    return any(detail.get("reason") == "API_KEY_INVALID" for detail in error_details(exc))


def _retry_after_s(exc: errors.APIError) -> float | None:
    """The wait Google's ``RetryInfo`` asks for, no longer than any ``Retry-After`` is waited."""
    delay = retry_delay_s(exc)
    return None if delay is None else min(delay, MAX_RETRY_AFTER_S)


class GeminiEmbeddingProvider:
    name = "gemini"
    dimensions = 384
    hosted = True

    def __init__(self, model: str = "gemini-embedding-001", *, api_key: str = "", base_url: str | None = None) -> None:
        self.model = model
        options = types.HttpOptions(base_url=base_url, timeout=int(TIMEOUT_S * 1000))
        key = api_key or env_str(EMBEDDING_KEYS[self.name])
        # Without a key there is no client: nothing is sent (the SDK would look for GOOGLE_API_KEY).
        self._client = genai.Client(api_key=key, http_options=options) if key else None

    def setup_error(self) -> ProviderError | None:
        return missing_key(self.name) if self._client is None else None

    def _embed_batch(self, batch: Sequence[str], task_type: str, *, timeout_s: float) -> list[list[float]]:
        """The vectors of one request's texts."""
        if self._client is None:
            raise missing_key(self.name)
        config = types.EmbedContentConfig(
            task_type=task_type,
            output_dimensionality=self.dimensions,
            http_options=types.HttpOptions(timeout=int(timeout_s * 1000)),
        )
        # One content per text: for multimodal models (gemini-embedding-2) the SDK merges a list
        # of strings into one content, which the API answers with one vector for the lot.
        contents: list[types.Content] = [types.UserContent(parts=[types.Part(text=text)]) for text in batch]
        try:
            response = self._client.models.embed_content(model=self.model, contents=contents, config=config)
        except errors.APIError as exc:
            headers = getattr(exc.response, "headers", None)
            kind = ProviderErrorKind.AUTH if _key_refused(exc) else None
            raise status_error(
                "Gemini embeddings", exc.code, exc.message, headers, kind=kind, retry_after=_retry_after_s(exc)
            ) from exc
        except MALFORMED_ERRORS as exc:  # a body the SDK could not parse (a proxy's page)
            raise malformed("Gemini embeddings", exc) from exc
        except Exception as exc:  # transport errors surface as httpx/httpx2 exceptions
            raise unreachable("Gemini embeddings", exc) from exc
        embeddings = response.embeddings or []
        count_check("Gemini embeddings", embeddings, batch)
        if not all(embedding.values for embedding in embeddings):
            raise malformed("Gemini embeddings", ValueError("an embedding without values"))
        return [normalise(embedding.values or []) for embedding in embeddings]

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        embed_batch = partial(self._embed_batch, task_type="RETRIEVAL_DOCUMENT", timeout_s=TIMEOUT_S)
        return embed_batches(self.name, batches(texts), embed_batch)

    def embed_query(self, text: str) -> list[float]:
        return embed_text(
            self.name, text, partial(self._embed_batch, task_type="RETRIEVAL_QUERY", timeout_s=QUERY_TIMEOUT_S)
        )
