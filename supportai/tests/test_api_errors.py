"""Django's request-size guards answer in the tenant API's JSON, like every other API error."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pytest_django.fixtures import Settings

from knowledge.models import Document
from supportai.models import Tenant
from supportai.request_limits import API_MAX_FILES, BODY_TOO_LARGE, TOO_MANY_FIELDS, TOO_MANY_FILES
from supportai.tests.factories import api_client

SEARCH = "/api/v1/knowledge/search/"
UPLOAD = "/api/v1/knowledge/documents/"


def test_a_json_body_over_the_limit_gets_413_with_the_limit(tenant: Tenant, settings: Settings) -> None:
    # given
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    # when
    response = api_client(tenant).post(SEARCH, {"query": "parking " * 200}, format="json")
    # then
    assert response.status_code == 413
    assert response.json() == {"detail": BODY_TOO_LARGE.format(limit=1024)}
    assert "1,024-byte limit" in response.json()["detail"]


def test_too_many_form_fields_get_a_json_400(tenant: Tenant, settings: Settings) -> None:
    # given
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    body = "&".join(f"field{number}=1" for number in range(5))
    # when
    response = api_client(tenant).post(SEARCH, body, content_type="application/x-www-form-urlencoded")
    # then
    assert (response.status_code, response.json()) == (400, {"detail": TOO_MANY_FIELDS.format(limit=3)})


def test_too_many_files_get_a_json_400_and_nothing_is_stored(tenant: Tenant, settings: Settings) -> None:
    # given
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    files = [SimpleUploadedFile(f"page{number}.md", b"# Page\n\nText.") for number in range(3)]
    # when
    response = api_client(tenant).post(UPLOAD, {"files": files}, format="multipart")
    # then
    assert (response.status_code, response.json()) == (400, {"detail": TOO_MANY_FILES.format(limit=2)})
    assert not Document.objects.for_tenant(tenant).exists()


@pytest.mark.parametrize("count", [51, 101])
def test_an_upload_of_too_many_files_is_told_the_apis_own_limit_over_or_under_djangos(
    tenant: Tenant, count: int
) -> None:
    # given more files than the API takes (50), fewer or more than Django's guard (100) lets through
    files = [SimpleUploadedFile(f"page{number}.md", b"# Page\n\nText.") for number in range(count)]
    # when
    response = api_client(tenant).post(UPLOAD, {"files": files}, format="multipart")
    # then either way the client hears the one limit it must keep to, and nothing is stored
    said = TOO_MANY_FILES.format(limit=API_MAX_FILES)
    assert response.status_code == 400 and API_MAX_FILES == 50
    assert response.json() in ({"detail": said}, {"files": [said]})
    assert not Document.objects.for_tenant(tenant).exists()


@pytest.mark.parametrize(
    ("body", "content_type", "detail"),
    [
        ('{"query": "x', "application/json", "JSON parse error"),
        ("--abc\r\nbroken", "multipart/form-data", "Multipart form parse error - Invalid boundary"),
    ],
)
def test_a_malformed_body_keeps_drfs_parse_error(tenant: Tenant, body: str, content_type: str, detail: str) -> None:
    # when
    response = api_client(tenant).post(SEARCH, body, content_type=content_type)
    # then
    assert response.status_code == 400
    assert response.json()["detail"].startswith(detail)
