"""Knowledge base: sources, documents, parent/child chunks and the per-tenant BM25 statistics."""

from __future__ import annotations

from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from pgvector.django import HnswIndex, VectorField

from supportai.models import Tenant, TenantScopedModel

EMBEDDING_DIMENSIONS = 384
# Upper bound of a tenant's tuned keyword weight multiplier (RetrievalTuning.keyword_scale).
KEYWORD_SCALE_MAX = 2.0


class SourceKind(models.TextChoices):
    UPLOAD = "upload", "Upload"
    URL = "url", "URL"
    CONNECTOR = "connector", "Connector"


class SourceStatus(models.TextChoices):
    IDLE = "idle", "Idle"
    SYNCING = "syncing", "Syncing"
    FAILED = "failed", "Failed"


class KnowledgeSource(TenantScopedModel):
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=16, choices=SourceKind.choices, default=SourceKind.UPLOAD)
    config = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=SourceStatus.choices, default=SourceStatus.IDLE)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    # Summary of what went wrong in the last sync (empty when every page went through).
    error = models.TextField(blank=True)
    # What the last sync did: pages read, created, updated, unchanged, removed, duplicates, ….
    last_sync_summary = models.CharField(max_length=500, blank=True)
    # Set while a sync holds the source; a sync older than the lease is presumed dead.
    sync_started_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="knowledgesource_unique_name")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DocumentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class Document(TenantScopedModel):
    source = models.ForeignKey(KnowledgeSource, on_delete=models.CASCADE, related_name="documents")
    external_id = models.CharField(max_length=500)
    # The uploaded or ingested file the document came from (blank for website pages): a file read
    # again gives all its documents, so those it no longer holds (a CSV row, a corpus record) go.
    file_name = models.CharField(max_length=500, blank=True, editable=False)
    title = models.CharField(max_length=500)
    url = models.CharField(max_length=1000, blank=True)
    language = models.CharField(max_length=16, default="en")
    # The PostgreSQL text-search configuration its chunks' lexemes were built with (set by each
    # index run from ``language``, knowledge/languages.py).
    search_config = models.CharField(max_length=32, default="english", editable=False)
    # What its chunks were built with: chunking sizes, title weight, rules version, whether its file's
    # headings were read (set by each index run; knowledge/staleness.py). ``reindex`` takes the
    # documents whose record is not current. The database default lets code older than the column
    # insert rows while a deploy rolls out.
    index_settings = models.JSONField(
        default=dict, db_default=models.Value({}, output_field=models.JSONField()), blank=True, editable=False
    )
    content = models.TextField(blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=DocumentStatus.choices, default=DocumentStatus.PENDING)
    error = models.TextField(blank=True)
    chunk_count = models.PositiveIntegerField(default=0)
    embedding_model = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    indexed_at = models.DateTimeField(null=True, blank=True)
    # When the document was last handed to an indexing task (upload, re-index, retry, sweep): a
    # pending document queued longer ago than KNOWLEDGE_STUCK_PENDING_MINUTES lost its task.
    queued_at = models.DateTimeField(null=True, blank=True, editable=False)
    # A re-index that embeds every child anew was asked for (the admin's "Re-chunk and re-embed"):
    # until one is stored, every index of the document embeds anew, the beat sweep's of a re-index
    # whose task was lost too, instead of reusing the vectors the operator asked to replace.
    reembed = models.BooleanField(default=False, db_default=False, editable=False)
    # Pages of URL sources: validators for the next conditional GET, and the page's in-scope links
    # so that an unchanged (304) page still leads the crawl on.
    http_etag = models.CharField(max_length=500, blank=True)
    http_last_modified = models.CharField(max_length=100, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)
    links = models.JSONField(default=list, blank=True)
    # Addresses that redirected to the page in the last sync: the next one requests them with the
    # page's validators, so that a moved page costs a 304 too.
    aliases = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "source", "external_id"], name="document_unique_external_id")
        ]
        # The documents list (console and API) reads a tenant's documents by title, all of them or
        # those of one status or source, a page at a time: in index order, never sorted, and counted
        # from the same index (knowledge/tests/test_document_list_plans.py). The status one also
        # serves the lookups of pending or failed documents.
        indexes = [
            models.Index(fields=["tenant", "title", "id"], name="document_tenant_title"),
            models.Index(fields=["tenant", "status", "title", "id"], name="document_tenant_status_title"),
            # With the chunk counts, the sources' totals are summed from this index alone.
            models.Index(
                fields=["tenant", "source", "title", "id"], include=["chunk_count"], name="document_tenant_source_title"
            ),
        ]
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class ChunkLevel(models.TextChoices):
    PARENT = "parent", "Parent"
    CHILD = "child", "Child"


class Chunk(TenantScopedModel):
    """A parent (context given to the model) or a child (what is searched) piece of a document."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    level = models.CharField(max_length=8, choices=ChunkLevel.choices)
    ordinal = models.PositiveIntegerField()
    text = models.TextField()
    token_count = models.PositiveIntegerField()
    char_start = models.PositiveIntegerField()
    char_end = models.PositiveIntegerField()
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    embedding_model = models.CharField(max_length=200, blank=True)
    # SHA-256 of the exact text the model embedded for a child (title and section + text): re-indexing reuses the
    # stored vector of an identical input instead of embedding it again (knowledge/embedding_reuse.py).
    embedded_text_sha256 = models.CharField(max_length=64, blank=True, db_default="")
    # Lexemes of title, section and text (the document's ``search_config``), their total count (BM25 |d|).
    search_vector = SearchVectorField(null=True, blank=True)
    term_count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "level"]),
            models.Index(
                fields=["tenant", "embedded_text_sha256"],
                name="chunk_embedded_text",
                condition=models.Q(level="child"),
            ),
            HnswIndex(
                name="chunk_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
        ]
        ordering = ["document_id", "level", "ordinal"]

    def __str__(self) -> str:
        return f"{self.level} {self.ordinal} of document {self.document_id}"


class CorpusStats(models.Model):
    """Per-tenant BM25 corpus statistics over child chunks, kept in step with every chunk write."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, primary_key=True, related_name="+")
    chunk_count = models.BigIntegerField(default=0)
    total_terms = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"corpus stats of tenant {self.tenant_id}"


class SearchConfigStats(models.Model):
    """How many of a tenant's child chunks were stemmed with one text-search configuration: the
    configurations a query's lexemes are derived with (knowledge/bm25.py)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    config = models.CharField(max_length=32)
    chunk_count = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "config"], name="searchconfigstats_unique_config")]

    def __str__(self) -> str:
        return f"{self.config}: {self.chunk_count} chunks"


class TermStats(models.Model):
    """Document frequency of one lexeme among a tenant's child chunks."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    lexeme = models.TextField()
    df = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "lexeme"], name="termstats_unique_lexeme")]

    def __str__(self) -> str:
        return f"{self.lexeme}: {self.df}"


class Posting(models.Model):
    """Inverted index row: one lexeme of one child chunk, with its tf and the chunk's length.

    BM25 reads only this narrow table (an index-only scan per query lexeme) instead of the wide
    chunk rows. Rows are written and deleted with their chunks by ``knowledge.bm25``; chunk and
    document are plain ids so deleting thousands of chunks never makes the ORM collect postings.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    document_id = models.BigIntegerField(db_index=True)
    chunk_id = models.BigIntegerField()
    lexeme = models.TextField()
    tf = models.IntegerField()
    doc_len = models.IntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "lexeme"], include=["chunk_id", "tf", "doc_len"], name="posting_lookup"),
        ]

    def __str__(self) -> str:
        return f"{self.lexeme} in chunk {self.chunk_id}"


class RetrievalTuning(models.Model):
    """A tenant's keyword weight for hybrid retrieval, measured on its own labelled questions
    (``manage.py tune_retrieval``). BM25's weight in every non-identifier query is multiplied by
    ``keyword_scale``; without a row it is 1 (the defaults of knowledge/fusion.py)."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, primary_key=True, related_name="+")
    keyword_scale = models.FloatField(
        default=1.0, validators=[MinValueValidator(0.0), MaxValueValidator(KEYWORD_SCALE_MAX)]
    )
    queries = models.PositiveIntegerField(default=0, help_text="labelled questions it was measured on")
    ndcg_default = models.FloatField(null=True, blank=True, help_text="nDCG@10 with the default scale 1")
    ndcg_tuned = models.FloatField(null=True, blank=True, help_text="nDCG@10 with keyword_scale")
    tuned_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"keyword scale {self.keyword_scale} of tenant {self.tenant_id}"
