"""Index writers of one tenant running at once: no deadlock, no stale chunks, exact BM25 statistics."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from knowledge import tasks
from knowledge.bm25_index import lock_tenant_index
from knowledge.indexing import documents_index
from knowledge.models import Chunk, ChunkLevel, CorpusStats, Document, DocumentStatus, SearchConfigStats, TermStats
from knowledge.parsed import ParsedDocument
from knowledge.providers.fake import FakeEmbeddingProvider
from knowledge.services import (
    Outcome,
    document_delete,
    documents_delete,
    documents_upsert,
    source_get_or_create,
)
from knowledge.uploads import UploadResult, files_upload
from supportai.models import Tenant

MODEL = "fake-hash-384"
ARTICLE = b"# Parking\n\nFree parking is behind the studio on Pearl Street."
WORDS = ["parking", "refund", "yoga", "massage", "voucher", "studio", "booking", "mat", "towel", "locker"]


def _upsert(tenant: Tenant, external_id: str, text: str) -> Document:
    source = source_get_or_create(tenant=tenant, name="uploads")
    parsed = ParsedDocument(external_id, external_id.title(), text)
    return documents_upsert(tenant=tenant, source=source, parsed_documents=[parsed], model=MODEL)[0][0]


def _stats_match_the_chunks(tenant: Tenant) -> None:
    children = Chunk.objects.filter(tenant=tenant, level=ChunkLevel.CHILD)
    stats = CorpusStats.objects.get(tenant=tenant)
    assert (stats.chunk_count, stats.total_terms) == (children.count(), sum(c.term_count for c in children))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT u.lexeme, count(*) FROM knowledge_chunk c CROSS JOIN LATERAL unnest(c.search_vector) u "
            "WHERE c.tenant_id = %s AND c.level = 'child' GROUP BY u.lexeme",
            [tenant.pk],
        )
        expected = dict(cursor.fetchall())
    assert dict(TermStats.objects.filter(tenant=tenant).values_list("lexeme", "df")) == expected
    per_config = children.values("document__search_config").annotate(n=Count("pk"))
    expected_configs = {row["document__search_config"]: row["n"] for row in per_config}
    assert (
        dict(SearchConfigStats.objects.filter(tenant=tenant).values_list("config", "chunk_count")) == expected_configs
    )


@pytest.mark.django_db
def test_a_plan_of_content_that_changed_meanwhile_stores_nothing(tenant):
    # given: version 1 read by an indexing run, then version 2 uploaded before that run stores
    stale = _upsert(tenant, "parking", "Parking is free behind the studio.")
    _upsert(tenant, "parking", "Parking costs five pounds now.")
    # when the run with version 1 stores
    documents_index(tenant=tenant, documents=[stale], provider=FakeEmbeddingProvider())
    # then version 1 is not marked ready over version 2, which its own run indexes
    document = Document.objects.get(pk=stale.pk)
    assert document.status == DocumentStatus.PENDING and not Chunk.objects.filter(document=document).exists()
    documents_index(tenant=tenant, documents=[document], provider=FakeEmbeddingProvider())
    texts = list(Chunk.objects.filter(document=document, level=ChunkLevel.CHILD).values_list("text", flat=True))
    assert texts == ["Parking costs five pounds now."]
    _stats_match_the_chunks(tenant)


def _in_threads(*workers: Callable[[], None]) -> list[BaseException]:
    errors: list[BaseException] = []

    def run(work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException as exc:  # collected for the assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_deleting_a_document_waits_for_the_tenants_index_writer():
    tenant = Tenant.objects.create(name="Alpha", slug="alpha-lock")
    document = _upsert(tenant, "parking", "Parking is free behind the studio.")
    documents_index(tenant=tenant, documents=[document], provider=FakeEmbeddingProvider())
    writing, release, deleted = threading.Event(), threading.Event(), threading.Event()

    def writer() -> None:
        with transaction.atomic():
            lock_tenant_index(tenant=tenant)
            writing.set()
            release.wait(10)

    def deleter() -> None:
        writing.wait(10)
        document_delete(tenant=tenant, document=document)
        deleted.set()

    threads = [threading.Thread(target=work) for work in (writer, deleter)]
    for thread in threads:
        thread.start()
    assert writing.wait(10)
    assert not deleted.wait(0.5)  # the delete queues behind the writer...
    release.set()
    for thread in threads:
        thread.join(10)
    assert deleted.is_set()  # ...and goes through once it commits
    assert not Document.objects.filter(pk=document.pk).exists()
    _stats_match_the_chunks(tenant)


@pytest.mark.django_db(transaction=True)
def test_concurrent_indexing_and_deleting_keep_the_statistics_exact():
    # given: one tenant whose documents share most of their words
    tenant = Tenant.objects.create(name="Alpha", slug="alpha-race")
    provider = FakeEmbeddingProvider()

    def text(n: int, round_: int) -> str:
        return " ".join(WORDS[(n + round_ + k) % len(WORDS)] for k in range(6)) + f" round {round_}."

    def reindexer(names: list[str]) -> Callable[[], None]:
        def work() -> None:
            for round_ in range(8):
                documents = [_upsert(tenant, name, text(n, round_)) for n, name in enumerate(names)]
                documents_index(tenant=tenant, documents=documents, provider=provider)

        return work

    def churner() -> None:
        for round_ in range(8):
            document = _upsert(tenant, "churn", text(0, round_))
            documents_index(tenant=tenant, documents=[document], provider=provider)
            document_delete(tenant=tenant, document=document)

    for n, name in enumerate("abcde"):  # created up front: two threads creating "c" would clash
        _upsert(tenant, name, text(n, 0))
    # when three writers run at once
    errors = _in_threads(reindexer(["a", "b", "c"]), reindexer(["c", "d", "e"]), churner)
    # then: nobody deadlocked or failed, and the statistics are what the chunks say
    assert errors == []
    assert not Document.objects.filter(tenant=tenant, external_id="churn").exists()
    assert set(Document.objects.filter(tenant=tenant).values_list("status", flat=True)) == {DocumentStatus.READY}
    _stats_match_the_chunks(tenant)


@pytest.mark.django_db
def test_deleting_documents_costs_the_same_queries_for_two_or_twelve(tenant, other_tenant):
    theirs = _upsert(other_tenant, "theirs", "Their parking.")

    def delete(size: int) -> int:
        documents = [_upsert(tenant, f"doc-{size}-{n}", f"Parking note {n}.") for n in range(size)]
        documents_index(tenant=tenant, documents=documents, provider=FakeEmbeddingProvider())
        with CaptureQueriesContext(connection) as queries:
            # another tenant's id among them is skipped, never deleted
            assert documents_delete(tenant=tenant, document_ids=[d.pk for d in documents] + [theirs.pk]) == size
        return len(queries)

    assert delete(2) == delete(12)
    assert Document.objects.filter(pk=theirs.pk).exists()
    assert not Document.objects.filter(tenant=tenant).exists()
    _stats_match_the_chunks(tenant)


@pytest.mark.django_db(transaction=True)
def test_two_uploads_of_the_same_new_file_at_once_store_one_document(monkeypatch):
    tenant = Tenant.objects.create(name="Alpha", slug="alpha-twins")
    # Indexing is queued, not run: eager Celery in two threads at once races on its process-wide
    # "joining a result would block" flag and can leave it set for later tests.
    queued: list[int] = []
    monkeypatch.setattr(tasks.index_document, "delay", queued.append)
    barrier = threading.Barrier(2)
    results: list[UploadResult] = []

    def upload() -> None:
        barrier.wait(10)
        results.extend(files_upload(tenant=tenant, files=[SimpleUploadedFile("parking.md", ARTICLE)]))

    errors = _in_threads(upload, upload)

    assert errors == []
    assert sorted(result.file.error for result in results) == ["", ""]
    # the second one in finds the first one's document, still pending, and updates it
    assert sorted(result.documents[0].outcome for result in results) == [Outcome.CREATED, Outcome.UPDATED]
    assert Document.objects.filter(tenant=tenant).count() == 1
    assert len(queued) == 2  # each upload queues its indexing (the document is pending for both)


@pytest.mark.django_db(transaction=True)
def test_an_upload_that_drops_a_record_never_deadlocks_with_the_tenants_index_writer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a stored corpus, and an indexing run that holds the tenant's lock and is about to lock
    # the rows of the documents it stores
    tenant = Tenant.objects.create(name="Alpha", slug="alpha-leftovers")
    monkeypatch.setattr(tasks.index_document, "delay", lambda pk: None)
    corpus = b'{"_id": "1", "text": "One."}\n{"_id": "2", "text": "Two."}'
    files_upload(tenant=tenant, files=[SimpleUploadedFile("corpus.jsonl", corpus)])
    first = Document.objects.get(tenant=tenant, external_id="1")
    locked = threading.Event()

    def index_writer() -> None:
        with transaction.atomic():
            lock_tenant_index(tenant=tenant)
            locked.set()
            with connection.cursor() as cursor:
                for _ in range(100):  # until the upload waits for the lock
                    cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                    if cursor.fetchone()[0]:
                        break
                    time.sleep(0.05)
            list(Document.objects.select_for_update().filter(pk=first.pk))

    def upload() -> None:
        locked.wait(10)
        # when the corpus comes again with record 1 edited and record 2 gone
        edited = SimpleUploadedFile("corpus.jsonl", b'{"_id": "1", "text": "One, edited."}')
        [result] = files_upload(tenant=tenant, files=[edited])
        assert result.file.error == ""

    errors = _in_threads(index_writer, upload)
    # then neither was aborted as a deadlock, and the corpus is what was uploaded last
    assert errors == []
    assert dict(Document.objects.filter(tenant=tenant).values_list("external_id", "content")) == {"1": "One, edited."}


@pytest.mark.django_db(transaction=True)
def test_an_update_racing_a_delete_of_its_document_stores_it_anew(tenant: Tenant, other_tenant: Tenant) -> None:
    # given a stored document, and a second connection deleting it, not yet committed
    _upsert(tenant, "parking.md", "Parking behind the studio.")
    theirs = _upsert(other_tenant, "parking.md", "Their parking.")
    document = Document.objects.get(tenant=tenant, external_id="parking.md")
    deleting, commit = threading.Event(), threading.Event()
    outcomes: list[tuple[Document, Outcome]] = []

    def delete() -> None:
        try:
            with transaction.atomic():
                documents_delete(tenant=tenant, document_ids=[document.pk])
                deleting.set()
                commit.wait(10)
        finally:
            connection.close()

    def update() -> None:
        try:
            outcomes.extend(
                documents_upsert(
                    tenant=tenant,
                    source=document.source,
                    parsed_documents=[ParsedDocument("parking.md", "Parking", "Parking moved to Elm Street.")],
                    model=MODEL,
                )
            )
        finally:
            connection.close()

    deleter = threading.Thread(target=delete)
    deleter.start()
    assert deleting.wait(10)
    # when an upload of a new version of the same file comes in meanwhile, then the delete commits
    updater = threading.Thread(target=update)
    updater.start()
    time.sleep(0.5)  # the upload reaches the rows the delete holds
    commit.set()
    deleter.join(10)
    updater.join(10)
    # then the upload's answer is what is stored: the new version, pending its indexing
    assert not deleter.is_alive() and not updater.is_alive()
    [(stored, outcome)] = outcomes
    assert outcome == Outcome.CREATED
    row = Document.objects.get(tenant=tenant, external_id="parking.md")
    assert (row.pk, row.content, row.status) == (stored.pk, "Parking moved to Elm Street.", DocumentStatus.PENDING)
    assert Document.objects.get(pk=theirs.pk).content == "Their parking."
