"""The re-index task reads its documents a batch at a time and re-embeds only those still waiting:
thousands of 10 MB documents never sit in one worker at once, and a redelivered copy of the task
(worker killed before it acknowledged) does not embed again what the first copy finished."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from knowledge import indexing, services, tasks
from knowledge.models import Chunk, Document, DocumentStatus
from knowledge.parsed import ParsedDocument
from knowledge.services import document_upsert, documents_reindex_enqueue, source_get_or_create
from knowledge.tests.embedders import RecordingEmbedder
from supportai.models import Tenant

BATCH = 2


def _indexed(tenant: Tenant, count: int) -> list[int]:
    source = source_get_or_create(tenant=tenant, name="uploads")
    ids = []
    for number in range(count):
        parsed = ParsedDocument(
            f"page-{number}.md", f"Page {number}", f"Opening hours of branch {number} are nine to five."
        )
        document, _ = document_upsert(tenant=tenant, source=source, parsed=parsed, model="fake-hash-384")
        indexing.document_index(tenant=tenant, document=document, provider=RecordingEmbedder())
        ids.append(document.pk)
    return ids


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> RecordingEmbedder:
    recorder = RecordingEmbedder()
    monkeypatch.setattr(services, "INDEX_BATCH", BATCH)
    monkeypatch.setattr(services, "default_provider", lambda: recorder)
    return recorder


class Loads:
    """Counts the documents read from the database; ``before_each_batch``: how many had been read
    when each batch went to be indexed."""

    def __init__(self) -> None:
        self.loaded = 0
        self.before_each_batch: list[int] = []


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> Loads:
    counter = Loads()
    from_db = Document.from_db

    def counting_from_db(cls: type[Document], db: Any, field_names: Any, values: Any) -> Document:
        counter.loaded += 1
        return from_db(db, field_names, values)

    def recording_index(**kwargs: Any) -> int:
        counter.before_each_batch.append(counter.loaded)
        return indexing.documents_index(**kwargs)

    monkeypatch.setattr(Document, "from_db", classmethod(counting_from_db))
    monkeypatch.setattr(services, "documents_index", recording_index)
    return counter


def _queue_reindex(tenant: Tenant, ids: list[int], capture: Any) -> None:
    """What the admin's re-index action does; the eager task runs once the transaction commits."""
    with capture(execute=True):
        assert documents_reindex_enqueue(tenant=tenant, document_ids=ids) == len(ids)


def _run_again(tenant: Tenant, ids: list[int]) -> int:
    result: int = tasks.reindex_documents.apply(args=(tenant.pk, ids)).get()
    return result


def test_reindex_reads_each_batch_of_documents_only_when_it_is_indexed(
    tenant, provider, loads, django_capture_on_commit_callbacks
):
    # given five indexed documents, re-indexed two at a time
    ids = _indexed(tenant, 5)
    loads.loaded = 0
    # when they are re-indexed
    _queue_reindex(tenant, ids, django_capture_on_commit_callbacks)
    # then no batch was read before the previous one was indexed
    assert loads.before_each_batch == [2, 4, 5]
    assert set(Document.objects.filter(pk__in=ids).values_list("status", "reembed")) == {(DocumentStatus.READY, False)}


def test_reindex_reads_no_document_content_for_the_whole_selection_at_once(tenant, provider):
    ids = _indexed(tenant, 5)
    Document.objects.filter(pk__in=ids).update(status=DocumentStatus.PENDING, reembed=True)

    with CaptureQueriesContext(connection) as queries:
        assert _run_again(tenant, ids) == 5

    reads = [query["sql"] for query in queries if query["sql"].startswith("SELECT") and '"content"' in query["sql"]]
    assert len(reads) == 3  # one per batch of two


def test_a_redelivered_reindex_embeds_nothing_the_first_run_finished(
    tenant, provider, django_capture_on_commit_callbacks
):
    # given a re-index that ran to its end
    ids = _indexed(tenant, 3)
    _queue_reindex(tenant, ids, django_capture_on_commit_callbacks)
    embedded, chunks = len(provider.seen), set(Chunk.objects.filter(tenant=tenant).values_list("pk", flat=True))
    # when the broker hands the same task to a worker again
    assert _run_again(tenant, ids) == 0
    # then nothing was embedded or replaced
    assert len(provider.seen) == embedded
    assert set(Chunk.objects.filter(tenant=tenant).values_list("pk", flat=True)) == chunks


def test_a_redelivered_reindex_finishes_only_the_documents_still_waiting(tenant, provider):
    # given a re-index whose first copy finished two documents before its worker was killed
    ids = _indexed(tenant, 3)
    Document.objects.filter(pk=ids[2]).update(status=DocumentStatus.PENDING, reembed=True)
    provider.seen.clear()
    # when the copy runs
    assert _run_again(tenant, ids) == 1
    # then only the third was embedded again
    assert provider.seen and all("branch 2" in text for text in provider.seen)
    assert Document.objects.get(pk=ids[2]).status == DocumentStatus.READY


def test_a_document_finished_by_another_copy_meanwhile_is_skipped(tenant, provider, monkeypatch):
    # given three documents waiting, and another copy of the task that finishes the last one while
    # this one indexes the first batch
    ids = _indexed(tenant, 3)
    Document.objects.filter(pk__in=ids).update(status=DocumentStatus.PENDING, reembed=True)

    def index_then_other_copy_finishes(**kwargs: Any) -> int:
        children = indexing.documents_index(**kwargs)
        Document.objects.filter(pk=ids[2]).update(status=DocumentStatus.READY, reembed=False)
        return children

    monkeypatch.setattr(services, "documents_index", index_then_other_copy_finishes)
    # when this copy runs
    assert _run_again(tenant, ids) == 2
    # then it did not embed the third again
    assert not any("branch 2" in text for text in provider.seen)


def test_reindex_of_one_tenant_leaves_another_tenants_waiting_document_alone(
    tenant, other_tenant, provider, django_capture_on_commit_callbacks
):
    # given another tenant's document waiting for its own re-index, its id passed with this tenant's
    theirs = _indexed(other_tenant, 1)
    Document.objects.filter(pk__in=theirs).update(status=DocumentStatus.PENDING, reembed=True)
    their_chunks = list(Chunk.objects.filter(document_id=theirs[0]).values_list("pk", flat=True))
    mine = _indexed(tenant, 1)
    Document.objects.filter(pk__in=mine).update(status=DocumentStatus.PENDING, reembed=True)
    provider.seen.clear()
    # when this tenant's re-index runs
    assert _run_again(tenant, mine + theirs) == 1
    # then their document is as it was: not embedded, still waiting
    assert Document.objects.get(pk=theirs[0]).status == DocumentStatus.PENDING
    assert not Chunk.objects.filter(document_id=theirs[0]).exclude(pk__in=their_chunks).exists()
    assert len(provider.seen) == Chunk.objects.filter(document_id=mine[0], level="child").count()
