from __future__ import annotations

import logging
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pytest_django import DjangoCaptureOnCommitCallbacks

from knowledge import indexing, services
from knowledge.indexing import EMBEDDING_FAILED
from knowledge.models import (
    Chunk,
    ChunkLevel,
    CorpusStats,
    Document,
    DocumentStatus,
    KnowledgeSource,
    Posting,
    TermStats,
)
from knowledge.parsed import ParsedDocument
from knowledge.parsing import parse_file
from knowledge.providers.base import PUBLIC_MESSAGES, ProviderError, ProviderErrorKind
from knowledge.providers.fake import FakeEmbeddingProvider
from knowledge.selectors import retrieve
from knowledge.services import (
    FileResult,
    Outcome,
    document_delete,
    file_ingest,
    parsed_ingest,
    source_get_or_create,
    source_prune,
    tenant_reindex,
)
from knowledge.tests.factories import add_document
from knowledge.uploads import files_upload
from supportai.models import Tenant

ARTICLE = b"# Parking\n\nFree parking is behind the studio on Pearl Street.\n\nBike racks are by the door."


class BrokenEmbedder(FakeEmbeddingProvider):
    def embed_documents(self, texts):
        raise ProviderError("rate limited", kind=ProviderErrorKind.RATE_LIMIT, retryable=True)


def _stats(tenant):
    stats = CorpusStats.objects.filter(tenant=tenant).first()
    return (stats.chunk_count, stats.total_terms) if stats else (0, 0)


def test_file_ingest_creates_document_parents_children_and_stats(tenant):
    source = source_get_or_create(tenant=tenant, name="uploads")
    result = file_ingest(tenant=tenant, source=source, name="parking.md", data=ARTICLE)
    assert result.outcomes == {Outcome.CREATED: 1} and not result.error
    document = Document.objects.get(tenant=tenant)
    assert (document.title, document.status, document.embedding_model) == (
        "Parking",
        DocumentStatus.READY,
        "fake-hash-384",
    )
    children = Chunk.objects.filter(document=document, level=ChunkLevel.CHILD)
    assert document.chunk_count == children.count() >= 1
    assert all(child.parent_id and child.embedding is not None and child.term_count > 0 for child in children)
    assert _stats(tenant) == (children.count(), sum(c.term_count for c in children))


def test_reingest_unchanged_is_a_no_op(tenant, django_assert_max_num_queries):
    source = source_get_or_create(tenant=tenant, name="uploads")
    file_ingest(tenant=tenant, source=source, name="parking.md", data=ARTICLE)
    chunk_ids = set(Chunk.objects.values_list("pk", flat=True))
    with django_assert_max_num_queries(1):
        result = file_ingest(tenant=tenant, source=source, name="parking.md", data=ARTICLE)
    assert result.outcomes == {Outcome.UNCHANGED: 1}
    assert set(Chunk.objects.values_list("pk", flat=True)) == chunk_ids


def test_changed_content_replaces_chunks_and_statistics(tenant):
    # given
    source = source_get_or_create(tenant=tenant, name="uploads")
    file_ingest(tenant=tenant, source=source, name="parking.md", data=ARTICLE)
    old_ids = set(Chunk.objects.values_list("pk", flat=True))
    # when
    result = file_ingest(tenant=tenant, source=source, name="parking.md", data=b"# Parking\n\nValet only on weekends.")
    # then
    assert result.outcomes == {Outcome.UPDATED: 1}
    assert not old_ids & set(Chunk.objects.values_list("pk", flat=True))
    lexemes = set(TermStats.objects.filter(tenant=tenant).values_list("lexeme", flat=True))
    assert "valet" in lexemes and "pearl" not in lexemes
    children = Chunk.objects.filter(level=ChunkLevel.CHILD)
    assert _stats(tenant) == (children.count(), sum(c.term_count for c in children))


def _index_snapshot(tenant: Tenant) -> tuple[set[int], tuple[int, int], set[tuple[str, int]], set[int]]:
    """The tenant's chunk ids, corpus statistics, lexeme document frequencies and posting chunks."""
    return (
        set(Chunk.objects.filter(tenant=tenant).values_list("pk", flat=True)),
        _stats(tenant),
        set(TermStats.objects.filter(tenant=tenant).values_list("lexeme", "df")),
        set(Posting.objects.filter(tenant=tenant).values_list("chunk_id", flat=True)),
    )


def test_a_changed_file_whose_embedding_fails_keeps_serving_its_previous_chunks(tenant: Tenant) -> None:
    # given an indexed article
    source = source_get_or_create(tenant=tenant, name="uploads")
    file_ingest(tenant=tenant, source=source, name="parking.md", data=ARTICLE)
    before = _index_snapshot(tenant)
    # when its new version cannot be embedded
    changed = b"# Parking\n\nValet only on weekends."
    result = file_ingest(tenant=tenant, source=source, name="parking.md", data=changed, provider=BrokenEmbedder())
    # then the document says it failed, and its chunks and statistics are the previous version's, still found
    assert result.outcomes == {Outcome.FAILED: 1}
    assert Document.objects.get(tenant=tenant).status == DocumentStatus.FAILED
    assert _index_snapshot(tenant) == before
    for mode in ("bm25", "dense", "hybrid"):
        [passage] = retrieve(tenant=tenant, query="parking on Pearl Street", k=3, mode=mode)
        assert "Pearl Street" in passage.text, mode


def test_a_swap_of_chunks_that_fails_halfway_leaves_the_previous_chunks_whole(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an indexed article, and a store that fails after the old chunks and parents were deleted
    source = source_get_or_create(tenant=tenant, name="uploads")
    file_ingest(tenant=tenant, source=source, name="parking.md", data=ARTICLE)
    before = _index_snapshot(tenant)

    def insert_then_fail(**kwargs: Any) -> None:
        assert not Chunk.objects.filter(tenant=tenant, level=ChunkLevel.CHILD).exists()  # halfway: old ones gone
        raise RuntimeError("disk full")

    monkeypatch.setattr(indexing, "insert_children", insert_then_fail)
    # when its new version is stored
    with pytest.raises(RuntimeError, match="disk full"):
        file_ingest(tenant=tenant, source=source, name="parking.md", data=b"# Parking\n\nValet only on weekends.")
    # then none of the swap happened: the previous chunks, statistics and postings are all there
    assert _index_snapshot(tenant) == before
    assert [p.title for p in retrieve(tenant=tenant, query="Pearl Street", k=3, mode="bm25")] == ["Parking"]


def test_csv_faq_ingested_again_loses_the_rows_it_no_longer_has(tenant: Tenant) -> None:
    # given two FAQs in one source
    source = source_get_or_create(tenant=tenant, name="uploads")
    faq = b"question,answer\nIs there wifi?,Yes.\nDo you sell gift cards?,Yes.\nCan I park?,Behind the studio.\n"
    file_ingest(tenant=tenant, source=source, name="faq.csv", data=faq)
    file_ingest(tenant=tenant, source=source, name="billing.csv", data=b"question,answer\nDo you take cards?,Yes.\n")
    # when the first comes again with a question reworded and a row deleted
    edited = b"question,answer\nIs there free wifi?,Yes.\nCan I park?,Behind the studio.\n"
    result = file_ingest(tenant=tenant, source=source, name="faq.csv", data=edited)
    # then its documents are its rows now, and the other FAQ's are untouched
    assert (result.outcomes, result.removed) == ({Outcome.CREATED: 1, Outcome.UNCHANGED: 1}, 2)
    assert set(Document.objects.for_tenant(tenant).values_list("title", flat=True)) == {
        "Is there free wifi?",
        "Can I park?",
        "Do you take cards?",
    }
    children = Chunk.objects.filter(level=ChunkLevel.CHILD)
    assert _stats(tenant) == (children.count(), sum(c.term_count for c in children))


def test_prune_and_delete_remove_documents_and_their_statistics(tenant):
    source = source_get_or_create(tenant=tenant, name="uploads")
    file_ingest(tenant=tenant, source=source, name="parking.md", data=ARTICLE)
    file_ingest(tenant=tenant, source=source, name="hours.md", data=b"# Hours\n\nOpen daily 9 to 7.")
    assert source_prune(tenant=tenant, source=source, keep={"hours.md"}) == 1
    assert list(Document.objects.values_list("external_id", flat=True)) == ["hours.md"]
    document_delete(tenant=tenant, document=Document.objects.get())
    assert not Chunk.objects.exists()
    assert _stats(tenant) == (0, 0) and not TermStats.objects.filter(tenant=tenant).exists()
    assert not Posting.objects.filter(tenant=tenant).exists()


def test_postings_mirror_child_lexemes(tenant):
    add_document(tenant, "Parking", "Free parking behind the studio, parking validated.")
    child = Chunk.objects.get(level=ChunkLevel.CHILD)
    postings = {p.lexeme: (p.tf, p.doc_len) for p in Posting.objects.filter(chunk_id=child.pk)}
    assert postings["park"] == (3 + 2, child.term_count)  # title weight 3 + two in the text
    assert sum(tf for tf, _ in postings.values()) == child.term_count


def test_admin_deletes_go_through_the_service(client, owner, tenant):
    document = add_document(tenant, "Parking", "Free parking.")
    client.force_login(owner)
    response = client.post(f"/admin/knowledge/document/{document.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Posting.objects.exists() and _stats(tenant) == (0, 0)
    add_document(tenant, "Hours", "Open daily.")
    source = KnowledgeSource.objects.get(tenant=tenant)
    client.post(f"/admin/knowledge/knowledgesource/{source.pk}/delete/", {"post": "yes"})
    assert not Document.objects.exists() and not TermStats.objects.exists()


def test_bad_file_gets_its_own_error_and_others_still_ingest(tenant):
    source = source_get_or_create(tenant=tenant, name="uploads")
    bad = file_ingest(tenant=tenant, source=source, name="junk.txt", data=bytes(range(256)))
    good = file_ingest(tenant=tenant, source=source, name="parking.md", data=ARTICLE)
    assert (bad.error_code, bad.outcomes) == ("binary", {})
    assert good.outcomes == {Outcome.CREATED: 1}


def test_long_front_matter_language_keeps_the_subtags_that_fit_its_column(tenant: Tenant) -> None:
    source = source_get_or_create(tenant=tenant, name="uploads")
    language = "en-GB-x-westrdng-yorkshr"
    data = f"---\nlanguage: {language}\n---\n# Parking\n\nFree parking.".encode()
    result = file_ingest(tenant=tenant, source=source, name="parking.md", data=data)
    assert result.outcomes == {Outcome.CREATED: 1} and not result.error
    assert Document.objects.get(tenant=tenant).language == "en-GB-x-westrdng"


def test_files_upload_logs_an_unexpected_error_and_stores_the_other_files(
    tenant: Tenant,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    # given: parsing one of the files raises something no parser is meant to raise
    def parse_or_fail(name: str, data: bytes, **options: Any) -> list[ParsedDocument]:
        if name == "cursed.md":
            raise RuntimeError("parser bug")
        return parse_file(name, data, **options)

    monkeypatch.setattr(services, "parse_file", parse_or_fail)
    files = [SimpleUploadedFile("cursed.md", b"# Cursed\n\nText."), SimpleUploadedFile("parking.md", ARTICLE)]
    # when
    with caplog.at_level(logging.ERROR, logger="knowledge.uploads"), django_capture_on_commit_callbacks(execute=True):
        cursed, parking = files_upload(tenant=tenant, files=files)
    # then
    assert (cursed.file.error_code, cursed.file.error, cursed.documents) == (
        "internal",
        "This file could not be indexed; the error was logged.",
        [],
    )
    [record] = caplog.records
    assert "cursed.md" in record.getMessage() and record.exc_info is not None
    assert "RuntimeError: parser bug" in caplog.text  # with its traceback
    assert [d.outcome for d in parking.documents] == [Outcome.CREATED] and not parking.file.error
    assert list(Document.objects.for_tenant(tenant).values_list("title", "status")) == [("Parking", "ready")]


def test_files_upload_keeps_nothing_of_a_file_that_fails_after_storing(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # given: the failure comes after the file's documents were written
    real_parsed_ingest = services.parsed_ingest

    def parsed_ingest_failing(**kwargs: Any) -> FileResult:
        result = real_parsed_ingest(**kwargs)
        if result.name == "cursed.md":
            raise RuntimeError("after the insert")
        return result

    monkeypatch.setattr(services, "parsed_ingest", parsed_ingest_failing)
    files = [SimpleUploadedFile("cursed.md", b"# Cursed\n\nText."), SimpleUploadedFile("parking.md", ARTICLE)]
    # when
    with caplog.at_level(logging.ERROR, logger="knowledge.uploads"):
        cursed, parking = files_upload(tenant=tenant, files=files)
    # then: the failed file's transaction rolled back, the other file's did not
    assert cursed.file.error_code == "internal" and cursed.documents == []
    assert "RuntimeError: after the insert" in caplog.text
    assert list(Document.objects.for_tenant(tenant).values_list("external_id", flat=True)) == ["parking.md"]
    assert parking.documents[0].outcome == Outcome.CREATED


def test_embedding_failure_marks_document_failed(tenant):
    source = source_get_or_create(tenant=tenant, name="uploads")
    result = file_ingest(tenant=tenant, source=source, name="parking.md", data=ARTICLE, provider=BrokenEmbedder())
    assert result.outcomes == {Outcome.FAILED: 1}
    document = Document.objects.get()
    limited = EMBEDDING_FAILED.format(reason=PUBLIC_MESSAGES[ProviderErrorKind.RATE_LIMIT])
    assert (document.status, document.error) == (DocumentStatus.FAILED, limited)
    # a later run retries it
    retried = file_ingest(tenant=tenant, source=source, name="parking.md", data=ARTICLE)
    assert retried.outcomes == {Outcome.UPDATED: 1}
    assert Document.objects.get().status == DocumentStatus.READY


def test_reindex_reembeds_only_documents_of_another_model(tenant):
    add_document(tenant, "Parking", "Free parking behind the studio.")
    assert tenant_reindex(tenant=tenant) == 0
    assert tenant_reindex(tenant=tenant, provider=FakeEmbeddingProvider(model="fake-v2")) == 1
    assert set(Chunk.objects.filter(level="child").values_list("embedding_model", flat=True)) == {"fake-v2"}


def test_services_refuse_other_tenants_rows(tenant, other_tenant):
    document = add_document(tenant, "Parking", "Free parking.")
    with pytest.raises(ValueError, match="another tenant"):
        document_delete(tenant=other_tenant, document=document)
    source = source_get_or_create(tenant=tenant, name="uploads")
    with pytest.raises(ValueError, match="another tenant"):
        file_ingest(tenant=other_tenant, source=source, name="x.md", data=ARTICLE)


def test_statistics_are_per_tenant(tenant, other_tenant):
    add_document(tenant, "Parking", "Free parking behind the studio.")
    add_document(other_tenant, "Parking", "Parking parking parking everywhere in town.")
    ours = dict(TermStats.objects.filter(tenant=tenant).values_list("lexeme", "df"))
    assert ours["park"] == 1 and "town" not in ours


def _recomputed_stats(tenant):
    children = Chunk.objects.filter(tenant=tenant, level=ChunkLevel.CHILD)
    return (children.count(), sum(c.term_count for c in children))


def _ingest(tenant, source, texts):
    parsed = [ParsedDocument(f"doc-{n}", f"Title {n}", text) for n, text in enumerate(texts)]
    return parsed_ingest(tenant=tenant, source=source, name="batch", parsed_documents=parsed)


def test_batch_index_costs_the_same_queries_for_two_or_twenty_documents(tenant):
    counts = []
    for size in (2, 20):
        source = source_get_or_create(tenant=tenant, name=f"uploads {size}")
        with CaptureQueriesContext(connection) as captured:
            _ingest(tenant, source, [f"Parking {n} is free behind studio {size}." for n in range(size)])
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
    assert _stats(tenant) == _recomputed_stats(tenant)
    assert Document.objects.filter(tenant=tenant, status=DocumentStatus.READY).count() == 22


def test_batch_reindex_replaces_every_document_and_keeps_statistics_exact(tenant, other_tenant):
    # given
    source = source_get_or_create(tenant=tenant, name="uploads")
    theirs = source_get_or_create(tenant=other_tenant, name="uploads")
    _ingest(tenant, source, ["Free parking behind the studio.", "Yoga on Mondays.", "Gift cards at the desk."])
    _ingest(other_tenant, theirs, ["Parking parking parking in town."])
    other_before = _stats(other_tenant)
    old_ids = set(Chunk.objects.filter(tenant=tenant).values_list("pk", flat=True))
    # when: two documents change, one stays, one is new
    result = _ingest(
        tenant, source, ["Valet parking only.", "Yoga on Mondays.", "Gift vouchers by email.", "Sauna hours."]
    )
    # then
    assert result.outcomes == {Outcome.UPDATED: 2, Outcome.UNCHANGED: 1, Outcome.CREATED: 1}
    assert _stats(tenant) == _recomputed_stats(tenant) and _stats(other_tenant) == other_before
    lexemes = dict(TermStats.objects.filter(tenant=tenant).values_list("lexeme", "df"))
    assert "valet" in lexemes and "free" not in lexemes and lexemes["yoga"] == 1
    kept = Document.objects.get(tenant=tenant, external_id="doc-1")
    assert set(Chunk.objects.filter(document=kept).values_list("pk", flat=True)) <= old_ids
    assert _posting_rows(tenant) == set(Posting.objects.filter(tenant=tenant).values_list("chunk_id", "lexeme", "tf"))


def _posting_rows(tenant):
    """(chunk, lexeme, tf) of every child lexeme, straight from the chunks' tsvectors."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.id, u.lexeme, array_length(u.positions, 1) FROM knowledge_chunk c, unnest(c.search_vector) u "
            "WHERE c.tenant_id = %s AND c.level = 'child'",
            [tenant.pk],
        )
        return set(cursor.fetchall())


def test_repeated_external_id_in_one_file_is_indexed_once_with_its_last_text(tenant):
    source = source_get_or_create(tenant=tenant, name="uploads")
    parsed = [ParsedDocument("faq-1", "Parking", "Free parking."), ParsedDocument("faq-1", "Parking", "Valet only.")]
    result = parsed_ingest(tenant=tenant, source=source, name="faq.csv", parsed_documents=parsed)
    document = Document.objects.get(tenant=tenant)
    children = Chunk.objects.filter(document=document, level=ChunkLevel.CHILD)
    assert result.outcomes == {Outcome.CREATED: 1, Outcome.UPDATED: 1}
    assert [c.text for c in children] == ["Valet only."] and document.chunk_count == 1
    assert _stats(tenant) == _recomputed_stats(tenant)
