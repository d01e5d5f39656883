"""Hybrid retrieval core: search children with BM25 and dense, lift to parents, fuse, rerank.

Small-to-big: both retrievers search child chunks; each retriever's child list becomes a parent
list (a parent ranks where its best child ranks, duplicates dropped) and fusion runs on parents.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

from django.db import close_old_connections, connection
from django.db.backends.base.creation import TEST_DATABASE_PREFIX

from knowledge import conf
from knowledge.bm25 import Hit, KeywordEvidence, bm25_search, has_rare_lexeme, keyword_evidence
from knowledge.dense import dense_search
from knowledge.fusion import QueryType, classify_query, convex, query_weights, rrf, top_margin
from knowledge.providers.base import EmbeddingProvider, ProviderError, RerankProvider, sizes_check
from knowledge.types import RetrievalMode
from supportai.models import Tenant

logger = logging.getLogger(__name__)

MODES: tuple[RetrievalMode, ...] = ("bm25", "dense", "hybrid")
_EMBEDDER = ThreadPoolExecutor(max_workers=2, thread_name_prefix="query-embedding")
MIN_CANDIDATES = 50
# What dense-mode callers tell people when the query cannot be embedded (hybrid goes on with BM25).
EMBEDDING_UNAVAILABLE = "The embedding service could not embed the query; bm25 and hybrid search still work"
RERANK_CANDIDATES = 25

# Hybrid searches run BM25 on a second connection owned by this worker while the caller's
# connection waits for the query embedding and runs the dense search: the two SQL searches overlap
# instead of queueing behind each other in one backend. One worker, one persistent connection; when
# it is busy with another turn's search the caller simply runs BM25 itself.
_KEYWORD_WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bm25-search")
_keyword_worker_free = threading.Semaphore(1)


def _bm25_on_worker(search: Callable[[], list[Hit]]) -> list[Hit]:
    try:
        close_old_connections()  # drops an expired or broken connection; health-checks the rest
        return search()
    finally:
        _keyword_worker_free.release()


def _can_search_in_parallel() -> bool:
    """Only outside a transaction (a second connection would not see its uncommitted rows), and
    never against a test database (a persistent second connection would keep it from being dropped)."""
    return not connection.in_atomic_block and not str(connection.settings_dict["NAME"]).startswith(TEST_DATABASE_PREFIX)


def _bm25_in_parallel(search: Callable[[], list[Hit]]) -> Future[list[Hit]] | None:
    if not _can_search_in_parallel() or not _keyword_worker_free.acquire(blocking=False):
        return None
    try:
        return _KEYWORD_WORKER.submit(_bm25_on_worker, search)
    except BaseException:
        _keyword_worker_free.release()
        raise


def close_search_connection() -> None:
    """Close the keyword worker's connection (tests that use it, before their database goes away)."""
    _KEYWORD_WORKER.submit(_close_own_connection).result()


def _close_own_connection() -> None:
    connection.close()  # resolved in the calling thread: the worker's own connection


@dataclass
class RankedParent:
    parent_id: int
    document_id: int
    score: float
    matched_chunk_ids: list[int] = field(default_factory=list)
    ranks: dict[str, int | None] = field(default_factory=dict)


@dataclass(frozen=True)
class ParentList:
    """One retriever's parents, best first, with the best child score and the children that matched."""

    scored: list[tuple[int, float]]
    documents: dict[int, int]
    children: dict[int, list[int]]


def lift_to_parents(hits: Sequence[Hit]) -> ParentList:
    scored: list[tuple[int, float]] = []
    documents: dict[int, int] = {}
    children: dict[int, list[int]] = {}
    for hit in hits:
        parent_id = hit.parent_id if hit.parent_id is not None else hit.chunk_id
        if parent_id not in children:
            scored.append((parent_id, hit.score))
            documents[parent_id] = hit.document_id
            children[parent_id] = []
        children[parent_id].append(hit.chunk_id)
    return ParentList(scored, documents, children)


@dataclass(frozen=True)
class FusionWeights:
    """How hybrid retrieval weighs its retrievers for one query, and why."""

    query_type: QueryType
    evidence: KeywordEvidence
    dense_margin: float | None  # cosine difference of dense's two best parents (None: no dense list)
    keyword_scale: float  # the tenant's tuned scale, or the override being measured
    weights: dict[str, float]


def fusion_weights(
    *,
    tenant: Tenant,
    query: str,
    evidence: KeywordEvidence | None = None,
    dense_margin: float | None = None,
    query_type: QueryType | None = None,
    keyword_scale: float | None = None,
) -> FusionWeights:
    """The retrievers' weights for ``query`` in ``tenant``: its type, the share of its words the
    tenant's chunks contain, how close dense's two best parents are (``Candidates.dense_margin``)
    and the tenant's keyword scale (``keyword_scale`` overrides it)."""
    evidence = evidence or keyword_evidence(tenant=tenant, query=query)
    query_type = query_type or classify_query(query, is_rare=lambda texts: has_rare_lexeme(tenant=tenant, texts=texts))
    scale = evidence.tenant_scale if keyword_scale is None else keyword_scale
    weights = query_weights(
        query_type, known_share=evidence.known_share, keyword_scale=scale, dense_margin=dense_margin
    )
    return FusionWeights(query_type, evidence, dense_margin, scale, weights)


def fuse(lists: dict[str, ParentList], *, method: str, weights: dict[str, float]) -> list[tuple[int, float]]:
    if method == "rrf":
        return rrf({name: [key for key, _ in parents.scored] for name, parents in lists.items()}, weights=weights)
    return convex({name: parents.scored for name, parents in lists.items()}, weights=weights)


@dataclass(frozen=True)
class Candidates:
    """Each retriever's parents for one query, before fusion, and the query's keyword evidence."""

    lists: dict[str, ParentList]
    evidence: KeywordEvidence

    @property
    def dense_margin(self) -> float | None:
        """How far dense's best parent scores above its second; None without a dense list."""
        dense = self.lists.get("dense")
        return None if dense is None else top_margin(dense.scored)


def _query_vector(provider: EmbeddingProvider, query: str) -> list[float]:
    vector = provider.embed_query(query)
    sizes_check(provider, [vector])
    return vector


def search_candidates(
    *,
    tenant: Tenant,
    query: str,
    mode: RetrievalMode,
    depth: int,
    provider: EmbeddingProvider,
    keyword_fallback: bool = False,
) -> Candidates:
    """Run the retrievers ``mode`` needs for ``query`` (enough candidates for ``depth`` parents).

    If the query cannot be embedded the ``ProviderError`` is raised, unless ``keyword_fallback``
    lets hybrid mode go on with BM25's list alone (serving does; measurements must not)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    settings = conf.SETTINGS
    candidates = max(MIN_CANDIDATES, depth * 3)
    lists: dict[str, ParentList] = {}
    # The query is embedded in a worker thread while BM25 runs in PostgreSQL: the model (torch
    # releases the GIL) and the database overlap instead of adding up.
    # In hybrid mode BM25 also runs on its own connection, so the dense search need not wait for it.
    embedding = _EMBEDDER.submit(_query_vector, provider, query) if mode in ("dense", "hybrid") else None
    keyword = partial(bm25_search, tenant=tenant, query=query, limit=candidates, k1=settings.bm25_k1, b=settings.bm25_b)
    parallel = _bm25_in_parallel(keyword) if mode == "hybrid" else None
    # While the query is being embedded: how much of it the tenant's vocabulary covers.
    evidence = keyword_evidence(tenant=tenant, query=query) if mode == "hybrid" else KeywordEvidence(1.0, 1.0)
    if mode in ("bm25", "hybrid") and parallel is None:
        lists["bm25"] = lift_to_parents(keyword())
    if embedding is not None:
        try:
            vector = embedding.result()
        except ProviderError as exc:
            if mode == "dense" or not keyword_fallback:
                raise
            # Keywords still answer while the embedding service is down; the passages' ranks show it.
            logger.warning("query embedding failed for tenant %s; hybrid search runs on BM25 alone: %s", tenant.pk, exc)
        else:
            lists["dense"] = lift_to_parents(dense_search(tenant=tenant, vector=vector, limit=candidates))
    if parallel is not None:
        lists = {"bm25": lift_to_parents(parallel.result()), **lists}
    return Candidates(lists, evidence)


def ranked_parents(
    lists: dict[str, ParentList], fused: Sequence[tuple[int, float]], *, depth: int
) -> list[RankedParent]:
    """The first ``depth`` parents of ``fused`` with their documents, matched children and each
    retriever's rank."""
    positions = {
        name: {key: rank for rank, (key, _) in enumerate(parents.scored, start=1)} for name, parents in lists.items()
    }
    ranked = []
    for parent_id, score in fused[:depth]:
        matched: list[int] = []
        document_id = 0
        for parents in lists.values():
            if parent_id in parents.children:
                document_id = parents.documents[parent_id]
                matched.extend(chunk for chunk in parents.children[parent_id] if chunk not in matched)
        ranks = {name: positions[name].get(parent_id) for name in lists}
        ranked.append(RankedParent(parent_id, document_id, score, matched, ranks))
    return ranked


@dataclass(frozen=True)
class Ranking:
    """Parents best first and, in hybrid mode, how the retrievers were weighed for the query."""

    parents: list[RankedParent]
    weighing: FusionWeights | None


def rank_parents(
    *,
    tenant: Tenant,
    query: str,
    mode: RetrievalMode,
    depth: int,
    provider: EmbeddingProvider,
    fusion: str | None = None,
    keyword_fallback: bool = False,
) -> Ranking:
    """Parents of ``tenant`` for ``query``, best first, at most ``depth`` of them, with the
    hybrid weights they were fused with (none when one retriever ran: a single mode, or hybrid
    without the embedding service, which ``keyword_fallback`` allows)."""
    found = search_candidates(
        tenant=tenant, query=query, mode=mode, depth=depth, provider=provider, keyword_fallback=keyword_fallback
    )
    weighing = None
    if len(found.lists) > 1:
        weighing = fusion_weights(tenant=tenant, query=query, evidence=found.evidence, dense_margin=found.dense_margin)
        fused = fuse(found.lists, method=fusion or conf.SETTINGS.fusion, weights=weighing.weights)
    else:
        (only,) = found.lists.values()
        fused = only.scored
    return Ranking(ranked_parents(found.lists, fused, depth=depth), weighing)


def rerank(
    *, query: str, parents: list[RankedParent], texts: dict[int, str], reranker: RerankProvider, k: int
) -> list[RankedParent]:
    """Reorder the top candidates with ``reranker``; on any provider failure keep the fused order.
    Parents it did not return (past ``RERANK_CANDIDATES`` when ``k`` is larger, or left out of a
    short answer) follow the reranked ones in fused order."""
    candidates = parents[:RERANK_CANDIDATES]
    try:
        results = reranker.rerank(query=query, documents=[texts[p.parent_id] for p in candidates], top_n=k)
    except ProviderError as exc:
        logger.warning("reranker %s failed, keeping fused order: %s", reranker.name, exc)
        return parents[:k]
    reordered: list[RankedParent] = []
    returned: set[int] = set()
    for result in results:
        # An index out of range, or one named again, is not a candidate to place (again).
        if 0 <= result.index < len(candidates) and candidates[result.index].parent_id not in returned:
            parent = candidates[result.index]
            parent.ranks["rerank"] = len(reordered) + 1
            parent.score = result.score
            reordered.append(parent)
            returned.add(parent.parent_id)
    return [*reordered, *(parent for parent in parents if parent.parent_id not in returned)][:k]
