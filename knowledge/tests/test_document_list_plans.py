"""The documents list's queries (console and REST API, every filter, the first and the last page) on
20,000 documents beside another tenant's 20,000: PostgreSQL reads them through an index, in the
list's order, and never sorts or scans the whole table. Plans, not timings (``SHOW_PLANS=1`` and
``-s`` print both; the figures measured are in docs/retrieval.md)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from knowledge.models import Document, DocumentStatus, KnowledgeSource, SourceKind
from supportai.models import Tenant
from supportai.tests.factories import api_client

DOCUMENTS = 20_000
SOURCES = 20
# Most documents are ready; a few failed or wait, as in a tenant whose knowledge is in use.
STATUS_EVERY = {DocumentStatus.FAILED: 97, DocumentStatus.PENDING: 89}
TABLE = Document._meta.db_table
PAGE = 50
INDEXED = {"Index Scan", "Index Only Scan", "Bitmap Heap Scan"}


def _status(n: int) -> str:
    return next((status for status, every in STATUS_EVERY.items() if n % every == 0), DocumentStatus.READY)


def _library(tenant: Tenant, name: str) -> list[KnowledgeSource]:
    sources = KnowledgeSource.objects.bulk_create(
        KnowledgeSource(tenant=tenant, name=f"{name} {n}", kind=SourceKind.URL if n % 2 else SourceKind.UPLOAD)
        for n in range(SOURCES)
    )
    Document.objects.bulk_create(
        (
            Document(
                tenant=tenant,
                source=sources[n % SOURCES],
                external_id=f"{name}-{n}",
                # Titles in no order of ids, as uploads and crawls give them.
                title=f"{name} page {(n * 7919) % DOCUMENTS:05d}",
                status=_status(n),
                chunk_count=n % 9,
            )
            for n in range(DOCUMENTS)
        ),
        batch_size=2000,
    )
    return sources


@pytest.fixture
def libraries(tenant: Tenant, other_tenant: Tenant) -> list[KnowledgeSource]:
    """20,000 documents of ``tenant`` over 20 sources, and as many of ``other_tenant``, with fresh
    planner statistics; ``tenant``'s sources."""
    theirs = _library(other_tenant, "Theirs")
    ours = _library(tenant, "Ours")
    assert theirs
    with connection.cursor() as cursor:  # as autovacuum leaves tables after a bulk load
        cursor.execute(f"VACUUM ANALYZE {TABLE}, {KnowledgeSource._meta.db_table}")
    return ours


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _explained(sql: str) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}")
        (row,) = cursor.fetchone()
    explained = row if isinstance(row, list) else json.loads(row)
    return dict(explained[0])


def _document_queries(get: Any, path: str, params: dict[str, Any]) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = get(path, params)
    assert response.status_code == 200, response.content[:300]
    return [query["sql"] for query in queries if f'"{TABLE}"' in query["sql"]]


def _say(what: str, sql: str, explained: dict[str, Any]) -> None:
    if os.environ.get("SHOW_PLANS"):
        timing = f"{explained['Planning Time'] + explained['Execution Time']:.2f} ms"
        sys.stderr.write(f"\n== {what}: {timing}\n{sql[:300]}\n{json.dumps(explained['Plan'], indent=1)[:3000]}\n")


def _assert_indexed(what: str, sql: str) -> None:
    explained = _explained(sql)
    _say(what, sql, explained)
    nodes = list(_nodes(explained["Plan"]))
    on_documents = [node for node in nodes if node.get("Relation Name") == TABLE]
    # through an index (a bitmap heap scan reads the rows an index found), never the whole table
    assert on_documents and {node["Node Type"] for node in on_documents} <= INDEXED, (what, nodes)
    # and in the list's order: nothing longer than a page is sorted (the page's own rows, read by
    # id, and the tenant's sources may be)
    sorts = [node for node in nodes if node["Node Type"] in {"Sort", "Incremental Sort"}]
    assert all(sort["Actual Rows"] <= PAGE for sort in sorts), (what, sorts)


def _filters(sources: list[KnowledgeSource]) -> list[dict[str, Any]]:
    some = sources[3].pk
    return [{}, {"status": "failed"}, {"status": "ready"}, {"source": some}, {"source": some, "status": "pending"}]


def _last_page(tenant: Tenant, filters: dict[str, Any]) -> int:
    documents = Document.objects.filter(tenant=tenant, **filters)
    return max(1, -(-documents.count() // PAGE))


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_console_documents_list_reads_documents_through_indexes(
    client: Client, agent: User, tenant: Tenant, libraries: list[KnowledgeSource]
) -> None:
    client.force_login(agent)
    for filters in _filters(libraries):
        for page in (1, _last_page(tenant, filters)):
            # when
            queries = _document_queries(client.get, "/console/knowledge/", {**filters, "page": page})
            # then the count, the page and the sources' totals are read through indexes, unsorted
            assert len(queries) >= 2
            for sql in queries:
                _assert_indexed(f"console {filters} page {page}", sql)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_api_documents_list_reads_documents_through_indexes(tenant: Tenant, libraries: list[KnowledgeSource]) -> None:
    client = api_client(tenant)
    for filters in _filters(libraries):
        for page in (1, _last_page(tenant, filters)):
            # when
            queries = _document_queries(client.get, "/api/v1/knowledge/documents/", {**filters, "page": page})
            # then
            assert len(queries) == 3
            for sql in queries:
                _assert_indexed(f"api {filters} page {page}", sql)
