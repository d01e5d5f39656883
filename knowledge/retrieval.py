"""Hybrid retrieval core: search children with BM25 and dense, lift to parents, fuse, rerank.

Small-to-big: both retrievers search child chunks; each retriever's child list becomes a parent
list (a parent ranks where its best child ranks, duplicates dropped) and fusion runs on parents.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.backends.base.creation import TEST_DATABASE_PREFIX

from knowledge import conf
from knowledge.bm25 import Hit, KeywordEvidence, bm25_search_traced, has_rare_lexeme, keyword_evidence
from knowledge.dense import dense_search
from knowledge.fusion import QueryType, classify_query, convex, query_weights, rrf, top_margin
from knowledge.indexing import dimensions_check
from knowledge.languages import searchable_text
from knowledge.providers.base import (
    EmbeddingProvider,
    ProviderError,
    ProviderErrorKind,
    RerankProvider,
    sizes_check,
    values_check,
)
from knowledge.timeouts import RetrievalTimedOut, bounded
from knowledge.types import RetrievalMode
from supportai.models import Tenant

logger = logging.getLogger(__name__)
T = TypeVar("T")

MODES: tuple[RetrievalMode, ...] = ("bm25", "dense", "hybrid")
# Query embeddings run on this pool while the keyword side runs in PostgreSQL. With the local model
# each worker waits in the batcher (knowledge/batching.py) until its forward pass: the pool must hold
# every turn the process searches for at once (one per database thread, DB_ASYNC_THREADS, plus
# headroom for the console and the search API), or the turns past it queue for a later pass instead
# of sharing one.
EMBEDDER_HEADROOM = 4
_EMBEDDER = ThreadPoolExecutor(
    max_workers=settings.DB_ASYNC_THREADS + EMBEDDER_HEADROOM, thread_name_prefix="query-embedding"
)
MIN_CANDIDATES = 50
# What dense-mode callers tell people when the query cannot be embedded (hybrid goes on with BM25).
# ``reason``: the error's public message (the vendor's words go to the log only).
EMBEDDING_UNAVAILABLE = "The embedding service could not embed the query; bm25 and hybrid search still work. {reason}"
# Why a retriever that hit its statement timeout did not answer, in the words shown to tenants.
TIMED_OUT_REASON = "It took too long and was stopped."
RERANK_CANDIDATES = 25

# Hybrid searches run the keyword side (BM25 and the lookups that weigh it) on a second connection
# owned by this worker while the caller's connection waits for the query embedding and runs the
# dense search: the SQL overlaps instead of queueing behind itself in one backend. One worker, one
# persistent connection; when it is busy with another turn's search the caller runs it itself.
_KEYWORD_WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bm25-search")
_keyword_worker_free = threading.Semaphore(1)


def _bm25_on_worker(search: Callable[[], T]) -> T:
    try:
        close_old_connections()  # drops an expired or broken connection; health-checks the rest
        return search()
    finally:
        _keyword_worker_free.release()


def _can_search_in_parallel() -> bool:
    """Only outside a transaction (a second connection would not see its uncommitted rows), and
    never against a test database (a persistent second connection would keep it from being dropped)."""
    return not connection.in_atomic_block and not str(connection.settings_dict["NAME"]).startswith(TEST_DATABASE_PREFIX)


def _bm25_in_parallel(search: Callable[[], T]) -> Future[T] | None:
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
    # How many parents dense returned (None: not told): under two, ``dense_margin`` is 0, a tie.
    dense_parents: int | None = None
    # The surprise of BM25's best match in nats (``Candidates.keyword_surprise``; None: not weighed).
    keyword_surprise: float | None = None


def fusion_weights(
    *,
    tenant: Tenant,
    query: str,
    evidence: KeywordEvidence | None = None,
    dense_margin: float | None = None,
    query_type: QueryType | None = None,
    keyword_scale: float | None = None,
    dense_parents: int | None = None,
    keyword_surprise: float | None = None,
) -> FusionWeights:
    """The retrievers' weights for ``query`` in ``tenant``: its type, the share of its words the
    tenant's chunks contain, how close dense's two best parents are (``Candidates.dense_margin``),
    how surprising BM25's best match is (``Candidates.keyword_surprise``) and the tenant's keyword
    scale (``keyword_scale`` overrides it). ``dense_parents`` (how many parents dense returned) is
    only carried along, for the console to say when there was no second."""
    evidence = evidence or keyword_evidence(tenant=tenant, query=query)
    query_type = query_type or classify_query(query, is_rare=lambda texts: has_rare_lexeme(tenant=tenant, texts=texts))
    scale = evidence.tenant_scale if keyword_scale is None else keyword_scale
    weights = query_weights(
        query_type,
        known_share=evidence.known_share,
        keyword_scale=scale,
        dense_margin=dense_margin,
        keyword_surprise=keyword_surprise,
    )
    return FusionWeights(query_type, evidence, dense_margin, scale, weights, dense_parents, keyword_surprise)


def fuse(lists: dict[str, ParentList], *, method: str, weights: dict[str, float]) -> list[tuple[int, float]]:
    if method == "rrf":
        return rrf({name: [key for key, _ in parents.scored] for name, parents in lists.items()}, weights=weights)
    return convex({name: parents.scored for name, parents in lists.items()}, weights=weights)


@dataclass(frozen=True)
class Candidates:
    """Each retriever's parents for one query, before fusion, and what hybrid fusion weighs BM25's
    by: the query's keyword evidence and type, and the surprise of the match of BM25's best child
    (``bm25.match_surprise``; None when BM25 found nothing); None outside hybrid, or without BM25's
    list. ``went_without``: each retriever hybrid mode went on without, with why in tenants' words
    (``public_reason``)."""

    lists: dict[str, ParentList]
    evidence: KeywordEvidence
    query_type: QueryType | None = None
    went_without: dict[str, str] = field(default_factory=dict)
    keyword_surprise: float | None = None

    @property
    def dense_margin(self) -> float | None:
        """How far dense's best parent scores above its second; None without a dense list."""
        dense = self.lists.get("dense")
        return None if dense is None else top_margin(dense.scored)

    @property
    def dense_parents(self) -> int | None:
        """How many parents dense returned; None without a dense list."""
        dense = self.lists.get("dense")
        return None if dense is None else len(dense.scored)


def _query_vector(provider: EmbeddingProvider, query: str) -> list[float]:
    """``query``'s vector from ``provider``; ``ProviderError`` unless it fits the vector column
    (refused before the call when the provider declares another size) and cosine can compare it."""
    dimensions_check(provider)
    vector = provider.embed_query(query)
    sizes_check(provider, [vector])
    values_check(provider, [vector])
    return vector


# Serving's hybrid search waits for the query vector no longer than its statements may run: BM25 answers
# alone (logged as an outage) instead of the turn waiting for a stalled embedding service.
QUERY_VECTOR_LATE = "no query vector within {ms} ms"


def _vector_in_time(embedding: Future[list[float]], *, deadline: float | None, timeout_ms: int) -> list[float]:
    """The query vector, waited for until ``deadline`` (``time.monotonic()``; None: as long as it
    takes). Later, the embedding is cancelled if it has not started and ``ProviderError``
    (``UNAVAILABLE``) raised."""
    if deadline is None:
        return embedding.result()
    try:
        return embedding.result(timeout=max(0.0, deadline - time.monotonic()))
    except TimeoutError as exc:
        embedding.cancel()
        raise ProviderError(
            QUERY_VECTOR_LATE.format(ms=timeout_ms), kind=ProviderErrorKind.UNAVAILABLE, retryable=True
        ) from exc


@dataclass(frozen=True)
class KeywordSide:
    """BM25's hits for one query and, in hybrid mode, what fusion weighs them by."""

    hits: list[Hit]
    evidence: KeywordEvidence
    query_type: QueryType | None
    surprise: float | None  # of the best hit's match (``bm25.match_surprise``); None unweighed or without hits


NO_EVIDENCE = KeywordEvidence(1.0, 1.0)


def keyword_side(*, tenant: Tenant, query: str, limit: int, weigh: bool, timeout_ms: int) -> KeywordSide:
    """BM25's ``limit`` best children for ``query`` and, when ``weigh``, the query's keyword
    evidence and type and the surprise of the best child's match; each statement cancelled after
    ``timeout_ms`` (one transaction on the calling thread's connection, ``knowledge.timeouts``).
    Invisible characters in ``query`` are read as in the chunks (``languages.searchable_text``)."""
    settings = conf.SETTINGS
    query = searchable_text(query)
    with bounded(timeout_ms):
        search = bm25_search_traced(tenant=tenant, query=query, limit=limit, k1=settings.bm25_k1, b=settings.bm25_b)
        if not weigh:
            return KeywordSide(search.hits, NO_EVIDENCE, None, None)
        evidence = keyword_evidence(tenant=tenant, query=query)
        query_type = classify_query(query, is_rare=lambda texts: has_rare_lexeme(tenant=tenant, texts=texts))
    return KeywordSide(search.hits, evidence, query_type, search.surprise)


def public_reason(error: Exception) -> str:
    """Why a retriever failed, in the words tenants may read (a ``ProviderError``'s public message,
    ``TIMED_OUT_REASON`` for a cancelled statement); the error's own words are for the log."""
    return error.public_message if isinstance(error, ProviderError) else TIMED_OUT_REASON


def _went_without(retriever: str, *, tenant: Tenant, error: Exception, degraded: bool) -> Exception:
    """Log a retriever's failure (the vendor's or the server's words stay in the log) and return it.
    An embedding service that refuses the platform's key or configuration is an ERROR: operators act."""
    operator = isinstance(error, ProviderError) and error.needs_operator
    what = f"query embedding ({error.kind})" if isinstance(error, ProviderError) else f"{retriever} search"
    logger.log(
        logging.ERROR if operator else logging.WARNING,
        "%s failed for tenant %s%s: %s",
        what,
        tenant.pk,
        f"; hybrid search runs without {retriever}" if degraded else "",
        error,
    )
    return error


def children_per_parent() -> int:
    """How many child candidates to search per parent wanted: as many children as a full parent
    holds (``(parent - child overlap) // (child - child overlap)`` tokens), at least 3. The default
    chunking (350 / 128 / 20) gives 3, the factor the measured figures were taken with; long parents of
    short children (2000 / 64) give 45, or k passages would come from a few parents' children."""
    settings = conf.SETTINGS
    step = max(1, settings.child_tokens - settings.child_overlap)
    return max(3, (settings.parent_tokens - settings.child_overlap) // step)


def mode_check(mode: str) -> None:
    """Raise ``ValueError`` unless ``mode`` is one of ``MODES``."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")


def search_candidates(
    *,
    tenant: Tenant,
    query: str,
    mode: RetrievalMode,
    depth: int,
    provider: EmbeddingProvider,
    fallback: bool = False,
    timeout_ms: int = 0,
) -> Candidates:
    """Run the retrievers ``mode`` needs for ``query`` (enough candidates for ``depth`` parents),
    each SQL statement cancelled after ``timeout_ms`` (0: no limit).

    A query that cannot be embedded raises ``ProviderError``, a cancelled statement
    ``RetrievalTimedOut``, unless ``fallback`` lets hybrid mode go on with the retriever that
    answered (serving does; measurements must not; ``Candidates.went_without`` says which it went
    without and why); if neither did, keyword search's timeout is raised (or dense's error when
    keyword search did not run).
    With ``fallback`` in hybrid mode a hosted provider's query vector is also waited for at most
    ``timeout_ms`` (``QUERY_VECTOR_LATE``, an ``UNAVAILABLE`` embedding); measurements and the local
    model wait for it."""
    mode_check(mode)
    degrade = fallback and mode == "hybrid"
    # Only a hosted provider's vector can be withheld (a stalled service); the local model's waits
    # are its load after a start and a burst's queue, both short and better than no dense side.
    deadline = time.monotonic() + timeout_ms / 1000 if degrade and timeout_ms and provider.hosted else None
    failures: dict[str, Exception] = {}
    candidates = max(MIN_CANDIDATES, depth * children_per_parent())
    # The query is embedded in a worker thread while the keyword side runs in PostgreSQL: the model
    # (torch releases the GIL) and the database overlap instead of adding up.
    # In hybrid mode the keyword side also runs on its own connection, so dense need not wait for it.
    # The worker runs in the caller's context: a command measuring retrieval inside ``bulk_retries``
    # has its queries retried there (serving runs in no such run, and is not).
    embedding = (
        _EMBEDDER.submit(contextvars.copy_context().run, _query_vector, provider, query)
        if mode in ("dense", "hybrid")
        else None
    )
    keyword = partial(
        keyword_side, tenant=tenant, query=query, limit=candidates, weigh=mode == "hybrid", timeout_ms=timeout_ms
    )
    parallel = _bm25_in_parallel(keyword) if mode == "hybrid" else None
    keywords: KeywordSide | None = None
    dense: list[Hit] | None = None
    if mode in ("bm25", "hybrid"):
        try:
            keywords = keyword() if parallel is None else None
        except RetrievalTimedOut as exc:
            failures["bm25"] = _went_without("bm25", tenant=tenant, error=exc, degraded=degrade)
            if not degrade:
                raise
    if embedding is not None:
        try:
            vector = _vector_in_time(embedding, deadline=deadline, timeout_ms=timeout_ms)
            dense = dense_search(tenant=tenant, vector=vector, limit=candidates, timeout_ms=timeout_ms)
        except (ProviderError, RetrievalTimedOut) as exc:
            # Keywords still answer while the embedding service is down; the passages' ranks show it.
            failures["dense"] = _went_without("dense", tenant=tenant, error=exc, degraded=degrade)
            if not degrade:
                raise
    if parallel is not None:
        try:
            keywords = parallel.result()
        except RetrievalTimedOut as exc:
            failures["bm25"] = _went_without("bm25", tenant=tenant, error=exc, degraded=degrade)
            if not degrade:
                raise
    lists = {
        **({"bm25": lift_to_parents(keywords.hits)} if keywords is not None else {}),
        **({"dense": lift_to_parents(dense)} if dense is not None else {}),
    }
    if not lists and failures:
        # Both sides of a hybrid search failed: keyword search fails only by running out of time, so
        # the search did (an embedding error alone would tell callers that keyword search still works).
        raise failures.get("bm25") or next(iter(failures.values()))
    went_without = {name: public_reason(error) for name, error in failures.items()}
    if keywords is None:
        return Candidates(lists, NO_EVIDENCE, went_without=went_without)
    return Candidates(lists, keywords.evidence, keywords.query_type, went_without, keywords.surprise)


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
    """Parents best first and, in hybrid mode, how the retrievers were weighed for the query, or
    which retriever it went without (``Candidates.went_without``)."""

    parents: list[RankedParent]
    weighing: FusionWeights | None
    went_without: dict[str, str] = field(default_factory=dict)


def rank_parents(
    *,
    tenant: Tenant,
    query: str,
    mode: RetrievalMode,
    depth: int,
    provider: EmbeddingProvider,
    fusion: str | None = None,
    fallback: bool = False,
    timeout_ms: int = 0,
) -> Ranking:
    """Parents of ``tenant`` for ``query``, best first, at most ``depth`` of them, with the
    hybrid weights they were fused with (none when one retriever ran: a single mode, or hybrid
    with one retriever failed, which ``fallback`` allows; ``search_candidates``)."""
    found = search_candidates(
        tenant=tenant, query=query, mode=mode, depth=depth, provider=provider, fallback=fallback, timeout_ms=timeout_ms
    )
    weighing = None
    if len(found.lists) > 1:
        weighing = fusion_weights(
            tenant=tenant,
            query=query,
            evidence=found.evidence,
            dense_margin=found.dense_margin,
            query_type=found.query_type,
            dense_parents=found.dense_parents,
            keyword_surprise=found.keyword_surprise,
        )
        fused = fuse(found.lists, method=fusion or conf.SETTINGS.fusion, weights=weighing.weights)
    else:
        (only,) = found.lists.values()
        fused = only.scored
    return Ranking(ranked_parents(found.lists, fused, depth=depth), weighing, found.went_without)


def rerank(
    *,
    tenant: Tenant,
    query: str,
    parents: list[RankedParent],
    texts: dict[int, str],
    reranker: RerankProvider,
    k: int,
) -> list[RankedParent]:
    """Reorder the top candidates with ``reranker``; on any provider failure keep the fused order.
    Parents it did not return (past ``RERANK_CANDIDATES`` when ``k`` is larger, or left out of a
    short answer) follow the reranked ones in fused order."""
    candidates = parents[:RERANK_CANDIDATES]
    try:
        results = reranker.rerank(query=query, documents=[texts[p.parent_id] for p in candidates], top_n=k)
    except ProviderError as exc:
        level = logging.ERROR if exc.needs_operator else logging.WARNING
        logger.log(level, "reranking for tenant %s failed (%s), keeping fused order: %s", tenant.pk, exc.kind, exc)
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
