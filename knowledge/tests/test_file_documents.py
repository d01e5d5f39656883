"""A file read again gives all its documents: those it no longer holds go (Document.file_name)."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from knowledge.models import Chunk, ChunkLevel, CorpusStats, Document
from knowledge.services import file_ingest, source_get_or_create
from knowledge.uploads import files_upload
from supportai.models import Tenant

pytestmark = pytest.mark.django_db


def _corpus(*records: tuple[str, str]) -> bytes:
    return "\n".join(json.dumps({"_id": _id, "title": _id, "text": text}) for _id, text in records).encode()


def _ids(tenant: Tenant) -> dict[str, str]:
    return dict(Document.objects.for_tenant(tenant).values_list("external_id", "file_name"))


def _children_counted(tenant: Tenant) -> bool:
    stats = CorpusStats.objects.get(tenant=tenant)
    children = Chunk.objects.filter(tenant=tenant, level=ChunkLevel.CHILD)
    return (stats.chunk_count, stats.total_terms) == (children.count(), sum(c.term_count for c in children))


def test_a_corpus_uploaded_again_loses_the_records_it_no_longer_has(tenant: Tenant, other_tenant: Tenant) -> None:
    # given a corpus in two tenants, and a second file beside it
    corpus = _corpus(("1", "Parking is behind the studio."), ("2", "Gift cards never expire."))
    source = source_get_or_create(tenant=tenant, name="uploads")
    file_ingest(tenant=tenant, source=source, name="corpus.jsonl", data=corpus)
    file_ingest(tenant=tenant, source=source, name="wifi.md", data=b"# Wifi\n\nThe password is on the door.")
    file_ingest(
        tenant=other_tenant,
        source=source_get_or_create(tenant=other_tenant, name="uploads"),
        name="corpus.jsonl",
        data=corpus,
    )
    # when the corpus comes again without record 2
    result = file_ingest(
        tenant=tenant, source=source, name="corpus.jsonl", data=_corpus(("1", "Parking is behind the studio."))
    )
    # then record 2 is gone from this tenant only, and the statistics count what is left
    assert result.removed == 1
    assert _ids(tenant) == {"1": "corpus.jsonl", "wifi.md": "wifi.md"}
    assert set(_ids(other_tenant)) == {"1", "2"}
    assert _children_counted(tenant)


def test_a_record_moved_to_another_file_stays_when_its_old_file_comes_again(tenant: Tenant) -> None:
    # given two corpora of one source
    source = source_get_or_create(tenant=tenant, name="uploads")
    file_ingest(tenant=tenant, source=source, name="a.jsonl", data=_corpus(("1", "One."), ("2", "Two.")))
    file_ingest(tenant=tenant, source=source, name="b.jsonl", data=_corpus(("3", "Three.")))
    # when record 2 moves, unchanged, from a to b, and a comes again after b
    file_ingest(tenant=tenant, source=source, name="b.jsonl", data=_corpus(("2", "Two."), ("3", "Three.")))
    result = file_ingest(tenant=tenant, source=source, name="a.jsonl", data=_corpus(("1", "One.")))
    # then it belongs to b and nothing was removed
    assert result.removed == 0
    assert _ids(tenant) == {"1": "a.jsonl", "2": "b.jsonl", "3": "b.jsonl"}


def test_an_upload_that_fails_keeps_what_its_file_gave_before(tenant: Tenant) -> None:
    # given a stored corpus
    source = source_get_or_create(tenant=tenant, name="uploads")
    file_ingest(tenant=tenant, source=source, name="corpus.jsonl", data=_corpus(("1", "One."), ("2", "Two.")))
    # when a broken version of it is uploaded
    [result] = files_upload(tenant=tenant, files=[SimpleUploadedFile("corpus.jsonl", b'{"_id": "1", "text": ')])
    # then it is refused and both records stay
    assert result.file.error_code == "malformed"
    assert set(_ids(tenant)) == {"1", "2"}


@pytest.mark.django_db(transaction=True)
def test_migration_records_the_files_that_stored_documents_came_from() -> None:
    # given documents stored before file names were recorded
    before, after = [("knowledge", "0008_document_aliases")], [("knowledge", "0009_document_file_name")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    tenant = apps.get_model("supportai", "Tenant").objects.create(name="Old", slug="old")
    source_model, document_model = (
        apps.get_model("knowledge", "KnowledgeSource"),
        apps.get_model("knowledge", "Document"),
    )
    uploads = source_model.objects.create(tenant=tenant, name="uploads", kind="upload")
    site = source_model.objects.create(tenant=tenant, name="site", kind="url")
    for source, external_id in [
        (uploads, "help/faq.csv#0123456789abcdef"),
        (uploads, "FAQ.CSV#0123456789ABCDEF"),
        (uploads, "help/parking.md"),
        (uploads, "Guide.PDF"),
        (uploads, "42"),  # a corpus record
        (uploads, "notes.csv#short"),
        (site, "https://example.com/help.html"),
    ]:
        document_model.objects.create(tenant=tenant, source=source, external_id=external_id, title=external_id)
    # when the migration runs
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    # then each file's documents name it; records, odd ids and website pages name none
    migrated = executor.loader.project_state(after).apps.get_model("knowledge", "Document")
    assert dict(migrated.objects.values_list("external_id", "file_name")) == {
        "help/faq.csv#0123456789abcdef": "help/faq.csv",
        "FAQ.CSV#0123456789ABCDEF": "FAQ.CSV",
        "help/parking.md": "help/parking.md",
        "Guide.PDF": "Guide.PDF",
        "42": "",
        "notes.csv#short": "",
        "https://example.com/help.html": "",
    }
