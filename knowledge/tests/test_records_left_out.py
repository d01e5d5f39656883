"""A BEIR corpus record with neither a title nor a text has nothing to index and is left out, but
never without a word: the file's result says how many records were left out, why and on which lines,
wherever a file's result is told (the REST upload's ``note``, the console's message, ``ingest``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.utils.html import escape

from knowledge.models import Document
from knowledge.parsed import URLS_LEFT_OUT
from knowledge.parsing import parse_file
from knowledge.record_formats import records_left_out
from supportai.models import Tenant
from supportai.tests.factories import api_client

DOCUMENTS = "/api/v1/knowledge/documents/"
LIMIT = 1_000_000


def _corpus(*records: dict[str, object]) -> bytes:
    return "\n".join(json.dumps(record) for record in records).encode()


# Three records, the third with neither a title nor a text (blanks are none).
CORPUS = _corpus(
    {"_id": "d1", "title": "Parking", "text": "Free parking behind the studio."},
    {"_id": "d2", "title": "Hours", "text": ""},
    {"_id": "d3", "title": " ", "text": "\n"},
)


def test_records_left_out_names_the_lines_up_to_a_few() -> None:
    assert records_left_out([3]) == "1 record left out: no title and no text (line 3)"
    assert records_left_out([3, 7]) == "2 records left out: no title and no text (lines 3, 7)"
    assert records_left_out(list(range(1, 9))) == (
        "8 records left out: no title and no text (lines 1, 2, 3, 4, 5 and 3 more)"
    )


def test_parse_file_tells_its_notes_list_which_records_it_left_out() -> None:
    # given a list for the file's notes
    notes: list[str] = []
    # when the corpus is read
    documents = parse_file("corpus.jsonl", CORPUS, max_bytes=LIMIT, notes=notes)
    # then the two records with something to index are its documents, and the third is named
    assert [document.external_id for document in documents] == ["d1", "d2"]
    assert notes == [records_left_out([3])]


def test_a_file_that_leaves_nothing_out_has_no_note() -> None:
    notes: list[str] = []
    parse_file("corpus.jsonl", CORPUS.rsplit(b"\n", 1)[0], max_bytes=LIMIT, notes=notes)
    parse_file("faq.md", b"# Parking\nFree.\n", max_bytes=LIMIT, notes=notes)
    assert notes == []


def test_the_upload_answer_says_which_records_it_left_out(tenant: Tenant, other_tenant: Tenant) -> None:
    # when the corpus is uploaded through the REST API
    response = api_client(tenant).post(
        DOCUMENTS, {"files": [SimpleUploadedFile("corpus.jsonl", CORPUS)]}, format="multipart"
    )
    # then its two documents are created, and its note says why the third is not
    assert response.status_code == 202
    [result] = response.json()["files"]
    assert (result["error_code"], [d["outcome"] for d in result["documents"]]) == ("", ["created", "created"])
    assert result["note"] == records_left_out([3])
    assert sorted(Document.objects.for_tenant(tenant).values_list("external_id", flat=True)) == ["d1", "d2"]
    assert not Document.objects.for_tenant(other_tenant).exists()


def test_a_file_that_left_out_records_and_addresses_says_both(tenant: Tenant) -> None:
    # given a corpus with an address that is no web address, and an empty record
    corpus = _corpus(
        {"_id": "d1", "title": "Hours", "text": "9 to 7.", "metadata": {"url": "javascript:alert(1)"}},
        {"_id": "d2"},
    )
    # when
    response = api_client(tenant).post(
        DOCUMENTS, {"files": [SimpleUploadedFile("corpus.jsonl", corpus)]}, format="multipart"
    )
    # then
    [result] = response.json()["files"]
    urls = URLS_LEFT_OUT.format(count=1, plural="", titles='"Hours"')
    assert result["note"] == f"{records_left_out([2])}; {urls}"


def test_ingest_names_the_records_it_left_out(tenant: Tenant, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # given
    (tmp_path / "corpus.jsonl").write_bytes(CORPUS)
    # when
    call_command("ingest", str(tmp_path), "--tenant", tenant.slug, "--no-progress")
    # then the file's line on stderr says what its summary's "2 documents created" leaves out
    out, err = capsys.readouterr()
    assert out.startswith("1 file: 2 documents created")
    assert f"corpus.jsonl: {records_left_out([3])}" in err


def test_the_console_upload_says_which_records_it_left_out(client: Client, owner: User, tenant: Tenant) -> None:
    # given
    client.force_login(owner)
    # when
    response = client.post("/console/knowledge/", {"upload": [SimpleUploadedFile("corpus.jsonl", CORPUS)]}, follow=True)
    # then
    assert escape(records_left_out([3])) in response.content.decode()
    assert Document.objects.for_tenant(tenant).count() == 2
