"""Fake embedders the knowledge tests share."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from knowledge.providers.fake import FakeEmbeddingProvider


class RecordingEmbedder(FakeEmbeddingProvider):
    """The fake embedder, remembering every text it was asked to embed (``len(seen)``: how many)."""

    def __init__(self, model: str = "fake-hash-384") -> None:
        super().__init__(model)
        self.seen: list[str] = []

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        self.seen.extend(texts)
        return super().embed_documents(texts)


class GatedEncoder:
    """A batch encoder giving each text ``vector(text)``, whose first forward pass waits until the
    test sets ``release``; ``batches``: the texts of each pass."""

    def __init__(self, vector: Callable[[str], list[float]]) -> None:
        self.vector = vector
        self.release = threading.Event()
        self.started = threading.Event()
        self.batches: list[list[str]] = []

    def __call__(self, texts: Sequence[str]) -> list[list[float]]:
        self.batches.append(list(texts))
        self.started.set()
        self.release.wait(10)
        return [self.vector(text) for text in texts]
