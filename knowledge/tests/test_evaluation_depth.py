"""Recall@100 counts 100 documents: a document ranked through several parents must not shorten the list."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from knowledge import conf, evaluation
from knowledge.beir import BeirDataset
from knowledge.evaluation import ingest_corpus, run_modes
from knowledge.models import Chunk, ChunkLevel
from knowledge.parsed import ParsedDocument
from knowledge.providers.fake import FakeEmbeddingProvider
from knowledge.types import RetrievalMode
from supportai.models import Tenant

SENTENCE = "Parking is free behind the studio on weekdays and paid at the weekend. "


@pytest.fixture
def long_documents(tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> BeirDataset:
    """Five documents of several parents each, all matching the one question."""
    small = dataclasses.replace(conf.SETTINGS, parent_tokens=64, parent_overlap=8, child_tokens=32, child_overlap=0)
    monkeypatch.setattr(conf, "SETTINGS", small)
    corpus = [ParsedDocument(f"d{n}", f"Parking {n}", SENTENCE * 12) for n in range(5)]
    dataset = BeirDataset("long", corpus, {"q1": "where is parking free"}, {"q1": {"d4": 1}})
    ingest_corpus(tenant=tenant, corpus=corpus, provider=FakeEmbeddingProvider("fake-hash-384"))
    parents = Chunk.objects.filter(tenant=tenant, level=ChunkLevel.PARENT).count()
    assert parents >= 3 * len(corpus)  # several parents a document, or the test proves nothing
    return dataset


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_the_run_lists_depth_documents_when_the_corpus_has_them(
    tenant: Tenant, long_documents: BeirDataset, monkeypatch: pytest.MonkeyPatch, mode: RetrievalMode
) -> None:
    # given a depth of 4 documents, fewer than the parents of the first two documents
    monkeypatch.setattr(evaluation, "DEPTH", 4)
    timed_depths: list[int] = []
    rank_parents = evaluation.rank_parents

    def recording(**kwargs: Any) -> Any:
        timed_depths.append(kwargs["depth"])
        return rank_parents(**kwargs)

    monkeypatch.setattr(evaluation, "rank_parents", recording)
    provider = FakeEmbeddingProvider("fake-hash-384")
    # when
    runs = run_modes(tenant=tenant, dataset=long_documents, modes=[mode], provider=provider)
    # then the question's list holds 4 documents, led by what the timed search at depth 4 ranked
    documents = runs[mode].run["q1"]
    assert len(documents) == 4 and len(set(documents)) == 4
    timed = evaluation.documents_of(
        rank_parents(tenant=tenant, query="where is parking free", mode=mode, depth=4, provider=provider).parents,
        evaluation.external_ids_of(tenant),
    )
    assert documents[: len(timed)] == timed and len(timed) < 4
    # and only the first search, at the evaluation's depth, was timed
    assert timed_depths[0] == 4 and len(runs[mode].latencies_ms) == 1


def test_a_corpus_smaller_than_the_depth_lists_every_document_it_has(
    tenant: Tenant, long_documents: BeirDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a depth beyond the corpus's 5 documents
    monkeypatch.setattr(evaluation, "DEPTH", 50)
    # when
    runs = run_modes(
        tenant=tenant, dataset=long_documents, modes=["bm25"], provider=FakeEmbeddingProvider("fake-hash-384")
    )
    # then every matching document is listed once, and the search stopped when the ranking ran out
    assert sorted(runs["bm25"].run["q1"]) == [f"d{n}" for n in range(5)]


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_a_querys_own_id_left_out_still_leaves_depth_documents(
    tenant: Tenant, long_documents: BeirDataset, monkeypatch: pytest.MonkeyPatch, mode: RetrievalMode
) -> None:
    # given a depth of 4 documents and a question under the id of one of the five documents
    monkeypatch.setattr(evaluation, "DEPTH", 4)
    dataset = dataclasses.replace(long_documents, queries={"d0": "where is parking free"}, qrels={"d0": {"d4": 1}})
    # when
    runs = run_modes(tenant=tenant, dataset=dataset, modes=[mode], provider=FakeEmbeddingProvider("fake-hash-384"))
    # then its list holds 4 other documents, as BEIR's retrievers fill top_k without the query's own id
    documents = runs[mode].run["d0"]
    assert len(documents) == 4 and "d0" not in documents
