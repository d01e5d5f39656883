"""A document's language is stored in one form whichever way it was spelled (knowledge/languages.py):
BCP 47's casing, ISO 639-1 codes for ISO 639-2 codes and English names; at every entry point."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from knowledge.languages import clean_language, declared_language, search_config
from knowledge.models import Document, DocumentStatus
from knowledge.parsed import ParsedDocument
from knowledge.services import Outcome, content_hash, file_ingest, source_get_or_create
from knowledge.source_config import url_source_create
from knowledge.sources import knowledge_source_sync
from knowledge.tests.factories import add_document
from knowledge.tests.migration_state import migrate_knowledge_to
from knowledge.tests.site_fake import FakeSite
from supportai.models import Tenant
from supportai.tests.factories import api_client

pytestmark = pytest.mark.django_db

CANONICAL = [
    # case, and "_" between subtags
    *[("en", "en"), ("EN", "en"), (" en ", "en"), ("en_us", "en-US"), ("EN-us", "en-US"), ("pt_br", "pt-BR")],
    # script in title case, region in upper case, the rest lower case, also after a singleton
    *[("zh-hant-tw", "zh-Hant-TW"), ("ZH-HANS", "zh-Hans"), ("de-ch-1901", "de-CH-1901"), ("es-419", "es-419")],
    *[("en-ca-x-ca", "en-CA-x-ca"), ("AZ-LATN-X-LATN", "az-Latn-x-latn"), ("de-1abc", "de-1abc")],
    # ISO 639-2 codes and English names of PostgreSQL's languages: their ISO 639-1 code
    *[("eng", "en"), ("deu", "de"), ("ger", "de"), ("DEU-at", "de-AT"), ("nob", "nb"), ("nor", "no")],
    *[("english", "en"), ("English", "en"), ("German", "de"), ("Norwegian", "no"), ("GREEK", "el")],
    # other tags of real languages as they are, in their casing; "simple" (no stemming) stays
    *[("ja", "ja"), ("yo-ng", "yo-NG"), ("JA-jp", "ja-JP"), ("simple", "simple"), ("Simple", "simple")],
    # three-letter codes of languages with no two-letter one (Filipino, Cantonese) or none mapped here
    *[("fil", "fil"), ("YUE-hk", "yue-HK"), ("jpn", "jpn")],
]


@pytest.mark.parametrize(("value", "stored"), CANONICAL)
def test_a_typed_language_is_stored_in_its_canonical_form(value: str, stored: str) -> None:
    assert clean_language(value) == stored
    assert declared_language(value) == stored
    assert search_config(stored) == search_config(value)


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        *[
            ("English (UK)", "en-GB"),
            ("english (us)", "en-US"),
            ("German (AT)", "de-AT"),
            ("EN (uk)", "en-GB"),
            ("en-uk", "en-GB"),
            ("EN_UK", "en-GB"),
        ],
        # a region named in words is left out rather than guessed
        *[("English (Canada)", "en"), ("Deu (U K)", "de")],
        # a tag too long for the column: canonical, then its leading whole subtags
        *[("ZH-hant-tw-U-CA-chinese", "zh-Hant-TW-u-ca"), ("eng-latn-gb-x-abc", "en-Latn-GB-x-abc")],
        # what is no language is undeclared, as before
        *[("x-klingon", ""), ("i-default", ""), ("English (United Kingdom)", ""), ("Deutsch", ""), ("en us", "")],
        # a three-letter code that names no language (undetermined, multiple, none, uncoded) is not read
        *[("und", ""), ("MUL", ""), ("zxx", ""), ("mis", "")],
    ],
)
def test_a_declared_language_is_stored_in_its_canonical_form(value: str, stored: str) -> None:
    assert declared_language(value) == stored
    if stored:
        assert search_config(stored) == search_config(value)


@pytest.mark.parametrize("value", ["x-klingon", "i-default", "English (UK)", "x" * 17, "en us", "", "de-x-abcdefghijk"])
def test_a_typed_language_that_is_none_is_still_refused(value: str) -> None:
    with pytest.raises(ValueError, match="is not a language"):
        clean_language(value)


def test_console_upload_stores_the_canonical_language(
    client: Client, owner: User, tenant: Tenant, other_tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    # given a document of the other tenant
    add_document(other_tenant, "Valet", "Valet parking only.", language="de")
    client.force_login(owner)
    files = [SimpleUploadedFile("parking.txt", b"Parking behind the studio.")]
    # when
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/console/knowledge/", {"upload": files, "language": " EN_us "})
    # then the upload went into the owner's tenant only, in the canonical form
    document = Document.objects.for_tenant(tenant).get()
    assert (document.language, document.search_config) == ("en-US", "english")
    assert list(Document.objects.for_tenant(other_tenant).values_list("title", "language")) == [("Valet", "de")]
    assert "en-US" in client.get("/console/knowledge/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_rest_upload_stores_the_canonical_language_of_the_default_and_of_a_file(tenant: Tenant) -> None:
    # given an undeclared file and a page that declares lang="EN-us"
    files = [
        SimpleUploadedFile("gutscheine.txt", b"Gutscheine gelten drei Jahre."),
        SimpleUploadedFile("page.html", b'<html lang="EN-us"><title>Wifi</title><p>Ask at the desk.</p></html>'),
    ]
    # when
    response = api_client(tenant).post(
        "/api/v1/knowledge/documents/", {"files": files, "language": "German"}, format="multipart"
    )
    # then each is stored, and shown by the API, in the canonical form
    assert response.status_code == 202
    ids = [result["documents"][0]["id"] for result in response.json()["files"]]
    shown = [api_client(tenant).get(f"/api/v1/knowledge/documents/{pk}/").json()["language"] for pk in ids]
    assert shown == ["de", "en-US"]
    assert dict(Document.objects.for_tenant(tenant).values_list("title", "search_config")) == {
        "gutscheine": "german",
        "Wifi": "english",
    }


def test_rest_api_does_not_show_another_tenants_document(tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = add_document(other_tenant, "Valet", "Valet parking only.", language="de")
    assert api_client(tenant).get(f"/api/v1/knowledge/documents/{theirs.pk}/").status_code == 404


def test_ingest_command_stores_the_canonical_language(tenant: Tenant, other_tenant: Tenant, tmp_path: Any) -> None:
    (tmp_path / "gutscheine.txt").write_text("Gutscheine gelten drei Jahre.")
    (tmp_path / "bons.md").write_text("---\nlanguage: FRE\n---\nBons cadeaux.")
    call_command("ingest", str(tmp_path), "--tenant", tenant.slug, "--language", "DEU_at", "--no-progress")
    documents = Document.objects.for_tenant(tenant).values_list("title", "language", "search_config")
    assert set(documents) == {("gutscheine", "de-AT", "german"), ("bons", "fr", "french")}
    assert not Document.objects.for_tenant(other_tenant).exists()


@pytest.mark.usefixtures("local_crawl")
def test_a_web_page_declaring_lang_in_any_case_is_stored_canonical(tenant: Tenant, site: FakeSite) -> None:
    site.add("/parken", '<html lang="DE-de"><title>Parken</title><main><p>Parkplätze hinten.</p></main></html>')
    source = url_source_create(
        tenant=tenant, name="Help centre", config={"start_url": f"{site.url}/parken"}, sync_now=False
    )
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    document = Document.objects.for_tenant(tenant).get(source=source)
    assert (document.language, document.search_config) == ("de-DE", "german")


def test_a_file_declaring_its_language_in_another_case_is_not_changed(tenant: Tenant, other_tenant: Tenant) -> None:
    # given a file ingested with "language: en", in two tenants
    source = source_get_or_create(tenant=tenant, name="uploads")
    file_ingest(tenant=tenant, source=source, name="wifi.md", data=b"---\nlanguage: en\n---\n# Wifi\n\nAsk.")
    theirs = source_get_or_create(tenant=other_tenant, name="uploads")
    file_ingest(tenant=other_tenant, source=theirs, name="wifi.md", data=b"# Wifi\n\nAsk.")
    before = Document.objects.for_tenant(tenant).get()
    # when it comes again declaring "EN": only the case changed
    result = file_ingest(tenant=tenant, source=source, name="wifi.md", data=b"---\nlanguage: EN\n---\n# Wifi\n\nAsk.")
    # then it is unchanged, not re-indexed
    after = Document.objects.for_tenant(tenant).get()
    assert result.outcomes == {Outcome.UNCHANGED: 1}
    assert (after.language, after.content_hash, after.indexed_at) == ("en", before.content_hash, before.indexed_at)
    assert Document.objects.for_tenant(other_tenant).get().indexed_at is not None


def _admin_post(client: Client, document: Document, language: str) -> Any:
    form = {"url": document.url, "language": language, "links": "[]"}
    unset = {"http_etag": "", "http_last_modified": "", "fetched_at_0": "", "fetched_at_1": ""}
    return client.post(f"/admin/knowledge/document/{document.pk}/change/", form | unset)


def test_the_admin_stores_a_language_in_its_canonical_form_and_refuses_what_is_none(
    owner: User, outsider: User, tenant: Tenant
) -> None:
    # given a document, and the owner and the other tenant's owner in the admin
    document = add_document(tenant, "Parking", "Free parking behind the studio.")
    mine, theirs = Client(), Client()
    mine.force_login(owner)
    theirs.force_login(outsider)
    # when the other tenant's owner sets its language, then the owner sets it twice
    refused_for_outsider = _admin_post(theirs, document, "de")
    document.refresh_from_db()
    language_after_outsider = document.language
    saved = _admin_post(mine, document, "EN_gb")
    document.refresh_from_db()
    language_saved = document.language
    refused = _admin_post(mine, document, "<b>x</b>")
    # then only the owner's well-formed language is saved, in the canonical form
    # (the admin answers a document outside the user's tenants as one that does not exist)
    assert (refused_for_outsider.url, language_after_outsider) == ("/admin/", "en")
    assert saved.status_code == 302 and language_saved == "en-GB"
    assert refused.status_code == 200
    assert "is not a language" in refused.context["adminform"].form.errors["language"][0]
    document.refresh_from_db()
    assert (document.language, document.status) == ("en-GB", DocumentStatus.READY)


@pytest.mark.django_db(transaction=True)
def test_migration_stores_languages_in_their_canonical_form_without_a_reindex() -> None:
    # given documents stored in many spellings, indexed with their language's configuration
    old = migrate_knowledge_to("0015_document_queued_at")
    source = old.source.objects.create(tenant=old.tenant, name="uploads", kind="upload")
    spellings = [
        *["EN", "en_US", "english", "English (UK)", "eng", "deu", "German", "zh-hant-tw", "nob", "simple"],
        *["en", "ja", "<b>x</b>", "x-klingon"],  # already canonical, or no language: left as they are
    ]
    for language in spellings:
        parsed = ParsedDocument(language, f"Doc {language}", "Text.", language=language)
        old.document.objects.create(
            tenant=old.tenant,
            source=source,
            external_id=language,
            title=parsed.title,
            content=parsed.text,
            language=language,
            search_config=search_config(language),
            content_hash=content_hash(parsed),
            status="ready",
        )
    # a title cut to its column: the stored hash is not the stored fields', and is left as it is
    old.document.objects.create(
        tenant=old.tenant, source=source, external_id="cut", title="T", language="DE", content_hash="f" * 64
    )
    # when the migration runs
    migrated = migrate_knowledge_to("0016_document_canonical_languages").document
    # then every language is canonical, with the same configuration, still ready and not changed
    rows = {row[0]: row[1:] for row in migrated.objects.values_list("external_id", "language", "search_config")}
    assert {external_id: language for external_id, (language, _) in rows.items()} == {
        **{"EN": "en", "en_US": "en-US", "english": "en", "English (UK)": "en-GB", "eng": "en", "deu": "de"},
        **{"German": "de", "zh-hant-tw": "zh-Hant-TW", "nob": "nb", "simple": "simple", "en": "en", "ja": "ja"},
        **{"<b>x</b>": "<b>x</b>", "x-klingon": "x-klingon", "cut": "de"},
    }
    for external_id, (language, config) in rows.items():
        if external_id != "cut":
            assert config == search_config(external_id) == search_config(language)
    for document in migrated.objects.exclude(external_id="cut"):
        # what the next ingest of the unchanged file compares with
        parsed = ParsedDocument(document.external_id, document.title, document.content, language=document.language)
        assert (document.content_hash, document.status) == (content_hash(parsed), "ready")
    assert migrated.objects.get(external_id="cut").content_hash == "f" * 64
