"""A file read again gives all its documents: those it no longer holds go (Document.file_name)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from knowledge import uploads
from knowledge.models import Chunk, ChunkLevel, CorpusStats, Document, KnowledgeSource, SourceStatus
from knowledge.parsed import MESSAGES, ErrorCode
from knowledge.services import file_ingest, source_get_or_create
from knowledge.source_config import API_UPLOAD_SOURCE, UPLOAD_SOURCE
from knowledge.sources import knowledge_source_delete
from knowledge.tests.migration_state import migrate_knowledge_to
from knowledge.uploads import files_upload
from supportai.api_keys import api_key_create
from supportai.bidi import isolate
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


def test_a_record_moved_to_a_file_later_in_the_same_upload_stays_the_same_document(tenant: Tenant) -> None:
    # given two corpora of the upload source
    source = source_get_or_create(tenant=tenant, name=UPLOAD_SOURCE)
    file_ingest(tenant=tenant, source=source, name="a.jsonl", data=_corpus(("1", "One."), ("2", "Two.")))
    file_ingest(tenant=tenant, source=source, name="b.jsonl", data=_corpus(("3", "Three.")))
    moved = Document.objects.get(tenant=tenant, external_id="2")
    # when record 2 moves, unchanged, from a to b, and both come again in one upload, a first
    first, second = files_upload(
        tenant=tenant,
        files=[
            SimpleUploadedFile("a.jsonl", _corpus(("1", "One."))),
            SimpleUploadedFile("b.jsonl", _corpus(("2", "Two."), ("3", "Three."))),
        ],
    )
    # then it was neither deleted nor created again: it is b's, with its id and its chunks
    assert [d.outcome for d in first.documents + second.documents] == ["unchanged"] * 3
    assert (first.file.removed, second.file.removed) == (0, 0)
    assert _ids(tenant) == {"1": "a.jsonl", "2": "b.jsonl", "3": "b.jsonl"}
    assert Document.objects.get(external_id="2").pk == moved.pk
    assert _children_counted(tenant)


def test_a_file_uploaded_again_while_an_upload_of_it_finishes_keeps_the_rows_it_gave(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a FAQ, and a second upload of it that stores its version while the first upload is
    # about to delete the first version's leftovers
    source = source_get_or_create(tenant=tenant, name=UPLOAD_SOURCE)
    file_ingest(tenant=tenant, source=source, name="faq.csv", data=b"question,answer\nWifi?,Yes.\nParking?,No.\n")
    finish = uploads.file_leftovers_delete
    second = [SimpleUploadedFile("faq.csv", b"question,answer\nWifi?,Yes.\nGift cards?,At the desk.\n")]

    def meanwhile(**arguments: Any) -> int:
        if second:
            files_upload(tenant=tenant, files=[second.pop()])
        return finish(**arguments)

    monkeypatch.setattr(uploads, "file_leftovers_delete", meanwhile)
    # when
    files_upload(tenant=tenant, files=[SimpleUploadedFile("faq.csv", b"question,answer\nWifi?,Yes.\nHours?,9 to 7.\n")])
    # then the rows are the second upload's, the one stored last
    titles = set(Document.objects.for_tenant(tenant).values_list("title", flat=True))
    assert titles == {"Wifi?", "Gift cards?"}
    assert _children_counted(tenant)


def test_an_upload_that_fails_keeps_what_its_file_gave_before(tenant: Tenant) -> None:
    # given a corpus stored in the source uploads go to
    source = source_get_or_create(tenant=tenant, name=UPLOAD_SOURCE)
    file_ingest(tenant=tenant, source=source, name="corpus.jsonl", data=_corpus(("1", "One."), ("2", "Two.")))
    # when a broken version of it is uploaded
    [result] = files_upload(tenant=tenant, files=[SimpleUploadedFile("corpus.jsonl", b'{"_id": "1", "text": ')])
    # then it is refused and both records stay
    assert result.file.error_code == "malformed"
    assert set(_ids(tenant)) == {"1", "2"}


def test_while_a_file_of_the_upload_fails_no_file_loses_what_it_no_longer_holds(tenant: Tenant) -> None:
    # given two corpora of the upload source
    source = source_get_or_create(tenant=tenant, name=UPLOAD_SOURCE)
    file_ingest(tenant=tenant, source=source, name="a.jsonl", data=_corpus(("1", "One."), ("2", "Two.")))
    file_ingest(tenant=tenant, source=source, name="b.jsonl", data=_corpus(("3", "Three.")))
    # when record 2 moves from a to b, and b arrives broken
    broken = _corpus(("2", "Two."), ("3", "Three.")) + b'\n{"_id": "4", "text": '
    first, second = files_upload(
        tenant=tenant,
        files=[SimpleUploadedFile("a.jsonl", _corpus(("1", "One."))), SimpleUploadedFile("b.jsonl", broken)],
    )
    # then record 2 stays: it may be in the file that failed
    assert (first.file.removed, second.file.error_code) == (0, "malformed")
    assert set(_ids(tenant)) == {"1", "2", "3"}


def test_the_api_and_the_console_say_what_an_upload_removed(tenant: Tenant, owner: User) -> None:
    # given a FAQ of three rows in the API's uploads and in the console's
    for name in (API_UPLOAD_SOURCE, UPLOAD_SOURCE):
        source = source_get_or_create(tenant=tenant, name=name)
        faq = b"question,answer\nWifi?,Yes.\nParking?,No.\nHours?,9.\n"
        file_ingest(tenant=tenant, source=source, name="faq.csv", data=faq)
    key = api_key_create(tenant=tenant, name="ci").raw_key
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    # when it comes again through the API without one row, and through the console without two
    sent = api.post(
        "/api/v1/knowledge/documents/",
        {"files": [SimpleUploadedFile("faq.csv", b"question,answer\nWifi?,Yes.\nParking?,No.\n")]},
        format="multipart",
    )
    console = Client()
    console.force_login(owner)
    page = console.post(
        "/console/knowledge/",
        {"upload": [SimpleUploadedFile("faq.csv", b"question,answer\nWifi?,Yes.\n")]},
        follow=True,
    )
    # then each says how many documents went
    assert sent.status_code == 202 and sent.json()["files"][0]["removed"] == 1
    said = f"{isolate('faq.csv')}: {isolate('Wifi?')}: unchanged; 2 no longer in the file, removed"
    assert said in page.content.decode()


def test_an_upload_is_its_sources_last_sync(tenant: Tenant, other_tenant: Tenant) -> None:
    # when an upload's only file is refused, then one is read
    files_upload(tenant=tenant, files=[SimpleUploadedFile("empty.md", b"")])
    refused = KnowledgeSource.objects.get(tenant=tenant, name=UPLOAD_SOURCE)
    files_upload(tenant=tenant, files=[SimpleUploadedFile("hours.md", b"# Hours\n\nOpen 9 to 7.")])
    read = KnowledgeSource.objects.get(tenant=tenant, name=UPLOAD_SOURCE)
    # then the source shows each upload as its last sync (no longer "never"), failed while nothing was read
    assert refused.status == SourceStatus.FAILED and refused.last_synced_at is not None
    assert read.status == SourceStatus.IDLE and read.last_synced_at is not None
    assert read.last_synced_at > refused.last_synced_at
    assert not KnowledgeSource.objects.filter(tenant=other_tenant).exists()


@pytest.mark.parametrize("deleted_before", ["second file", "last sync"])
def test_an_upload_whose_source_an_admin_deletes_meanwhile_says_so_for_each_file(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, deleted_before: str
) -> None:
    # given an upload of two files, and an admin deleting its source before the second file, or
    # after the last one, before the upload records it as the source's last sync
    source = source_get_or_create(tenant=tenant, name=API_UPLOAD_SOURCE)
    files = [SimpleUploadedFile(name, f"# {name}\n\nText.".encode()) for name in ("a.md", "b.md")]
    check, settle = uploads.file_check, uploads.file_leftovers_delete

    def admin_deletes() -> None:
        if KnowledgeSource.objects.filter(pk=source.pk).exists():
            knowledge_source_delete(tenant=tenant, source=KnowledgeSource.objects.get(pk=source.pk))

    def check_after(name: str, *arguments: Any, **options: Any) -> None:
        if name == "b.md" and deleted_before == "second file":
            admin_deletes()
        check(name, *arguments, **options)

    def settle_after(**arguments: Any) -> int:
        if deleted_before == "last sync":
            admin_deletes()
        return settle(**arguments)

    monkeypatch.setattr(uploads, "file_check", check_after)
    monkeypatch.setattr(uploads, "file_leftovers_delete", settle_after)
    # when
    key = api_key_create(tenant=tenant, name="ci").raw_key
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = api.post("/api/v1/knowledge/documents/", {"files": files}, format="multipart")
    # then the upload answers, each file saying that it is not stored, and nothing is left behind
    assert response.status_code == 202, response.content
    assert [(f["name"], f["error_code"], f["documents"]) for f in response.json()["files"]] == [
        ("a.md", "source_deleted", []),
        ("b.md", "source_deleted", []),
    ]
    assert response.json()["files"][0]["error"] == MESSAGES[ErrorCode.SOURCE_DELETED]
    assert not KnowledgeSource.objects.filter(tenant=tenant).exists()
    assert not Document.objects.filter(tenant=tenant).exists()
    assert "Traceback" not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_migration_records_the_files_that_stored_documents_came_from() -> None:
    # given documents stored before file names were recorded
    old = migrate_knowledge_to("0008_document_aliases")
    tenant, source_model, document_model = old.tenant, old.source, old.document
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
    migrated = migrate_knowledge_to("0009_document_file_name").document
    # then each file's documents name it; records, odd ids and website pages name none
    assert dict(migrated.objects.values_list("external_id", "file_name")) == {
        "help/faq.csv#0123456789abcdef": "help/faq.csv",
        "FAQ.CSV#0123456789ABCDEF": "FAQ.CSV",
        "help/parking.md": "help/parking.md",
        "Guide.PDF": "Guide.PDF",
        "42": "",
        "notes.csv#short": "",
        "https://example.com/help.html": "",
    }


# "é" as macOS names files (NFD: e and a combining accent) and as Windows does (NFC: one character).
NFD_FAQ, NFC_FAQ = "Fe\u0301vrier/cafe\u0301.csv", "F\u00e9vrier/caf\u00e9.csv"


def test_a_file_named_by_macos_or_windows_is_one_file_through_the_api_and_the_console(
    tenant: Tenant, owner: User
) -> None:
    # given a FAQ uploaded from a Mac, through the API and through the console
    faq = b"question,answer\nWifi?,Yes.\n"
    key = api_key_create(tenant=tenant, name="ci").raw_key
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    console = Client()
    console.force_login(owner)

    def upload(name: str) -> tuple[dict[str, Any], str]:
        sent = api.post("/api/v1/knowledge/documents/", {"files": [SimpleUploadedFile(name, faq)]}, format="multipart")
        page = console.post("/console/knowledge/", {"upload": [SimpleUploadedFile(name, faq)]}, follow=True)
        return sent.json()["files"][0], page.content.decode()

    first, _ = upload("cafe\u0301.csv")
    stored = Document.objects.for_tenant(tenant)
    before = set(stored.values_list("pk", flat=True))
    # when the same file comes from Windows
    sent, page = upload("caf\u00e9.csv")
    # then it is the file stored before (not indexed yet: no commit in this test), in each source, under its NFC name
    assert first["name"] == sent["name"] == "caf\u00e9.csv"
    assert [d["outcome"] for d in sent["documents"]] == ["updated"]
    assert isolate("caf\u00e9.csv") + f": {isolate('Wifi?')}: updated" in page
    assert set(stored.values_list("pk", flat=True)) == before and len(before) == 2
    assert set(stored.values_list("file_name", flat=True)) == {"caf\u00e9.csv"}


def test_an_upload_refuses_a_second_file_of_one_name_in_either_normal_form(tenant: Tenant) -> None:
    faq = b"question,answer\nWifi?,Yes.\n"
    first, second = files_upload(
        tenant=tenant, files=[SimpleUploadedFile("cafe\u0301.csv", faq), SimpleUploadedFile("caf\u00e9.csv", faq)]
    )
    assert (first.file.name, first.file.error) == ("caf\u00e9.csv", "")
    assert (second.file.name, second.file.error_code) == ("caf\u00e9.csv", "duplicate")


@pytest.mark.django_db(transaction=True)
def test_migration_writes_stored_file_names_in_nfc() -> None:
    # given files stored under NFD names, one also stored under its NFC name, and a website page
    old = migrate_knowledge_to("0011_url_source_max_pages_at_least_1")
    tenant, source_model, document_model = old.tenant, old.source, old.document
    uploads = source_model.objects.create(tenant=tenant, name="Uploads", kind="upload")
    folder = source_model.objects.create(tenant=tenant, name="Help", kind="upload", config={"path": "/srv/help"})
    site = source_model.objects.create(tenant=tenant, name="site", kind="url")
    nfd_md, nfc_md = "cafe\u0301.md", "caf\u00e9.md"
    for source, external_id, file_name in [
        (uploads, f"{NFD_FAQ}#0123456789abcdef", NFD_FAQ),
        (uploads, f"{NFD_FAQ}#fedcba9876543210", NFD_FAQ),
        (uploads, f"{NFC_FAQ}#fedcba9876543210", NFC_FAQ),  # the same row, uploaded again from Windows
        (uploads, "re\u0301sume\u0301-1", "re\u0301sume\u0301.jsonl"),  # a corpus record keeps its own id
        (uploads, nfd_md, nfd_md),
        (folder, nfd_md, nfd_md),  # another source: its own file
        (folder, "ok.md", "ok.md"),
        (site, f"https://example.com/{nfd_md}", ""),
    ]:
        document_model.objects.create(
            tenant=tenant, source=source, external_id=external_id, file_name=file_name, title=external_id
        )
    # when the migration runs
    migrated = migrate_knowledge_to("0012_document_nfc_file_names").document
    # then the files' names are NFC, but for the row already stored under its NFC name; records and pages keep theirs
    stored = sorted((d.source.name, d.external_id, d.file_name) for d in migrated.objects.select_related("source"))
    assert stored == sorted(
        [
            ("Help", nfc_md, nfc_md),
            ("Help", "ok.md", "ok.md"),
            ("Uploads", f"{NFC_FAQ}#0123456789abcdef", NFC_FAQ),
            ("Uploads", f"{NFC_FAQ}#fedcba9876543210", NFC_FAQ),
            ("Uploads", f"{NFD_FAQ}#fedcba9876543210", NFD_FAQ),
            ("Uploads", nfc_md, nfc_md),
            ("Uploads", "re\u0301sume\u0301-1", "r\u00e9sum\u00e9.jsonl"),
            ("site", f"https://example.com/{nfd_md}", ""),
        ]
    )
