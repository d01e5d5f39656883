"""Files uploaded through the console and the REST API: stored at once, indexed in Celery.

Each file gets its own result, and none is lost silently: a file refused for its name, its size or
its content says why, and a second file of a name an earlier one was stored under, or giving a
document id an earlier one gave (two BEIR corpora), is refused (``duplicate``) rather than
overwriting it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from kombu.exceptions import OperationalError

from knowledge import conf
from knowledge.languages import DEFAULT_LANGUAGE
from knowledge.models import Document
from knowledge.parsed import ErrorCode, ParseError
from knowledge.parsing import file_check, file_name_nfc
from knowledge.services import (
    FileResult,
    Outcome,
    documents_fail_pending,
    file_ingest,
    file_leftovers_delete,
    file_leftovers_keep,
    source_get_or_create,
    source_hold,
    source_mark_synced,
)
from knowledge.source_config import UPLOAD_SOURCE
from supportai.models import Tenant

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadedDocument:
    id: int
    title: str
    outcome: Outcome


@dataclass(frozen=True)
class UploadResult:
    file: FileResult
    documents: list[UploadedDocument]


# Said by daphne as the request arrives (``supportai/daphne_setup.py``), and by the upload views on
# other servers before they read it.
UPLOAD_REQUEST_TOO_LARGE = (
    "The upload is over the {limit:,}-byte limit of one upload request (KNOWLEDGE_MAX_UPLOAD_REQUEST_BYTES; "
    "each file may have up to {file_limit:,} bytes, KNOWLEDGE_MAX_UPLOAD_BYTES): nothing was stored. "
    "Send the files in smaller batches."
)


def upload_request_max_bytes() -> int:
    """The most bytes one upload request (its files and form) may carry: ``KNOWLEDGE_MAX_UPLOAD_REQUEST_BYTES``."""
    return conf.SETTINGS.max_upload_request_bytes


def upload_request_too_large() -> str:
    """What a client whose upload request is over ``upload_request_max_bytes`` is told."""
    return UPLOAD_REQUEST_TOO_LARGE.format(
        limit=conf.SETTINGS.max_upload_request_bytes, file_limit=conf.SETTINGS.max_upload_bytes
    )


# Django cuts an uploaded file's name to 255 characters (keeping its suffix), so a name of 255 may
# have been longer, and two names cut alike would name one document.
UPLOAD_NAME_CUT = 255
NAME_CUT = "The file name has 255 characters or more; rename the file to fewer than 255 characters."


def _upload_name_check(name: str, stored_names: set[str], *, received: str) -> None:
    """Refuse a name Django may have cut (as ``received``), or one an earlier file of the same upload
    was stored under."""
    if len(received) >= UPLOAD_NAME_CUT:
        raise ParseError(ErrorCode.MALFORMED, detail=NAME_CUT)
    if name in stored_names:
        raise ParseError(ErrorCode.DUPLICATE)


def files_upload(
    *,
    tenant: Tenant,
    files: Sequence[UploadedFile],
    source_name: str = UPLOAD_SOURCE,
    default_language: str = DEFAULT_LANGUAGE,
) -> list[UploadResult]:
    """Store uploaded files now and index new or changed documents in Celery after commit; documents
    whose file declares no language get ``default_language``.

    Each file is its own transaction: a bad file gets its error and the others go through. A file
    refused for its name (that of a file stored earlier in the upload included, in either Unicode
    normal form: names are stored in NFC, ``file_name_nfc``) or its size (over
    ``KNOWLEDGE_MAX_UPLOAD_BYTES``) is not read. An unexpected exception is logged with its
    traceback and gives its file the ``internal`` error; that file stores nothing. The documents a
    file gave before and no longer holds are deleted after the last file (a record may have moved
    to a file uploaded after it), unless a file of the upload failed (it may have moved there): then
    they stay, and each file's result counts its own as ``kept``. Should the source be deleted during
    the upload (by an admin), every file not refused for its own sake says so (``source_deleted``):
    those read before went with the source, and the others are not stored.
    Raises ``SourceKindError``, storing nothing, when ``source_name`` is a source of another kind.
    """
    source = source_get_or_create(tenant=tenant, name=source_name)
    limit = conf.SETTINGS.max_upload_bytes
    stored_names: set[str] = set()
    stored_ids: dict[str, str] = {}
    results = []
    for upload in files:
        received = upload.name or "upload"
        name = file_name_nfc(received)
        documents: list[UploadedDocument] = []

        def collect(document: Document, outcome: Outcome, bucket: list[UploadedDocument] = documents) -> None:
            bucket.append(UploadedDocument(document.pk, document.title, outcome))

        try:
            _upload_name_check(name, stored_names, received=received)
            file_check(name, upload.size or 0, max_bytes=limit)
            with transaction.atomic():
                if not source_hold(source=source):
                    raise ParseError(ErrorCode.SOURCE_DELETED)
                result = file_ingest(
                    tenant=tenant,
                    source=source,
                    name=name,
                    data=upload.read(),
                    index_now=False,
                    on_document=collect,
                    default_language=default_language,
                    taken=stored_ids,
                    delete_leftovers=False,
                )
                changed = [document.id for document in documents if document.outcome != Outcome.UNCHANGED]
                if changed:
                    transaction.on_commit(partial(_index_queue, tenant=tenant, document_ids=changed))
        except ParseError as exc:  # from the checks above: file_ingest gives its own as its result
            result = FileResult.refused(name, exc)
        except Exception:
            logger.exception("Upload of %r to tenant %s failed", name, tenant.pk)
            result, documents = FileResult.internal_error(name), []
        if not result.error:
            stored_names.add(name)
            stored_ids.update(dict.fromkeys(result.external_ids, name))
        results.append(UploadResult(result, documents))
    # After the last file: a record moved to a file uploaded later is that file's now, not a leftover;
    # and while a file failed, a record may have moved into it, so no leftover goes.
    settle = file_leftovers_keep if any(stored.file.error for stored in results) else file_leftovers_delete
    for stored in results:
        settle(tenant=tenant, result=stored.file)
    # The source's last sync is its last upload; failed when no file of it was read.
    if results and not source_mark_synced(source=source, failed=all(stored.file.error for stored in results)):
        return [_source_deleted(stored) for stored in results]  # deleted meanwhile, with what the upload stored
    return results


def _source_deleted(stored: UploadResult) -> UploadResult:
    if stored.file.error:
        return stored
    return UploadResult(FileResult.refused(stored.file.name, ParseError(ErrorCode.SOURCE_DELETED)), [])


INDEX_NOT_QUEUED = "Indexing could not be queued (task queue unavailable); re-index the document"


def _index_queue(*, tenant: Tenant, document_ids: list[int]) -> None:
    """Hand each document to Celery. If the queue refuses it (broker down), that document and those
    not queued yet are failed with the reason instead of staying pending, and the upload, already
    stored, is not reported as an internal error. Any other error is the task's own, raised where
    Celery runs it eagerly (no ``REDIS_URL``): it costs that document only (failed, if the task did
    not get to say so), and the next ones are indexed."""
    from knowledge import tasks

    for position, document_id in enumerate(document_ids):
        try:
            tasks.index_document.delay(document_id)
        except OperationalError:
            logger.exception(
                "indexing of %d documents of tenant %s was not queued", len(document_ids) - position, tenant.pk
            )
            documents_fail_pending(tenant=tenant, document_ids=document_ids[position:], error=INDEX_NOT_QUEUED)
            return
        except Exception:
            logger.exception("indexing of document %s of tenant %s, run eagerly, failed", document_id, tenant.pk)
            documents_fail_pending(tenant=tenant, document_ids=[document_id], error=tasks.INDEX_INTERNAL_ERROR)
