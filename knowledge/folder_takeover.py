"""A folder source takes over the documents of a source of a file or folder in its folder.

``manage.py ingest`` of a folder given no source name takes over the sources named by their own path
of the files and folders in it (``knowledge.folder_sources``): their documents move into its source
under the names a run of its folder gives their files, as rows, so that their ids, chunks and vectors
stay (the run then finds them unchanged: nothing is embedded or chunked again), and the source, with
what it still holds, is deleted once the run had no file errors (``services.source_delete``).
"""

from __future__ import annotations

from django.db import transaction

from knowledge.bm25 import lock_tenant_index
from knowledge.models import Document, KnowledgeSource
from supportai.models import Tenant

# Document.external_id and Document.file_name: a longer name stays with its source (and goes with it).
NAME_MAX_LENGTH = 500


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


@transaction.atomic
def folder_source_take_over(*, tenant: Tenant, source: KnowledgeSource, into: KnowledgeSource, prefix: str) -> int:
    """Move the documents of ``source``, whose folder lies ``prefix`` (``""`` or ``sub/``) deep in
    the folder of ``into``, into ``into``, renamed by ``moved_names``; returns how many moved. A
    document whose new id ``into`` holds already (a copy of the same file), or that is too long to
    be renamed, stays in ``source``. Rows keep their ids, chunks and vectors. Waits for an indexing
    run of the tenant that is storing chunks, and locks the rows in id order, as the other writers do."""
    if source.tenant_id != tenant.pk or into.tenant_id != tenant.pk:
        raise ValueError("source belongs to another tenant")
    lock_tenant_index(tenant=tenant)
    documents = list(
        Document.objects.for_tenant(tenant)
        .filter(source=source)
        .select_for_update()
        .order_by("pk")
        .only("pk", "external_id", "file_name")
    )
    renamed = {
        document.pk: moved_names(external_id=document.external_id, file_name=document.file_name, prefix=prefix)
        for document in documents
    }
    new_ids = [external_id for external_id, _ in renamed.values()]
    taken = set(
        Document.objects.for_tenant(tenant)
        .filter(source=into, external_id__in=new_ids)
        .values_list("external_id", flat=True)
    )
    moved = []
    for document in documents:
        external_id, file_name = renamed[document.pk]
        if external_id in taken or max(len(external_id), len(file_name)) > NAME_MAX_LENGTH:
            continue
        taken.add(external_id)
        document.source, document.external_id, document.file_name = into, external_id, file_name
        moved.append(document)
    Document.objects.bulk_update(moved, ["source", "external_id", "file_name"], batch_size=500)
    return len(moved)
