"""The beat sweep that re-queues documents whose indexing task was lost (broker restart, killed
worker, an enqueue after commit that failed): without it they would stay pending for good."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from knowledge import conf, indexing, tasks
from knowledge.models import Chunk, ChunkLevel, Document, DocumentStatus
from knowledge.parsed import ParsedDocument
from knowledge.services import document_upsert, documents_reindex_enqueue, source_get_or_create
from knowledge.tests.embedders import RecordingEmbedder
from knowledge.tests.factories import add_document
from knowledge.tests.migration_state import migrate_knowledge_to
from supportai.models import Tenant


def _pending(tenant: Tenant, title: str, *, minutes_ago: int) -> Document:
    """A document stored and marked pending ``minutes_ago``, whose indexing task never ran."""
    source = source_get_or_create(tenant=tenant, name="API uploads")
    parsed = ParsedDocument(f"{title}.md", title, f"{title}: free parking behind the studio.")
    document, _ = document_upsert(tenant=tenant, source=source, parsed=parsed, model="fake")
    then = timezone.now() - timedelta(minutes=minutes_ago)
    Document.objects.filter(pk=document.pk).update(updated_at=then, queued_at=then)
    return document


def _status(document: Document) -> str:
    document.refresh_from_db(fields=["status"])
    return document.status


def test_sweep_indexes_the_documents_left_pending_in_every_active_tenant(tenant: Tenant, other_tenant: Tenant) -> None:
    # given documents whose task was lost, in two tenants, one just queued, and one of a deactivated tenant
    age = conf.SETTINGS.stuck_pending_minutes
    lost = _pending(tenant, "Lost", minutes_ago=age + 5)
    theirs = _pending(other_tenant, "Theirs", minutes_ago=age + 5)
    fresh = _pending(tenant, "Fresh", minutes_ago=age - 5)
    switched_off = Tenant.objects.create(name="Off", slug="off")
    off = _pending(switched_off, "Off", minutes_ago=age + 5)
    Tenant.objects.filter(pk=switched_off.pk).update(is_active=False)
    # when the sweep runs (eager Celery: the re-queued tasks run at once)
    swept = tasks.sweep_stuck_documents()
    # then the lost ones of both active tenants are indexed, the others are left alone
    assert swept == 2
    assert (_status(lost), _status(theirs)) == (DocumentStatus.READY, DocumentStatus.READY)
    assert (_status(fresh), _status(off)) == (DocumentStatus.PENDING, DocumentStatus.PENDING)


def test_sweep_is_idempotent_and_bounded_per_run(tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    # given three lost documents and a sweep that takes at most two per run, whose tasks are lost again
    monkeypatch.setattr(tasks, "SWEEP_MAX_DOCUMENTS", 2)
    queued: list[int] = []
    monkeypatch.setattr(tasks.index_document, "delay", queued.append)
    age = conf.SETTINGS.stuck_pending_minutes
    documents = [_pending(tenant, f"Lost {n}", minutes_ago=age + 5) for n in range(3)]
    # when it runs three times in a row
    counts = [tasks.sweep_stuck_documents() for _ in range(3)]
    # then two, then the third, then none: a document re-queued is not re-queued again before its age
    assert counts == [2, 1, 0]
    assert sorted(queued) == sorted(document.pk for document in documents)


def test_a_reindex_just_queued_is_not_taken_for_a_lost_one(tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a document indexed long ago, re-indexed now (its task still queued)
    document = add_document(tenant, "Parking", "Free parking behind the studio.")
    Document.objects.filter(pk=document.pk).update(updated_at=timezone.now() - timedelta(days=30))
    monkeypatch.setattr(tasks.reindex_documents, "delay", lambda *args: None)
    assert documents_reindex_enqueue(tenant=tenant, document_ids=[document.pk]) == 1
    # when the sweep runs
    swept = tasks.sweep_stuck_documents()
    # then it leaves the document to its queued re-index
    assert swept == 0 and _status(document) == DocumentStatus.PENDING


def test_sweep_is_on_the_beat_schedule() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["knowledge-sweep-stuck-documents"]
    assert entry["task"] == "knowledge.sweep_stuck_documents"


def test_sweep_finishes_a_lost_re_embed_by_embedding_every_child_anew(
    tenant: Tenant, other_tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an indexed document whose re-chunk and re-embed was queued, and its task lost (a worker
    # killed); another tenant's document passed along is not this tenant's to re-embed
    text = "\n\n".join(f"Paragraph {n}: free parking behind the studio, two hours, level {n}." for n in range(40))
    document = add_document(tenant, "Parking", text)
    theirs = add_document(other_tenant, "Parking", text)
    monkeypatch.setattr(tasks.reindex_documents, "delay", lambda *args: None)
    assert documents_reindex_enqueue(tenant=tenant, document_ids=[document.pk, theirs.pk]) == 1
    lost = timezone.now() - timedelta(minutes=conf.SETTINGS.stuck_pending_minutes + 5)
    Document.objects.filter(pk=document.pk).update(queued_at=lost)
    provider = RecordingEmbedder()
    monkeypatch.setattr(indexing, "default_provider", lambda: provider)
    # when the sweep runs (eager Celery: the re-queued task runs at once)
    assert tasks.sweep_stuck_documents() == 1
    # then every child was embedded again, as the operator asked, not given its old vector
    children = Chunk.objects.filter(document=document, level=ChunkLevel.CHILD)
    assert _status(document) == DocumentStatus.READY
    assert len(provider.seen) == children.count() > 1
    # and, that done, a later index of it reuses the new vectors; their document was never asked to
    indexing.document_index(tenant=tenant, document=document, provider=provider)
    indexing.document_index(tenant=other_tenant, document=theirs, provider=provider)
    assert len(provider.seen) == children.count()


@pytest.mark.django_db(transaction=True)
def test_migration_asks_no_document_stored_before_it_to_be_embedded_anew() -> None:
    # given a pending document stored before re-embed requests were recorded
    old = migrate_knowledge_to("0018_document_list_indexes")
    uploads = old.source.objects.create(tenant=old.tenant, name="Uploads", kind="upload")
    old.document.objects.create(
        tenant=old.tenant, source=uploads, external_id="a", title="A", content="Text.", content_hash="a"
    )
    # when the migration runs
    migrated = migrate_knowledge_to("0019_document_reembed")
    # then the sweep would index it as before, reusing stored vectors
    assert list(migrated.document.objects.values_list("title", "reembed")) == [("A", False)]
