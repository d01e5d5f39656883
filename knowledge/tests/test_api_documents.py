"""Listing and deleting knowledge documents through the REST API, always within the key's tenant."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from knowledge.api_access import NOT_MANAGER
from knowledge.apis import DOCUMENTS_PAGE_SIZE, PAGE_PAST_THE_LAST
from knowledge.models import Chunk, CorpusStats, Document, DocumentStatus
from knowledge.selectors import retrieve
from knowledge.services import source_get_or_create
from knowledge.tests.factories import add_document
from supportai.models import Tenant
from supportai.tests.factories import api_client

DOCUMENTS = "/api/v1/knowledge/documents/"


def _titles(response_json: dict[str, object]) -> list[str]:
    results = response_json["results"]
    assert isinstance(results, list)
    return [document["title"] for document in results]


def test_list_shows_the_tenants_documents_by_title_with_their_status(tenant: Tenant, other_tenant: Tenant) -> None:
    # given
    add_document(tenant, "Parking", "Free parking behind the studio.")
    add_document(tenant, "Hours", "Open 9 to 7.")
    add_document(other_tenant, "Their secret", "Nope.")
    # when
    response = api_client(tenant).get(DOCUMENTS)
    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (2, None, None)
    assert _titles(body) == ["Hours", "Parking"]
    assert {document["status"] for document in body["results"]} == {"ready"}
    assert all(document["chunk_count"] == 1 and document["source"] for document in body["results"])


def test_list_filters_by_status_and_source(tenant: Tenant, other_tenant: Tenant) -> None:
    # given
    manuals = source_get_or_create(tenant=tenant, name="manuals")
    add_document(tenant, "Parking", "Free parking.")
    add_document(tenant, "Printer", "Press the green button.", source=manuals)
    Document.objects.filter(title="Parking").update(status=DocumentStatus.FAILED, error="The file has no text.")
    theirs = source_get_or_create(tenant=other_tenant, name="manuals")
    client = api_client(tenant)
    # when / then
    failed = client.get(DOCUMENTS, {"status": "failed"}).json()
    assert _titles(failed) == ["Parking"] and failed["results"][0]["error"] == "The file has no text."
    assert _titles(client.get(DOCUMENTS, {"source": manuals.pk}).json()) == ["Printer"]
    assert client.get(DOCUMENTS, {"source": str(manuals.pk), "status": "failed"}).json()["count"] == 0
    # another tenant's source is not found, and bad filters are refused by name
    assert client.get(DOCUMENTS, {"source": theirs.pk}).status_code == 404
    bad = client.get(DOCUMENTS, {"status": "gone", "source": "x"})
    assert bad.status_code == 400 and set(bad.json()) == {"status", "source"}


def test_list_pages_through_many_documents(tenant: Tenant) -> None:
    # given one page and one more document
    source = source_get_or_create(tenant=tenant, name="bulk")
    Document.objects.bulk_create(
        Document(tenant=tenant, source=source, external_id=f"d{n:03d}", title=f"Doc {n:03d}", content_hash=str(n))
        for n in range(DOCUMENTS_PAGE_SIZE + 1)
    )
    client = api_client(tenant)
    # when
    first = client.get(DOCUMENTS).json()
    second = client.get(DOCUMENTS, {"page": 2}).json()
    # then
    assert first["count"] == DOCUMENTS_PAGE_SIZE + 1 and len(first["results"]) == DOCUMENTS_PAGE_SIZE
    assert first["next"].endswith("?page=2") and second["previous"] is not None
    assert _titles(second) == [f"Doc {DOCUMENTS_PAGE_SIZE:03d}"]
    assert client.get(DOCUMENTS, {"page": 3}).status_code == 404
    # the page is read as the filter validated it ("2.0" is 2, as for the source), not refused as past the last
    assert client.get(DOCUMENTS, {"page": "2.0"}).json() == second


def test_delete_removes_the_document_its_chunks_and_its_keyword_statistics(tenant: Tenant) -> None:
    # given
    parking = add_document(tenant, "Parking", "Free parking behind the studio.")
    add_document(tenant, "Hours", "Open 9 to 7.")
    client = api_client(tenant)
    # when
    response = client.delete(f"{DOCUMENTS}{parking.pk}/")
    # then
    assert response.status_code == 204
    assert client.get(f"{DOCUMENTS}{parking.pk}/").status_code == 404
    assert not Chunk.objects.filter(document_id=parking.pk).exists()
    assert CorpusStats.objects.get(tenant=tenant).chunk_count == 1
    assert [p.title for p in retrieve(tenant=tenant, query="parking studio", k=5, mode="bm25")] == []
    assert client.delete(f"{DOCUMENTS}{parking.pk}/").status_code == 404  # twice: already gone


def test_delete_cannot_reach_another_tenants_document(tenant: Tenant, other_tenant: Tenant) -> None:
    # given
    theirs = add_document(other_tenant, "Their secret", "Nope.")
    # when
    response = api_client(tenant).delete(f"{DOCUMENTS}{theirs.pk}/")
    # then
    assert response.status_code == 404
    assert Document.objects.filter(pk=theirs.pk).exists()
    assert CorpusStats.objects.get(tenant=other_tenant).chunk_count == 1


def test_an_agent_session_lists_documents_but_cannot_delete_them(tenant: Tenant, agent: User) -> None:
    # given
    document = add_document(tenant, "Parking", "Free parking.")
    client = APIClient()
    client.force_login(agent)
    # when
    listed = client.get(DOCUMENTS)
    deleted = client.delete(f"{DOCUMENTS}{document.pk}/")
    # then
    assert listed.status_code == 200 and _titles(listed.json()) == ["Parking"]
    assert (deleted.status_code, deleted.json()) == (403, {"detail": NOT_MANAGER})
    assert Document.objects.filter(pk=document.pk).exists()


def _content_reads(queries: list[dict[str, str]]) -> list[str]:
    column = f'"{Document._meta.db_table}"."content"'
    return [query["sql"] for query in queries if column in query["sql"]]


def test_detail_and_delete_never_read_the_documents_text(tenant: Tenant, other_tenant: Tenant) -> None:
    # given a document holding a long manual (the response shows none of it)
    manual = add_document(tenant, "Manual", "Press the red button. " * 20_000)
    theirs = add_document(other_tenant, "Their manual", "Secret steps. " * 1_000)
    client = api_client(tenant)
    # when
    with CaptureQueriesContext(connection) as read:
        detail = client.get(f"{DOCUMENTS}{manual.pk}/")
    with CaptureQueriesContext(connection) as deleted:
        removed = client.delete(f"{DOCUMENTS}{manual.pk}/")
    # then the answers are as before, and no query read the text column
    assert detail.status_code == 200 and detail.json()["title"] == "Manual" and "content" not in detail.json()
    assert removed.status_code == 204 and not Document.objects.filter(pk=manual.pk).exists()
    assert _content_reads(read.captured_queries) == []
    assert _content_reads(deleted.captured_queries) == []
    # and another tenant's document stays out of reach
    assert client.get(f"{DOCUMENTS}{theirs.pk}/").status_code == 404
    assert client.delete(f"{DOCUMENTS}{theirs.pk}/").status_code == 404
    assert Document.objects.filter(pk=theirs.pk).exists()


def test_list_refuses_pages_that_are_not_there_clearly_and_never_grows_a_page(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    # given two pages of documents, and another tenant's many more
    for owner, count in ((tenant, DOCUMENTS_PAGE_SIZE + 1), (other_tenant, 3 * DOCUMENTS_PAGE_SIZE)):
        source = source_get_or_create(tenant=owner, name="bulk")
        Document.objects.bulk_create(
            Document(tenant=owner, source=source, external_id=f"d{n:03d}", title=f"Doc {n:03d}") for n in range(count)
        )
    client = api_client(tenant)
    # when / then a page past the last is not found, saying why
    for page in (3, 4, 99999, 10**30):
        past = client.get(DOCUMENTS, {"page": page})
        assert past.status_code == 404 and past.json() == {"detail": PAGE_PAST_THE_LAST.format(page_number=page)}
    # and a page that is no whole number from 1 is refused by name
    for text in ("abc", "-1", "0", "1.5", "9" * 5000):
        bad = client.get(DOCUMENTS, {"page": text})
        assert bad.status_code == 400 and set(bad.json()) == {"page"}, (text, bad.json())
    # and no parameter makes a page longer than DOCUMENTS_PAGE_SIZE: those that would are refused by name
    for size in ({"page_size": 100000}, {"limit": 100000}, {"page_size": -1}):
        refused = client.get(DOCUMENTS, size)
        assert refused.status_code == 400 and repr(next(iter(size))) in str(refused.json()), refused.json()
    # and the second page holds the tenant's last document only
    assert _titles(client.get(DOCUMENTS, {"page": 2}).json()) == [f"Doc {DOCUMENTS_PAGE_SIZE:03d}"]
