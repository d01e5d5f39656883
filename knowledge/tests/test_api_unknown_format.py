"""A ``?format=`` no renderer of the API has is refused saying which formats there are: DRF answered
``{"detail": "Not found."}`` (404), which for a document's own address reads as "no such document"."""

from __future__ import annotations

import pytest

from knowledge.tests.factories import add_document
from supportai.api_negotiation import UNKNOWN_FORMAT
from supportai.models import Tenant
from supportai.tests.factories import api_client


@pytest.mark.parametrize("format_", ["xml", "JSON", "\x00"])
def test_a_read_in_an_unknown_format_is_refused_naming_the_formats(
    tenant: Tenant, other_tenant: Tenant, format_: str
) -> None:
    # given the tenant's document, and another tenant's
    mine, theirs = add_document(tenant, "Parking", "Free."), add_document(other_tenant, "Secret", "Nope.")
    client = api_client(tenant)
    # when / then each read in that format is refused as a bad parameter, in JSON, naming the formats
    for path in (
        "/api/v1/knowledge/documents/",
        f"/api/v1/knowledge/documents/{mine.pk}/",
        f"/api/v1/knowledge/documents/{theirs.pk}/",
        "/api/v1/tenant/",
    ):
        response = client.get(path, {"format": format_})
        assert response.status_code == 400, path
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"format": [UNKNOWN_FORMAT.format(value=repr(format_), formats="json, api")]}
    # and the formats there are still answer
    assert client.get(f"/api/v1/knowledge/documents/{mine.pk}/", {"format": "json"}).json()["title"] == "Parking"
    assert client.get(f"/api/v1/knowledge/documents/{theirs.pk}/", {"format": "json"}).status_code == 404
