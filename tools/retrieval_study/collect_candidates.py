"""Collect, per query, everything hybrid fusion weighs, through the product's own retrieval.

The BEIR folder's corpus is ingested into a throwaway tenant (``evaluation.ingest_corpus``, as
``evaluate_retrieval`` does); each query goes through ``retrieval.search_candidates`` (hybrid, depth
100). Saved per query: both parent lists with raw scores and each parent's document, known share,
query type, dense margin, the product's keyword surprise, N (children) and D (documents), the query's
lexemes with their child and document frequencies, and the query lexemes each of BM25's ten best
parents' best child holds. Written as a pickle to ``<out>/<name>.pkl``. Sets that share a corpus
(man-desc and man-option) are collected in one run, their corpus ingested and embedded once.

Usage: python tools/retrieval_study/collect_candidates.py --set NAME=DIR [--set NAME=DIR ...] \
    --out /tmp/rev4/cand [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import pickle
import secrets
import sys
from pathlib import Path
from typing import Any

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportai.settings")
django.setup()

from django.db import connection  # noqa: E402

from knowledge.beir import load_beir  # noqa: E402
from knowledge.bm25 import query_lexemes  # noqa: E402
from knowledge.evaluation import DEPTH, external_ids_of, ingest_corpus, throwaway_tenant  # noqa: E402
from knowledge.languages import searchable_text  # noqa: E402
from knowledge.providers.local import use_threads  # noqa: E402
from knowledge.retrieval import ParentList, search_candidates  # noqa: E402
from knowledge.services import default_provider  # noqa: E402
from supportai.models import Tenant  # noqa: E402

TOP_PARENTS = 10


def frequencies(tenant: Tenant) -> tuple[int, int, dict[str, int], dict[str, int]]:
    """N children, D documents, and each lexeme's child and document frequency."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT chunk_count FROM knowledge_corpusstats WHERE tenant_id = %s", [tenant.pk])
        (children,) = cursor.fetchone() or (0,)
        cursor.execute("SELECT count(DISTINCT document_id) FROM knowledge_posting WHERE tenant_id = %s", [tenant.pk])
        (documents,) = cursor.fetchone() or (0,)
        cursor.execute("SELECT lexeme, df FROM knowledge_termstats WHERE tenant_id = %s AND df > 0", [tenant.pk])
        child_df = {lexeme: int(df) for lexeme, df in cursor.fetchall()}
        cursor.execute(
            "SELECT lexeme, count(DISTINCT document_id) FROM knowledge_posting WHERE tenant_id = %s GROUP BY lexeme",
            [tenant.pk],
        )
        document_df = {lexeme: int(df) for lexeme, df in cursor.fetchall()}
    return int(children), int(documents), child_df, document_df


def held(tenant: Tenant, chunk_ids: list[int], lexemes: list[str]) -> dict[int, list[str]]:
    """The ``lexemes`` each chunk holds."""
    found: dict[int, list[str]] = {chunk: [] for chunk in chunk_ids}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT chunk_id, lexeme FROM knowledge_posting WHERE tenant_id = %s AND chunk_id = ANY(%s) "
            "AND lexeme = ANY(%s)",
            [tenant.pk, chunk_ids, lexemes],
        )
        for chunk, lexeme in cursor.fetchall():
            found[int(chunk)].append(lexeme)
    return found


def listed(parents: ParentList, external_ids: dict[int, str]) -> list[tuple[int, float, str]]:
    """(parent, raw score, document's external id), best first."""
    return [(parent, score, external_ids[parents.documents[parent]]) for parent, score in parents.scored]


def collect(folders: dict[str, Path]) -> dict[str, dict[str, Any]]:
    """Each set's collected candidates; the sets share one corpus, ingested once (their
    corpus.jsonl must be identical)."""
    datasets = {name: load_beir(folder) for name, folder in folders.items()}
    corpora = {(folder / "corpus.jsonl").read_bytes() for folder in folders.values()}
    if len(corpora) != 1:
        raise SystemExit("the sets collected together must share one corpus.jsonl")
    provider = default_provider()
    results: dict[str, dict[str, Any]] = {}
    first = next(iter(datasets.values()))
    with throwaway_tenant(name="Study", slug=f"study-{secrets.token_hex(6)}") as tenant:
        ingest_corpus(tenant=tenant, corpus=first.corpus, provider=provider)
        external_ids = external_ids_of(tenant)
        children, documents, child_df, document_df = frequencies(tenant)
        for name, dataset in datasets.items():
            queries: dict[str, Any] = {}
            for number, (query_id, text) in enumerate(dataset.queries.items()):
                if query_id not in dataset.qrels:
                    continue
                found = search_candidates(tenant=tenant, query=text, mode="hybrid", depth=DEPTH, provider=provider)
                lexemes = query_lexemes(tenant=tenant, query=searchable_text(text))
                bm25 = found.lists["bm25"]
                best_children = [bm25.children[parent][0] for parent, _ in bm25.scored[:TOP_PARENTS]]
                holdings = held(tenant, best_children, lexemes)
                queries[query_id] = {
                    "lists": {retriever: listed(parents, external_ids) for retriever, parents in found.lists.items()},
                    "known_share": found.evidence.known_share,
                    "tenant_scale": found.evidence.tenant_scale,
                    "query_type": str(found.query_type),
                    "dense_margin": found.dense_margin,
                    "surprise": found.keyword_surprise,
                    "lexemes": {lexeme: (child_df.get(lexeme, 0), document_df.get(lexeme, 0)) for lexeme in lexemes},
                    "top_held": [holdings[chunk] for chunk in best_children],
                    "words": len(text.split()),
                }
                if number % 500 == 0:
                    sys.stderr.write(f"{name}: {number} / {len(dataset.queries)}\n")
            results[name] = {"name": name, "N": children, "D": documents, "qrels": dataset.qrels, "queries": queries}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description="Collect hybrid fusion's per-query candidates of BEIR sets.")
    parser.add_argument(
        "--set",
        action="append",
        required=True,
        metavar="NAME=DIR",
        help="a BEIR folder; repeat for sets sharing one corpus",
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for the pickles")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads for the local model")
    args = parser.parse_args()
    use_threads(args.threads)
    folders = {name: Path(folder) for name, _, folder in (item.partition("=") for item in args.set)}
    args.out.mkdir(parents=True, exist_ok=True)
    for name, result in collect(folders).items():
        with (args.out / f"{name}.pkl").open("wb") as file:
            pickle.dump(result, file)
        sys.stderr.write(f"{name}: N {result['N']}, D {result['D']}, {len(result['queries'])} queries\n")


if __name__ == "__main__":
    main()
