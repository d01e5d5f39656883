"""Evaluation latencies leave out building the query encoder: run_modes embeds a throwaway query first."""

from __future__ import annotations

from typing import Any

import pytest

from knowledge import evaluation
from knowledge.beir import BeirDataset
from knowledge.evaluation import ingest_corpus, run_modes
from knowledge.parsed import ParsedDocument
from knowledge.providers.fake import FakeEmbeddingProvider
from knowledge.types import RetrievalMode

DATASET = BeirDataset(
    "mini",
    [ParsedDocument("d1", "Parking", "Free parking behind the studio.")],
    {"q1": "where to park", "q2": "parking spots"},
    {"q1": {"d1": 1}, "q2": {"d1": 1}},
)


class QueryRecorder(FakeEmbeddingProvider):
    """The fake embedder, remembering every query it embedded, in order."""

    def __init__(self) -> None:
        super().__init__("fake-hash-384")
        self.queries: list[str] = []

    def embed_query(self, text: str) -> list[float]:
        self.queries.append(text)
        return super().embed_query(text)


@pytest.fixture
def timed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many queries the provider had embedded when each timed rank_parents call started."""
    embedded_before: list[int] = []
    rank_parents = evaluation.rank_parents

    def recording(*, provider: Any, **kwargs: Any) -> Any:
        embedded_before.append(len(provider.queries))
        return rank_parents(provider=provider, **kwargs)

    monkeypatch.setattr(evaluation, "rank_parents", recording)
    return embedded_before


@pytest.mark.parametrize("modes", [["dense"], ["hybrid"], ["bm25", "dense"]])
def test_a_throwaway_query_is_embedded_before_the_first_timed_query(tenant, timed, modes: list[RetrievalMode]):
    # given a corpus ingested with a provider that has embedded no query yet
    provider = QueryRecorder()
    ingest_corpus(tenant=tenant, corpus=DATASET.corpus, provider=provider)
    assert provider.queries == []

    # when
    runs = run_modes(tenant=tenant, dataset=DATASET, modes=modes, provider=provider)

    # then the first timed call found the encoder used once already, by a query of no dataset
    assert timed[0] == 1
    assert provider.queries[0] not in DATASET.queries.values()
    assert all(run.run == {"q1": ["d1"], "q2": ["d1"]} for run in runs.values())


def test_bm25_alone_embeds_no_query(tenant, timed):
    provider = QueryRecorder()
    ingest_corpus(tenant=tenant, corpus=DATASET.corpus, provider=provider)

    run_modes(tenant=tenant, dataset=DATASET, modes=["bm25"], provider=provider)

    assert provider.queries == []
    assert timed == [0, 0]
