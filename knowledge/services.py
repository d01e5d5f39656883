"""Writes to the knowledge base: sources, documents, chunk indexing and deletion.

Ingestion is idempotent by content hash: an unchanged document (same title, url and text, already
indexed with the configured embedding model, sectioned as its file reads: with Markdown headings or
as plain text, as its index record says) costs one query; a changed one has its chunks replaced in one transaction;
documents no longer present in a synced source are removed.
Embeddings are computed before the transaction opens so that no lock is held during model work.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import partial

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from knowledge import conf
from knowledge.bm25_index import lock_tenant_index
from knowledge.indexing import (
    INDEX_BATCH,
    default_provider,
    documents_chunks_delete,
    documents_index,
)
from knowledge.languages import DEFAULT_LANGUAGE
from knowledge.models import (
    Document,
    DocumentStatus,
    KnowledgeSource,
    SourceKind,
    SourceStatus,
)
from knowledge.parsed import MESSAGES, ErrorCode, ParsedDocument, ParsedFile, ParseError, web_urls
from knowledge.parsing import parse_file
from knowledge.providers.base import EmbeddingProvider, ProviderError
from knowledge.sections import reads_headings
from knowledge.staleness import documents_to_reindex, indexed_with_headings
from knowledge.types import Progress
from supportai.models import Tenant

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"


def content_hash(parsed: ParsedDocument) -> str:
    payload = "\x1f".join([parsed.title, parsed.url, parsed.language, parsed.text])
    return hashlib.sha256(payload.encode()).hexdigest()


NOT_AN_UPLOAD_SOURCE = (
    "The knowledge source {name!r} is a {kind} source, so files cannot go into it (its syncs would delete "
    "them); rename that source, then try again."
)


class SourceKindError(ValueError):
    """The named source exists and is not an upload source (a website source named like one):
    files written into it would be pruned by its own syncs."""


def source_get_or_create(*, tenant: Tenant, name: str, config: dict | None = None) -> KnowledgeSource:
    """The tenant's upload source named ``name``, created with ``config`` if the tenant has no source
    of that name; raises ``SourceKindError`` when the source of that name is of another kind."""
    source, _ = KnowledgeSource.objects.get_or_create(
        tenant=tenant, name=name, defaults={"kind": SourceKind.UPLOAD, "config": config or {}}
    )
    if source.kind != SourceKind.UPLOAD:
        raise SourceKindError(NOT_AN_UPLOAD_SOURCE.format(name=name, kind=source.get_kind_display()))
    return source


UPSERT_FIELDS = [
    *("title", "url", "language", "content", "content_hash", "status", "error", "updated_at", "queued_at", "file_name")
]


def documents_upsert(
    *,
    tenant: Tenant,
    source: KnowledgeSource,
    parsed_documents: list[ParsedDocument],
    model: str,
    file_name: str = "",
) -> list[tuple[Document, Outcome]]:
    """Store ``parsed_documents``, from the file ``file_name`` if they came from one (one read, one
    insert and one update for the lot); returns each one's document and whether it needs
    (re)indexing, in order. A repeated external id updates the document stored for its first
    occurrence, as if they came one after another."""
    if source.tenant_id != tenant.pk:
        raise ValueError("source belongs to another tenant")
    if not parsed_documents:
        return []
    external_ids = list(dict.fromkeys(parsed.external_id for parsed in parsed_documents))
    upsert = partial(
        _upsert, tenant=tenant, source=source, parsed_documents=parsed_documents, model=model, file_name=file_name
    )
    existing = _stored(tenant=tenant, source=source, external_ids=external_ids)
    if len(existing) == len(external_ids) and _nothing_to_write(existing, parsed_documents, model, file_name):
        return upsert(existing=existing)
    # Anything to write is written under the tenant's index lock, after a second look at rows locked
    # in id order (as a delete takes them): two uploads of the same new file store one document
    # instead of failing on the unique constraint, and a document deleted meanwhile is created
    # anew instead of being "updated" into nothing.
    with transaction.atomic():
        lock_tenant_index(tenant=tenant)
        return upsert(existing=_stored(tenant=tenant, source=source, external_ids=external_ids, lock=True))


def _stored(
    *, tenant: Tenant, source: KnowledgeSource, external_ids: list[str], lock: bool = False
) -> dict[str, Document]:
    documents = Document.objects.for_tenant(tenant).filter(source=source, external_id__in=external_ids)
    if lock:
        documents = documents.select_for_update().order_by("pk")
    return {document.external_id: document for document in documents}


def _nothing_to_write(
    existing: dict[str, Document], parsed_documents: list[ParsedDocument], model: str, file_name: str
) -> bool:
    """Whether every one of ``parsed_documents`` is stored as it is, indexed with ``model`` and from ``file_name``."""
    return all(
        _keeps_chunks(
            document := existing[parsed.external_id], digest=content_hash(parsed), model=model, file_name=file_name
        )
        and document.file_name == file_name
        for parsed in parsed_documents
    )


def _keeps_chunks(document: Document, *, digest: str, model: str, file_name: str) -> bool:
    """Whether ``document``'s chunks hold for the text of content hash ``digest`` from the file
    ``file_name``: it is indexed, of that text, with ``model`` and sectioned as that file reads (with
    Markdown headings or none, as its index record says: ``indexed_with_headings``, not the kind of
    the file name stored, which may have changed since it was indexed)."""
    return (
        document.content_hash == digest
        and document.status == DocumentStatus.READY
        and document.embedding_model == model
        and indexed_with_headings(index_settings=document.index_settings, file_name=document.file_name)
        == reads_headings(file_name)
    )


def _upsert(
    *,
    tenant: Tenant,
    source: KnowledgeSource,
    parsed_documents: list[ParsedDocument],
    model: str,
    existing: dict[str, Document],
    file_name: str,
) -> list[tuple[Document, Outcome]]:
    now = timezone.now()
    created: dict[str, Document] = {}
    updated: dict[str, Document] = {}
    moved: dict[str, Document] = {}  # unchanged, but given by another file now
    results: list[tuple[Document, Outcome]] = []
    for parsed in parsed_documents:
        key = parsed.external_id
        document = created.get(key) or updated.get(key) or existing.get(key)
        digest = content_hash(parsed)
        if document is not None and _keeps_chunks(document, digest=digest, model=model, file_name=file_name):
            if document.file_name != file_name:
                document.file_name = file_name
                moved[key] = document
            results.append((document, Outcome.UNCHANGED))
            continue
        if document is None:
            document = created[key] = Document(tenant=tenant, source=source, external_id=key)
            outcome = Outcome.CREATED
        else:
            if key not in created:
                updated[key] = document
            outcome = Outcome.UPDATED
        document.title = parsed.title[:500]
        document.url = parsed.url[:1000]
        document.language = parsed.language[:16]
        document.content = parsed.text
        document.content_hash = digest
        document.status = DocumentStatus.PENDING
        document.error = ""
        document.updated_at = document.queued_at = now
        document.file_name = file_name
        results.append((document, outcome))
    if created:
        Document.objects.bulk_create(list(created.values()), batch_size=500)
    if updated:
        Document.objects.bulk_update(list(updated.values()), UPSERT_FIELDS, batch_size=500)
    if moved:
        Document.objects.bulk_update(list(moved.values()), ["file_name"], batch_size=500)
    return results


def document_upsert(
    *, tenant: Tenant, source: KnowledgeSource, parsed: ParsedDocument, model: str
) -> tuple[Document, Outcome]:
    """Store ``parsed``; returns the document and whether it needs (re)indexing."""
    return documents_upsert(tenant=tenant, source=source, parsed_documents=[parsed], model=model)[0]


@transaction.atomic
def documents_delete(*, tenant: Tenant, document_ids: Iterable[int]) -> int:
    """Delete the tenant's documents among ``document_ids`` with their chunks and BM25 statistics,
    in one transaction; returns how many went. Waits for an indexing run of the tenant that is
    storing chunks (``bm25_index.lock_tenant_index``); ids already gone, or of another tenant, are
    skipped."""
    lock_tenant_index(tenant=tenant)
    ids = list(
        Document.objects.select_for_update()
        .filter(tenant=tenant, pk__in=list(document_ids))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    documents_chunks_delete(tenant=tenant, document_ids=ids)
    # The ORM reads the rows it deletes: only their ids, not texts of up to KNOWLEDGE_MAX_UPLOAD_BYTES.
    Document.objects.filter(tenant=tenant, pk__in=ids).only("pk").delete()
    return len(ids)


def document_delete(*, tenant: Tenant, document: Document) -> None:
    if document.tenant_id != tenant.pk:
        raise ValueError("document belongs to another tenant")
    documents_delete(tenant=tenant, document_ids=[document.pk])


def source_delete(*, tenant: Tenant, source: KnowledgeSource) -> int:
    """Delete a source and its documents (through ``documents_delete``, keeping BM25 statistics right);
    returns how many documents went."""
    if source.tenant_id != tenant.pk:
        raise ValueError("source belongs to another tenant")
    removed = source_prune(tenant=tenant, source=source, keep=set())
    source.delete()
    return removed


def source_prune(*, tenant: Tenant, source: KnowledgeSource, keep: set[str], within: str = "") -> int:
    """Delete the source's documents whose external id is not in ``keep``, only those of the file
    ``within`` or of files under the folder ``within`` if given (a folder source's path under its
    folder: ``sub`` or ``sub/faq.csv``); returns how many."""
    stale = Document.objects.for_tenant(tenant).filter(source=source).exclude(external_id__in=keep)
    if within:
        stale = stale.filter(Q(file_name=within) | Q(file_name__startswith=f"{within}/"))
    return documents_delete(tenant=tenant, document_ids=stale.values_list("pk", flat=True))


@dataclass
class FileResult:
    name: str
    outcomes: dict[Outcome, int] = field(default_factory=dict)
    error_code: str = ""
    error: str = ""
    external_ids: list[str] = field(default_factory=list)
    removed: int = 0  # documents the file gave before and no longer holds
    leftovers: list[int] = field(default_factory=list)  # their ids, when the caller deletes them
    kept: int = 0  # such documents left in place because another file of the upload or run failed
    note: str = ""  # what the file should be told though it was read (records, urls left out), "" when nothing

    def count(self, outcome: Outcome) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    @classmethod
    def refused(cls, name: str, error: ParseError) -> FileResult:
        """The result of a file that stored nothing because of ``error``."""
        return cls(name=name, error_code=error.code, error=str(error))

    @classmethod
    def internal_error(cls, name: str) -> FileResult:
        """The result of a file whose ingestion raised unexpectedly (the caller logs the traceback)."""
        return cls(name=name, error_code=ErrorCode.INTERNAL, error=MESSAGES[ErrorCode.INTERNAL])


ID_GIVEN_EARLIER = (
    "An earlier file, {file}, gave the document id {external_id!r}, so this file was not stored; "
    "give each document its own id."
)


def file_parse(
    *, name: str, data: bytes, default_language: str = DEFAULT_LANGUAGE, taken: Mapping[str, str] | None = None
) -> ParsedFile:
    """The documents ``file_ingest`` would store from the file ``name``, storing nothing, with the
    file's note (a corpus's records left out as empty, urls left out: ``web_urls``); raises
    ``ParseError`` for a file it would refuse (``taken``: as there)."""
    notes: list[str] = []
    parsed_documents = parse_file(
        name,
        data,
        max_bytes=conf.SETTINGS.max_upload_bytes,
        default_language=default_language,
        pdf_seconds=conf.SETTINGS.pdf_read_seconds,
        notes=notes,
    )
    if taken is not None:
        ids_not_taken(parsed_documents, taken)
    checked = web_urls(parsed_documents)
    return ParsedFile(checked.documents, "; ".join(filter(None, [*notes, checked.note])))


def ids_not_taken(parsed_documents: list[ParsedDocument], taken: Mapping[str, str]) -> None:
    """Raise ``ParseError`` (``duplicate``) for a document whose id ``taken`` holds: an earlier file of
    the same upload or run gave it."""
    for parsed in parsed_documents:
        if parsed.external_id in taken:
            message = ID_GIVEN_EARLIER.format(file=taken[parsed.external_id], external_id=parsed.external_id)
            raise ParseError(ErrorCode.DUPLICATE, message)


def file_ingest(
    *,
    tenant: Tenant,
    source: KnowledgeSource,
    name: str,
    data: bytes = b"",
    provider: EmbeddingProvider | None = None,
    index_now: bool = True,
    on_document: Callable[[Document, Outcome], None] | None = None,
    default_language: str = DEFAULT_LANGUAGE,
    taken: Mapping[str, str] | None = None,
    delete_leftovers: bool = True,
    parsed: ParsedFile | None = None,
) -> FileResult:
    """Parse one file and upsert its documents (``default_language`` for those that declare none);
    the documents the file of this name gave before and no longer holds (a CSV FAQ's row, a
    corpus's record) are deleted, unless ``delete_leftovers`` is false: an upload or run of several
    files gets their ids as the result's ``leftovers`` and deletes them with ``file_leftovers_delete``
    after its last file, as a record may have moved to a file read later. A bad file gives a
    per-file error, never an exception, and changes nothing. ``taken`` maps the document ids stored
    by earlier files of the same upload or run to their file's name: a file that gives one of them
    is refused (``duplicate``) instead of overwriting that file's document. ``parsed``: the file
    already parsed by ``file_parse`` (without ``taken``), in place of its bytes ``data``, not parsed again."""
    try:
        parsed_file = parsed or file_parse(name=name, data=data, default_language=default_language)
        if taken is not None:
            ids_not_taken(parsed_file.documents, taken)
    except ParseError as exc:
        return FileResult.refused(name, exc)
    parsed_documents = parsed_file.documents
    leftovers = _file_leftovers(tenant=tenant, source=source, name=name, parsed_documents=parsed_documents)
    # Before the upsert: in an upload's transaction the tenant's index lock must come before any
    # document row lock (bm25_index.lock_tenant_index), or an indexing run of the tenant deadlocks with it.
    removed = documents_delete(tenant=tenant, document_ids=leftovers) if leftovers and delete_leftovers else 0
    result = parsed_ingest(
        tenant=tenant,
        source=source,
        name=name,
        file_name=name,
        parsed_documents=parsed_documents,
        provider=provider,
        index_now=index_now,
        on_document=on_document,
    )
    result.removed = removed
    result.note = parsed_file.note
    if not delete_leftovers:
        result.leftovers = leftovers
    return result


def _file_leftovers(
    *, tenant: Tenant, source: KnowledgeSource, name: str, parsed_documents: list[ParsedDocument]
) -> list[int]:
    """The documents the file ``name`` gave before and ``parsed_documents`` no longer hold (a
    one-document file has none)."""
    if all(parsed.external_id == name for parsed in parsed_documents):
        return []
    documents = Document.objects.for_tenant(tenant).filter(source=source, file_name=name)
    external_ids = [parsed.external_id for parsed in parsed_documents]
    return list(documents.exclude(external_id__in=external_ids).values_list("pk", flat=True))


def _own_leftovers(*, tenant: Tenant, result: FileResult) -> list[int]:
    """The ``leftovers`` still the file's own (a record moved to a file read after it is that file's now)."""
    own = Document.objects.for_tenant(tenant).filter(pk__in=result.leftovers, file_name=result.name)
    return list(own.values_list("pk", flat=True))


def file_leftovers_delete(*, tenant: Tenant, result: FileResult) -> int:
    """Delete the ``leftovers`` of a file read with ``delete_leftovers=False`` that are still its own;
    sets and returns ``removed``."""
    stale = _own_leftovers(tenant=tenant, result=result)
    result.removed = documents_delete(tenant=tenant, document_ids=stale) if stale else 0
    return result.removed


def file_leftovers_keep(*, tenant: Tenant, result: FileResult) -> int:
    """Leave the ``leftovers`` of such a file in place (another file of its upload or run failed, and
    a record may have moved there); sets and returns ``kept``, how many are still its own."""
    result.kept = len(_own_leftovers(tenant=tenant, result=result))
    return result.kept


# Documents whose indexing raised an unexpected error (the traceback is logged by whoever catches it).
INDEX_INTERNAL_ERROR = "Indexing stopped by an internal error (logged on the server); re-index the document"


def parsed_ingest(
    *,
    tenant: Tenant,
    source: KnowledgeSource,
    name: str,
    parsed_documents: list[ParsedDocument],
    provider: EmbeddingProvider | None = None,
    index_now: bool = True,
    on_document: Callable[[Document, Outcome], None] | None = None,
    file_name: str = "",
) -> FileResult:
    """Upsert already parsed documents (from the file ``file_name``, if from one) and index the new
    or changed ones (one embedding call per ``INDEX_BATCH``); unchanged documents cost no chunk
    write. A provider error marks the batch failed. Any other error fails those still pending
    (``INDEX_INTERNAL_ERROR``: nothing else would take them up without the beat sweep) and is raised."""
    provider = provider or default_provider()
    result = FileResult(name=name)
    upserted = documents_upsert(
        tenant=tenant, source=source, parsed_documents=parsed_documents, model=provider.model, file_name=file_name
    )
    result.external_ids.extend(parsed.external_id for parsed in parsed_documents)
    pending = [document for document, outcome in upserted if outcome != Outcome.UNCHANGED]
    failed = False
    if pending and index_now:
        for start in range(0, len(pending), INDEX_BATCH):
            try:
                documents_index(tenant=tenant, documents=pending[start : start + INDEX_BATCH], provider=provider)
            except ProviderError:
                failed = True
            except Exception:
                documents_fail_pending(
                    tenant=tenant, document_ids=[document.pk for document in pending], error=INDEX_INTERNAL_ERROR
                )
                raise
    for document, outcome in upserted:
        if failed and outcome != Outcome.UNCHANGED:
            document.refresh_from_db(fields=["status"])
            outcome = Outcome.FAILED if document.status == DocumentStatus.FAILED else outcome
        result.count(outcome)
        if on_document is not None:
            on_document(document, outcome)
    return result


def source_mark_synced(*, source: KnowledgeSource, failed: bool = False) -> bool:
    """Record a sync (an upload, an ingest run) of ``source`` as its last; returns false, recording
    nothing, when the source was deleted meanwhile."""
    source.status = SourceStatus.FAILED if failed else SourceStatus.IDLE
    source.last_synced_at = timezone.now()
    found = KnowledgeSource.objects.filter(pk=source.pk).update(
        status=source.status, last_synced_at=source.last_synced_at
    )
    return found == 1


def source_hold(*, source: KnowledgeSource) -> bool:
    """Whether ``source`` still exists; if it does, it is not deleted before the transaction this
    is called in ends (``sources.knowledge_source_delete`` waits, then deletes what it stored)."""
    return KnowledgeSource.objects.select_for_update(no_key=True).filter(pk=source.pk).exists()


# The step ``tenant_reindex`` reports its progress as.
REINDEX_STEP = "re-index"


def tenant_reindex(
    *,
    tenant: Tenant,
    provider: EmbeddingProvider | None = None,
    force: bool = False,
    documents: QuerySet[Document] | None = None,
    indexed_before: datetime | None = None,
    progress: Progress | None = None,
) -> int:
    """Re-index the documents whose index no longer matches the configuration or their file (not
    ready, another model, chunk sizes, a file now read another way than its chunks were sectioned
    or whose kind was not recorded, text-search configuration, indexing rules or title weight:
    ``staleness.StaleReason``), or all with ``force``, which also embeds every child again instead
    of reusing stored vectors; returns how many. ``indexed_before`` (the start of an interrupted
    run) leaves out the documents indexed since, which that run (or an upload since) did.

    ``documents`` (a re-index task's selection, kept pending meanwhile) replaces the stale ones.
    Only ids are read up front: each ``INDEX_BATCH`` is read from ``documents`` when its turn
    comes, so a large selection's contents are never held at once and a document that has left
    the selection since (indexed by another copy of the task) is not indexed again. ``progress``
    hears (as ``REINDEX_STEP``) of the documents selected, then of each batch done."""
    provider = provider or default_provider()
    if documents is None:
        selection = documents_to_reindex(
            tenant=tenant, model=provider.model, settings=conf.SETTINGS, force=force, indexed_before=indexed_before
        )
    else:
        selection = documents
    ids = list(selection.order_by("pk").values_list("pk", flat=True))
    count = 0
    if progress is not None:
        progress(REINDEX_STEP, len(ids), 0)
    for start in range(0, len(ids), INDEX_BATCH):
        if documents is not None:
            _still_queued(tenant=tenant, document_ids=ids[start:])
        batch = list(selection.filter(pk__in=ids[start : start + INDEX_BATCH]).order_by("pk"))
        if batch:
            documents_index(tenant=tenant, documents=batch, provider=provider, reuse_embeddings=not force)
            count += len(batch)
        if progress is not None:
            progress(REINDEX_STEP, len(ids), min(start + INDEX_BATCH, len(ids)))
    return count


def _still_queued(*, tenant: Tenant, document_ids: list[int]) -> None:
    """Mark the pending ones of ``document_ids`` queued now (a running re-index's heartbeat: the
    beat sweep must not take documents a live task is working through for lost ones)."""
    Document.objects.for_tenant(tenant).filter(pk__in=document_ids, status=DocumentStatus.PENDING).update(
        queued_at=timezone.now()
    )


def documents_reindex_enqueue(*, tenant: Tenant, document_ids: Iterable[int]) -> int:
    """Queue a from-scratch re-index (every child embedded again) of these documents of ``tenant``;
    returns how many. They are marked to be embedded anew (``Document.reembed``), so that the beat
    sweep, should the task be lost, embeds them anew as well. They show as pending until the task
    has swapped their chunks in (search keeps serving the old ones meanwhile). Pages that failed to
    fetch have no text and are skipped; rows are locked in id order, as the other writers lock them,
    so a sync recording a fetch error in between is seen rather than overwritten."""
    with transaction.atomic():
        queryset = Document.objects.for_tenant(tenant).filter(pk__in=list(document_ids)).exclude(content_hash="")
        ids = list(queryset.select_for_update().order_by("pk").values_list("pk", flat=True))
        if ids:
            Document.objects.filter(pk__in=ids).update(
                status=DocumentStatus.PENDING, error="", queued_at=timezone.now(), reembed=True
            )
            transaction.on_commit(partial(_reindex_queue, tenant=tenant, document_ids=ids))
    return len(ids)


REINDEX_NOT_QUEUED = "The re-index could not be queued (task queue unavailable); run it again"


def _reindex_queue(*, tenant: Tenant, document_ids: list[int]) -> None:
    """Hand the re-index to Celery; if that fails (broker down, or the task itself when Celery
    runs eagerly), the documents are failed with the reason instead of staying pending."""
    from knowledge import tasks

    try:
        tasks.reindex_documents.delay(tenant.pk, document_ids)
    except Exception:
        logger.exception("re-index of %d documents of tenant %s was not queued", len(document_ids), tenant.pk)
        documents_fail_pending(tenant=tenant, document_ids=document_ids, error=REINDEX_NOT_QUEUED)


def _stuck(older_than: datetime) -> Q:
    """Pending documents queued before ``older_than`` (rows stored before ``queued_at`` existed: by
    their last change), whose indexing task was lost."""
    queued_before = Q(queued_at__lt=older_than) | Q(queued_at__isnull=True, updated_at__lt=older_than)
    return Q(status=DocumentStatus.PENDING) & queued_before


def tenants_with_stuck_documents(*, older_than: datetime) -> list[Tenant]:
    """The active tenants that have pending documents queued before ``older_than``, by id (a
    deactivated tenant's documents wait for it to be switched on again, then for a re-index)."""
    stuck = Document.objects.filter(_stuck(older_than), tenant=OuterRef("pk"))
    return list(Tenant.objects.filter(Exists(stuck), is_active=True).order_by("pk"))


@transaction.atomic
def documents_requeue_stuck(*, tenant: Tenant, older_than: datetime, limit: int) -> list[int]:
    """Take up to ``limit`` of the tenant's pending documents queued before ``older_than`` (oldest
    first), mark them queued now and return their ids, for the caller to queue their indexing once
    this commits. Rows another sweep or a writer holds are skipped, and a document taken is not
    stuck again before ``older_than`` passes anew, so overlapping or repeated sweeps queue each
    document once."""
    ids = list(
        Document.objects.for_tenant(tenant)
        .filter(_stuck(older_than))
        .select_for_update(skip_locked=True)
        .order_by(Coalesce("queued_at", "updated_at"), "pk")
        .values_list("pk", flat=True)[:limit]
    )
    Document.objects.filter(pk__in=ids).update(queued_at=timezone.now())
    return ids


def documents_fail_pending(*, tenant: Tenant, document_ids: Iterable[int], error: str) -> None:
    """Mark those of these documents of ``tenant`` that are still pending failed with ``error``."""
    Document.objects.for_tenant(tenant).filter(pk__in=list(document_ids), status=DocumentStatus.PENDING).update(
        status=DocumentStatus.FAILED, error=error
    )
