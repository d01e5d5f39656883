"""The OpenAPI schema of the tenant operation names every status it answers."""

from __future__ import annotations

from django.test import Client
from rest_framework.test import APIClient

from supportai.models import Tenant


def test_the_tenant_operation_documents_its_authentication_and_rate_limit_errors(tenant: Tenant) -> None:
    # given an answer the operation gives: no key
    assert APIClient().get("/api/v1/tenant/").status_code == 401
    # when
    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    # then it is in the schema, with the other errors every operation of the tenant API answers
    responses = schema["paths"]["/api/v1/tenant/"]["get"]["responses"]
    assert set(responses) == {"200", "401", "403", "429"}
    for status in ("401", "403", "429"):
        assert responses[status]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
