"""Writes to the knowledge base: sources, documents, chunk indexing and deletion.

Ingestion is idempotent by content hash: an unchanged document (same title, url and text, already
indexed with the configured embedding model) costs one query; a changed one has its chunks
replaced in one transaction; documents no longer present in a synced source are removed.
Embeddings are computed before the transaction opens so that no lock is held during model work.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial

from django.db import transaction
from django.utils import timezone

from knowledge import conf
from knowledge.bm25 import ChildRow, insert_children, unindex_document_terms
from knowledge.chunking import chunk_document, count_tokens, token_offsets
from knowledge.dense import vector_literal
from knowledge.models import (
    EMBEDDING_DIMENSIONS,
    Chunk,
    ChunkLevel,
    Document,
    DocumentStatus,
    KnowledgeSource,
    SourceKind,
    SourceStatus,
)
from knowledge.parsing import ParsedDocument, ParseError, parse_file
from knowledge.providers.base import EmbeddingProvider, ProviderError, embedding_provider
from supportai.models import Tenant

# Documents embedded together (one model call, batched inside): amortises per-call overhead.
INDEX_BATCH = 128
# The title is prepended to every child for embedding; it never takes more than this many tokens.
TITLE_TOKEN_BUDGET = 48
DIMENSION_MISMATCH = (
    "Embedding provider {name!r} returns {got} dimensions but the vector column holds {want}; "
    "choose a provider/model with {want} dimensions or migrate the column."
)


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"


def default_provider() -> EmbeddingProvider:
    settings = conf.SETTINGS
    return embedding_provider(settings.embedding_provider, settings.embedding_model)


def content_hash(parsed: ParsedDocument) -> str:
    payload = "\x1f".join([parsed.title, parsed.url, parsed.language, parsed.text])
    return hashlib.sha256(payload.encode()).hexdigest()


def source_get_or_create(
    *, tenant: Tenant, name: str, kind: str = SourceKind.UPLOAD, config: dict | None = None
) -> KnowledgeSource:
    source, _ = KnowledgeSource.objects.get_or_create(
        tenant=tenant, name=name, defaults={"kind": kind, "config": config or {}}
    )
    return source


def document_upsert(
    *, tenant: Tenant, source: KnowledgeSource, parsed: ParsedDocument, model: str
) -> tuple[Document, Outcome]:
    """Store ``parsed``; returns the document and whether it needs (re)indexing."""
    if source.tenant_id != tenant.pk:
        raise ValueError("source belongs to another tenant")
    digest = content_hash(parsed)
    document = Document.objects.for_tenant(tenant).filter(source=source, external_id=parsed.external_id).first()
    if (
        document is not None
        and document.content_hash == digest
        and document.status == DocumentStatus.READY
        and document.embedding_model == model
    ):
        return document, Outcome.UNCHANGED
    outcome = Outcome.CREATED if document is None else Outcome.UPDATED
    document = document or Document(tenant=tenant, source=source, external_id=parsed.external_id)
    document.title = parsed.title[:500]
    document.url = parsed.url[:1000]
    document.language = parsed.language
    document.content = parsed.text
    document.content_hash = digest
    document.status = DocumentStatus.PENDING
    document.error = ""
    document.updated_at = timezone.now()
    document.save()
    return document, outcome


def embedding_text(title: str, text: str) -> str:
    """Title + child text, with the title cut so the whole fits the model without truncation."""
    offsets = token_offsets(title)
    if len(offsets) > TITLE_TOKEN_BUDGET:
        title = title[: offsets[TITLE_TOKEN_BUDGET - 1][1]]
    return f"{title}\n{text}" if title else text


@dataclass(frozen=True)
class PlannedChunk:
    parent_ordinal: int
    text: str
    tokens: int
    start: int
    end: int


def _plan(document: Document) -> tuple[list[PlannedChunk], list[PlannedChunk]]:
    settings = conf.SETTINGS
    parents: list[PlannedChunk] = []
    children: list[PlannedChunk] = []
    pieces = chunk_document(
        document.content,
        parent_tokens=settings.parent_tokens,
        parent_overlap=settings.parent_overlap,
        child_tokens=settings.child_tokens,
        child_overlap=settings.child_overlap,
    )
    for ordinal, piece in enumerate(pieces):
        parent = piece.chunk
        parents.append(PlannedChunk(ordinal, parent.text, parent.tokens, parent.start, parent.end))
        children.extend(PlannedChunk(ordinal, c.text, c.tokens, c.start, c.end) for c in piece.children)
    return parents, children


def document_chunks_delete(*, tenant: Tenant, document: Document) -> None:
    """Drop the document's chunks and their BM25 statistics (call inside a transaction)."""
    unindex_document_terms(tenant=tenant, document_id=document.pk)
    Chunk.objects.for_tenant(tenant).filter(document=document).delete()


@transaction.atomic
def _store_chunks(
    *,
    tenant: Tenant,
    document: Document,
    parents: list[PlannedChunk],
    children: list[PlannedChunk],
    vectors: list[list[float]],
    model: str,
) -> None:
    document = Document.objects.select_for_update().get(pk=document.pk, tenant=tenant)
    document_chunks_delete(tenant=tenant, document=document)
    parent_rows = Chunk.objects.bulk_create(
        Chunk(
            tenant=tenant,
            document=document,
            level=ChunkLevel.PARENT,
            ordinal=p.parent_ordinal,
            text=p.text,
            token_count=p.tokens,
            char_start=p.start,
            char_end=p.end,
        )
        for p in parents
    )
    rows = [
        ChildRow(parent_rows[c.parent_ordinal].pk, ordinal, c.text, c.tokens, c.start, c.end, vector_literal(vector))
        for ordinal, (c, vector) in enumerate(zip(children, vectors, strict=True))
    ]
    insert_children(
        tenant=tenant,
        document_id=document.pk,
        title=document.title,
        title_weight=conf.SETTINGS.title_weight,
        model=model,
        rows=rows,
    )
    document.status = DocumentStatus.READY
    document.error = ""
    document.chunk_count = len(children)
    document.embedding_model = model
    document.indexed_at = timezone.now()
    document.save(update_fields=["status", "error", "chunk_count", "embedding_model", "indexed_at"])


def _check_dimensions(provider: EmbeddingProvider) -> None:
    if provider.dimensions != EMBEDDING_DIMENSIONS:
        raise ProviderError(
            DIMENSION_MISMATCH.format(name=provider.name, got=provider.dimensions, want=EMBEDDING_DIMENSIONS)
        )


def documents_index(*, tenant: Tenant, documents: list[Document], provider: EmbeddingProvider | None = None) -> int:
    """Chunk and embed several documents with one embedding call (the model batches them), then
    swap each document's chunks in atomically; returns the child count. On a provider error every
    document is marked failed and the error is raised."""
    if any(document.tenant_id != tenant.pk for document in documents):
        raise ValueError("document belongs to another tenant")
    provider = provider or default_provider()
    _check_dimensions(provider)
    plans = [_plan(document) for document in documents]
    texts = [
        embedding_text(d.title, child.text)
        for d, (_, children) in zip(documents, plans, strict=True)
        for child in children
    ]
    try:
        vectors = provider.embed_documents(texts)
    except ProviderError as exc:
        Document.objects.filter(pk__in=[d.pk for d in documents]).update(
            status=DocumentStatus.FAILED, error=f"Embedding failed: {exc}"
        )
        raise
    offset = 0
    for document, (parents, children) in zip(documents, plans, strict=True):
        own = vectors[offset : offset + len(children)]
        offset += len(children)
        _store_chunks(
            tenant=tenant, document=document, parents=parents, children=children, vectors=own, model=provider.model
        )
    return offset


def document_index(*, tenant: Tenant, document: Document, provider: EmbeddingProvider | None = None) -> int:
    """Chunk and embed ``document`` and swap its chunks in atomically; returns the child count."""
    return documents_index(tenant=tenant, documents=[document], provider=provider)


@transaction.atomic
def document_delete(*, tenant: Tenant, document: Document) -> None:
    if document.tenant_id != tenant.pk:
        raise ValueError("document belongs to another tenant")
    document_chunks_delete(tenant=tenant, document=document)
    document.delete()


def source_delete(*, tenant: Tenant, source: KnowledgeSource) -> None:
    """Delete a source and its documents (through ``document_delete``, keeping BM25 statistics right)."""
    source_prune(tenant=tenant, source=source, keep=set())
    source.delete()


def source_prune(*, tenant: Tenant, source: KnowledgeSource, keep: set[str]) -> int:
    """Delete the source's documents whose external id is not in ``keep``; returns how many."""
    stale = Document.objects.for_tenant(tenant).filter(source=source).exclude(external_id__in=keep)
    removed = 0
    for document in stale:
        document_delete(tenant=tenant, document=document)
        removed += 1
    return removed


@dataclass
class FileResult:
    name: str
    outcomes: dict[Outcome, int] = field(default_factory=dict)
    error_code: str = ""
    error: str = ""
    external_ids: list[str] = field(default_factory=list)

    def count(self, outcome: Outcome) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def file_ingest(
    *,
    tenant: Tenant,
    source: KnowledgeSource,
    name: str,
    data: bytes,
    provider: EmbeddingProvider | None = None,
    index_now: bool = True,
    on_document: Callable[[Document, Outcome], None] | None = None,
) -> FileResult:
    """Parse one file and upsert its documents. A bad file gives a per-file error, never an exception."""
    try:
        parsed_documents = parse_file(name, data, max_bytes=conf.SETTINGS.max_upload_bytes)
    except ParseError as exc:
        return FileResult(name=name, error_code=exc.code, error=str(exc))
    return parsed_ingest(
        tenant=tenant,
        source=source,
        name=name,
        parsed_documents=parsed_documents,
        provider=provider,
        index_now=index_now,
        on_document=on_document,
    )


def parsed_ingest(
    *,
    tenant: Tenant,
    source: KnowledgeSource,
    name: str,
    parsed_documents: list[ParsedDocument],
    provider: EmbeddingProvider | None = None,
    index_now: bool = True,
    on_document: Callable[[Document, Outcome], None] | None = None,
) -> FileResult:
    """Upsert already parsed documents and index the new or changed ones (one embedding call per
    ``INDEX_BATCH``); unchanged documents cost no chunk write. A provider error marks the batch failed."""
    provider = provider or default_provider()
    result = FileResult(name=name)
    upserted = []
    for parsed in parsed_documents:
        document, outcome = document_upsert(tenant=tenant, source=source, parsed=parsed, model=provider.model)
        result.external_ids.append(parsed.external_id)
        upserted.append((document, outcome))
    pending = [document for document, outcome in upserted if outcome != Outcome.UNCHANGED]
    failed = False
    if pending and index_now:
        for start in range(0, len(pending), INDEX_BATCH):
            try:
                documents_index(tenant=tenant, documents=pending[start : start + INDEX_BATCH], provider=provider)
            except ProviderError:
                failed = True
    for document, outcome in upserted:
        if failed and outcome != Outcome.UNCHANGED:
            document.refresh_from_db(fields=["status"])
            outcome = Outcome.FAILED if document.status == DocumentStatus.FAILED else outcome
        result.count(outcome)
        if on_document is not None:
            on_document(document, outcome)
    return result


UPLOAD_SOURCE = "Uploads"


@dataclass(frozen=True)
class UploadedDocument:
    id: int
    title: str
    outcome: Outcome


@dataclass(frozen=True)
class UploadResult:
    file: FileResult
    documents: list[UploadedDocument]


def files_upload(
    *, tenant: Tenant, files: list[tuple[str, bytes]], source_name: str = UPLOAD_SOURCE
) -> list[UploadResult]:
    """Store uploaded files now and index new or changed documents in Celery after commit.

    Each file is its own transaction: a bad file gets its error and the others go through.
    """
    from knowledge import tasks

    source = source_get_or_create(tenant=tenant, name=source_name)
    results = []
    for name, data in files:
        documents: list[UploadedDocument] = []

        def collect(document: Document, outcome: Outcome, bucket: list[UploadedDocument] = documents) -> None:
            bucket.append(UploadedDocument(document.pk, document.title, outcome))

        with transaction.atomic():
            result = file_ingest(
                tenant=tenant, source=source, name=name, data=data, index_now=False, on_document=collect
            )
            for document in documents:
                if document.outcome != Outcome.UNCHANGED:
                    transaction.on_commit(partial(tasks.index_document.delay, document.id))
        results.append(UploadResult(result, documents))
    return results


def source_mark_synced(*, source: KnowledgeSource, failed: bool = False) -> None:
    source.status = SourceStatus.FAILED if failed else SourceStatus.IDLE
    source.last_synced_at = timezone.now()
    source.save(update_fields=["status", "last_synced_at"])


def tenant_reindex(
    *,
    tenant: Tenant,
    provider: EmbeddingProvider | None = None,
    force: bool = False,
    documents: Iterable[Document] | None = None,
) -> int:
    """Re-embed documents indexed with another model (or all with ``force``); returns how many."""
    provider = provider or default_provider()
    # Pages that failed to fetch have no text: nothing to embed until a sync reads them again.
    queryset = Document.objects.for_tenant(tenant).exclude(content_hash="")
    if not force:
        queryset = queryset.exclude(embedding_model=provider.model, status=DocumentStatus.READY)
    count = 0
    for document in documents if documents is not None else queryset.iterator():
        document_index(tenant=tenant, document=document, provider=provider)
        count += 1
    return count


def max_embedding_tokens(title: str, text: str) -> int:
    """Word-pieces the local model sees for one child, [CLS]/[SEP] included (must stay <= 256)."""
    return count_tokens(embedding_text(title, text)) + 2
