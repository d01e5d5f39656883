"""The retrieval benchmarks' summary: hybrid against its better part, as a ratio and per query."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from knowledge import conf, retrieval
from knowledge.beir import BeirDataset
from knowledge.benchmarks import _mode_quality
from knowledge.evaluation import ingest_corpus
from knowledge.parsed import ParsedDocument
from knowledge.providers.fake import FakeEmbeddingProvider
from supportai.models import Tenant

CORPUS = [
    ParsedDocument("parking", "Parking", "Free parking behind the studio, two hours."),
    ParsedDocument("gift", "Gift cards", "Gift cards never expire and work for every treatment."),
    ParsedDocument("yoga", "Yoga", "Morning yoga classes with mats and towels provided."),
    ParsedDocument("refund", "Refunds", "Refunds reach your card within five working days."),
]
QUESTIONS = {
    "q1": ("where do I park", "parking"),
    "q2": ("do gift cards expire", "gift"),
    "q3": ("yoga mats", "yoga"),
    "q4": ("when does my refund arrive", "refund"),
    "q5": ("parking for two hours", "parking"),
}


def _ingested_questions(tenant: Tenant, provider: FakeEmbeddingProvider) -> BeirDataset:
    """The corpus ingested into ``tenant`` and the questions as a dataset judging one document each."""
    ingest_corpus(tenant=tenant, corpus=CORPUS, provider=provider)
    return BeirDataset(
        "mini",
        CORPUS,
        {query_id: text for query_id, (text, _) in QUESTIONS.items()},
        {query_id: {doc: 1} for query_id, (_, doc) in QUESTIONS.items()},
    )


def test_the_summary_names_the_better_part_and_the_paired_difference(tenant):
    provider = FakeEmbeddingProvider()
    dataset = _ingested_questions(tenant, provider)
    quality = _mode_quality(tenant=tenant, dataset=dataset, provider=provider)

    assert [row["mode"] for row in quality.rows] == ["bm25", "dense", "hybrid", "hybrid (rrf k=60)"]
    best = quality.summary["best_part"]
    assert best == max(("bm25", "dense"), key=lambda mode: quality.metrics[mode]["ndcg@10"])
    ratio = quality.metrics["hybrid"]["ndcg@10"] / quality.metrics[best]["ndcg@10"]
    assert quality.summary["hybrid_vs_best_part"] == round(ratio, 4)
    paired = quality.summary["hybrid_minus_best_part_ndcg@10"]
    low, high = paired["interval_95"]
    assert low <= paired["mean_difference"] <= high
    assert paired["queries_better"] + paired["queries_worse"] <= len(QUESTIONS)
    # the mean of the per-query differences is the difference of the means (each rounded to 4 places)
    difference = quality.metrics["hybrid"]["ndcg@10"] - quality.metrics[best]["ndcg@10"]
    assert paired["mean_difference"] == pytest.approx(difference, abs=2e-4)


def test_the_rrf_row_is_fused_with_rrf_and_the_hybrid_row_with_the_default(tenant, monkeypatch):
    # given the default fusion is convex, and every fusion's method is recorded
    monkeypatch.setattr(conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, fusion="convex"))
    methods: list[str] = []
    fuse = retrieval.fuse

    def recording_fuse(
        lists: dict[str, retrieval.ParentList], *, method: str, weights: dict[str, float]
    ) -> list[tuple[int, float]]:
        methods.append(method)
        return fuse(lists, method=method, weights=weights)

    monkeypatch.setattr(retrieval, "fuse", recording_fuse)
    provider = FakeEmbeddingProvider()
    dataset = _ingested_questions(tenant, provider)
    # when
    _mode_quality(tenant=tenant, dataset=dataset, provider=provider)
    # then each question was fused once by each method: "hybrid" by convex, "hybrid (rrf k=60)" by RRF
    assert Counter(methods) == {"convex": len(QUESTIONS), "rrf": len(QUESTIONS)}
