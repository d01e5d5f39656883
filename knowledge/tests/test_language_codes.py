"""A typed language must be a real one: a tag whose primary subtag is an ISO 639-1 code (or an ISO
639-2 code ``languages`` maps to one), or an English name. "zz", "xx-YY" and "english2" are refused
at every entry point with a message naming the field, the value and what is accepted; a file or page
that declares such a language is still ingested, with the default language."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from knowledge.console_forms import LANGUAGE_PATTERN
from knowledge.languages import CONFIG_BY_CODE, ISO_639_1_CODES, clean_language, declared_language
from knowledge.models import Document
from knowledge.parsing import parse_file, parse_html_page
from supportai.tests.factories import api_client

BOGUS = ["zz", "xx-YY", "qq_latn", "ZZ-CH", "abcd", "und", "zxx-DE"]
REFUSAL = (
    "language: 'zz' is not a language code; use an ISO 639-1 code such as en or de-CH,"
    " or an English name such as German"
)
REAL = [
    *[("en", "en"), ("EN_us", "en-US"), ("de-CH", "de-CH"), ("yo", "yo"), ("zh-Hant-TW", "zh-Hant-TW")],
    *[("es-419", "es-419"), ("deu-at", "de-AT"), ("nob", "nb"), ("German", "de"), ("simple", "simple")],
    # ISO 639-2/3's three-letter codes (about 7,900) are too many to list: any but those naming no language
    *[("fil", "fil"), ("yue-HK", "yue-HK"), ("jpn", "jpn"), ("ABC", "abc")],
]


def test_the_iso_639_1_codes_are_the_184_two_letter_codes() -> None:
    assert len(ISO_639_1_CODES) == 184
    assert all(re.fullmatch(r"[a-z]{2}", code) for code in ISO_639_1_CODES)
    assert {code for code in CONFIG_BY_CODE if len(code) == 2} <= ISO_639_1_CODES


@pytest.mark.parametrize("value", [*BOGUS, "english2", "zz-" + "x" * 12])
def test_a_typed_language_that_is_no_language_code_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match=r"^language: .* is not a language code; use an ISO 639-1 code"):
        clean_language(value)


def test_the_refusal_names_the_field_the_value_and_what_is_accepted() -> None:
    with pytest.raises(ValueError) as refused:
        clean_language("zz")

    assert str(refused.value) == REFUSAL


@pytest.mark.parametrize(("value", "stored"), REAL)
def test_real_languages_are_still_accepted(value: str, stored: str) -> None:
    assert clean_language(value) == stored


@pytest.mark.parametrize("value", [*BOGUS, "zz-Hant-TW-u-ca-chinese"])
def test_a_declared_language_that_is_no_language_code_is_undeclared(value: str) -> None:
    assert declared_language(value) == ""


@pytest.mark.parametrize("value", ["zz", "xx-YY", "english2", "Zz", "jj-Latn", "  zz  ", "und", "ZXX-de", "abcd"])
def test_the_console_form_pattern_refuses_what_the_server_refuses(value: str) -> None:
    assert re.fullmatch(LANGUAGE_PATTERN, value) is None


@pytest.mark.parametrize(
    "value", ["en", " DE_ch ", "pt-BR", "deu", "German", "zh-Hant-TW", "simple", "fil", "YUE-hk", "unr", "mus-US"]
)
def test_the_console_form_pattern_accepts_real_languages(value: str) -> None:
    assert re.fullmatch(LANGUAGE_PATTERN, value) is not None


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("a.md", b"---\nlanguage: zz\n---\nGutscheine gelten drei Jahre."),
        ("b.html", b'<html lang="xx-YY"><title>T</title><p>Gutscheine gelten drei Jahre.</p></html>'),
        ("c.csv", b"question,answer,language\nGutscheine?,Gelten drei Jahre.,zz\n"),
        ("corpus.jsonl", b'{"_id": "d1", "text": "Gutscheine.", "metadata": {"language": "qq-latn"}}\n'),
    ],
)
def test_a_file_declaring_a_bogus_language_takes_the_default(name: str, data: bytes) -> None:
    assert parse_file(name, data, max_bytes=1_000_000, default_language="de")[0].language == "de"


def test_a_web_page_declaring_a_bogus_language_is_english() -> None:
    assert parse_html_page("https://x.example/", '<html lang="zz"><p>Text.</p></html>').language == "en"


@pytest.mark.django_db(transaction=True)
def test_rest_upload_ingests_a_file_declaring_a_bogus_language_with_the_default(tenant) -> None:
    # given
    files = [SimpleUploadedFile("page.html", b'<html lang="zz"><title>T</title><p>Gutscheine.</p></html>')]
    # when
    response = api_client(tenant).post(
        "/api/v1/knowledge/documents/", {"files": files, "language": "de"}, format="multipart"
    )
    # then
    assert response.status_code == 202
    document = Document.objects.for_tenant(tenant).get()
    assert (document.language, document.search_config, document.status) == ("de", "german", "ready")


@pytest.mark.django_db
def test_rest_upload_refuses_a_bogus_language_and_stores_nothing(tenant) -> None:
    files = [SimpleUploadedFile("a.txt", b"Text.")]

    response = api_client(tenant).post(
        "/api/v1/knowledge/documents/", {"files": files, "language": "zz"}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json()["language"] == [REFUSAL]
    assert not Document.objects.exists()


@pytest.mark.django_db
def test_console_upload_refuses_a_bogus_language_and_stores_nothing(client, owner, tenant) -> None:
    client.force_login(owner)
    files = [SimpleUploadedFile("a.txt", b"Text.")]

    response = client.post("/console/knowledge/", {"upload": files, "language": "zz"}, follow=True)

    assert "Nothing was uploaded: language: &#x27;zz&#x27; is not a language code" in response.content.decode()
    assert not Document.objects.exists()


@pytest.mark.django_db
def test_ingest_command_refuses_a_bogus_language(tenant, tmp_path) -> None:
    (tmp_path / "a.txt").write_text("Text.")

    with pytest.raises(CommandError, match="language: 'xx-YY' is not a language code"):
        call_command("ingest", str(tmp_path), "--tenant", tenant.slug, "--language", "xx-YY")
    assert not Document.objects.exists()
