"""``make bench`` benchmarks of retrieval quality (covid-faq, Bitext intents) and scale (3 tenants, 100k+ chunks)."""

from __future__ import annotations

import itertools
import secrets
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection

from knowledge.beir import BeirDataset, BeirFormatError, load_beir
from knowledge.bitext_intents import BitextFormatError, bitext_intent_dataset
from knowledge.evaluation import (
    compare_hybrid,
    compute_metrics,
    drop_tenants,
    ingest_corpus,
    run_modes,
    throwaway_tenant,
)
from knowledge.models import Chunk, ChunkLevel
from knowledge.providers.base import EmbeddingProvider, embedding_provider
from knowledge.providers.local import bulk_threads
from knowledge.references import BM25_SAME_CHUNKS, DENSE_SAME_CHUNKS, reference_runs
from knowledge.retrieval import MODES, rank_parents
from knowledge.scale import SyntheticTenant, create_synthetic_tenants, sample_queries
from knowledge.types import RetrievalMode
from supportai.benchmarks import BenchmarkDataMissing, BenchmarkResult, benchmark, time_calls
from supportai.datasets import BITEXT, COVID_FAQ
from supportai.management.console import terminating_signals_exit
from supportai.models import Tenant

SCALE_SIZES = (("small", 1_000), ("medium", 10_000), ("large", 100_000))


def _covid_faq() -> BeirDataset:
    try:
        return load_beir(COVID_FAQ)
    except BeirFormatError as exc:
        raise BenchmarkDataMissing(str(exc)) from exc


def _warm(provider: EmbeddingProvider) -> None:
    """Load the model and build its passage graph (once per process) before anything is timed."""
    with bulk_threads():
        provider.embed_documents(["warm up"])


def _timed_ingest(*, tenant: Tenant, dataset: BeirDataset, provider: EmbeddingProvider) -> float:
    """Ingest ``dataset`` into ``tenant`` with all cores; child chunks per second."""
    started = time.perf_counter()
    with bulk_threads():
        ingest_corpus(tenant=tenant, corpus=dataset.corpus, provider=provider)
    elapsed = time.perf_counter() - started
    return round(Chunk.objects.for_tenant(tenant).filter(level=ChunkLevel.CHILD).count() / elapsed, 1)


@dataclass(frozen=True)
class ModeQuality:
    """Each mode's figures on a dataset, and whether hybrid beats the better of its parts."""

    metrics: dict[str, dict[str, float]]  # bm25, dense, hybrid and "hybrid (rrf k=60)"
    summary: dict[str, Any]  # hybrid_vs_best_part, best_part and the paired comparison

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [{"mode": mode, **figures} for mode, figures in self.metrics.items()]


def _mode_quality(*, tenant: Tenant, dataset: BeirDataset, provider: EmbeddingProvider) -> ModeQuality:
    """bm25, dense, hybrid and hybrid with RRF on ``dataset``; hybrid against the better part as a
    ratio of mean nDCG@10 and, per query, as a paired-bootstrap interval of the difference (is a
    gap real or noise?)."""
    runs = run_modes(tenant=tenant, dataset=dataset, modes=["bm25", "dense", "hybrid"], provider=provider)
    rrf = run_modes(tenant=tenant, dataset=dataset, modes=["hybrid"], provider=provider, fusion="rrf")["hybrid"]
    metrics = {mode: mode_run.metrics(dataset.qrels) for mode, mode_run in runs.items()}
    metrics["hybrid (rrf k=60)"] = rrf.metrics(dataset.qrels)
    hybrid = compare_hybrid(dataset.qrels, runs)
    assert hybrid is not None  # hybrid and both parts ran
    summary = {
        "hybrid_vs_best_part": round(metrics["hybrid"]["ndcg@10"] / metrics[hybrid.best_part]["ndcg@10"], 4),
        "best_part": hybrid.best_part,
        "hybrid_minus_best_part_ndcg@10": hybrid.paired.as_json(),
    }
    return ModeQuality(metrics, summary)


@benchmark("knowledge-covid-faq")
def covid_faq_benchmark() -> BenchmarkResult:
    """nDCG@10/Recall/MRR per mode on covid-faq, both fusions, and the references of
    ``knowledge.references``: textbook BM25 and the model used directly, over our own child chunks
    (``*_vs_*`` compare ours to those) and over whole documents (baselines)."""
    dataset = _covid_faq()
    provider = embedding_provider("local")
    _warm(provider)
    # A benchmark before this one may have dropped tenants; autovacuum cleaning up after them beside
    # a timed ingest cut it from ~220 to 36-130 chunks/s (session 10). Vacuum first, as the scale
    # benchmark does.
    _vacuum()
    with throwaway_tenant(name="Benchmark covid-faq", slug=f"bench-covid-faq-{secrets.token_hex(4)}") as tenant:
        ingest_rate = _timed_ingest(tenant=tenant, dataset=dataset, provider=provider)
        children = Chunk.objects.for_tenant(tenant).filter(level=ChunkLevel.CHILD).count()
        quality = _mode_quality(tenant=tenant, dataset=dataset, provider=provider)
        with bulk_threads():
            references = reference_runs(tenant=tenant, queries=dataset.queries)
    rows = quality.rows
    reference_metrics = {
        name: {key: round(value, 4) for key, value in compute_metrics(dataset.qrels, run).items()}
        for name, run in references.items()
    }
    rows.extend(
        {"mode": name, **metrics, "latency_ms_p50": "", "latency_ms_p95": ""}
        for name, metrics in reference_metrics.items()
    )
    modes = quality.metrics
    return {
        "dataset": "covid-faq",
        "docs": len(dataset.corpus),
        "queries": len(dataset.queries),
        "child_chunks": children,
        "ingest_chunks_per_s": ingest_rate,
        **quality.summary,
        "bm25_vs_reference": round(modes["bm25"]["ndcg@10"] / reference_metrics[BM25_SAME_CHUNKS]["ndcg@10"], 4),
        "dense_vs_direct": round(modes["dense"]["ndcg@10"] / reference_metrics[DENSE_SAME_CHUNKS]["ndcg@10"], 4),
        "rows": rows,
    }


@benchmark("knowledge-bitext-intents")
def bitext_intents_benchmark() -> BenchmarkResult:
    """nDCG@10/Recall/MRR per mode on Bitext utterances against one answer per intent (holdout half)."""
    try:
        dataset = bitext_intent_dataset(BITEXT, split="holdout")
    except BitextFormatError as exc:
        raise BenchmarkDataMissing(str(exc)) from exc
    provider = embedding_provider("local")
    slug = f"bench-bitext-intents-{secrets.token_hex(4)}"
    with throwaway_tenant(name="Benchmark bitext intents", slug=slug) as tenant:
        with bulk_threads():
            ingest_corpus(tenant=tenant, corpus=dataset.corpus, provider=provider)
        quality = _mode_quality(tenant=tenant, dataset=dataset, provider=provider)
    return {
        "dataset": dataset.name,
        "docs": len(dataset.corpus),
        "queries": len(dataset.queries),
        **quality.summary,
        "rows": quality.rows,
    }


def _index_sizes() -> dict[str, str]:
    names = ("knowledge_chunk", "chunk_embedding_hnsw", "knowledge_posting", "posting_lookup", "knowledge_termstats")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class WHERE relname = ANY(%s)",
            [list(names)],
        )
        return dict(cursor.fetchall())


def _vacuum() -> None:
    """The steady state autovacuum reaches: dead rows gone, statistics and a visibility map (so
    posting reads are index-only, without heap fetches)."""
    with connection.cursor() as cursor:
        for table in ("knowledge_chunk", "knowledge_termstats", "knowledge_posting"):
            cursor.execute(f"VACUUM ANALYZE {table}")


INGEST_RUNS = 3


def _ingest_throughput(runs: int = INGEST_RUNS) -> list[float]:
    """Child chunks per second through the real pipeline (chunk, embed with the local model, store),
    once per run, each into a fresh tenant."""
    dataset = _covid_faq()
    provider = embedding_provider("local")
    _warm(provider)
    rates = []
    for _ in range(runs):
        with throwaway_tenant(name="Benchmark ingest", slug=f"bench-ingest-{secrets.token_hex(4)}") as tenant:
            rates.append(_timed_ingest(tenant=tenant, dataset=dataset, provider=provider))
    return rates


@benchmark("knowledge-scale")
def scale_benchmark() -> BenchmarkResult:
    """Latency of each mode for the small and the large tenant with three tenants loaded."""
    provider = embedding_provider("local")
    # Ingest before the synthetic tenants are loaded and beside them. A previous run's dropped
    # tenants leave dead index entries that slow inserts until autovacuum reaches them: vacuum first.
    _vacuum()
    ingest_alone = _ingest_throughput()
    created: list[tuple[str, SyntheticTenant]] = []
    # The synthetic tenants are dropped whatever ends the run, SIGTERM and SIGHUP included.
    with terminating_signals_exit():
        try:
            started = time.perf_counter()
            tenants = create_synthetic_tenants(list(SCALE_SIZES))
            created = [(label, synthetic) for (label, _), synthetic in zip(SCALE_SIZES, tenants, strict=True)]
            load_s = time.perf_counter() - started
            _vacuum()
            queries = sample_queries(count=200, seed=99)
            rows = []
            for label, synthetic in created:
                if label == "medium":
                    continue
                for mode in MODES:
                    counter = itertools.count()

                    def call(
                        tenant: Tenant = synthetic.tenant, mode: RetrievalMode = mode, n: Iterator[int] = counter
                    ) -> None:
                        query = queries[next(n) % len(queries)]
                        rank_parents(tenant=tenant, query=query, mode=mode, depth=5, provider=provider)

                    figures = time_calls(call, repeat=200, warmup=10)
                    rows.append({"tenant": label, "child_chunks": synthetic.children, "mode": mode, **figures})
            sizes = _index_sizes()
            ingest_beside = _ingest_throughput()
        finally:
            drop_tenants([synthetic.tenant.pk for _, synthetic in created])
    return {
        "tenants": {label: synthetic.children for label, synthetic in created},
        "bulk_load_s": round(load_s, 1),
        # median of the runs; each run is covid-faq's 344 children into a fresh tenant
        "ingest_chunks_per_s_local_model": statistics.median(ingest_alone),
        "ingest_runs_chunks_per_s": ingest_alone,
        "ingest_chunks_per_s_beside_the_loaded_tenants": statistics.median(ingest_beside),
        "ingest_runs_beside_the_loaded_tenants": ingest_beside,
        "index_sizes_with_all_tenants": sizes,
        "rows": rows,
    }
