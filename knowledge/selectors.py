"""Reads of the knowledge base. ``retrieve`` is the one entry point chat and the console use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, QuerySet, Sum
from django.http import Http404

from knowledge import conf
from knowledge.models import Chunk, Document, KnowledgeSource, SourceKind
from knowledge.parsing import storable_text
from knowledge.providers.base import EmbeddingProvider, RerankProvider, rerank_provider
from knowledge.retrieval import RERANK_CANDIDATES, FusionWeights, rank_parents, rerank
from knowledge.services import default_provider
from knowledge.source_config import sync_free
from knowledge.timeouts import bounded
from knowledge.types import Passage, RetrievalMode
from supportai.models import Tenant


def source_list(*, tenant: Tenant) -> QuerySet[KnowledgeSource]:
    return KnowledgeSource.objects.for_tenant(tenant).order_by("name")


def source_get(*, tenant: Tenant, pk: int) -> KnowledgeSource:
    """The tenant's source ``pk``; another tenant's id is simply not found."""
    source = KnowledgeSource.objects.for_tenant(tenant).filter(pk=pk).first()
    if source is None:
        raise Http404("No such knowledge source.")
    return source


def url_source_get(*, tenant: Tenant, pk: int) -> KnowledgeSource:
    """The tenant's website (URL) source ``pk``; another tenant's id, or a source of another kind, is not found."""
    source = source_get(tenant=tenant, pk=pk)
    if source.kind != SourceKind.URL:
        raise Http404("No such website source.")
    return source


def source_totals(*, tenant: Tenant, source: KnowledgeSource) -> tuple[int, int]:
    """How many documents and (child) chunks the tenant's source holds."""
    totals = (
        Document.objects.for_tenant(tenant).filter(source=source).aggregate(n=Count("pk"), chunks=Sum("chunk_count"))
    )
    return totals["n"], totals["chunks"] or 0


def url_sources_due(*, now: datetime, default_interval_minutes: int) -> list[KnowledgeSource]:
    """URL sources of every tenant whose resync interval has passed (the scheduler's read, hence
    no tenant): never synced, or last synced at least ``sync_interval_minutes`` ago (the source's
    own setting, else ``default_interval_minutes``; 0 means on demand only). Running syncs are left
    out, but not one whose lease has run out (``source_config.sync_free``: its worker died), which a
    sync takes over as a manual one would. A deactivated tenant's sources are never due."""
    sources = KnowledgeSource.objects.filter(sync_free(now), kind=SourceKind.URL, tenant__is_active=True)
    sources = sources.select_related("tenant")
    return [
        source
        for source in sources
        if url_source_due(source=source, now=now, default_interval_minutes=default_interval_minutes)
    ]


def url_source_due(*, source: KnowledgeSource, now: datetime, default_interval_minutes: int) -> bool:
    """Whether the URL source's resync interval has passed and its tenant is active (``url_sources_due``'s
    test, running syncs aside)."""
    if not source.tenant.is_active:  # deactivated after beat queued the sync
        return False
    minutes = source.config.get("sync_interval_minutes", default_interval_minutes)
    if not isinstance(minutes, int) or minutes <= 0:
        return False
    return source.last_synced_at is None or source.last_synced_at <= now - timedelta(minutes=minutes)


def document_list(
    *, tenant: Tenant, source: KnowledgeSource | None = None, status: str | None = None
) -> QuerySet[Document]:
    """The tenant's documents by title, optionally only those of ``source`` or in ``status``; their
    text and the links and aliases a crawl stored are left unread (a page of 50 manuals would read
    up to 50 times ``KNOWLEDGE_MAX_UPLOAD_BYTES`` that no list shows)."""
    documents = (
        Document.objects.for_tenant(tenant)
        .select_related("source")
        .defer("content", "links", "aliases")
        .order_by("title", "pk")
    )
    if source is not None:
        documents = documents.filter(source=source)
    return documents.filter(status=status) if status is not None else documents


def document_get(*, tenant: Tenant, pk: int) -> Document:
    """The tenant's document ``pk``; another tenant's id is simply not found."""
    document = Document.objects.for_tenant(tenant).filter(pk=pk).first()
    if document is None:
        raise Http404("No such document.")
    return document


# The most passages one retrieval returns (the API asks for at most 50, the console 20).
MAX_K = 100


def retrieve(
    *,
    tenant: Tenant,
    query: str,
    k: int = 5,
    mode: RetrievalMode = "hybrid",
    provider: EmbeddingProvider | None = None,
    reranker: RerankProvider | None = None,
) -> list[Passage]:
    """The ``k`` best context passages (parent chunks) of ``tenant`` for ``query``.

    Reranking runs when a reranker is configured (``KNOWLEDGE_RERANK_PROVIDER``) or passed; its
    failure falls back to the fused order.
    """
    return retrieve_explained(tenant=tenant, query=query, k=k, mode=mode, provider=provider, reranker=reranker).passages


@dataclass(frozen=True)
class ExplainedPassages:
    passages: list[Passage]
    weighing: FusionWeights | None  # how hybrid retrieval weighed its retrievers for the query


def retrieve_explained(
    *,
    tenant: Tenant,
    query: str,
    k: int = 5,
    mode: RetrievalMode = "hybrid",
    provider: EmbeddingProvider | None = None,
    reranker: RerankProvider | None = None,
) -> ExplainedPassages:
    """``retrieve``'s passages and, in hybrid mode, the weights they were fused with (the console
    shows them). A NUL or a lone surrogate in ``query`` (JSON escapes allow both) is cleaned as in
    stored text, so PostgreSQL and the tokenizer never see it. ``k`` over ``MAX_K`` raises
    ``ValueError``; under 1 finds nothing.

    Each SQL statement is cancelled after ``KNOWLEDGE_RETRIEVAL_TIMEOUT_MS``. Hybrid mode answers
    from one retriever when the other fails (the passages' ``ranks`` show which ran); when no
    retriever can answer, its error is raised: ``ProviderError`` (the query could not be embedded)
    or ``RetrievalTimedOut``."""
    if k > MAX_K:
        raise ValueError(f"k must be at most {MAX_K}; got {k}")
    query = storable_text(query)
    if k < 1 or not query.strip():
        return ExplainedPassages([], None)
    provider = provider or default_provider()
    reranker = reranker or rerank_provider(conf.SETTINGS.rerank_provider)
    depth = max(k, RERANK_CANDIDATES) if reranker is not None else k
    # Chat and the console answer from whichever retriever works while the other fails (the query
    # cannot be embedded, a search ran out of time).
    timeout_ms = conf.SETTINGS.retrieval_timeout_ms
    ranking = rank_parents(
        tenant=tenant, query=query, mode=mode, depth=depth, provider=provider, fallback=True, timeout_ms=timeout_ms
    )
    parents_found = (
        Chunk.objects.for_tenant(tenant)
        .filter(pk__in=[p.parent_id for p in ranking.parents])
        .select_related("document")
        .only("id", "text", "document__id", "document__title", "document__url")
    )
    with bounded(timeout_ms):
        rows = {chunk.pk: chunk for chunk in parents_found}
    # A parent deleted between the search and this read (a re-index swapped its chunks) is left out.
    parents = [parent for parent in ranking.parents if parent.parent_id in rows]
    if reranker is not None:
        texts = {pk: chunk.text for pk, chunk in rows.items()}
        parents = rerank(tenant=tenant, query=query, parents=parents, texts=texts, reranker=reranker, k=k)
    passages: list[Passage] = []
    for parent in parents[:k]:
        chunk = rows[parent.parent_id]
        passages.append(
            Passage(
                index=len(passages) + 1,
                document_id=chunk.document.pk,
                chunk_id=chunk.pk,
                title=chunk.document.title,
                url=chunk.document.url,
                text=chunk.text,
                score=round(parent.score, 6),
                matched_chunk_ids=tuple(parent.matched_chunk_ids),
                ranks=dict(parent.ranks),
            )
        )
    return ExplainedPassages(passages, ranking.weighing)
