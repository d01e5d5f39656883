"""Fake embedders the knowledge tests share."""

from __future__ import annotations

from collections.abc import Sequence

from knowledge.providers.fake import FakeEmbeddingProvider


class RecordingEmbedder(FakeEmbeddingProvider):
    """The fake embedder, remembering every text it was asked to embed (``len(seen)``: how many)."""

    def __init__(self, model: str = "fake-hash-384") -> None:
        super().__init__(model)
        self.seen: list[str] = []

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        self.seen.extend(texts)
        return super().embed_documents(texts)
