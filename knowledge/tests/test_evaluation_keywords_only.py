"""A keyword-only evaluation embeds nothing: BM25 needs the corpus chunked and indexed, not its vectors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command

from knowledge import evaluation
from knowledge.management.commands import evaluate_retrieval
from knowledge.models import Chunk, Document
from knowledge.tests.embedders import RecordingEmbedder
from supportai.models import Tenant

CORPUS = [
    {"_id": "d1", "title": "Parking", "text": "Free parking behind the studio."},
    {"_id": "d2", "title": "Gift cards", "text": "Gift cards never expire."},
    {"_id": "d3", "title": "Yoga", "text": "Morning yoga classes with mats."},
]
LATENCIES = ("latency_ms_p50", "latency_ms_p95")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "corpus.jsonl").write_text("\n".join(json.dumps(record) for record in CORPUS))
    (tmp_path / "queries.jsonl").write_text(
        '{"_id": "q1", "text": "where to park"}\n{"_id": "q2", "text": "gift card expiry"}\n'
    )
    (tmp_path / "qrels").mkdir()
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n")
    return tmp_path


def _evaluate(folder: Path, out: Path, modes: str, monkeypatch: pytest.MonkeyPatch) -> RecordingEmbedder:
    provider = RecordingEmbedder()
    monkeypatch.setattr(evaluate_retrieval, "default_provider", lambda: provider)
    call_command("evaluate_retrieval", "--beir", str(folder), "--modes", modes, "--json", str(out), "--no-progress")
    return provider


def _without_latency(report: dict) -> dict:
    return {
        **report,
        "modes": {
            mode: {name: value for name, value in figures.items() if name not in LATENCIES}
            for mode, figures in report["modes"].items()
        },
    }


@pytest.mark.django_db(transaction=True)
def test_evaluate_retrieval_bm25_alone_embeds_no_passage(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the chunks the evaluation's tenant holds when its questions are asked
    held: list[tuple[int, int, int]] = []
    run_modes = evaluation.run_modes

    def recorded(**kwargs):
        chunks = Chunk.objects.filter(tenant=kwargs["tenant"], level="child")
        searchable, embedded = chunks.exclude(search_vector=None), chunks.exclude(embedding=None)
        held.append((chunks.count(), searchable.count(), embedded.count()))
        return run_modes(**kwargs)

    monkeypatch.setattr(evaluation, "run_modes", recorded)
    tenants_before = set(Tenant.objects.values_list("pk", flat=True))
    # when only BM25 is evaluated, and then every mode
    keywords = _evaluate(folder, tmp_path / "bm25.json", "bm25", monkeypatch)
    every = _evaluate(folder, tmp_path / "all.json", "bm25,dense,hybrid", monkeypatch)
    # then the keyword-only run embedded nothing, its corpus chunked and indexed for BM25 without vectors
    assert keywords.seen == []
    assert len(every.seen) == 3
    assert held == [(3, 3, 0), (3, 3, 3)]
    # and its JSON is the full run's BM25 row, latency apart
    alone = _without_latency(json.loads((tmp_path / "bm25.json").read_text()))
    full = _without_latency(json.loads((tmp_path / "all.json").read_text()))
    assert alone == {**full, "modes": {"bm25": full["modes"]["bm25"]}}
    assert alone["modes"]["bm25"]["recall@10"] == 1.0
    # and the throwaway tenant is gone, with its documents
    assert set(Tenant.objects.values_list("pk", flat=True)) == tenants_before
    assert not Document.objects.exists() and not Chunk.objects.exists()
