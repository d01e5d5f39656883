"""Retrieval evaluation on a BEIR-format folder with trec_eval metrics (pytrec_eval).

The corpus is ingested into a throwaway tenant that is deleted afterwards, whatever happens.
Passages are mapped back to their documents (first occurrence wins) to form each query's run.
"""

from __future__ import annotations

import json
import secrets
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytrec_eval
from django.db import connection, transaction

from knowledge.indexing import INDEX_BATCH, documents_index
from knowledge.languages import DEFAULT_LANGUAGE
from knowledge.parsed import ParsedDocument, ParseError, declared_or
from knowledge.parsing import storable_text
from knowledge.providers.base import EmbeddingProvider
from knowledge.record_formats import beir_records
from knowledge.retrieval import RankedParent, rank_parents
from knowledge.services import documents_upsert, source_get_or_create
from knowledge.significance import PairedComparison, paired_bootstrap
from knowledge.types import RetrievalMode
from supportai.benchmarks import percentile
from supportai.models import Tenant

DEPTH = 100
# The qrels files a BEIR folder may hold, qrels/SPLIT.tsv; test is the default.
SPLITS = ("test", "dev", "train")


@dataclass(frozen=True)
class BeirNotes:
    """What reading a BEIR folder left out, could not match or read twice (the later line wins)."""

    empty_queries: int = 0  # queries.jsonl ids whose text is empty or spaces: not asked
    unknown_queries: int = 0  # judged query ids queries.jsonl does not hold: not asked
    unknown_documents: int = 0  # judgements of asked queries naming ids corpus.jsonl does not hold
    repeated_queries: int = 0
    repeated_judgements: int = 0
    repeated_documents: int = 0

    def line(self) -> str:
        """One line saying all of it, or "" when there is nothing to say."""
        skipped = _listed(
            (self.empty_queries, "query with empty text", "queries with empty text"),
            (self.unknown_queries, "judged query not in queries.jsonl", "judged queries not in queries.jsonl"),
        )
        repeated = _listed(
            (self.repeated_documents, "document id", "document ids"),
            (self.repeated_queries, "query id", "query ids"),
            (self.repeated_judgements, "judgement", "judgements"),
        )
        parts = [f"skipped: {skipped}"] if skipped else []
        if self.unknown_documents:
            judgements = _listed((self.unknown_documents, "judgement names a document", "judgements name documents"))
            parts.append(f"{judgements} not in corpus.jsonl (never found)")
        if repeated:
            parts.append(f"repeated, the later line wins: {repeated}")
        return "; ".join(parts)


def _listed(*counts: tuple[int, str, str]) -> str:
    """ "2 queries, 1 judgement" of (number, singular, plural) triples; those of 0 are left out."""
    return ", ".join(f"{number} {one if number == 1 else many}" for number, one, many in counts if number)


@dataclass(frozen=True)
class BeirDataset:
    name: str
    corpus: list[ParsedDocument]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    notes: BeirNotes = field(default_factory=BeirNotes)


class BeirFormatError(ValueError):
    """A BEIR file that cannot be read; the message names the file and, where it can, the line."""


def load_beir(folder: Path, *, split: str = "test") -> BeirDataset:
    corpus_path = folder / "corpus.jsonl"
    try:
        records = beir_records(_text(corpus_path), id_as_title=False)
    except ParseError as exc:
        raise BeirFormatError(f"{corpus_path}: {exc}") from exc
    latest = {document.external_id: document for _, document in records}  # later lines win, as in BEIR
    corpus = declared_or(list(latest.values()), DEFAULT_LANGUAGE)
    if not any(document.text.strip() for document in corpus):
        raise BeirFormatError(f"{corpus_path} holds no documents with text to search")
    asked = query_lines(folder / "queries.jsonl")
    queries = {query_id: text for _, query_id, text in asked}
    empty = {query_id for query_id, text in queries.items() if not text.strip()}
    judgements = qrels_lines(folder / "qrels" / f"{split}.tsv")
    qrels = _qrels_of(judgements)
    judged = {query_id: text for query_id, text in queries.items() if query_id in qrels and query_id not in empty}
    documents = {document.external_id for document in corpus}
    notes = BeirNotes(
        empty_queries=len(empty),
        unknown_queries=len(qrels.keys() - queries.keys()),
        unknown_documents=sum(doc_id not in documents for query_id in judged for doc_id in qrels[query_id]),
        repeated_queries=len(asked) - len(queries),
        repeated_judgements=len(judgements) - sum(len(judged_docs) for judged_docs in qrels.values()),
        repeated_documents=len(records) - len(latest),
    )
    if not judged:
        why = f" ({notes.line()})" if notes.line() else ""
        raise BeirFormatError(f"{folder}: no query in queries.jsonl has a judgement in qrels/{split}.tsv{why}")
    # Metrics are means over the qrels' queries: judgements of queries never asked would count as 0.
    return BeirDataset(folder.name, corpus, judged, {query_id: qrels[query_id] for query_id in judged}, notes)


GZIP_MAGIC = b"\x1f\x8b"


def _text(path: Path) -> str:
    try:
        data = path.read_bytes()
        if data.startswith(GZIP_MAGIC):  # never UTF-8: 0x8b cannot start a character
            raise BeirFormatError(f"{path} is gzip-compressed: gunzip it")
        # Line ends as text mode reads them: \r\n and a lone \r become \n. A byte order mark,
        # which some editors write, would otherwise stick to the first id or refuse the first line.
        return data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise BeirFormatError(f"{path}: {exc}") from exc


def _lines(path: Path) -> list[str]:
    """The file's lines, ended by line feeds only (a carriage return before one is dropped):
    ``str.splitlines`` would also cut at a U+2028 or U+0085 that JSON allows raw inside a string."""
    return [line.removesuffix("\r") for line in _text(path).split("\n")]


def read_queries(path: Path) -> dict[str, str]:
    """BEIR ``queries.jsonl``: query id -> text; of an id given twice, the later line wins, as in
    BEIR's loader."""
    return {query_id: text for _, query_id, text in query_lines(path)}


def query_lines(path: Path) -> list[tuple[int, str, str]]:
    """BEIR ``queries.jsonl``: (line number, query id, text) per query, in file order; an id or a
    text may be a JSON number (taken as its text), other fields are ignored."""
    queries = []
    for number, line in enumerate(_lines(path), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            query_id, text = _query_field(item, "_id"), _query_field(item, "text")
        except RecursionError as exc:
            raise BeirFormatError(f"{path} line {number} is not a query: it is nested too deeply") from exc
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise BeirFormatError(f'{path} line {number} is not a query {{"_id": ..., "text": ...}}: {exc}') from exc
        queries.append((number, query_id, storable_text(text)))
    return queries


def _query_field(item: Any, key: str) -> str:
    """A query's id or text: a string, or a number taken as its text (null would be asked as "None")."""
    value = item[key]
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TypeError(f'"{key}" must be a string, not {type(value).__name__}')
    return str(value)


# trec_eval holds a grade in a C int: beyond it pytrec_eval raises a SystemError or wraps around.
GRADES = range(-(2**31), 2**31)
TREC_QRELS = "these are TREC qrels (query-id, 0, corpus-id, score); for BEIR's, drop the second column"
QRELS_LINE = "{path} line {number} is not query-id<TAB>corpus-id<TAB>score (a whole number): {error}"


def qrels_lines(path: Path) -> list[tuple[int, str, str, int]]:
    """BEIR qrels TSV: (line number, query id, corpus id, grade) per judgement, in file order.

    Fields are split at tabs (an empty field, as from two tabs in a row, is skipped) and stripped
    of spaces; columns after the third are ignored. The first line is a header when none of its
    fields is a whole number (BEIR's loader skips its first line whatever it holds); without a
    header it is the first judgement. TREC qrels (query, 0, document, score) are refused as such. A
    grade is a whole number: 1 and up are relevant, the higher the more (nDCG's gain); 0 or below is
    judged not relevant."""
    judgements = []
    for number, line in enumerate(_lines(path), start=1):
        if not line.strip():
            continue
        fields = [field.strip() for field in line.split("\t") if field.strip()]
        if number == 1 and len(fields) >= 3 and not any(_is_whole_number(field) for field in fields[:4]):
            continue
        try:
            if len(fields) < 3:
                raise ValueError(f"{len(fields)} field(s) separated by tabs")
            if len(fields) == 4 and _is_whole_number(fields[3]) and not _is_whole_number(fields[2]):
                raise ValueError(TREC_QRELS)
            grade = int(fields[2])
            if grade not in GRADES:
                raise ValueError(f"{grade} is beyond trec_eval's range, {GRADES.start} to {GRADES.stop - 1}")
            judgements.append((number, fields[0], fields[1], grade))
        except ValueError as exc:
            raise BeirFormatError(QRELS_LINE.format(path=path, number=number, error=exc)) from exc
    return judgements


def _is_whole_number(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """BEIR qrels TSV (``qrels_lines``): query id -> {document id: grade}; of a pair judged twice,
    the later line wins, as in BEIR's loader."""
    return _qrels_of(qrels_lines(path))


def _qrels_of(judgements: list[tuple[int, str, str, int]]) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    for _, query_id, doc_id, grade in judgements:
        qrels.setdefault(query_id, {})[doc_id] = grade
    return qrels


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


def ingest_corpus(
    *,
    tenant: Tenant,
    corpus: list[ParsedDocument],
    provider: EmbeddingProvider,
    progress: Callable[[int], None] | None = None,
) -> None:
    source = source_get_or_create(tenant=tenant, name="corpus.jsonl")
    upserted = documents_upsert(
        tenant=tenant, source=source, parsed_documents=[p for p in corpus if p.text.strip()], model=provider.model
    )
    documents = [document for document, _ in upserted]
    for start in range(0, len(documents), INDEX_BATCH):
        documents_index(tenant=tenant, documents=documents[start : start + INDEX_BATCH], provider=provider)
        if progress is not None:
            progress(min(start + INDEX_BATCH, len(documents)))


def documents_of(parents: Iterable[RankedParent], external_ids: dict[int, str]) -> list[str]:
    """The documents of ranked parents, by external id, first occurrence wins."""
    return list(dict.fromkeys(external_ids[parent.document_id] for parent in parents))


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


def run_modes(
    *,
    tenant: Tenant,
    dataset: BeirDataset,
    modes: list[RetrievalMode],
    provider: EmbeddingProvider,
    fusion: str | None = None,
) -> dict[str, ModeRun]:
    """Every query of ``dataset`` through each mode, timed one ``rank_parents`` call each."""
    from knowledge.models import Document

    external_ids = dict(Document.objects.for_tenant(tenant).values_list("pk", "external_id"))
    runs: dict[str, ModeRun] = {}
    for mode in modes:
        run: dict[str, list[str]] = {}
        latencies = []
        for query_id, text in dataset.queries.items():
            started = time.perf_counter()
            parents = rank_parents(
                tenant=tenant, query=text, mode=mode, depth=DEPTH, provider=provider, fusion=fusion
            ).parents
            latencies.append((time.perf_counter() - started) * 1000)
            run[query_id] = documents_of(parents, external_ids)
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


def drop_tenants(tenant_ids: list[int]) -> None:
    """Delete throwaway (evaluation and benchmark) tenants with set-based SQL: the ORM would load
    every chunk to cascade, minutes and gigabytes for a large corpus."""
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


def evaluate_beir(
    folder: Path,
    *,
    modes: list[RetrievalMode],
    provider: EmbeddingProvider,
    k: int = 10,
    fusion: str | None = None,
    progress: Callable[[int], None] | None = None,
    split: str = "test",
) -> BeirEvaluation:
    """The product's evaluation JSON for ``folder`` and hybrid against its better part; the
    throwaway tenant is always removed."""
    dataset = load_beir(folder, split=split)
    tenant = Tenant.objects.create(name=f"Evaluation {dataset.name}", slug=f"eval-{secrets.token_hex(6)}")
    try:
        ingest_corpus(tenant=tenant, corpus=dataset.corpus, provider=provider, progress=progress)
        runs = run_modes(tenant=tenant, dataset=dataset, modes=modes, provider=provider, fusion=fusion)
    finally:
        drop_tenants([tenant.pk])
    results = {mode: mode_run.metrics(dataset.qrels, k=k) for mode, mode_run in runs.items()}
    report = {"dataset": dataset.name, "docs": len(dataset.corpus), "queries": len(dataset.queries), "modes": results}
    return BeirEvaluation(report, compare_hybrid(dataset.qrels, runs, k=k), dataset.notes)
