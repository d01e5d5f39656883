"""Background indexing. Without ``REDIS_URL`` Celery runs these eagerly, in-process."""

from __future__ import annotations

from celery import shared_task

from knowledge.models import Document, DocumentStatus
from knowledge.providers.base import ProviderError
from knowledge.providers.local import bulk_threads
from knowledge.services import document_index


@shared_task(name="knowledge.index_document", autoretry_for=(ProviderError,), retry_backoff=True, max_retries=3)
def index_document(document_id: int) -> int:
    """Chunk and embed one pending document; returns its child count (0 if it is gone or done)."""
    document = Document.objects.select_related("tenant").filter(pk=document_id).first()
    if document is None or document.status == DocumentStatus.READY:
        return 0
    with bulk_threads():
        return document_index(tenant=document.tenant, document=document)
