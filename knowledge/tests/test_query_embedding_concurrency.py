"""Query embeddings on the serving path: simultaneous searches share the local batcher's forward pass."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from knowledge import retrieval
from knowledge.batching import QueryBatcher
from knowledge.models import EMBEDDING_DIMENSIONS
from knowledge.providers import local
from knowledge.providers.local import LocalEmbeddingProvider
from knowledge.tests.embedders import GatedEncoder

# More simultaneous turns than the old two-thread embedding pool, fewer than DB_ASYNC_THREADS (8).
TURNS = 6


UNIT = [1.0] + [0.0] * (EMBEDDING_DIMENSIONS - 1)


def test_simultaneous_searches_share_the_next_forward_pass(tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    # given the local provider's batcher, its first forward pass still running, and a dense search
    # that answers at once (what is measured is the embedding)
    encoder = GatedEncoder(lambda text: UNIT)  # every text the same unit vector
    batcher = QueryBatcher(encoder)
    monkeypatch.setattr(local, "_QUERIES", batcher)
    monkeypatch.setattr(retrieval, "dense_search", lambda **kwargs: [])
    provider = LocalEmbeddingProvider()

    def search(query: str) -> retrieval.Candidates:
        return retrieval.search_candidates(tenant=tenant, query=query, mode="dense", depth=5, provider=provider)

    queries = [f"question {n}" for n in range(TURNS)]
    with ThreadPoolExecutor(max_workers=TURNS) as turns:
        first = turns.submit(search, queries[0])
        assert encoder.started.wait(10)
        rest = [turns.submit(search, query) for query in queries[1:]]
        # when every other turn has had the time to queue (bounded: today only one of them can)
        for _ in range(500):
            if batcher._queue.qsize() >= len(rest):
                break
            threading.Event().wait(0.01)
        encoder.release.set()
        # then the turns that waited were embedded together, in one forward pass
        assert [f.result(10).lists["dense"].scored for f in [first, *rest]] == [[]] * TURNS
    assert [len(batch) for batch in encoder.batches] == [1, len(rest)]
