"""Retrieval evaluation on a BEIR-format folder with trec_eval metrics (pytrec_eval).

The corpus is ingested into a throwaway tenant that is deleted afterwards, whatever happens (an
error, Ctrl-C, SIGTERM or SIGHUP: ``throwaway_tenant``).
Passages are mapped back to their documents (first occurrence wins) to form each query's run.
"""

from __future__ import annotations

import contextlib
import functools
import secrets
import signal
import statistics
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import pytrec_eval
from django.db import connection, transaction

from knowledge.beir import BeirDataset, BeirNotes, load_beir
from knowledge.indexing import INDEX_BATCH, documents_index
from knowledge.parsed import ParsedDocument
from knowledge.providers.base import EmbeddingProvider, ProviderError
from knowledge.retrieval import RankedParent, Ranking, rank_parents
from knowledge.services import documents_upsert, source_get_or_create
from knowledge.significance import PairedComparison, paired_bootstrap
from knowledge.types import Progress, RetrievalMode
from knowledge.warmup import WARM_UP_QUERY
from supportai.benchmarks import percentile
from supportai.management.console import TERMINATING_SIGNALS, terminating_signals_exit
from supportai.models import Tenant

DEPTH = 100


def _scored(run: dict[str, list[str]]) -> dict[str, dict[str, float]]:
    """A run as pytrec_eval takes it: higher score = better rank."""
    return {
        query_id: {doc_id: float(len(docs) - rank) for rank, doc_id in enumerate(docs)}
        for query_id, docs in run.items()
    }


def compute_metrics(qrels: dict[str, dict[str, int]], run: dict[str, list[str]], *, k: int = 10) -> dict[str, float]:
    """Mean nDCG@k, Recall@k, Recall@100 and MRR@k over the queries in ``qrels`` (trec_eval definitions).

    ``run`` maps a query id to document ids, best first; a query missing from it scores 0.
    """
    top_k = {
        query_id: {doc_id: float(k - rank) for rank, doc_id in enumerate(docs[:k])} for query_id, docs in run.items()
    }
    measures = {f"ndcg_cut.{k}", f"recall.{k}", "recall.100"}
    per_query = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(_scored(run))
    reciprocal = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(top_k)

    def mean(values: Iterable[float]) -> float:
        # Queries with no results are absent from pytrec_eval's output: they count as 0.
        return sum(values) / len(qrels) if qrels else 0.0

    return {
        f"ndcg@{k}": mean(v[f"ndcg_cut_{k}"] for v in per_query.values()),
        f"recall@{k}": mean(v[f"recall_{k}"] for v in per_query.values()),
        "recall@100": mean(v["recall_100"] for v in per_query.values()),
        f"mrr@{k}": mean(v["recip_rank"] for v in reciprocal.values()),
    }


def per_query_ndcg(qrels: dict[str, dict[str, int]], run: dict[str, list[str]], *, k: int = 10) -> dict[str, float]:
    """nDCG@k of every query in ``qrels`` (0 for one the run did not answer): what paired
    comparisons of two modes resample (knowledge/significance.py)."""
    evaluated = pytrec_eval.RelevanceEvaluator(qrels, {f"ndcg_cut.{k}"}).evaluate(_scored(run))
    return {query_id: evaluated.get(query_id, {}).get(f"ndcg_cut_{k}", 0.0) for query_id in qrels}


# The file a BEIR corpus is uploaded or ingested as (its records' file name).
CORPUS_FILE = "corpus.jsonl"
# The step that indexes the corpus (``Progress``), before each mode's questions.
CORPUS_STEP = "corpus"


def ingest_corpus(
    *,
    tenant: Tenant,
    corpus: list[ParsedDocument],
    provider: EmbeddingProvider,
    progress: Progress | None = None,
    embed: bool = True,
) -> None:
    """Store and index ``corpus`` as an upload of it as ``corpus.jsonl`` would: its records are plain
    text, so a line starting with "#" is no Markdown heading (knowledge/sections.py). ``progress``
    hears of the documents to index, then of each batch indexed. Without ``embed`` the children are
    indexed for BM25 alone (no vectors: ``documents_index``)."""
    source = source_get_or_create(tenant=tenant, name=CORPUS_FILE)
    upserted = documents_upsert(
        tenant=tenant,
        source=source,
        parsed_documents=[p for p in corpus if p.text.strip()],
        model=provider.model,
        file_name=CORPUS_FILE,
    )
    documents = [document for document, _ in upserted]
    if progress is not None:
        progress(CORPUS_STEP, len(documents), 0)
    for start in range(0, len(documents), INDEX_BATCH):
        batch = documents[start : start + INDEX_BATCH]
        documents_index(tenant=tenant, documents=batch, provider=provider, embed=embed)
        if progress is not None:
            progress(CORPUS_STEP, len(documents), min(start + INDEX_BATCH, len(documents)))


def documents_of(
    parents: Iterable[RankedParent], external_ids: dict[int, str], *, query_id: str | None = None
) -> list[str]:
    """The documents of ranked parents, by external id, first occurrence wins; the document whose
    id is ``query_id`` is left out, as BEIR's retrievers and ``evaluate(ignore_identical_ids=True)``
    leave it out (in arguana and quora each query is also a document, under its own id)."""
    documents = dict.fromkeys(external_ids[parent.document_id] for parent in parents)
    if query_id is not None:
        documents.pop(query_id, None)
    return list(documents)


def external_ids_of(tenant: Tenant) -> dict[int, str]:
    from knowledge.models import Document

    return dict(Document.objects.for_tenant(tenant).values_list("pk", "external_id"))


# How far an untimed search may go to fill DEPTH documents (the parents of a very long document).
MAX_DEPTH_FACTOR = 64


def documents_to_depth(
    timed: list[RankedParent],
    *,
    external_ids: dict[int, str],
    search: Callable[..., Ranking],
    query_id: str | None = None,
) -> list[str]:
    """The timed ranking's documents, continued from ``search(depth=...)`` rankings until DEPTH documents.

    A document ranked through several of its parents takes one place, so DEPTH parents can name
    fewer than DEPTH documents, and Recall@100 (trec_eval's, over 100 documents) would miss those
    behind them; so would the document of the query's own id, left out (``documents_of``), which
    BEIR's retrievers replace by the next one. The timed ranking's order is kept; deeper rankings,
    untimed, only add the documents it did not reach, until the ranking runs out or
    MAX_DEPTH_FACTOR times DEPTH parents were read."""
    documents = documents_of(timed, external_ids, query_id=query_id)
    depth, found = DEPTH, len(timed)
    while len(documents) < DEPTH and found >= depth and depth < DEPTH * MAX_DEPTH_FACTOR:
        depth *= 2
        parents = search(depth=depth).parents
        found = len(parents)
        documents = list(dict.fromkeys([*documents, *documents_of(parents, external_ids, query_id=query_id)]))
    return documents[:DEPTH]


@dataclass(frozen=True)
class ModeRun:
    """One mode's documents per query, best first, and each query's latency."""

    run: dict[str, list[str]]
    latencies_ms: list[float]

    def metrics(self, qrels: dict[str, dict[str, int]], *, k: int = 10) -> dict[str, float]:
        """The product's figures for this mode: the metrics to 4 decimals and latency p50/p95."""
        figures = {name: round(value, 4) for name, value in compute_metrics(qrels, self.run, k=k).items()}
        figures["latency_ms_p50"] = round(percentile(self.latencies_ms, 0.5), 2)
        figures["latency_ms_p95"] = round(percentile(self.latencies_ms, 0.95), 2)
        return figures


def uses_vectors(modes: Iterable[RetrievalMode]) -> bool:
    """Whether any of ``modes`` searches vectors: BM25 alone needs neither passages nor queries embedded."""
    return any(mode != "bm25" for mode in modes)


def run_modes(
    *,
    tenant: Tenant,
    dataset: BeirDataset,
    modes: list[RetrievalMode],
    provider: EmbeddingProvider,
    fusion: str | None = None,
    progress: Progress | None = None,
) -> dict[str, ModeRun]:
    """Every query of ``dataset`` through each mode, timed one ``rank_parents`` call each (``progress``
    hears of each mode's start and of each question, after its timing). When a mode embeds queries,
    one throwaway query is embedded first, untimed: the local model builds its query encoder apart
    from the passage one ingest used, and the first timed query would carry it."""
    external_ids = external_ids_of(tenant)
    if uses_vectors(modes):
        # A failure is left to the first timed query, which meets it as without a warm-up.
        with contextlib.suppress(ProviderError):
            provider.embed_query(WARM_UP_QUERY)
    runs: dict[str, ModeRun] = {}
    for mode in modes:
        run: dict[str, list[str]] = {}
        latencies = []
        if progress is not None:
            progress(mode, len(dataset.queries), 0)
        for query_id, text in dataset.queries.items():
            search = functools.partial(
                rank_parents, tenant=tenant, query=text, mode=mode, provider=provider, fusion=fusion
            )
            started = time.perf_counter()
            parents = search(depth=DEPTH).parents
            latencies.append((time.perf_counter() - started) * 1000)
            run[query_id] = documents_to_depth(parents, external_ids=external_ids, search=search, query_id=query_id)
            if progress is not None:
                progress(mode, len(dataset.queries), len(run))
        runs[mode] = ModeRun(run, latencies)
    return runs


@dataclass(frozen=True)
class HybridComparison:
    """Hybrid against the better of the single retrievers it fuses, per query."""

    best_part: str
    paired: PairedComparison  # hybrid minus best_part, nDCG@k per query


def compare_hybrid(
    qrels: dict[str, dict[str, int]], runs: dict[str, ModeRun], *, k: int = 10
) -> HybridComparison | None:
    """Hybrid minus the better of bm25 and dense (by mean nDCG@k) over the same queries, with its
    paired-bootstrap interval; None unless hybrid and at least one of them ran."""
    parts = [mode for mode in ("bm25", "dense") if mode in runs]
    if "hybrid" not in runs or not parts:
        return None
    ndcg = {mode: per_query_ndcg(qrels, runs[mode].run, k=k) for mode in (*parts, "hybrid")}
    best = max(parts, key=lambda mode: statistics.fmean(ndcg[mode].values()))
    return HybridComparison(best, paired_bootstrap(ndcg["hybrid"], ndcg[best]))


@dataclass(frozen=True)
class BeirEvaluation:
    report: dict[str, Any]  # the product's evaluation JSON
    hybrid: HybridComparison | None
    notes: BeirNotes


# What could stop a clean-up half way: Ctrl-C pressed again while a large corpus is deleted, or a
# terminal closed meanwhile, would roll the deletion back and leave the whole tenant behind.
HELD_SIGNALS = (signal.SIGINT, *TERMINATING_SIGNALS)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Within the block SIGINT, SIGTERM and SIGHUP wait: the first that arrives is raised again when
    the block ends, to the handlers before it, and those after it are dropped. A signal the process
    ignores stays ignored. Outside the main thread, where Python cannot install handlers, nothing
    changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        arrived.append(signum)

    previous = {
        number: signal.signal(number, hold) for number in HELD_SIGNALS if signal.getsignal(number) is not signal.SIG_IGN
    }
    try:
        yield
    finally:
        for number, handler in previous.items():
            # None: a handler not installed from Python, which cannot be put back; the default then
            signal.signal(number, signal.SIG_DFL if handler is None else handler)
        if arrived:
            signal.raise_signal(arrived[0])


def drop_tenants(tenant_ids: list[int]) -> None:
    """Delete throwaway (evaluation and benchmark) tenants with set-based SQL: the ORM would load
    every chunk to cascade, minutes and gigabytes for a large corpus. A signal that arrives
    meanwhile waits until they are gone (``signals_held``)."""
    with signals_held():
        with transaction.atomic(), connection.cursor() as cursor:
            for table in (
                "knowledge_posting",
                "knowledge_chunk",
                "knowledge_termstats",
                "knowledge_corpusstats",
                "knowledge_searchconfigstats",
                "knowledge_document",
                "knowledge_knowledgesource",
            ):
                cursor.execute(f"DELETE FROM {table} WHERE tenant_id = ANY(%s)", [tenant_ids])
        Tenant.objects.filter(pk__in=tenant_ids).delete()


@contextlib.contextmanager
def throwaway_tenant(*, name: str, slug: str) -> Iterator[Tenant]:
    """A tenant for one evaluation or benchmark, deleted with everything in it (``drop_tenants``)
    when the block ends, whatever ends it: an error, Ctrl-C, SIGTERM or SIGHUP."""
    with terminating_signals_exit():
        tenant = Tenant.objects.create(name=name, slug=slug)
        try:
            yield tenant
        finally:
            drop_tenants([tenant.pk])


def evaluate_beir(
    folder: Path,
    *,
    modes: list[RetrievalMode],
    provider: EmbeddingProvider,
    k: int = 10,
    fusion: str | None = None,
    progress: Progress | None = None,
    split: str = "test",
) -> BeirEvaluation:
    """The product's evaluation JSON for ``folder`` and hybrid against its better part; the
    throwaway tenant is always removed. The corpus is embedded only when a mode searches vectors."""
    dataset = load_beir(folder, split=split)
    with throwaway_tenant(name=f"Evaluation {dataset.name}", slug=f"eval-{secrets.token_hex(6)}") as tenant:
        ingest_corpus(
            tenant=tenant, corpus=dataset.corpus, provider=provider, progress=progress, embed=uses_vectors(modes)
        )
        runs = run_modes(
            tenant=tenant, dataset=dataset, modes=modes, provider=provider, fusion=fusion, progress=progress
        )
    results = {mode: mode_run.metrics(dataset.qrels, k=k) for mode, mode_run in runs.items()}
    report = {
        "dataset": dataset.name,
        "docs": len(dataset.corpus),
        "queries": len(dataset.queries),
        # BEIR's default: a query's own id is never in its ranking (``documents_of``).
        "ignore_identical_ids": True,
        "modes": results,
    }
    return BeirEvaluation(report, compare_hybrid(dataset.qrels, runs, k=k), dataset.notes)
