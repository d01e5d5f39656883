"""Which documents' index no longer matches the configuration, and why (``manage.py reindex``).

Each index run records on the document what its chunks were built with (``Document.index_settings``:
the chunking sizes and overlaps, the title weight, ``INDEX_RULES_VERSION`` and whether its file's
Markdown headings were read, ``sections.reads_headings``). A document is stale when it is not ready,
was embedded by another model, was stemmed with another text-search configuration than its language
takes, its file is now read another way than its chunks were sectioned (a file that changed kind
before uploads re-indexed such a move; one indexed before the record held the kind is taken once),
or its record differs from what the settings give now. Re-indexing embeds again only the children
whose input changed (knowledge/embedding_reuse.py): all of them for another model, those whose text
moved for other chunk sizes, for rules version 2 or another file kind those whose section changed or
whose heading moved to the next chunk, for rules version 5 those whose text is only their title,
for rules version 6 those under a heading of a word the model cannot read;
rules version 3, a new title weight or text-search configuration changes lexemes alone and reuses
every stored vector.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

from django.db.models import Case, CharField, Count, F, Q, QuerySet, Value, When
from django.db.models.expressions import Combinable
from django.db.models.functions import Lower
from django.db.models.lookups import Regex

from knowledge.conf import KnowledgeSettings
from knowledge.languages import search_config
from knowledge.models import Document, DocumentStatus
from knowledge.sections import PLAIN_SUFFIXES, reads_headings
from supportai.models import Tenant

# Bumped whenever code changes how the same text and settings turn into chunks, lexemes or embedded
# texts, so that a plain ``reindex`` picks up every document indexed before. 0 (``LEGACY_RULES_VERSION``,
# what an empty record means, as on the rows migration knowledge.0017 found): indexed before the
# record existed, i.e. possibly before session 18 read invisible characters for lexemes
# (``languages.searchable_text``, ``LEXEME_INVISIBLES``). 1: those rules. 2: a child is embedded and
# searched with the headings of its section (knowledge/sections.py), and a heading that would end a
# chunk opens the next one. 3: typographic ligatures are read as their letters for lexemes
# (``languages.searchable_sql``). 4: long runs of encoded data (base64, hex) are chunked apart by
# characters and not embedded (``chunking.opaque_runs``); other text is chunked as before. 5: a child whose
# text is only its title (``indexing.repeats_title``: a BEIR record without text, a Markdown file of its
# heading alone) is embedded without the title before it and its lexemes count the title once. 6: a
# heading's words the model reads as one [UNK] (``chunking.without_unread_words``) head no section, and a
# chunk of a heading's "#" alone, cut from its words, is dropped.
INDEX_RULES_VERSION = 6
# The first rules version whose children were indexed with their sections.
SECTIONS_RULES_VERSION = 2
LEGACY_RULES_VERSION = 0
CHUNKING_KEYS = ("parent_tokens", "parent_overlap", "child_tokens", "child_overlap")
# A file name ``reads_headings`` reads as plain text, lower-cased: its last path part (trailing "/" and
# "." parts dropped, as ``PurePath`` drops them) is something, a dot and a plain suffix.
PLAIN_FILE_NAME = r"[^/]\.({})(/+\.)*/*$".format("|".join(sorted(suffix[1:] for suffix in PLAIN_SUFFIXES)))


class StaleReason(StrEnum):
    """Why a document is re-indexed, the costliest first (a document counts under the first that
    applies)."""

    NOT_READY = "not ready (pending or failed)"
    ANOTHER_MODEL = "another embedding model"
    CHUNK_SIZES = "chunk sizes changed"
    FILE_KIND = "file now read another way (Markdown headings or plain text)"
    SEARCH_CONFIG = "another text-search configuration for its language"
    INDEX_RULES = "indexing rules changed"
    TITLE_WEIGHT = "title weight changed"
    FILE_KIND_UNRECORDED = "indexed before its file kind was recorded"
    FORCED = "--force"


def index_settings(settings: KnowledgeSettings) -> dict[str, int]:
    """What an index run with ``settings`` records on every document it indexes."""
    record = {key: getattr(settings, key) for key in CHUNKING_KEYS}
    return record | {"title_weight": settings.title_weight, "rules": INDEX_RULES_VERSION}


def document_index_settings(settings: KnowledgeSettings, *, file_name: str) -> dict[str, int | bool]:
    """What an index run with ``settings`` records on a document from the file ``file_name``: its
    ``index_settings`` and whether its headings were read (``headings``)."""
    return {**index_settings(settings), "headings": reads_headings(file_name)}


def indexed_with_headings(*, index_settings: Mapping[str, object], file_name: str) -> bool:
    """Whether a document's chunks were indexed with its file's Markdown headings: as its index record
    says (``index_settings["headings"]``), which holds until it is indexed again even when its file
    changed kind since; by its file name (``reads_headings``) for a record from before kinds were kept."""
    recorded = index_settings.get("headings")
    return recorded if isinstance(recorded, bool) else reads_headings(file_name)


def plain_text_file(file_name: Combinable) -> Regex:
    """Whether the file name ``file_name`` is read as plain text: ``not reads_headings``, in SQL."""
    return Regex(Lower(file_name), Value(PLAIN_FILE_NAME))


def _stale_search_config(documents: QuerySet[Document]) -> Q:
    """Those of ``documents`` whose lexemes were built with another configuration than their
    language takes now (stored before languages were honoured, or before a mapping changed)."""
    stale = Q(pk__in=[])
    for language in documents.values_list("language", flat=True).distinct().order_by():
        stale |= Q(language=language) & ~Q(search_config=search_config(language))
    return stale


def _reason(*, documents: QuerySet[Document], model: str, settings: KnowledgeSettings) -> Case:
    current = index_settings(settings)
    chunking = {key: current[key] for key in CHUNKING_KEYS}
    plain = Q(plain_text_file(F("file_name")))
    return Case(
        When(~Q(status=DocumentStatus.READY), then=Value(StaleReason.NOT_READY.value)),
        When(~Q(embedding_model=model), then=Value(StaleReason.ANOTHER_MODEL.value)),
        # A record without sizes (indexed before records existed) is stale by its rules version.
        When(
            Q(index_settings__has_key="child_tokens") & ~Q(index_settings__contains=chunking),
            then=Value(StaleReason.CHUNK_SIZES.value),
        ),
        When(
            (plain & Q(index_settings__contains={"headings": True}))
            | (~plain & Q(index_settings__contains={"headings": False})),
            then=Value(StaleReason.FILE_KIND.value),
        ),
        When(_stale_search_config(documents), then=Value(StaleReason.SEARCH_CONFIG.value)),
        When(~Q(index_settings__contains={"rules": current["rules"]}), then=Value(StaleReason.INDEX_RULES.value)),
        When(
            ~Q(index_settings__contains={"title_weight": current["title_weight"]}),
            then=Value(StaleReason.TITLE_WEIGHT.value),
        ),
        When(~Q(index_settings__has_key="headings"), then=Value(StaleReason.FILE_KIND_UNRECORDED.value)),
        default=Value(None),
        output_field=CharField(),
    )


def documents_to_reindex(
    *,
    tenant: Tenant,
    model: str,
    settings: KnowledgeSettings,
    force: bool = False,
    indexed_before: datetime | None = None,
) -> QuerySet[Document]:
    """``tenant``'s documents a re-index with ``model`` and ``settings`` takes, by id, each with its
    ``stale_reason`` (a ``StaleReason`` value; ``None`` for a current one that ``force`` takes).
    Pages that failed to fetch have no text and wait for a sync; ``indexed_before`` (the start of an
    interrupted run) leaves out the documents indexed since, which that run (or an upload since) did."""
    documents = Document.objects.for_tenant(tenant).exclude(content_hash="")
    reason = _reason(documents=documents, model=model, settings=settings)
    queryset = documents.annotate(stale_reason=reason)
    if not force:
        queryset = queryset.exclude(Q(stale_reason__isnull=True))
    if indexed_before is not None:
        queryset = queryset.filter(Q(indexed_at__isnull=True) | Q(indexed_at__lt=indexed_before))
    return queryset.order_by("pk")


def stale_counts(
    *,
    tenant: Tenant,
    model: str,
    settings: KnowledgeSettings,
    force: bool = False,
    indexed_before: datetime | None = None,
) -> dict[StaleReason, int]:
    """How many documents ``documents_to_reindex`` gives, per reason, most first (with ``force``,
    the current ones count under ``StaleReason.FORCED``)."""
    queryset = documents_to_reindex(
        tenant=tenant, model=model, settings=settings, force=force, indexed_before=indexed_before
    )
    rows = queryset.order_by().values(reason=F("stale_reason")).annotate(count=Count("pk"))
    counts = {StaleReason(row["reason"] or StaleReason.FORCED): row["count"] for row in rows}
    order = list(StaleReason)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], order.index(item[0]))))
