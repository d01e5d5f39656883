"""A query parameter a read of the knowledge API does not take is refused, not ignored:
``?stauts=failed`` (a typo) or ``?source_id=`` (a wrong name) listed every document as if filtered.
The 400 names the unknown parameters and those the operation takes, under ``non_field_errors`` as a
body's unknown fields are; DRF's ``?format=`` stays accepted everywhere."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from knowledge.models import Document, DocumentStatus
from knowledge.services import source_get_or_create
from knowledge.tests.factories import add_document
from supportai.api_fields import unknown_fields_error
from supportai.api_query import NO_QUERY_PARAMETERS, QUERY_PARAMETERS_ERROR, UNKNOWN_QUERY_PARAMETERS
from supportai.models import Tenant
from supportai.tests.factories import api_client

DOCUMENTS = "/api/v1/knowledge/documents/"
LIST_PARAMETERS = ["status", "source", "page", "format"]
NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY


def _refusal(sent: list[str], accepted: list[str]) -> dict[str, list[str]]:
    return {NON_FIELD: [unknown_fields_error(sent, accepted, UNKNOWN_QUERY_PARAMETERS)]}


def test_the_message_names_the_unknown_parameters_and_the_accepted_ones() -> None:
    assert unknown_fields_error(["stauts"], LIST_PARAMETERS, UNKNOWN_QUERY_PARAMETERS) == (
        "Unknown query parameter 'stauts'; the query parameters are status, source, page, format."
    )
    assert unknown_fields_error(["b", "a"], [], NO_QUERY_PARAMETERS) == (
        "Unknown query parameters 'a', 'b'; the operation takes none."
    )


@pytest.mark.parametrize("query", [{"stauts": "failed"}, {"source_id": "1"}, {"status": "failed", "pgae": "2"}])
def test_the_document_list_refuses_an_unknown_parameter_naming_it(tenant: Tenant, query: dict[str, str]) -> None:
    # given a failed document and a ready one
    add_document(tenant, "Parking", "Free parking.")
    add_document(tenant, "Hours", "Open 9 to 7.")
    Document.objects.filter(title="Parking").update(status=DocumentStatus.FAILED)
    # when a filter is misspelt
    response = api_client(tenant).get(DOCUMENTS, query)
    # then the list is refused, naming it, not given unfiltered
    assert response.status_code == 400
    assert response.json() == _refusal(list(query), LIST_PARAMETERS)


def test_the_document_list_refuses_paging_parameters_it_does_not_take(tenant: Tenant) -> None:
    # page_size and limit would be read as asking for longer pages, which no parameter gives
    response = api_client(tenant).get(DOCUMENTS, {"page_size": 100, "limit": 100, "page": 1})
    assert response.status_code == 400
    assert response.json() == _refusal(["limit", "page_size"], LIST_PARAMETERS)


def test_the_document_list_still_takes_its_filters_and_format(tenant: Tenant, other_tenant: Tenant) -> None:
    # given
    manuals = source_get_or_create(tenant=tenant, name="manuals")
    add_document(tenant, "Printer", "Press the green button.", source=manuals)
    add_document(tenant, "Parking", "Free parking.")
    add_document(other_tenant, "Their printer", "Nope.")
    client = api_client(tenant)
    # when every parameter it takes is sent, or sent empty (absent)
    response = client.get(DOCUMENTS, {"status": "ready", "source": str(manuals.pk), "page": "1", "format": "json"})
    empty = client.get(DOCUMENTS, {"status": "", "source": "", "page": ""})
    browsable = client.get(DOCUMENTS, {"format": "api"})
    # then
    assert response.status_code == 200 and [d["title"] for d in response.json()["results"]] == ["Printer"]
    assert empty.status_code == 200 and empty.json()["count"] == 2
    assert browsable.status_code == 200 and browsable["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("kind", ["document", "source"])
def test_a_detail_refuses_any_parameter_but_format(tenant: Tenant, other_tenant: Tenant, kind: str) -> None:
    # given the tenant's document and another tenant's
    mine, theirs = add_document(tenant, "Parking", "Free."), add_document(other_tenant, "Secret", "Nope.")
    (my_id, my_path), (_, their_path) = (
        (document.pk, f"{DOCUMENTS}{document.pk}/")
        if kind == "document"
        else (document.source_id, f"/api/v1/knowledge/sources/{document.source_id}/")
        for document in (mine, theirs)
    )
    client = api_client(tenant)
    # when / then a parameter the read does not take is refused, naming it
    refused = client.get(my_path, {"fields": "title"})
    assert refused.status_code == 400 and refused.json() == _refusal(["fields"], ["format"])
    assert client.head(my_path, {"fields": "title"}).status_code == 400
    # and format is taken
    assert client.get(my_path, {"format": "json"}).json()["id"] == my_id
    # and another tenant's stays not found, with or without a parameter, and nothing of it shows
    for query in ({}, {"format": "json"}, {"fields": "title"}):
        answer = client.get(their_path, query)
        assert answer.status_code in (400, 404) and "Secret" not in answer.content.decode()
    assert client.get(their_path, {"format": "json"}).status_code == 404


def test_a_request_without_a_key_is_told_401_before_its_parameters(tenant: Tenant) -> None:
    assert APIClient().get(DOCUMENTS, {"stauts": "failed"}).status_code == 401


def test_the_tenant_read_refuses_an_unknown_parameter(tenant: Tenant) -> None:
    client = api_client(tenant)
    refused = client.get("/api/v1/tenant/", {"slug": "other"})
    assert refused.status_code == 400 and refused.json() == _refusal(["slug"], ["format"])
    assert client.get("/api/v1/tenant/", {"format": "json"}).json()["slug"] == tenant.slug


def test_without_the_format_override_no_parameter_is_taken(tenant: Tenant, settings: Any) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "URL_FORMAT_OVERRIDE": None}
    refused = api_client(tenant).get("/api/v1/tenant/", {"format": "json"})
    assert refused.status_code == 400
    assert refused.json() == {NON_FIELD: [unknown_fields_error(["format"], [], NO_QUERY_PARAMETERS)]}


@pytest.mark.parametrize(
    "path", ["/api/v1/knowledge/documents/", "/api/v1/knowledge/documents/{id}/", "/api/v1/knowledge/sources/{id}/"]
)
def test_the_schema_tells_the_reads_refuse_unknown_parameters(path: str) -> None:
    schema: dict[str, Any] = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert QUERY_PARAMETERS_ERROR in schema["paths"][path]["get"]["responses"]["400"]["description"]


@pytest.mark.parametrize("method", ["TRACE", "PATCH", "PUT"])
def test_a_method_the_operation_lacks_is_not_allowed_whatever_its_query(tenant: Tenant, method: str) -> None:
    # when a method the documents endpoint has no handler for comes with the list's filters
    response = api_client(tenant).generic(method, f"{DOCUMENTS}?status=pending&source=1&page=1")
    # then it is told the method is not allowed (405), not that the list's filters are unknown
    assert response.status_code == 405
