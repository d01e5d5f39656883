"""Background indexing and URL source syncs. Without ``REDIS_URL`` Celery runs these eagerly, in-process."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from knowledge import conf
from knowledge.indexing import document_index
from knowledge.models import Document, DocumentStatus, KnowledgeSource
from knowledge.providers.base import ProviderError
from knowledge.providers.local import bulk_threads
from knowledge.selectors import url_sources_due
from knowledge.sources import knowledge_source_sync


@shared_task(name="knowledge.index_document", autoretry_for=(ProviderError,), retry_backoff=True, max_retries=3)
def index_document(document_id: int) -> int:
    """Chunk and embed one pending document; returns its child count (0 if it is gone or done)."""
    document = Document.objects.select_related("tenant").filter(pk=document_id).first()
    if document is None or document.status == DocumentStatus.READY:
        return 0
    with bulk_threads():
        return document_index(tenant=document.tenant, document=document)


@shared_task(name="knowledge.sync_source")
def sync_source(source_id: int) -> str:
    """Sync one URL source (see ``knowledge.sources``); returns the run's summary line."""
    source = KnowledgeSource.objects.select_related("tenant").filter(pk=source_id).first()
    if source is None:
        return "gone"
    with bulk_threads():
        result = knowledge_source_sync(tenant=source.tenant, source_id=source.pk)
    return result.error or result.summary()


@shared_task(name="knowledge.sync_due_sources")
def sync_due_sources() -> int:
    """Beat: queue a sync of every URL source whose interval has passed; returns how many."""
    due = url_sources_due(now=timezone.now(), default_interval_minutes=conf.SETTINGS.url_sync_interval_minutes)
    for source in due:
        sync_source.delay(source.pk)
    return len(due)
