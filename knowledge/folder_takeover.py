"""A folder source takes over the documents of a source of a file or folder in its folder.

``manage.py ingest`` of a folder given no source name takes over the sources named by their own path
of the files and folders in it (``knowledge.folder_sources``): their documents move into its source
under the names a run of its folder gives their files, as rows, so that their ids, chunks and vectors
stay (the run then finds them unchanged: nothing is embedded or chunked again), every source in one
transaction (an interrupted run takes over all or none); each source, with what it still holds, is
deleted once the run had no file errors (``services.source_delete``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.template.defaultfilters import pluralize

from knowledge.bm25_index import lock_tenant_index
from knowledge.folder_sources import path_gone
from knowledge.models import Document, KnowledgeSource
from knowledge.services import source_delete
from supportai.models import Tenant

# Document.external_id and Document.file_name: a longer name stays with its source (and goes with it).
NAME_MAX_LENGTH = 500

# What became of each source a run took over, one line each after its summary.
TOOK_OVER = "Took over the source of {path}: {moved} moved into this one, {removed} removed with it."
TAKE_OVER_KEPT = "The source of {path} was kept, as this run had errors: {moved} moved into this one."
TOOK_OVER_GONE = "Took over the source of {path}, which no longer exists: {removed} removed with it."
GONE_KEPT = "The source of {path}, which no longer exists, was kept, as this run had errors."
BACK_KEPT = "The source of {path} was kept: it is there again."


def moved_names(*, external_id: str, file_name: str, prefix: str) -> tuple[str, str]:
    """A document's id and file name once its file, ``file_name`` under a folder ``prefix`` (``sub/``)
    deep in the folder taking it over, is named from there: a file's document is named by the file,
    a CSV FAQ's row by the file and its question's digest (``faq.csv#…``), a BEIR record by its own
    ``_id``, which stays (as does a document that came from no file)."""
    if not file_name:
        return external_id, file_name
    moved = f"{prefix}{file_name}"
    if external_id == file_name:
        return moved, moved
    if external_id.startswith(f"{file_name}#"):
        return f"{moved}{external_id[len(file_name) :]}", moved
    return external_id, moved


@dataclass(frozen=True)
class TakeOver:
    """A source to take over, whose folder lies ``prefix`` (``""`` or ``sub/``) deep in the folder taking it over."""

    source: KnowledgeSource
    prefix: str


@transaction.atomic
def folder_sources_take_over(*, tenant: Tenant, take: list[TakeOver], into: KnowledgeSource) -> list[int]:
    """Move the documents of each source of ``take`` into ``into``, renamed by ``moved_names``, all in
    one transaction (an interrupted run takes over every source or none); returns how many moved from
    each, in order. A document whose new id ``into`` holds already (a copy of the same file, or one an
    earlier source of ``take`` gave), or that is too long to be renamed, stays in its source. Rows keep
    their ids, chunks and vectors. Waits for an indexing run of the tenant that is storing chunks, and
    locks the rows in id order, as the other writers do."""
    if into.tenant_id != tenant.pk or any(other.source.tenant_id != tenant.pk for other in take):
        raise ValueError("source belongs to another tenant")
    lock_tenant_index(tenant=tenant)
    documents = list(
        Document.objects.for_tenant(tenant)
        .filter(source__in=[other.source for other in take])
        .select_for_update()
        .order_by("pk")
        .only("pk", "source_id", "external_id", "file_name")
    )
    prefixes = {other.source.pk: other.prefix for other in take}
    renamed = {
        document.pk: moved_names(
            external_id=document.external_id, file_name=document.file_name, prefix=prefixes[document.source_id]
        )
        for document in documents
    }
    new_ids = [external_id for external_id, _ in renamed.values()]
    taken = set(
        Document.objects.for_tenant(tenant)
        .filter(source=into, external_id__in=new_ids)
        .values_list("external_id", flat=True)
    )
    order = {other.source.pk: index for index, other in enumerate(take)}
    moved: dict[int, int] = dict.fromkeys(order, 0)
    changed = []
    # Source by source, in the order given (a new id two of them give goes to the first), each in id order.
    for document in sorted(documents, key=lambda document: order[document.source_id]):
        external_id, file_name = renamed[document.pk]
        if external_id in taken or max(len(external_id), len(file_name)) > NAME_MAX_LENGTH:
            continue
        taken.add(external_id)
        moved[document.source_id] += 1
        document.source, document.external_id, document.file_name = into, external_id, file_name
        changed.append(document)
    Document.objects.bulk_update(changed, ["source", "external_id", "file_name"], batch_size=500)
    return [moved[other.source.pk] for other in take]


def take_overs_end(
    *, tenant: Tenant, take: list[TakeOver], moved: list[int], gone: list[KnowledgeSource], complete: bool
) -> list[str]:
    """After a run that took over the sources of ``take`` (``moved``: how many documents moved from
    each) and found those of ``gone`` no longer exist: delete them all with what they still hold
    when the run was ``complete`` (no file errors, every folder listed), else keep them (and keep one
    of ``gone`` whose path is there again by now: a run may take hours); a line for each, saying which."""
    lines = []
    for other, count in zip(take, moved, strict=True):
        if complete:
            removed = source_delete(tenant=tenant, source=other.source)
            lines.append(TOOK_OVER.format(path=other.source.name, moved=_documents(count), removed=removed))
        else:
            lines.append(TAKE_OVER_KEPT.format(path=other.source.name, moved=_documents(count)))
    for source in gone:
        if not complete:
            lines.append(GONE_KEPT.format(path=source.name))
        elif not path_gone(Path(source.name)):  # restored while the run read its files: kept
            lines.append(BACK_KEPT.format(path=source.name))
        else:
            removed = source_delete(tenant=tenant, source=source)
            lines.append(TOOK_OVER_GONE.format(path=source.name, removed=_documents(removed)))
    return lines


def _documents(count: int) -> str:
    return f"{count} document{pluralize(count)}"
