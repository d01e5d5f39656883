"""Chunk indexing: plan a document's parent/child chunks, embed the children, swap the chunks in.

Work is done per batch of documents: one embedding call for all their children (the model sorts
them by length, so short texts are not padded to long ones), then one transaction that replaces
the chunks of every document in the batch with a fixed number of set-based statements (lock,
unindex, delete, insert parents, mark ready, insert children with postings and statistics),
however many documents and chunks the batch holds. Embeddings are computed before the
transaction opens so that no lock is held during model work.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from knowledge import conf
from knowledge.bm25_index import ChildRow, insert_children, lock_tenant_index, unindex_documents_terms
from knowledge.chunking import chunk_document, count_tokens, token_offsets
from knowledge.conf import KnowledgeSettings
from knowledge.embedding_reuse import Embedded, embed_passages, no_vectors, spread
from knowledge.languages import search_config
from knowledge.models import EMBEDDING_DIMENSIONS, Chunk, ChunkLevel, Document, DocumentStatus
from knowledge.providers.base import EmbeddingProvider, ProviderError, ProviderErrorKind, embedding_provider
from knowledge.sections import PATH_SEPARATOR, SectionIndex
from knowledge.staleness import document_index_settings
from supportai.models import Tenant

logger = logging.getLogger(__name__)

# A child's section headings in its lexemes, each once (not the title's weight): they are words of
# the child's context, not of the whole document. " . " keeps them apart as phrases.
KEYWORD_SECTION_SEPARATOR = " . "

# Documents embedded and stored together (one model call, one transaction): amortises per-call
# and per-statement overhead.
INDEX_BATCH = 128
# The title and the child's section ("Bookings > Cancelling > Refunds") are prepended to every child
# for embedding; together they never take more than this many tokens.
CONTEXT_TOKEN_BUDGET = 48
DIMENSION_MISMATCH = (
    "Embedding provider {name!r} returns {got} dimensions but the vector column holds {want}; "
    "choose a provider/model with {want} dimensions or migrate the column."
)
# A text's words for ``repeats_title``: runs of letters and digits, so that case and marks (a Markdown
# heading's "#", a question mark) do not tell a text from its title.
WORD = re.compile(r"\w+")
# A document's error when it could not be embedded: ``reason`` is the error's ``public_message``, never
# the vendor's words (those are about the operator's account, and go to the log).
EMBEDDING_FAILED = "Embedding failed. {reason} Re-index the document to try again."


def default_provider() -> EmbeddingProvider:
    settings = conf.SETTINGS
    return embedding_provider(settings.embedding_provider, settings.embedding_model)


def _cut(text: str) -> str:
    offsets = token_offsets(text)
    return text[: offsets[CONTEXT_TOKEN_BUDGET - 1][1]] if len(offsets) > CONTEXT_TOKEN_BUDGET else text


def embedding_context(title: str, section: Sequence[str] = ()) -> str:
    """``title > heading > …`` within ``CONTEXT_TOKEN_BUDGET`` tokens: the outermost headings go
    first (the nearest says most about the child), then the end is cut."""
    headings = list(section)
    context = PATH_SEPARATOR.join(part for part in (title, *headings) if part)
    while len(headings) > 1 and count_tokens(context) > CONTEXT_TOKEN_BUDGET:
        headings.pop(0)
        context = PATH_SEPARATOR.join(part for part in (title, *headings) if part)
    return _cut(context)


def _join(context: str, text: str) -> str:
    return f"{context}\n{text}" if context else text


def repeats_title(title: str, text: str) -> bool:
    """Whether the child ``text`` says its document's ``title`` and nothing more (the same words, case
    and marks aside): a BEIR record of a title and no text, whose text is its title, or a Markdown file
    of its ``# Title`` alone. Such a child is embedded and searched without its title before it, which
    would count the title twice."""
    words = WORD.findall(title.casefold())
    return bool(words) and WORD.findall(text.casefold()) == words


def context_title(title: str, text: str) -> str:
    """The title that goes before the child ``text`` when it is embedded: none when the text is the
    title (``repeats_title``)."""
    return "" if repeats_title(title, text) else title


def embedding_text(title: str, text: str, section: Sequence[str] = ()) -> str:
    """What the model reads for a child: its title (``context_title``) and section
    (``embedding_context``), a newline, its text; the whole fits the model without truncation."""
    return _join(embedding_context(context_title(title, text), section), text)


def max_embedding_tokens(title: str, text: str, section: Sequence[str] = ()) -> int:
    """Word-pieces the local model sees for one child, [CLS]/[SEP] included (must stay <= 256)."""
    return count_tokens(embedding_text(title, text, section)) + 2


@dataclass(frozen=True)
class PlannedChunk:
    parent_ordinal: int
    text: str
    tokens: int
    start: int
    end: int
    # The headings above the chunk that it does not hold itself, outermost first (knowledge/sections.py).
    section: tuple[str, ...] = ()
    # Encoded data (knowledge/chunking.py ``opaque_runs``): stored and searched by keywords, not embedded.
    opaque: bool = False


@dataclass(frozen=True)
class _Plan:
    document: Document
    parents: list[PlannedChunk]
    children: list[PlannedChunk]


def document_sections(document: Document) -> SectionIndex:
    """The sections of ``document``'s stored text as indexing reads them (its content loaded)."""
    return SectionIndex.of(document.content, title=document.title, file_name=document.file_name)


def _plan(document: Document, settings: KnowledgeSettings) -> _Plan:
    parents: list[PlannedChunk] = []
    children: list[PlannedChunk] = []
    sections = document_sections(document)
    pieces = chunk_document(
        document.content,
        parent_tokens=settings.parent_tokens,
        parent_overlap=settings.parent_overlap,
        child_tokens=settings.child_tokens,
        child_overlap=settings.child_overlap,
        headings=sections.starts,
    )
    for ordinal, piece in enumerate(pieces):
        parent = piece.chunk
        parents.append(PlannedChunk(ordinal, parent.text, parent.tokens, parent.start, parent.end))
        children.extend(
            PlannedChunk(ordinal, c.text, c.tokens, c.start, c.end, sections.above(c.start), c.opaque)
            for c in piece.children
        )
    return _Plan(document, parents, children)


def documents_chunks_delete(*, tenant: Tenant, document_ids: list[int]) -> None:
    """Drop the documents' chunks and their BM25 statistics (call inside a transaction)."""
    if not document_ids:
        return
    unindex_documents_terms(tenant=tenant, document_ids=document_ids)
    # One statement for parents and children alike (the ORM would collect every chunk to cascade).
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {Chunk._meta.db_table} WHERE tenant_id = %s AND document_id = ANY(%s)",
            [tenant.pk, document_ids],
        )


def document_chunks_delete(*, tenant: Tenant, document: Document) -> None:
    """Drop the document's chunks and their BM25 statistics (call inside a transaction)."""
    documents_chunks_delete(tenant=tenant, document_ids=[document.pk])


DOCUMENTS_READY_SQL = f"""
UPDATE {Document._meta.db_table} d
   SET status = %(ready)s, error = '', chunk_count = u.count, search_config = u.config, embedding_model = %(model)s,
       indexed_at = %(now)s, index_settings = u.settings::jsonb, reembed = d.reembed AND %(reused)s
  FROM unnest(%(ids)s::bigint[], %(counts)s::int[], %(configs)s::text[], %(settings)s::text[])
       AS u(id, count, config, settings)
 WHERE d.id = u.id
"""


@transaction.atomic
def _store_batch(
    *, tenant: Tenant, plans: list[_Plan], embedded: Embedded, model: str, settings: KnowledgeSettings, reused: bool
) -> None:
    """Replace the chunks of every planned document in one transaction, recording the ``settings``
    and the file kind they were planned with (``Document.index_settings``); embedded anew (not ``reused``), a document
    asked to be (``Document.reembed``) no longer is. A document deleted since it was planned is
    skipped, and so is one whose content changed since: its new version is indexed by its own run,
    and storing the old one would mark stale chunks ready for good."""
    lock_tenant_index(tenant=tenant)
    planned = {plan.document.pk: plan.document.content_hash for plan in plans}
    # Locked in id order, like every other writer of several documents.
    current = (
        Document.objects.select_for_update()
        .filter(tenant=tenant, pk__in=list(planned))
        .order_by("pk")
        .values_list("pk", "title", "language", "content_hash")
    )
    unchanged = [(pk, title, language) for pk, title, language, digest in current if digest == planned[pk]]
    titles = {pk: title for pk, title, _ in unchanged}
    configs = {pk: search_config(language) for pk, _, language in unchanged}
    documents_chunks_delete(tenant=tenant, document_ids=sorted(titles))
    offsets: list[int] = []
    offset = 0
    for plan in plans:
        offsets.append(offset)
        offset += len(plan.children)
    kept = [(plan, start) for plan, start in zip(plans, offsets, strict=True) if plan.document.pk in titles]
    parent_rows = Chunk.objects.bulk_create(
        [
            Chunk(
                tenant=tenant,
                document_id=plan.document.pk,
                level=ChunkLevel.PARENT,
                ordinal=p.parent_ordinal,
                text=p.text,
                token_count=p.tokens,
                char_start=p.start,
                char_end=p.end,
            )
            for plan, _ in kept
            for p in plan.parents
        ],
        batch_size=1000,
    )
    parent_ids = iter(row.pk for row in parent_rows)
    rows: list[ChildRow] = []
    for plan, start in kept:
        document_id = plan.document.pk
        own_parents = [next(parent_ids) for _ in plan.parents]
        rows.extend(
            ChildRow(
                document_id,
                titles[document_id],
                own_parents[c.parent_ordinal],
                ordinal,
                c.text,
                KEYWORD_SECTION_SEPARATOR.join(c.section),
                c.tokens,
                c.start,
                c.end,
                embedded.vectors[start + ordinal],
                embedded.hashes[start + ordinal],
                repeats_title(titles[document_id], c.text),
            )
            for ordinal, c in enumerate(plan.children)
        )
    # Marked ready (with the configuration of its language) first: insert_children stems each
    # document's children with the configuration it records, and counts them under it.
    with connection.cursor() as cursor:
        cursor.execute(
            DOCUMENTS_READY_SQL,
            {
                "ready": DocumentStatus.READY.value,
                "model": model,
                "now": timezone.now(),
                "ids": [plan.document.pk for plan, _ in kept],
                "counts": [len(plan.children) for plan, _ in kept],
                "configs": [configs[plan.document.pk] for plan, _ in kept],
                "settings": [
                    json.dumps(document_index_settings(settings, file_name=plan.document.file_name)) for plan, _ in kept
                ],
                "reused": reused,
            },
        )
    insert_children(tenant=tenant, title_weight=settings.title_weight, model=model, rows=rows)


def dimensions_check(provider: EmbeddingProvider) -> None:
    """Raise ``ProviderError`` (``MISCONFIGURED``) unless ``provider``'s vectors fit the vector column."""
    if provider.dimensions != EMBEDDING_DIMENSIONS:
        raise ProviderError(
            DIMENSION_MISMATCH.format(name=provider.name, got=provider.dimensions, want=EMBEDDING_DIMENSIONS),
            kind=ProviderErrorKind.MISCONFIGURED,
        )


def _versions(documents: list[Document]) -> Q:
    """The documents in the version this run read: a document changed since is another run's to
    index (or fail), and may already be ready."""
    versions = Q(pk__in=[])
    for document in documents:
        versions |= Q(pk=document.pk, content_hash=document.content_hash)
    return versions


def documents_index(
    *,
    tenant: Tenant,
    documents: list[Document],
    provider: EmbeddingProvider | None = None,
    reuse_embeddings: bool = True,
    embed: bool = True,
) -> int:
    """Chunk and embed several documents with one embedding call (the model batches them), then
    swap their chunks in, all in one transaction; returns the child count. Children whose exact
    input the model already embedded for this tenant keep that vector unless ``reuse_embeddings``
    is off (knowledge/embedding_reuse.py) or a document of the batch was asked to be embedded anew
    (``Document.reembed``: a re-index whose task was lost, finished by the beat sweep). On a
    provider error every document still in the version read is marked failed (``EMBEDDING_FAILED``,
    in tenants' words), the detail is logged with the tenant and the documents, and the error is
    raised. Without ``embed`` the children are stored for keyword search alone: nothing goes to the
    provider, and they hold no vector and name no model (what a keyword-only evaluation needs; a
    ``reindex`` would count such documents as embedded by another model)."""
    if any(document.tenant_id != tenant.pk for document in documents):
        raise ValueError("document belongs to another tenant")
    provider = provider or default_provider()
    reuse_embeddings = reuse_embeddings and not any(document.reembed for document in documents)
    # A document listed twice (a repeated external id in one file) is indexed once, as last given.
    documents = list({document.pk: document for document in documents}.values())
    # One reading of the settings for planning and storing: the record says what the chunks hold.
    settings = conf.SETTINGS
    plans = [_plan(document, settings) for document in documents]
    texts: list[str] = []
    # The children the model reads: not encoded data, which gets no vector.
    readable: list[int] = []
    for plan in plans:
        # A document has few sections, and many children: each context is built once.
        contexts: dict[tuple[str, tuple[str, ...]], str] = {}
        for child in plan.children:
            key = (context_title(plan.document.title, child.text), child.section)
            if key not in contexts:
                contexts[key] = embedding_context(*key)
            if not child.opaque:
                readable.append(len(texts))
            texts.append(_join(contexts[key], child.text))
    try:
        if embed:
            dimensions_check(provider)
            inputs = [texts[position] for position in readable]
            read = embed_passages(tenant=tenant, provider=provider, texts=inputs, reuse=reuse_embeddings)
            embedded = spread(read, positions=readable, count=len(texts))
        else:
            embedded = no_vectors(len(texts))
    except ProviderError as exc:
        Document.objects.filter(_versions(documents), tenant=tenant).update(
            status=DocumentStatus.FAILED, error=EMBEDDING_FAILED.format(reason=exc.public_message)
        )
        logger.log(
            logging.ERROR if exc.needs_operator else logging.WARNING,
            "embedding documents %s of tenant %s failed (%s): %s",
            [document.pk for document in documents],
            tenant.pk,
            exc.kind,
            exc,
        )
        raise
    if plans:
        _store_batch(
            tenant=tenant,
            plans=plans,
            embedded=embedded,
            model=provider.model if embed else "",
            settings=settings,
            reused=reuse_embeddings,
        )
    logger.debug(
        "indexed %d documents of tenant %s: %d children, %d embedded by %s, %d reused",
        len(plans),
        tenant.pk,
        len(texts),
        embedded.computed,
        provider.model if embed else "no model",
        embedded.reused,
    )
    return len(texts)


def document_index(
    *,
    tenant: Tenant,
    document: Document,
    provider: EmbeddingProvider | None = None,
    reuse_embeddings: bool = True,
) -> int:
    """Chunk and embed ``document`` and swap its chunks in atomically; returns the child count."""
    return documents_index(tenant=tenant, documents=[document], provider=provider, reuse_embeddings=reuse_embeddings)
