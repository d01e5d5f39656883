"""A form or multipart field given twice in a body of the knowledge API is refused, not read as its
last value: a website source sent ``name=Help&name=Docs`` was created as Docs, and a search sent
``k=2&k=50`` answered 50 passages. (JSON keys cannot be told apart once parsed; the upload refuses
a second language itself.)"""

from __future__ import annotations

import pytest

from knowledge.models import KnowledgeSource
from knowledge.tests.factories import add_document
from supportai.api_fields import REPEATED_FIELD
from supportai.models import Tenant
from supportai.tests.factories import api_client

FORM = "application/x-www-form-urlencoded"


def test_a_source_named_twice_is_refused_and_nothing_is_stored(tenant: Tenant, other_tenant: Tenant) -> None:
    # when a website source comes with two names, and a sync_now field as well
    body = "name=Help&name=Docs&start_url=https%3A%2F%2Fhelp.example.com%2F&sync_now=false"
    response = api_client(tenant).post("/api/v1/knowledge/sources/", body, content_type=FORM)
    # then it is refused under the field, quoting both, and no tenant got a source
    assert response.status_code == 400
    assert response.json() == {"name": [REPEATED_FIELD.format(name="name", values="'Help', 'Docs'")]}
    assert not KnowledgeSource.objects.exists()


@pytest.mark.parametrize("body_format", ["form", "multipart"])
def test_a_search_with_k_twice_is_refused_with_its_other_errors(tenant: Tenant, body_format: str) -> None:
    add_document(tenant, "Parking", "Free parking behind the studio.")
    client = api_client(tenant)
    if body_format == "form":
        response = client.post("/api/v1/knowledge/search/", "query=&k=2&k=50", content_type=FORM)
    else:
        response = client.post("/api/v1/knowledge/search/", {"query": "", "k": ["2", "50"]}, format="multipart")
    assert response.status_code == 400
    assert response.json() == {
        "query": ["This field may not be blank."],
        "k": [REPEATED_FIELD.format(name="k", values="'2', '50'")],
    }
