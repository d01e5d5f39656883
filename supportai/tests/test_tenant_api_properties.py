"""Property: nothing sent to the tenant REST API gets a 5xx, a traceback or another tenant's data."""

from __future__ import annotations

import pytest

from supportai.api_parsers import JSON_TOO_DEEP
from supportai.error_pages import GENERIC
from supportai.models import Tenant
from supportai.tests.factories import api_client


@pytest.mark.parametrize("path", ["/api/v1/knowledge/search/", "/api/v1/knowledge/sources/"])
def test_json_nested_deeper_than_the_decoder_goes_is_a_parse_error(path: str, tenant: Tenant) -> None:
    response = api_client(tenant).post(path, b"[" * 100_000, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": JSON_TOO_DEEP}


def test_a_host_the_server_does_not_serve_gets_the_apis_json_error(tenant: Tenant) -> None:
    # given a Host header not in ALLOWED_HOSTS: Django refuses it before any view, with handler400
    response = api_client(tenant).get("/api/v1/tenant/", headers={"host": "evil.example"})
    assert response.status_code == 400
    assert response.json() == {"detail": GENERIC}
