"""Background indexing and URL source syncs. Without ``REDIS_URL`` Celery runs these eagerly, in-process."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext
from datetime import timedelta
from typing import NoReturn

from celery import Task, shared_task
from celery.exceptions import Retry, SoftTimeLimitExceeded
from django.conf import settings
from django.utils import timezone

from knowledge import conf
from knowledge.indexing import EMBEDDING_FAILED, document_index
from knowledge.models import Document, DocumentStatus, KnowledgeSource
from knowledge.providers.base import ProviderError
from knowledge.providers.bulk_retry import bulk_retries
from knowledge.providers.local import bulk_threads
from knowledge.selectors import url_source_due, url_sources_due
from knowledge.services import (
    INDEX_INTERNAL_ERROR,
    documents_fail_pending,
    documents_requeue_stuck,
    tenant_reindex,
    tenants_with_stuck_documents,
)
from knowledge.sources import knowledge_source_sync
from supportai.models import Tenant

logger = logging.getLogger(__name__)

# Seconds before the first retry of a passing provider error; doubled for each later one.
RETRY_BACKOFF_S = 2
MAX_RETRIES = 3


# A superuser deactivated the tenant between the upload (or re-index) and the task: its documents are
# not embedded (no model time or provider cost for a tenant that is switched off), and say so rather
# than staying pending; re-indexed once the tenant is active again, they are indexed as usual.
TENANT_INACTIVE = "Not indexed: the tenant was deactivated before indexing ran; re-index the document once it is active"
INDEX_RETRYING = "Embedding failed. {reason} Retry {attempt} of {retries} in {seconds} s."


@shared_task(bind=True, name="knowledge.index_document", max_retries=MAX_RETRIES)
def index_document(self: Task, document_id: int) -> int:
    """Chunk and embed one pending document; returns its child count (0 if it is gone, done or failed).

    A provider error marks the document failed with its public message (``EMBEDDING_FAILED``; the
    detail is in the log), which the console and the API show. On a
    worker, errors that may pass (a timeout, a rate limit, a 5xx) are retried with backoff, up to
    ``MAX_RETRIES`` times (the document shows pending meanwhile, its error saying a retry is coming);
    a wrong key or a vector dimension the column cannot hold fails at once.
    Run eagerly (no ``REDIS_URL``) the task runs inside the upload request, so it never retries or
    raises there: the document is failed and can be re-indexed from the console. Any other error
    fails the document too (``INDEX_INTERNAL_ERROR``) and is raised (logged by Celery). A document of
    a tenant deactivated meanwhile is failed with ``TENANT_INACTIVE`` and not embedded."""
    document = Document.objects.select_related("tenant").filter(pk=document_id).first()
    if document is None or document.status == DocumentStatus.READY:
        return 0
    if not document.tenant.is_active:
        documents_fail_pending(tenant=document.tenant, document_ids=[document.pk], error=TENANT_INACTIVE)
        return 0
    try:
        with bulk_threads():
            return document_index(tenant=document.tenant, document=document)
    except ProviderError as exc:
        if exc.retryable and not self.request.is_eager and self.request.retries < MAX_RETRIES:
            _index_retry(self, document=document, exc=exc)
        return 0
    except Exception:
        documents_fail_pending(tenant=document.tenant, document_ids=[document.pk], error=INDEX_INTERNAL_ERROR)
        raise


def _index_retry(task: Task, *, document: Document, exc: ProviderError) -> NoReturn:
    """Queue the task again for ``document``, which ``document_index`` failed: until the retry runs it
    is pending again, its error saying a retry is coming (a client reading "failed" would take it
    for the end). If the retry cannot be queued, the document is failed after all."""
    # Never sooner than the provider asked (a rate limit's Retry-After).
    countdown = max(RETRY_BACKOFF_S * 2**task.request.retries, exc.retry_after or 0)
    note = INDEX_RETRYING.format(
        reason=exc.public_message, attempt=task.request.retries + 1, retries=MAX_RETRIES, seconds=countdown
    )
    # Only the version this run read: a newer one is its own run's, and may be ready already.
    failed = Document.objects.filter(pk=document.pk, content_hash=document.content_hash, status=DocumentStatus.FAILED)
    failed.update(status=DocumentStatus.PENDING, error=note, queued_at=timezone.now())
    try:
        raise task.retry(exc=exc, countdown=countdown) from exc
    except Retry:
        raise
    except Exception:
        error = EMBEDDING_FAILED.format(reason=exc.public_message)
        documents_fail_pending(tenant=document.tenant, document_ids=[document.pk], error=error)
        raise


def _worker_retries(task: Task, *, run: str) -> AbstractContextManager[object]:
    """On a worker, a hosted provider's document batch that fails with a passing error is sent again
    (``bulk_retry``: bounded, never before its Retry-After), each wait logged at WARNING after
    ``run`` (the task's work, its tenant), none ending past the task's soft time limit. Run eagerly
    (no ``REDIS_URL``) the task is inside a web request, which must not wait: nothing is retried."""
    if task.request.is_eager:
        return nullcontext()
    return bulk_retries(
        notify=lambda line: logger.warning("%s: %s", run, line), time_limit_s=settings.CELERY_TASK_SOFT_TIME_LIMIT
    )


@shared_task(bind=True, name="knowledge.reindex_documents")
def reindex_documents(self: Task, tenant_id: int, document_ids: list[int]) -> int:
    """Re-chunk and re-embed those of these documents of one tenant still pending, every child anew
    (no stored vector reused), a batch at a time; returns how many. On a worker a passing provider
    error is retried batch by batch (``_worker_retries``). Whatever stops the run, no
    document of it stays pending: a provider error fails the batch that met it with
    ``EMBEDDING_FAILED`` and the rest with ``REINDEX_STOPPED``; Celery's soft time limit fails the
    pending ones with ``REINDEX_TIME_LIMIT`` and any other error with ``REINDEX_INTERNAL_ERROR``, both
    raised (logged by Celery). A tenant deactivated since the re-index was queued has its documents
    failed with ``TENANT_INACTIVE`` (their old chunks still serve) and nothing embedded."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return 0
    if not tenant.is_active:
        documents_fail_pending(tenant=tenant, document_ids=document_ids, error=TENANT_INACTIVE)
        return 0
    # Still waiting for this re-index: a copy of the task the broker handed out again (its worker
    # was killed before acknowledging) skips what an earlier copy indexed.
    documents = (
        Document.objects.for_tenant(tenant)
        .filter(pk__in=document_ids, status=DocumentStatus.PENDING)
        .exclude(content_hash="")
    )
    selected = list(documents.order_by("pk").values_list("pk", flat=True))
    try:
        with bulk_threads(), _worker_retries(self, run=f"re-index of documents {selected} of tenant {tenant.pk}"):
            return tenant_reindex(tenant=tenant, force=True, documents=documents)
    except ProviderError as exc:
        error = REINDEX_STOPPED.format(reason=exc.public_message)
        documents_fail_pending(tenant=tenant, document_ids=document_ids, error=error)
        # The detail is logged where the batch failed (indexing.documents_index).
        logger.warning("re-index of %d documents of tenant %s stopped (%s)", len(document_ids), tenant_id, exc.kind)
        return 0
    except SoftTimeLimitExceeded:
        error = REINDEX_TIME_LIMIT.format(seconds=settings.CELERY_TASK_SOFT_TIME_LIMIT)
        documents_fail_pending(tenant=tenant, document_ids=document_ids, error=error)
        raise
    except Exception:
        documents_fail_pending(tenant=tenant, document_ids=document_ids, error=REINDEX_INTERNAL_ERROR)
        raise


REINDEX_INTERNAL_ERROR = "Re-index stopped by an internal error (logged on the server); run it again"
# The documents of a re-index still pending when Celery's soft time limit stopped it.
REINDEX_TIME_LIMIT = (
    "Re-index stopped: it ran past the task time limit ({seconds} s, CELERY_TASK_SOFT_TIME_LIMIT_S). "
    "Re-index fewer documents at a time, or raise the limit."
)
# The documents of a re-index that a provider error stopped before their batch (``reason``: its public message).
REINDEX_STOPPED = "Re-index stopped. {reason} Re-index the document to try again."


NOT_DUE = "not due"
# A sync asked for by hand whose tenant was deactivated before a worker took it: nothing is crawled or embedded.
SYNC_TENANT_INACTIVE = "tenant deactivated"


@shared_task(bind=True, name="knowledge.sync_source")
def sync_source(self: Task, source_id: int, only_if_due: bool = False) -> str:
    """Sync one URL source (see ``knowledge.sources``); returns the run's summary line. On a worker a
    passing provider error is retried batch by batch (``_worker_retries``). With
    ``only_if_due`` (beat's syncs) a source synced since the task was queued is left alone: beat
    queues a due source every few minutes until a worker gets to it, and while the workers are busy
    or down each of those tasks would sync it again. A source of a tenant deactivated meanwhile is
    left alone (``SYNC_TENANT_INACTIVE``; with ``only_if_due`` it is simply not due)."""
    source = KnowledgeSource.objects.select_related("tenant").filter(pk=source_id).first()
    if source is None:
        return "gone"
    interval = conf.SETTINGS.url_sync_interval_minutes
    if only_if_due and not url_source_due(source=source, now=timezone.now(), default_interval_minutes=interval):
        return NOT_DUE
    if not source.tenant.is_active:
        return SYNC_TENANT_INACTIVE
    run = f"sync of URL source {source.pk} of tenant {source.tenant_id}"
    with bulk_threads(), _worker_retries(self, run=run):
        result = knowledge_source_sync(tenant=source.tenant, source_id=source.pk)
    return result.error or result.summary()


@shared_task(name="knowledge.sync_due_sources")
def sync_due_sources() -> int:
    """Beat: queue a sync of every URL source whose interval has passed; returns how many."""
    due = url_sources_due(now=timezone.now(), default_interval_minutes=conf.SETTINGS.url_sync_interval_minutes)
    for source in due:
        sync_source.delay(source.pk, only_if_due=True)
    return len(due)


# Documents one sweep queues again, at most (the rest wait for the next sweep) and per tenant.
SWEEP_MAX_DOCUMENTS = 500
SWEEP_MAX_PER_TENANT = 100


@shared_task(name="knowledge.sweep_stuck_documents")
def sweep_stuck_documents() -> int:
    """Beat: queue ``index_document`` again for documents left pending longer than
    ``KNOWLEDGE_STUCK_PENDING_MINUTES`` since they were queued (their task was lost: a broker
    restart, a worker killed before it acknowledged, an enqueue after commit that failed), at most
    ``SWEEP_MAX_PER_TENANT`` per active tenant and ``SWEEP_MAX_DOCUMENTS`` in all; returns how many."""
    older_than = timezone.now() - timedelta(minutes=conf.SETTINGS.stuck_pending_minutes)
    queued = 0
    for tenant in tenants_with_stuck_documents(older_than=older_than):
        limit = min(SWEEP_MAX_PER_TENANT, SWEEP_MAX_DOCUMENTS - queued)
        if limit <= 0:
            break
        document_ids = documents_requeue_stuck(tenant=tenant, older_than=older_than, limit=limit)
        if document_ids:
            logger.warning("re-queueing %d documents of tenant %s left pending", len(document_ids), tenant.pk)
        for document_id in document_ids:
            try:
                index_document.delay(document_id)
            except Exception:
                # Queued again by a later sweep, once this one's mark has aged as well.
                logger.exception("document %s of tenant %s could not be queued again", document_id, tenant.pk)
                return queued
            queued += 1
    return queued
