"""Uploads never lose a file silently: a second file of the same name, a name Django cut, an empty
file among good ones, and a website source that holds an upload source's name (its syncs would
prune the uploads) each get their own answer."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pytest_django import DjangoCaptureOnCommitCallbacks

from knowledge.models import Document, KnowledgeSource, SourceKind
from knowledge.services import NOT_AN_UPLOAD_SOURCE
from knowledge.source_config import API_UPLOAD_SOURCE, NAME_RESERVED, UPLOAD_SOURCE
from knowledge.uploads import files_upload
from supportai.models import Tenant
from supportai.tests.factories import api_client

UPLOADS = "/api/v1/knowledge/documents/"
PARKING = b"# Parking\n\nFree parking behind the studio."


def _texts(tenant: Tenant) -> dict[str, str]:
    return dict(Document.objects.for_tenant(tenant).values_list("external_id", "content"))


def _legacy_website_source(tenant: Tenant, name: str) -> KnowledgeSource:
    """A website source made before upload source names were kept for uploads."""
    config = {"start_url": "https://help.example.com/"}
    return KnowledgeSource.objects.create(tenant=tenant, name=name, kind=SourceKind.URL, config=config)


def test_a_second_file_of_the_same_name_is_refused_and_the_first_is_kept(tenant: Tenant) -> None:
    files = [
        SimpleUploadedFile("README.md", b"# Parking\n\nFree parking."),
        SimpleUploadedFile("README.md", b"# Hours\n\nOpen 9 to 7."),
        SimpleUploadedFile("hours.md", b"# Hours\n\nOpen 9 to 7."),
    ]

    first, second, other = files_upload(tenant=tenant, files=files)

    assert (first.file.error_code, [d.outcome for d in first.documents]) == ("", ["created"])
    assert second.file.error_code == "duplicate" and second.documents == []
    assert second.file.error == (
        "An earlier file in this upload has the same name, so this one was not stored; rename one of them."
    )
    assert other.file.error_code == ""
    assert _texts(tenant) == {"README.md": "# Parking\n\nFree parking.", "hours.md": "# Hours\n\nOpen 9 to 7."}


def test_a_file_giving_a_document_id_an_earlier_file_gave_is_refused_and_the_first_is_kept(tenant: Tenant) -> None:
    # given two BEIR corpora, both with a document "1"
    files = [
        SimpleUploadedFile("gifts.jsonl", b'{"_id": "1", "text": "Gift cards at the desk."}'),
        SimpleUploadedFile("parking.jsonl", b'{"_id": "1", "text": "Free parking behind."}'),
    ]

    first, second = files_upload(tenant=tenant, files=files)

    assert (first.file.error_code, [d.outcome for d in first.documents]) == ("", ["created"])
    assert (second.file.error_code, second.documents) == ("duplicate", [])
    assert second.file.error == (
        "An earlier file, gifts.jsonl, gave the document id '1', so this file was not stored; "
        "give each document its own id."
    )
    assert _texts(tenant) == {"1": "Gift cards at the desk."}


def test_a_file_refused_does_not_keep_its_name_from_the_next_file(tenant: Tenant) -> None:
    files = [SimpleUploadedFile("README.md", b""), SimpleUploadedFile("README.md", PARKING)]

    empty, good = files_upload(tenant=tenant, files=files)

    assert (empty.file.error_code, good.file.error_code) == ("empty", "")
    assert _texts(tenant) == {"README.md": PARKING.decode()}


def test_names_django_may_have_cut_are_refused_so_two_long_names_never_share_a_document(tenant: Tenant) -> None:
    # given the names Django hands over for a 300- and a 400-character name (both cut to 255)
    cut = SimpleUploadedFile("a" * 300 + ".md", PARKING).name
    assert cut is not None and len(cut) == 255
    longest_kept = "b" * 251 + ".md"

    refused, kept = files_upload(
        tenant=tenant, files=[SimpleUploadedFile(cut, PARKING), SimpleUploadedFile(longest_kept, PARKING)]
    )

    assert refused.file.error_code == "malformed"
    assert (
        refused.file.error == "The file name has 255 characters or more; rename the file to fewer than 255 characters."
    )
    assert kept.file.error_code == "" and set(_texts(tenant)) == {longest_kept}


def test_api_upload_refuses_an_empty_file_on_its_own_and_stores_the_others(
    tenant: Tenant, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    files = [SimpleUploadedFile("parking.md", PARKING), SimpleUploadedFile("empty.md", b"")]

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(tenant).post(UPLOADS, {"files": files}, format="multipart")

    assert response.status_code == 202
    good, empty = response.json()["files"]
    assert good["error"] == "" and [d["outcome"] for d in good["documents"]] == ["created"]
    assert (empty["name"], empty["error_code"], empty["error"]) == (
        "empty.md",
        "empty",
        "The file has no text to index.",
    )
    assert set(_texts(tenant)) == {"parking.md"}


def test_api_upload_answers_409_and_stores_nothing_when_a_website_source_has_its_name(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    # given a website source of this tenant named like the API's upload source
    website = _legacy_website_source(tenant, API_UPLOAD_SOURCE)

    response = api_client(tenant).post(
        UPLOADS, {"files": [SimpleUploadedFile("pricing.md", PARKING)]}, format="multipart"
    )

    assert response.status_code == 409
    assert response.json() == {"detail": NOT_AN_UPLOAD_SOURCE.format(name=API_UPLOAD_SOURCE, kind="URL")}
    assert not Document.objects.for_tenant(tenant).exists()
    website.refresh_from_db()
    assert (website.kind, website.config) == (SourceKind.URL, {"start_url": "https://help.example.com/"})
    # and another tenant's uploads are not affected by it
    theirs = api_client(other_tenant).post(
        UPLOADS, {"files": [SimpleUploadedFile("pricing.md", PARKING)]}, format="multipart"
    )
    assert theirs.status_code == 202
    assert Document.objects.for_tenant(other_tenant).get().source.kind == SourceKind.UPLOAD


def test_console_upload_says_why_nothing_was_stored_when_a_website_source_has_its_name(
    client: Client, owner: User, tenant: Tenant
) -> None:
    _legacy_website_source(tenant, UPLOAD_SOURCE)
    client.force_login(owner)

    response = client.post("/console/knowledge/", {"upload": [SimpleUploadedFile("pricing.md", PARKING)]}, follow=True)

    assert response.status_code == 200
    message = NOT_AN_UPLOAD_SOURCE.format(name=UPLOAD_SOURCE, kind="URL")
    assert f"Nothing was uploaded: {message}".replace("'", "&#x27;") in response.content.decode()
    assert not Document.objects.for_tenant(tenant).exists()


def test_website_sources_cannot_take_an_upload_source_name(client: Client, owner: User, tenant: Tenant) -> None:
    settings = {"start_url": "https://help.example.com/", "sync_now": False}
    for name in (UPLOAD_SOURCE, API_UPLOAD_SOURCE):
        response = api_client(tenant).post("/api/v1/knowledge/sources/", {"name": name, **settings}, format="json")
        assert response.status_code == 400
        assert response.json() == {"name": [NAME_RESERVED.format(name=name)]}
    client.force_login(owner)
    page = client.post("/console/knowledge/sources/new/", {"name": UPLOAD_SOURCE, "start_url": settings["start_url"]})
    assert page.context["form"].errors == {"name": [NAME_RESERVED.format(name=UPLOAD_SOURCE)]}
    assert not KnowledgeSource.objects.for_tenant(tenant).exists()
    # a name that only looks alike is another name
    lookalike = api_client(tenant).post("/api/v1/knowledge/sources/", {"name": "uploads", **settings}, format="json")
    assert lookalike.status_code == 201
    assert KnowledgeSource.objects.for_tenant(tenant).get().name == "uploads"
