"""Files that declare no language take the one given at upload (command, REST API, console)."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from pypdf import PdfWriter
from pypdf.generic import NameObject, TextStringObject

from knowledge.languages import clean_language, declared_language
from knowledge.models import Document
from knowledge.parsing import parse_file, parse_html_page
from knowledge.tests.test_parsing import _pdf_bytes
from supportai.tests.factories import api_client

LIMIT = 1_000_000
UNDECLARED_FILES = [
    ("a.txt", b"Gutscheine gelten drei Jahre."),
    ("b.md", b"# Gutscheine\nGelten drei Jahre."),
    ("c.html", b"<html><title>Gutscheine</title><p>Gelten drei Jahre.</p></html>"),
    ("d.csv", b"question,answer\nGutscheine?,Gelten drei Jahre.\n"),
    ("corpus.jsonl", b'{"_id": "g", "text": "Gelten drei Jahre."}\n'),
]
DECLARED_FILES = [
    ("e.md", b"---\nlanguage: fr\n---\nBons cadeaux.", "fr"),
    ("f.html", b'<html lang="fr"><p>Bons cadeaux.</p></html>', "fr"),
    ("g.csv", b"question,answer,language\nBons?,Oui.,fr\n", "fr"),
]


def _pdf(language: str | None) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(_pdf_bytes("Gelten drei Jahre.")))
    if language is not None:
        writer.root_object[NameObject("/Lang")] = TextStringObject(language)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(("name", "data"), UNDECLARED_FILES)
def test_a_file_that_declares_no_language_takes_the_default(name, data):
    assert parse_file(name, data, max_bytes=LIMIT)[0].language == "en"
    assert parse_file(name, data, max_bytes=LIMIT, default_language="de")[0].language == "de"


@pytest.mark.parametrize(("name", "data", "language"), DECLARED_FILES)
def test_a_files_own_language_wins_over_the_default(name, data, language):
    assert parse_file(name, data, max_bytes=LIMIT, default_language="de")[0].language == language


def test_a_pdf_declares_its_language_in_its_catalog():
    assert parse_file("g.pdf", _pdf("de-DE"), max_bytes=LIMIT, default_language="fr")[0].language == "de-DE"
    assert parse_file("g.pdf", _pdf(None), max_bytes=LIMIT, default_language="fr")[0].language == "fr"


def test_a_web_page_without_lang_is_english():
    assert parse_html_page("https://x.example/", "<title>T</title><p>Text.</p>").language == "en"


@pytest.mark.parametrize(
    ("value", "cleaned"),
    [("de", "de"), (" pt_BR ", "pt-BR"), ("zh-Hans-CN", "zh-Hans-CN"), ("German", "de"), ("ja", "ja")],
)
def test_clean_language_accepts_tags_and_configuration_names(value, cleaned):
    assert clean_language(value) == cleaned


@pytest.mark.parametrize("value", ["", "d", "deutsch sprache", "de;DROP", "x" * 17, "english-united-kingdom-x"])
def test_clean_language_refuses_what_is_not_a_language(value):
    with pytest.raises(ValueError, match="is not a language code; use an ISO 639-1 code such as en or de-CH"):
        clean_language(value)


def test_a_refused_language_is_quoted_only_in_part():
    # a value pasted by mistake (a paragraph, a file's text) is not echoed back whole
    with pytest.raises(ValueError) as refused:
        clean_language("deutsch " * 125)

    message = str(refused.value)
    assert message.startswith("language: 'deutsch deutsch deutsch deutsch deutsch…' is not a language")
    assert len(message) < 160


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        *[("de-DE", "de-DE"), (" fr ", "fr"), ("English (UK)", "en-GB"), ("german", "de")],
        *[("<b>x</b>", ""), ("[en, fr]", ""), ("deutsch sprache", ""), ("1", ""), ("", ""), ("x" * 40, "")],
        # a known code or name followed by anything else, and a name too long to store whole
        *[("en <b>x</b>", ""), ("de (<script>alert(1)</script>)", ""), ("english please ignore", "")],
        *[("English (United Kingdom)", ""), ("de-x-abcdefghijk", "")],  # subtags have at most 8 characters
        # a tag too long for the column keeps its leading whole subtags, never a lone singleton
        *[("zh-Hant-TW-u-ca-chinese", "zh-Hant-TW-u-ca"), ("de-CH-1901-x-abcdefgh", "de-CH-1901")],
    ],
)
def test_a_declared_language_is_kept_only_when_it_is_one(value, stored):
    assert declared_language(value) == stored


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("a.md", b"---\nlanguage: <script>alert(1)</script>\n---\nGutscheine."),
        ("b.html", b'<html lang="not a language"><title>T</title><p>Gutscheine.</p></html>'),
        ("c.csv", b"question,answer,language\nGutscheine?,Ja.,Deutsch!!\n"),
        ("corpus.jsonl", b'{"_id": "d1", "text": "Gutscheine.", "metadata": {"language": "12345"}}\n'),
    ],
)
def test_a_file_declaring_something_that_is_no_language_takes_the_default(name, data):
    assert parse_file(name, data, max_bytes=LIMIT, default_language="de")[0].language == "de"


def test_a_web_page_declaring_something_that_is_no_language_is_english():
    assert parse_html_page("https://x.example/", '<html lang="&lt;x&gt;"><p>Text.</p></html>').language == "en"


def test_ingest_command_gives_undeclared_files_the_language(tenant, other_tenant, tmp_path):
    # given
    (tmp_path / "gutscheine.txt").write_text("Gutscheine gelten drei Jahre.")
    (tmp_path / "bons.md").write_text("---\nlanguage: fr\n---\nBons cadeaux.")
    # when
    call_command("ingest", str(tmp_path), "--tenant", tenant.slug, "--language", "de", "--no-progress")
    # then
    documents = Document.objects.filter(tenant=tenant).values_list("title", "language", "search_config")
    assert set(documents) == {("gutscheine", "de", "german"), ("bons", "fr", "french")}
    assert not Document.objects.filter(tenant=other_tenant).exists()


def test_ingest_command_refuses_a_language_it_cannot_read(tenant, tmp_path):
    (tmp_path / "a.txt").write_text("Text.")
    with pytest.raises(CommandError, match="'deutsch sprache' is not a language"):
        call_command("ingest", str(tmp_path), "--tenant", tenant.slug, "--language", "deutsch sprache")
    assert not Document.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_rest_upload_gives_undeclared_files_the_language(tenant):
    # given
    files = [SimpleUploadedFile("gutscheine.txt", b"Gutscheine gelten drei Jahre.")]
    # when
    response = api_client(tenant).post(
        "/api/v1/knowledge/documents/", {"files": files, "language": "de"}, format="multipart"
    )
    # then
    assert response.status_code == 202
    document_id = response.json()["files"][0]["documents"][0]["id"]
    detail = api_client(tenant).get(f"/api/v1/knowledge/documents/{document_id}/").json()
    assert (detail["language"], detail["status"]) == ("de", "ready")
    assert Document.objects.get(pk=document_id).search_config == "german"


def test_rest_upload_refuses_a_bad_language_and_stores_nothing(tenant):
    files = [SimpleUploadedFile("a.txt", b"Text.")]
    response = api_client(tenant).post(
        "/api/v1/knowledge/documents/", {"files": files, "language": "x y"}, format="multipart"
    )
    assert response.status_code == 400
    assert "is not a language" in response.json()["language"][0]
    assert not Document.objects.exists()


def test_console_upload_gives_undeclared_files_the_language(client, owner, tenant, django_capture_on_commit_callbacks):
    client.force_login(owner)
    files = [SimpleUploadedFile("gutscheine.txt", b"Gutscheine gelten drei Jahre.")]
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/console/knowledge/", {"upload": files, "language": "de"})
    document = Document.objects.for_tenant(tenant).get()
    assert (document.language, document.search_config, document.status) == ("de", "german", "ready")


def test_console_upload_refuses_a_bad_language_and_stores_nothing(client, owner, tenant):
    client.force_login(owner)
    files = [SimpleUploadedFile("a.txt", b"Text.")]
    response = client.post("/console/knowledge/", {"upload": files, "language": "<b>x</b>"}, follow=True)
    body = response.content.decode()
    assert "Nothing was uploaded: language: &#x27;&lt;b&gt;x&lt;/b&gt;&#x27; is not a language" in body
    assert not Document.objects.exists()
    assert 'name="language"' in body
