"""Reads of the knowledge base. ``retrieve`` is the one entry point chat and the console use."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import (
    BooleanField,
    Case,
    Count,
    F,
    Func,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Substr
from django.http import Http404
from django.utils import timezone

from knowledge import conf
from knowledge.models import Chunk, ChunkLevel, Document, DocumentStatus, KnowledgeSource, SourceKind, SourceStatus
from knowledge.parsing import storable_text
from knowledge.providers.base import EmbeddingProvider, RerankProvider, rerank_provider
from knowledge.retrieval import RERANK_CANDIDATES, FusionWeights, mode_check, rank_parents, rerank
from knowledge.sections import PATH_SEPARATOR, SectionIndex, markdown_headings
from knowledge.services import default_provider
from knowledge.source_config import sync_free
from knowledge.staleness import SECTIONS_RULES_VERSION, indexed_with_headings
from knowledge.timeouts import bounded
from knowledge.types import Passage, RetrievalMode
from supportai.models import Tenant


def source_list(*, tenant: Tenant) -> QuerySet[KnowledgeSource]:
    return KnowledgeSource.objects.for_tenant(tenant).order_by("name")


def source_list_with_totals(*, tenant: Tenant, now: datetime | None = None) -> QuerySet[KnowledgeSource]:
    """``source_list`` with each source's ``document_count`` and ``chunk_total`` (its documents'
    chunks), counted among the tenant's documents only: from the index on tenant and source, not
    by joining every document of every tenant; and ``sync_stalled``: whether it is syncing by a
    claim no longer renewed at ``now`` (``source_config.sync_free``: its worker died, and the next
    sync takes it over)."""
    documents = Document.objects.for_tenant(tenant).filter(source=OuterRef("pk")).order_by().values("source")
    stalled = Q(status=SourceStatus.SYNCING) & sync_free(now or timezone.now())
    return source_list(tenant=tenant).annotate(
        document_count=Coalesce(Subquery(documents.annotate(n=Count("pk")).values("n")), 0),
        chunk_total=Coalesce(Subquery(documents.annotate(n=Sum("chunk_count")).values("n")), 0),
        sync_stalled=Case(When(stalled, then=Value(True)), default=Value(False), output_field=BooleanField()),
    )


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


def _documents_unread(tenant: Tenant) -> QuerySet[Document]:
    """The tenant's documents with their source, their text and the links and aliases a crawl stored
    left unread (up to ``KNOWLEDGE_MAX_UPLOAD_BYTES`` each that no list or header shows)."""
    return Document.objects.for_tenant(tenant).select_related("source").defer("content", "links", "aliases")


def document_list(
    *, tenant: Tenant, source: KnowledgeSource | None = None, status: str | None = None
) -> QuerySet[Document]:
    """The tenant's documents by title, optionally only those of ``source`` or in ``status``, their
    text unread (``_documents_unread``: a page of 50 manuals would read 50 of them)."""
    documents = _documents_unread(tenant).order_by("title", "pk")
    if source is not None:
        documents = documents.filter(source=source)
    return documents.filter(status=status) if status is not None else documents


def document_get(*, tenant: Tenant, pk: int) -> Document:
    """The tenant's document ``pk``; another tenant's id is simply not found."""
    document = Document.objects.for_tenant(tenant).filter(pk=pk).first()
    if document is None:
        raise Http404("No such document.")
    return document


def document_status_get(*, tenant: Tenant, pk: int) -> Document:
    """``document_get`` without its text, links and aliases (a manual's text is up to
    ``KNOWLEDGE_MAX_UPLOAD_BYTES``): for the API's detail and delete, which never show it."""
    document = Document.objects.for_tenant(tenant).defer("content", "links", "aliases").filter(pk=pk).first()
    if document is None:
        raise Http404("No such document.")
    return document


def document_page_get(*, tenant: Tenant, pk: int) -> Document:
    """``document_get`` with its source and without its text (``_documents_unread``): what its page
    shows (``child_sections_get`` reads only the beginning of the text its children need)."""
    document = _documents_unread(tenant).filter(pk=pk).first()
    if document is None:
        raise Http404("No such document.")
    return document


# How far past an offset ``document_text_settling`` looks for the blank line that ends any paragraph
# open there; a text with none that close is read whole (still correct, only rarer and slower).
SETTLING_WINDOW_CHARS = 65_536
# A window's text through its first blank line (one that ``markdown_headings`` reads as blank). In
# PostgreSQL's regexes the leading ``.*?`` makes the whole match the shortest, and ``.`` matches "\n".
THROUGH_BLANK_LINE = r"^.*?\n[ \t]*\r?\n"


class _Joined(Func):
    """``a || b``: NULL when either is (Django's ``Concat`` reads NULL as "")."""

    template = "(%(expressions)s)"
    arg_joiner = " || "
    output_field = TextField()


class _RegexSubstring(Func):
    """PostgreSQL's ``substring(text, pattern)``: the part of the text the pattern matches, or NULL."""

    function = "SUBSTRING"
    arity = 2
    output_field = TextField()


def document_text_settling(*, tenant: Tenant, document: Document, offset: int) -> str:
    """The beginning of the tenant's ``document``'s text that settles every heading above
    ``offset``: through the first blank line at or after the line holding it (the whole text when
    there is none within ``SETTLING_WINDOW_CHARS``), so ``SectionIndex.of`` reads the same headings
    starting up to ``offset`` in it as in the whole text: every line up to there is whole, and a
    paragraph open at ``offset`` (which a later ``===`` line would make a heading) is closed. One
    query that reads no more of the text than that; "" for a document deleted meanwhile."""
    # SQL counts from 1: the window starts a character before ``offset``, so a blank line there counts.
    start = max(offset, 1)
    settling = Coalesce(
        _Joined(
            Substr("content", 1, start - 1),
            _RegexSubstring(Substr("content", start, SETTLING_WINDOW_CHARS), Value(THROUGH_BLANK_LINE)),
        ),
        F("content"),
    )
    text = (
        Document.objects.for_tenant(tenant)
        .filter(pk=document.pk)
        .annotate(settling=settling)
        .values_list("settling", flat=True)
        .first()
    )
    return text or ""


def child_sections_get(*, tenant: Tenant, document: Document, children: Sequence[Chunk]) -> dict[int, str]:
    """The section path each of the tenant's ``document``'s ``children`` was indexed under, by chunk
    id ("Cancelling > Refunds", "" for none), read again from the stored text: not stored, as the
    heading offsets it comes from are in the text. Only the beginning of the text the children need
    is read (``document_text_settling``), in one query, none when nothing can have a section. Empty
    while the chunks may be of another text (the document is not ready: its text changed, or
    indexing failed), of rules without sections (``SECTIONS_RULES_VERSION``) or indexed without
    headings (``indexed_with_headings``: as plain text, whatever the file is now)."""
    if (
        not children
        or document.status != DocumentStatus.READY
        or document.index_settings.get("rules", 0) < SECTIONS_RULES_VERSION
        or not indexed_with_headings(index_settings=document.index_settings, file_name=document.file_name)
    ):
        return {}
    offset = max(child.char_start for child in children)
    text = document_text_settling(tenant=tenant, document=document, offset=offset)
    sections = SectionIndex(markdown_headings(text), title=document.title)
    return {child.pk: PATH_SEPARATOR.join(sections.above(child.char_start)) for child in children}


@dataclass(frozen=True)
class ChunkTotals:
    parents: int
    children: int
    parent_tokens: int
    child_tokens: int


def chunk_totals(*, tenant: Tenant, document: Document) -> ChunkTotals:
    """How many parent and child chunks the tenant's ``document`` has, and their tokens (overlaps
    counted in each chunk that holds them), in one query."""
    parent, child = Q(level=ChunkLevel.PARENT), Q(level=ChunkLevel.CHILD)
    totals = (
        Chunk.objects.for_tenant(tenant)
        .filter(document=document)
        .aggregate(
            parents=Count("pk", filter=parent),
            children=Count("pk", filter=child),
            parent_tokens=Coalesce(Sum("token_count", filter=parent), 0),
            child_tokens=Coalesce(Sum("token_count", filter=child), 0),
        )
    )
    return ChunkTotals(**totals)


# What a chunk's page shows of it: no vector, lexemes or hashes.
_CHUNK_SHOWN = ("id", "document_id", "parent_id", "ordinal", "text", "token_count", "char_start", "char_end")


def parent_chunk_list(*, tenant: Tenant, document: Document) -> QuerySet[Chunk]:
    """The parents of the tenant's ``document`` by ordinal, each with its ``children`` by ordinal
    (one more query for any slice of parents)."""
    children = Chunk.objects.for_tenant(tenant).only(*_CHUNK_SHOWN).order_by("ordinal")
    return (
        Chunk.objects.for_tenant(tenant)
        .filter(document=document, level=ChunkLevel.PARENT)
        .only(*_CHUNK_SHOWN)
        .order_by("ordinal", "pk")
        .prefetch_related(Prefetch("children", queryset=children))
    )


@dataclass(frozen=True)
class ChunkPlace:
    parent_id: int  # the chunk's own id for a parent, its parent's for a child
    position: int  # that parent's place among the document's parents (``parent_chunk_list``), from 0


def chunk_place_get(*, tenant: Tenant, document: Document, chunk_id: int) -> ChunkPlace | None:
    """Where chunk ``chunk_id`` (a parent or a child) is among the parents of the tenant's
    ``document``, in one query; None when the document holds no such chunk (a re-index replaced
    it, or it is another document's)."""
    parents_before = (
        Chunk.objects.for_tenant(tenant)
        .filter(document=document, level=ChunkLevel.PARENT, ordinal__lt=OuterRef("parent_ordinal"))
        .order_by()
        .values("document")
        .annotate(n=Count("pk"))
        .values("n")
    )
    place = (
        Chunk.objects.for_tenant(tenant)
        .filter(document=document, pk=chunk_id)
        .annotate(parent_ordinal=Coalesce("parent__ordinal", "ordinal"), holder=Coalesce("parent_id", "pk"))
        .annotate(position=Coalesce(Subquery(parents_before), 0))
        .values_list("holder", "position")
        .first()
    )
    return ChunkPlace(*place) if place is not None else None


def chunk_document_id_get(*, tenant: Tenant, chunk_id: int) -> int | None:
    """The id of the tenant's document holding chunk ``chunk_id``; None when the tenant has no such chunk."""
    return Chunk.objects.for_tenant(tenant).filter(pk=chunk_id).values_list("document_id", flat=True).first()


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
    # The retrievers hybrid retrieval went without, with why in tenants' words (``Candidates.went_without``).
    went_without: dict[str, str] = field(default_factory=dict)


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
    stored text, so PostgreSQL and the tokenizer never see it. ``k`` over ``MAX_K``, or an unknown
    ``mode``, raises ``ValueError`` (whatever the query), a ``k`` that is not an ``int``
    ``TypeError``; under 1 finds nothing.

    Each SQL statement is cancelled after ``KNOWLEDGE_RETRIEVAL_TIMEOUT_MS``. Hybrid mode answers
    from one retriever when the other fails (the passages' ``ranks`` show which ran); when no
    retriever can answer, its error is raised: ``ProviderError`` (the query could not be embedded)
    or ``RetrievalTimedOut``. ``went_without`` names the retriever hybrid mode answered without."""
    if not isinstance(k, int) or isinstance(k, bool):
        raise TypeError(f"k must be a whole number; got {k!r}")
    if k > MAX_K:
        raise ValueError(f"k must be at most {MAX_K}; got {k}")
    mode_check(mode)
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
    return ExplainedPassages(passages, ranking.weighing, ranking.went_without)
