"""The console's knowledge pages and the REST API's knowledge reads run as many queries for a tenant
of many documents across many sources as for one of three, whatever filter or page is asked for."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from knowledge.models import Document, DocumentStatus, KnowledgeSource, SourceKind
from knowledge.tests.factories import add_document
from supportai.models import Tenant
from supportai.tests.factories import api_client

DOCUMENTS_PAGE = "/console/knowledge/"
DOCUMENTS_API = "/api/v1/knowledge/documents/"
MaxQueries = Callable[[int], AbstractContextManager[object]]
STATUSES = (DocumentStatus.READY, DocumentStatus.FAILED, DocumentStatus.PENDING)


def _library(tenant: Tenant, *, sources: int, documents: int, name: str = "") -> list[KnowledgeSource]:
    """``documents`` documents of ``tenant`` spread over ``sources`` sources (every other one a
    website), in every status, with chunk counts and errors; no text or chunks are needed. Their
    titles and the sources' names start with ``name``."""
    made = KnowledgeSource.objects.bulk_create(
        KnowledgeSource(
            tenant=tenant,
            name=f"{name}Source {n:02d}",
            kind=SourceKind.URL if n % 2 else SourceKind.UPLOAD,
            config={"start_url": f"https://s{n}.example.com/"} if n % 2 else {},
        )
        for n in range(sources)
    )
    Document.objects.bulk_create(
        Document(
            tenant=tenant,
            source=made[n % sources],
            external_id=f"doc-{n}",
            title=f"{name}Doc {n:04d}",
            url=f"https://s{n % sources}.example.com/{n}" if (n % sources) % 2 else "",
            status=STATUSES[n % len(STATUSES)],
            error="404 Not Found" if STATUSES[n % len(STATUSES)] == DocumentStatus.FAILED else "",
            chunk_count=n % 7,
        )
        for n in range(documents)
    )
    return made


def _queries_of(get: Callable[..., Any], path: str, params: dict[str, Any] | None = None) -> int:
    """How many queries ``get(path, params)`` ran (it must answer 200)."""
    with CaptureQueriesContext(connection) as queries:
        response = get(path, params or {})
    assert response.status_code == 200, response.content[:500]
    return len(queries)


def _filters(sources: list[KnowledgeSource]) -> list[dict[str, Any]]:
    return [{}, {"status": "failed"}, {"source": sources[1].pk}, {"source": sources[1].pk, "status": "pending"}]


def test_documents_page_queries_do_not_grow_with_documents_or_sources(
    client: Client, agent: User, tenant: Tenant, other_tenant: Tenant, django_assert_max_num_queries: MaxQueries
) -> None:
    # given a small library, measured, then a large one (two pages) beside another tenant's
    small = _library(tenant, sources=2, documents=6)
    client.force_login(agent)
    counts = [_queries_of(client.get, DOCUMENTS_PAGE, f) for f in _filters(small)]
    KnowledgeSource.objects.for_tenant(tenant).delete()
    large = _library(tenant, sources=8, documents=120)
    _library(other_tenant, sources=4, documents=60, name="Theirs ")
    for wanted, count in zip(_filters(large), counts, strict=True):
        for page in ("1", "2", "99999", "abc", "-1"):
            # when
            with django_assert_max_num_queries(count):
                response = client.get(DOCUMENTS_PAGE, {**wanted, "page": page})
            # then the page lists the tenant's documents only
            body = response.content.decode()
            assert response.status_code == 200 and "Doc 0" in body and "Theirs" not in body
    assert max(counts) <= 12


def test_documents_page_shows_each_sources_totals_and_each_documents_source(
    client: Client, agent: User, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given
    sources = _library(tenant, sources=3, documents=9)
    _library(other_tenant, sources=3, documents=30, name="Theirs ")
    client.force_login(agent)
    # when
    body = " ".join(client.get(DOCUMENTS_PAGE).content.decode().split())
    # then each source counts only its own documents and chunks (doc n has n % 7 chunks)
    for index, source in enumerate(sources):
        numbers = range(index, 9, 3)
        documents = len(numbers)
        chunks = sum(n % 7 for n in numbers)
        assert f'<td class="text">{source.name}</td>' in body
        row = body[body.index(f'<td class="text">{source.name}</td>') :]
        assert f"<td>{documents}</td><td>{chunks}</td>" in row[: row.index("</tr>")]


def test_documents_api_queries_do_not_grow_with_documents_or_sources(
    tenant: Tenant, other_tenant: Tenant, django_assert_max_num_queries: MaxQueries
) -> None:
    # given
    small = _library(tenant, sources=2, documents=6)
    client = api_client(tenant)
    counts = [_queries_of(client.get, DOCUMENTS_API, f) for f in _filters(small)]
    KnowledgeSource.objects.for_tenant(tenant).delete()
    large = _library(tenant, sources=8, documents=120)
    _library(other_tenant, sources=4, documents=60, name="Theirs ")
    theirs = set(Document.objects.for_tenant(other_tenant).values_list("pk", flat=True))
    for wanted, count in zip(_filters(large), counts, strict=True):
        # when
        with django_assert_max_num_queries(count):
            response = client.get(DOCUMENTS_API, {**wanted, "page": 1})
        # then
        body = response.json()
        assert response.status_code == 200 and body["results"]
        assert not {document["id"] for document in body["results"]} & theirs
    assert max(counts) <= 6


def test_document_and_source_detail_api_queries_are_constant(
    tenant: Tenant, other_tenant: Tenant, django_assert_max_num_queries: MaxQueries
) -> None:
    # given
    client = api_client(tenant)
    small = _library(tenant, sources=1, documents=1)
    document = Document.objects.for_tenant(tenant).get()
    counts = [
        _queries_of(client.get, f"{DOCUMENTS_API}{document.pk}/"),
        _queries_of(client.get, f"/api/v1/knowledge/sources/{small[0].pk}/"),
    ]
    large = _library(tenant, sources=8, documents=200, name="Large ")
    theirs = _library(other_tenant, sources=2, documents=10)
    # when / then
    with django_assert_max_num_queries(counts[0]):
        assert client.get(f"{DOCUMENTS_API}{document.pk}/").json()["id"] == document.pk
    with django_assert_max_num_queries(counts[1]):
        assert client.get(f"/api/v1/knowledge/sources/{large[1].pk}/").json()["id"] == large[1].pk
    their_document = Document.objects.for_tenant(other_tenant).first()
    assert their_document is not None
    assert client.get(f"{DOCUMENTS_API}{their_document.pk}/").status_code == 404
    assert client.get(f"/api/v1/knowledge/sources/{theirs[1].pk}/").status_code == 404


def test_website_source_pages_queries_do_not_grow_with_its_documents(
    client: Client, owner: User, tenant: Tenant, outsider: User, django_assert_max_num_queries: MaxQueries
) -> None:
    # given a website source of 1 page, measured, and one of 300
    few = _library(tenant, sources=2, documents=2)[1]
    many = _library(tenant, sources=4, documents=1200, name="Large ")[1]
    client.force_login(owner)
    pages = ("edit", "delete")
    counts = [_queries_of(client.get, f"/console/knowledge/sources/{few.pk}/{p}/") for p in pages]
    for page, count in zip(pages, counts, strict=True):
        # when
        with django_assert_max_num_queries(count):
            response = client.get(f"/console/knowledge/sources/{many.pk}/{page}/")
        # then
        assert response.status_code == 200
    body = " ".join(client.get(f"/console/knowledge/sources/{many.pk}/delete/").content.decode().split())
    assert "300 documents" in body
    # and another tenant's owner finds neither
    client.force_login(outsider)
    assert {client.get(f"/console/knowledge/sources/{many.pk}/{page}/").status_code for page in pages} == {404}


@pytest.mark.parametrize("mode", ["bm25", "hybrid"])
def test_search_page_queries_do_not_grow_with_passages_or_documents(
    client: Client,
    agent: User,
    tenant: Tenant,
    other_tenant: Tenant,
    mode: str,
    django_assert_max_num_queries: MaxQueries,
) -> None:
    # given one matching document, measured, then twenty more
    add_document(tenant, "Parking 0", "Free parking behind the studio.")
    client.force_login(agent)
    query = {"q": "parking", "mode": mode, "k": "20"}
    count = _queries_of(client.get, "/console/knowledge/search/", query)
    for n in range(1, 21):
        add_document(tenant, f"Parking {n}", f"Parking spot {n} behind the studio.")
    add_document(other_tenant, "Their parking", "Secret parking.")
    # when
    with django_assert_max_num_queries(count):
        response = client.get("/console/knowledge/search/", query)
    # then twenty passages (k) of the 21 matching documents are shown, none of the other tenant's
    body = response.content.decode()
    passages = re.findall(r"(?:Parking spot \d+|Free parking) behind the studio", body)
    assert len(passages) == 20 and "Their parking" not in body
