"""The OpenAPI schema of the knowledge API names every status an operation answers, and its bodies."""

from __future__ import annotations

import re
import sys
from typing import Any

import pytest
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.api_retrieval import RetrieveApi
from knowledge.tests.factories import add_document
from supportai.api_errors import VALIDATION_BODY
from supportai.api_fields import NOT_BLANK
from supportai.models import Tenant
from supportai.tests.factories import api_client

SCHEMA_ACCEPT = "application/vnd.oai.openapi+json"
AUTH_ERRORS = {"401", "403", "429"}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    document: dict[str, Any] = Client().get("/api/schema/", HTTP_ACCEPT=SCHEMA_ACCEPT).json()
    return document


@pytest.mark.parametrize(
    ("path", "method", "statuses"),
    [
        ("/api/v1/knowledge/documents/", "post", {"202", "400", "409", "413", "415"}),
        ("/api/v1/knowledge/documents/", "get", {"200", "400", "404"}),
        ("/api/v1/knowledge/documents/{id}/", "get", {"200", "400", "404"}),
        ("/api/v1/knowledge/documents/{id}/", "delete", {"204", "400", "404"}),
        ("/api/v1/knowledge/search/", "post", {"200", "400", "413", "415", "503"}),
        ("/api/v1/knowledge/sources/", "post", {"201", "400", "413", "415"}),
        ("/api/v1/knowledge/sources/{id}/", "get", {"200", "400", "404"}),
        ("/api/v1/knowledge/sources/{id}/sync/", "post", {"202", "400", "404", "409"}),
    ],
)
def test_every_operation_documents_its_errors(
    schema: dict[str, Any], path: str, method: str, statuses: set[str]
) -> None:
    responses = schema["paths"][path][method]["responses"]
    assert set(responses) == statuses | AUTH_ERRORS
    for status in (statuses | AUTH_ERRORS) - {"400"}:
        if status.startswith(("4", "5")):
            content = responses[status]["content"]["application/json"]["schema"]
            assert content == {"$ref": "#/components/schemas/Error"}, (path, status)
            assert responses[status]["description"], (path, status)
    if "400" in statuses:  # a map of field names to their messages
        assert responses["400"]["description"].endswith(f"({VALIDATION_BODY})")
        assert responses["400"]["content"]["application/json"]["examples"]


def test_the_upload_answer_is_described_field_by_field(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    upload = schema["paths"]["/api/v1/knowledge/documents/"]["post"]["responses"]["202"]
    assert upload["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/UploadResult"}
    fields = {"name", "error_code", "error", "documents", "removed", "kept", "note"}
    assert set(components["UploadedFile"]["properties"]) == fields
    outcomes = components["OutcomeEnum"]["enum"]
    assert set(outcomes) == {"created", "updated", "unchanged", "failed"}
    error_code = components["UploadedFile"]["properties"]["error_code"]["oneOf"]
    assert error_code == [{"$ref": "#/components/schemas/ErrorCodeEnum"}, {"$ref": "#/components/schemas/BlankEnum"}]
    assert {"empty", "binary", "encoding", "too_large", "unsupported"} <= set(components["ErrorCodeEnum"]["enum"])


def test_the_upload_is_described_as_multipart_only(schema: dict[str, Any]) -> None:
    # files cannot travel in a url-encoded form: such a body is always refused (a 400)
    content = schema["paths"]["/api/v1/knowledge/documents/"]["post"]["requestBody"]["content"]
    assert set(content) == {"multipart/form-data"}
    assert content["multipart/form-data"]["schema"] == {"$ref": "#/components/schemas/DocumentUploadInputRequest"}


def test_required_text_inputs_refuse_blanks_in_the_schema(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    query = components["RetrieveInputRequest"]["properties"]["query"]
    name = components["UrlSourceInputRequest"]["properties"]["name"]
    assert query["minLength"] == name["minLength"] == 1
    # and whitespace alone, which DRF trims to blank (str.strip), or a null character, by a pattern
    assert query["pattern"] == name["pattern"]
    pattern = re.compile(query["pattern"])
    whitespace = [c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()]
    assert not any(pattern.search(c) for c in whitespace)
    assert not any(pattern.search(text) for text in ("a\x00", "\x00", " \x00b "))
    assert all(pattern.search(text) for text in ("a", "\ufeff", " ? ", "two\nlines\n"))


@given(st.text())
@settings(max_examples=300, derandomize=True, database=None)
def test_the_text_pattern_accepts_what_drf_accepts(text: str) -> None:
    serializer = RetrieveApi.InputSerializer(data={"query": text[:2000]})
    accepted = serializer.is_valid() or "query" not in serializer.errors
    assert accepted == bool(re.search(NOT_BLANK.regex, text[:2000]))


def test_a_query_of_whitespace_alone_is_refused_as_blank(tenant: Tenant) -> None:
    response = api_client(tenant).post("/api/v1/knowledge/search/", {"query": "\x0b\x1c\u3000"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"query": ["This field may not be blank."]}


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        # a JSON body is the usual mistake: files travel only as multipart
        ("/api/v1/knowledge/documents/", "application/json"),
        ("/api/v1/knowledge/search/", "text/plain"),
        ("/api/v1/knowledge/sources/", "application/xml"),
    ],
)
def test_a_body_of_a_type_the_operation_does_not_read_gets_the_documented_415(
    schema: dict[str, Any], tenant: Tenant, path: str, content_type: str
) -> None:
    # when
    response = api_client(tenant).generic("POST", path, '{"query": "parking"}', content_type=content_type)
    # then the answer is one the schema names, in its documented shape
    assert response.status_code == 415
    assert set(response.json()) == {"detail"} and content_type in response.json()["detail"]
    assert "415" in schema["paths"][path]["post"]["responses"]


def test_the_document_lists_filters_may_be_sent_empty(schema: dict[str, Any]) -> None:
    parameters = schema["paths"]["/api/v1/knowledge/documents/"]["get"]["parameters"]
    assert {p["name"]: p.get("allowEmptyValue") for p in parameters} == {"status": True, "source": True, "page": True}


def test_an_empty_filter_lists_as_if_it_were_absent(tenant: Tenant, other_tenant: Tenant) -> None:
    # given
    add_document(tenant, "Parking", "Free parking behind the studio.")
    add_document(other_tenant, "Their parking", "Valet parking.")
    # when
    response = api_client(tenant).get("/api/v1/knowledge/documents/?status=&source=&page=")
    # then
    assert response.status_code == 200
    assert [d["title"] for d in response.json()["results"]] == ["Parking"]


def test_the_upload_states_a_files_limit_and_a_requests(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    files = components["DocumentUploadInputRequest"]["properties"]["files"]["description"]
    assert "each up to KNOWLEDGE_MAX_UPLOAD_BYTES (default 10 MiB" in files and "too_large" in files
    assert "KNOWLEDGE_MAX_UPLOAD_REQUEST_BYTES (default 100 MiB) in all" in files
    too_large = schema["paths"]["/api/v1/knowledge/documents/"]["post"]["responses"]["413"]["description"]
    assert too_large.startswith("a request body over KNOWLEDGE_MAX_UPLOAD_REQUEST_BYTES (default 100 MiB;")
