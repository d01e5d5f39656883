"""A document's url is stored only when it is an absolute http(s) address: a CSV FAQ's url column, a
Markdown file's front matter and a BEIR record's ``metadata.url`` could carry ``javascript:`` or
``data:``, which a third-party client of the API might make clickable."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils.html import escape

from knowledge.models import Document
from knowledge.parsed import URLS_LEFT_OUT
from knowledge.tests.factories import add_document
from supportai.bidi import isolate
from supportai.models import Tenant
from supportai.tests.factories import api_client

DOCUMENTS = "/api/v1/knowledge/documents/"
DISGUISED = [
    " JaVa\tscript:alert(1)",
    "\x01javascript:alert(document.cookie)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "//evil.example.com/",
    "help/parking.html",
]


def _csv(rows: list[tuple[str, str, str]]) -> bytes:
    lines = "".join(f"{json.dumps(q)},{json.dumps(a)},{json.dumps(url)}\n" for q, a, url in rows)
    return ("question,answer,url\n" + lines).encode()


def _upload(tenant: Tenant, name: str, data: bytes) -> dict:
    response = api_client(tenant).post(DOCUMENTS, {"files": [SimpleUploadedFile(name, data)]}, format="multipart")
    assert response.status_code == 202
    [result] = response.json()["files"]
    return result


@pytest.mark.parametrize("url", DISGUISED)
def test_a_csv_faq_row_keeps_its_text_and_loses_an_address_that_is_not_http(tenant: Tenant, url: str) -> None:
    # given a FAQ whose second row links to something that is no web address
    data = _csv(
        [("Can I park?", "Yes, behind the studio.", "https://alpha.example.com/parking"), ("Wifi?", "No.", url)]
    )
    # when
    result = _upload(tenant, "faq.csv", data)
    # then both rows are stored and indexed, the bad address left out with a note, not an error
    assert (result["error_code"], result["error"]) == ("", "")
    assert result["note"] == URLS_LEFT_OUT.format(count=1, plural="", titles='"Wifi?"')
    stored = dict(Document.objects.for_tenant(tenant).values_list("title", "url"))
    assert stored == {"Can I park?": "https://alpha.example.com/parking", "Wifi?": ""}
    assert Document.objects.for_tenant(tenant).get(title="Wifi?").content == "No."


def test_markdown_front_matter_and_beir_records_lose_such_addresses_too(tenant: Tenant) -> None:
    # given a Markdown file and a corpus whose addresses are no web addresses, and one that is
    markdown = b"---\ntitle: Parking\nurl: JAVASCRIPT:alert(1)\n---\nFree parking behind the studio.\n"
    corpus = "\n".join(
        json.dumps({"_id": doc_id, "title": title, "text": "Text.", "metadata": {"url": url}})
        for doc_id, title, url in [
            ("d1", "Hours", " data:text/html,<script>alert(1)</script>"),
            ("d2", "Yoga", "vbscript:msgbox(1)"),
            ("d3", "Gift cards", " https://alpha.example.com/gift\n"),
        ]
    ).encode()
    # when
    page = _upload(tenant, "parking.md", markdown)
    records = _upload(tenant, "corpus.jsonl", corpus)
    # then
    assert page["note"] == URLS_LEFT_OUT.format(count=1, plural="", titles='"Parking"')
    assert records["note"] == URLS_LEFT_OUT.format(count=2, plural="es", titles='"Hours", "Yoga"')
    stored = dict(Document.objects.for_tenant(tenant).values_list("title", "url"))
    assert stored == {"Parking": "", "Hours": "", "Yoga": "", "Gift cards": "https://alpha.example.com/gift"}


def test_a_file_whose_addresses_are_all_web_addresses_has_no_note(tenant: Tenant) -> None:
    result = _upload(tenant, "faq.csv", _csv([("Can I park?", "Yes.", "http://alpha.example.com/p")]))
    assert result["note"] == ""


def test_the_api_never_gives_an_address_stored_before_that_is_not_http(tenant: Tenant, other_tenant: Tenant) -> None:
    # given documents stored before addresses were checked
    ours = add_document(tenant, "Parking", "Free parking behind the studio.", url="javascript:alert(1)")
    theirs = add_document(other_tenant, "Parking", "Their parking is in the garage.", url="https://bravo.example.com/")
    client = api_client(tenant)
    # when / then: the list, the document and a search give no address for it
    assert [d["url"] for d in client.get(DOCUMENTS).json()["results"]] == [""]
    assert client.get(f"{DOCUMENTS}{ours.pk}/").json()["url"] == ""
    passages = client.post("/api/v1/knowledge/search/", {"query": "parking", "mode": "bm25"}, format="json").json()
    assert [(p["document_id"], p["url"]) for p in passages] == [(ours.pk, "")]
    # and the other tenant's document, address and all, is not this key's to read
    assert client.get(f"{DOCUMENTS}{theirs.pk}/").status_code == 404
    assert api_client(other_tenant).get(f"{DOCUMENTS}{theirs.pk}/").json()["url"] == "https://bravo.example.com/"


def test_ingest_names_the_addresses_it_left_out(tenant: Tenant, tmp_path, capsys) -> None:
    # given
    (tmp_path / "faq.csv").write_bytes(_csv([("Wifi?", "No.", "javascript:alert(1)")]))
    # when
    call_command("ingest", str(tmp_path), "--tenant", tenant.slug, "--no-progress")
    # then
    err = capsys.readouterr().err
    assert "faq.csv: " + URLS_LEFT_OUT.format(count=1, plural="", titles='"Wifi?"') in err
    assert Document.objects.for_tenant(tenant).get().url == ""


def test_the_console_upload_says_which_addresses_it_left_out(client, owner, tenant: Tenant) -> None:
    # given
    client.force_login(owner)
    markdown = SimpleUploadedFile("parking.md", b"---\ntitle: Parking\nurl: javascript:alert(1)\n---\nFree parking.\n")
    # when
    response = client.post("/console/knowledge/", {"upload": [markdown]}, follow=True)
    # then the file is read, with the note after its outcome
    note = URLS_LEFT_OUT.format(count=1, plural="", titles='"Parking"')
    assert f"{isolate('Parking')}: created; {escape(note)}" in response.content.decode()
    assert Document.objects.for_tenant(tenant).get().url == ""
