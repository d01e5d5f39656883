"""A field an operation of the knowledge API does not take is refused, not ignored: a website source
sent ``url`` for ``start_url``, or a search sent ``top_k`` for ``k``, went on with the default in
its place. The 400 names the unknown fields and the operation's own, under ``non_field_errors`` (a
sent name may be no text a JSON key can carry back), with any other errors of the body; the schema
says so (``additionalProperties: false``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.settings import api_settings

from knowledge.models import Document, KnowledgeSource
from knowledge.tests.factories import add_document
from supportai.api_fields import UNKNOWN_NAMED, unknown_fields_error
from supportai.models import Tenant
from supportai.tests.factories import api_client

SOURCES = "/api/v1/knowledge/sources/"
SEARCH = "/api/v1/knowledge/search/"
DOCUMENTS = "/api/v1/knowledge/documents/"
SOURCE_FIELDS = ["name", "start_url", "sitemap_url", "path_prefix", "max_pages", "max_depth"]
SOURCE_FIELDS += ["sync_interval_minutes", "sync_now"]
NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY


def test_the_message_names_the_unknown_fields_and_the_accepted_ones() -> None:
    assert unknown_fields_error(["query", "top_k"], ["query", "k", "mode"]) == (
        "Unknown field 'top_k'; the fields are query, k, mode."
    )
    assert unknown_fields_error(["b", "a", "query"], ["query"]) == "Unknown fields 'a', 'b'; the fields are query."
    assert unknown_fields_error(["query"], ["query", "k"]) == ""


def test_the_message_quotes_a_few_names_cut_and_escaped() -> None:
    many = [f"x{n:02}" for n in range(UNKNOWN_NAMED + 3)]
    assert unknown_fields_error(many, ["q"]).endswith("'x08', 'x09' and 3 more; the fields are q.")
    assert unknown_fields_error(["\ud800" + "a" * 500], ["q"]) == (
        f"Unknown field '\\ud800{'a' * 118}…'; the fields are q."
    )


def test_a_website_source_with_an_unknown_field_is_refused_naming_it(tenant: Tenant, other_tenant: Tenant) -> None:
    # when a source is created with "url", which is no field of the operation
    response = api_client(tenant).post(
        SOURCES, {"name": "Help", "url": "https://help.example.com/", "sync_now": False}, format="json"
    )
    # then it is refused, naming the field and those the operation takes, and no tenant got a source
    assert response.status_code == 400
    assert response.json() == {NON_FIELD: [unknown_fields_error(["url"], SOURCE_FIELDS)]}
    assert not KnowledgeSource.objects.for_tenant(tenant).exists()
    assert not KnowledgeSource.objects.for_tenant(other_tenant).exists()


def test_an_unknown_field_is_told_with_the_bodys_other_errors(tenant: Tenant) -> None:
    response = api_client(tenant).post(SOURCES, {"url": "https://help.example.com/", "max_depth": "2"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "name": ["This field is required."],
        "max_depth": ["A valid integer is required."],
        NON_FIELD: [unknown_fields_error(["url"], SOURCE_FIELDS)],
    }


@pytest.mark.parametrize("body_format", ["json", "multipart"])
def test_a_search_with_an_unknown_field_is_refused(tenant: Tenant, body_format: str) -> None:
    # given a document a search would find
    add_document(tenant, "Parking", "Free parking behind the studio.")
    # when the search says top_k for k
    response = api_client(tenant).post(SEARCH, {"query": "parking", "top_k": 1}, format=body_format)
    # then
    assert response.status_code == 400
    assert response.json() == {NON_FIELD: [unknown_fields_error(["top_k"], ["query", "k", "mode"])]}


def test_a_name_that_is_no_text_is_refused_not_a_server_error(tenant: Tenant) -> None:
    # a JSON key may hold an unpaired surrogate, which no answer can carry back as a key
    response = api_client(tenant).generic("POST", SEARCH, '{"query": "parking", "\\ud800": 1}', "application/json")
    assert response.status_code == 400
    assert response.json() == {NON_FIELD: [unknown_fields_error(["\ud800"], ["query", "k", "mode"])]}


def test_an_upload_with_an_unknown_field_stores_nothing(tenant: Tenant, other_tenant: Tenant) -> None:
    # when a file is uploaded with a "source" field, which the upload does not take
    upload = {"files": [SimpleUploadedFile("parking.md", b"# Parking\nFree.")], "source": "Help"}
    response = api_client(tenant).post(DOCUMENTS, upload, format="multipart")
    # then nothing is stored, and the answer says why
    assert response.status_code == 400
    assert response.json() == {NON_FIELD: [unknown_fields_error(["source"], ["files", "language"])]}
    assert not Document.objects.for_tenant(tenant).exists()
    assert not Document.objects.for_tenant(other_tenant).exists()


def test_the_schema_says_the_request_bodies_take_no_other_fields() -> None:
    schema: dict[str, Any] = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    components = schema["components"]["schemas"]
    for name in ("UrlSourceInputRequest", "RetrieveInputRequest", "DocumentUploadInputRequest"):
        assert components[name]["additionalProperties"] is False, name
    # and the answers are described as before
    assert "additionalProperties" not in components["KnowledgeSource"]
