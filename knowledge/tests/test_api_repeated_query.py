"""A query parameter given more than once in a read of the tenant API is refused, not read as its last
value: ``?status=ready&status=failed`` listed the failed documents only, as if it asked for either."""

from __future__ import annotations

from knowledge.models import Document, DocumentStatus
from knowledge.tests.factories import add_document
from supportai.api_query import REPEATED_QUERY_PARAMETER
from supportai.models import Tenant
from supportai.tests.factories import api_client

DOCUMENTS = "/api/v1/knowledge/documents/"


def test_a_filter_given_twice_is_refused_naming_its_values(tenant: Tenant, other_tenant: Tenant) -> None:
    # given a ready document and a failed one
    add_document(tenant, "Parking", "Free parking.")
    add_document(tenant, "Hours", "Open 9 to 7.")
    add_document(other_tenant, "Their hours", "Nope.")
    Document.objects.filter(title="Hours").update(status=DocumentStatus.FAILED)
    client = api_client(tenant)
    # when the status is given twice
    response = client.get(f"{DOCUMENTS}?status=ready&status=failed")
    # then it is refused, under its name, saying what was sent
    assert response.status_code == 400
    assert response.json() == {"status": [REPEATED_QUERY_PARAMETER.format(name="status", values="'ready', 'failed'")]}
    # and so is a page or format given twice, even alike; once, each is read as before
    assert set(client.get(f"{DOCUMENTS}?page=1&page=2&source=&source=").json()) == {"page", "source"}
    assert client.get(f"{DOCUMENTS}1/?format=json&format=json").status_code == 400
    assert client.get(f"{DOCUMENTS}?status=failed").json()["count"] == 1


def test_a_parameter_given_many_times_is_quoted_a_few_times(tenant: Tenant) -> None:
    response = api_client(tenant).get(DOCUMENTS + "?" + "&".join(f"page={n}" for n in range(1, 31)))
    assert response.status_code == 400
    (message,) = response.json()["page"]
    assert message.endswith("'9', '10' and 20 more.")
