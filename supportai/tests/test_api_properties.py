"""Property-based tests of the REST API against its own OpenAPI schema (schemathesis).

Every operation of ``/api/schema/`` gets generated requests, schema-valid and not, sent in-process
to the Django WSGI app with a tenant API key: no answer is a 5xx, and every status, content type and
body is one the schema names (schemathesis' default checks; a schema-valid request may still meet
a rule the schema cannot state, ``RULES_BEYOND_SCHEMA``). A second property: tenant A's key never
reaches tenant B's documents or sources (404) nor finds B's passages, and shows none of B's data.

The public chat endpoints get the tenant's widget key, a live conversation's resume token and an
allowed Origin, so generated bodies get past the key check. The message, stream and escalate ones
are async views that do their database work on the pool (supportai/db.py), so they run in their own
test with committed data. The stream's events are checked as the schema describes each (its type as
``event``, the frame as JSON in ``data``); chat/tests check the frames themselves.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import SerializationContext
from schemathesis.checks import positive_data_acceptance
from schemathesis.transport.requests import REQUESTS_TRANSPORT
from schemathesis.transport.wsgi import WSGI_TRANSPORT

from chat.services import conversation_open
from knowledge import conf
from knowledge.models import Document, KnowledgeSource, SourceKind
from knowledge.tests.factories import add_document
from supportai.api_keys import api_key_create
from supportai.models import Tenant
from supportai.tests.factories import TenantFactory


class InTransactionApp:
    """Django's WSGI handler without the connection closing around each request, as Django's test
    client runs it: requests see the test's transaction, and leave it open."""

    def __init__(self) -> None:
        self.handler = WSGIHandler()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            response = self.handler(environ, start_response)
            body = b"".join(response)
            response.close()  # request_finished: the body is read
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)
        return [body]


PUBLIC_ADDRESS = "93.184.215.14"
schema = schemathesis.openapi.from_wsgi("/api/schema/", InTransactionApp())
# Invalid data may also be refused as too long: the widget protocol's too_long (a proposal_id over 64
# characters) is a 413, which the schema documents.
_rejection = schema.config.checks.negative_data_rejection
_rejection.expected_statuses = [*_rejection.expected_statuses, "413"]

# Bounded and repeatable: the same examples on every run, none replayed from a local database.
PROPERTY_SETTINGS = settings(
    max_examples=80,
    derandomize=True,
    database=None,
    deadline=None,
    # Fixtures (the tenant, its key, its data) are made once per operation; examples share them.
    suppress_health_check=list(HealthCheck),
)
# Operations whose schema states types and sizes only: whether a well-typed request is accepted also
# depends on rules the schema cannot state (a source name already taken, a URL that must be a public
# site, a language PostgreSQL knows, a proposal that must exist), answered with a documented 400 or 404.
RULES_BEYOND_SCHEMA = {
    "POST /api/v1/knowledge/documents/",
    "POST /api/v1/knowledge/sources/",
    "POST /api/v1/knowledge/sources/{id}/sync/",
    "POST /api/v1/public/chat/proposals/confirm",
    "POST /api/v1/public/chat/proposals/reject",
    # A text with a NUL, an identity_token that must be signed, a well-formed email, the hourly
    # handoff limit; the whole body as one websocket frame is at most 16 KiB.
    "POST /api/v1/public/chat/messages",
    "POST /api/v1/public/chat/messages/stream",
    "POST /api/v1/public/chat/escalate",
}
# Async views whose database work runs on the pool's own connections: they need committed data.
ON_THE_POOL = ["/api/v1/public/chat/messages", "/api/v1/public/chat/messages/stream", "/api/v1/public/chat/escalate"]
ORIGIN = "https://alpha.example.com"  # one of ``tenant``'s allowed origins
MULTIPART = "multipart/form-data"
ID_OPERATIONS = [
    ("GET", "/api/v1/knowledge/documents/{id}/", "document"),
    ("DELETE", "/api/v1/knowledge/documents/{id}/", "document"),
    ("GET", "/api/v1/knowledge/sources/{id}/", "source"),
    ("POST", "/api/v1/knowledge/sources/{id}/sync/", "source"),
]


def _public_dns(host: str, port: int | None, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
    """Every name resolves to one public documentation address: no lookups leave the test."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        address = ipaddress.ip_address(PUBLIC_ADDRESS)
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (str(address), port or 0))]


def _multipart_as_requests_encodes_it(context: SerializationContext, value: Any) -> dict[str, Any]:
    _, requests_multipart = REQUESTS_TRANSPORT._resolve_serializer(MULTIPART)
    prepared = requests.Request("POST", "http://localhost/", **requests_multipart(context, value)).prepare()
    return {"data": prepared.body, "content_type": prepared.headers["Content-Type"]}


@pytest.fixture(autouse=True)
def in_process_app(db: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Requests run in the test's transaction (a new source's sync, queued on commit, never runs), on
    the fake embedder and a fake DNS, with rate limits starting from zero, and multipart bodies sent
    as encoded by requests (urllib3): Werkzeug 3.1's encoder leaves out the line break after an empty
    field, so Django would read another body than the one schemathesis reports."""
    monkeypatch.setattr(
        conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, embedding_provider="fake", rerank_provider="")
    )
    monkeypatch.setattr(socket, "getaddrinfo", _public_dns)
    _, werkzeug_multipart = WSGI_TRANSPORT._resolve_serializer(MULTIPART)
    WSGI_TRANSPORT.serializer(MULTIPART)(_multipart_as_requests_encodes_it)
    cache.clear()
    try:
        yield
    finally:
        WSGI_TRANSPORT.serializer(MULTIPART)(werkzeug_multipart)
        cache.clear()


def _knowledge(tenant: Tenant, label: str) -> tuple[list[Document], list[KnowledgeSource]]:
    site = KnowledgeSource.objects.create(
        tenant=tenant, name=f"{label} site", kind=SourceKind.URL, config={"start_url": f"https://{label}.example"}
    )
    documents = [
        add_document(tenant, f"{label} parking", f"{label} parking is behind the studio."),
        add_document(tenant, f"{label} hours", f"{label} opens at nine.", source=site),
    ]
    return documents, [site, documents[0].source]


def _bearer(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key_create(tenant=tenant, name='properties').raw_key}"}


@pytest.fixture
def alpha_key(tenant: Tenant) -> dict[str, str]:
    """A key of ``tenant``, which has documents (one in a website source) for the list to show."""
    _knowledge(tenant, "alpha")
    return _bearer(tenant)


@pytest.fixture
def widget(tenant: Tenant) -> dict[str, str]:
    """``tenant``'s widget key and a live conversation's resume token, for the public endpoints."""
    opened = conversation_open(tenant=tenant, origin="", channel="api")
    return {"key": tenant.public_key, "resume_token": opened.resume_token}


def _call_and_validate(case: schemathesis.Case, headers: dict[str, str], widget: dict[str, str]) -> None:
    if case.path.startswith("/api/v1/public/") and isinstance(case.body, dict):
        # A generated key or token is never one: text ones become real, so the other fields are what
        # meet the checks (a value of another type, or "", stays: the invalid input it is).
        generated = case.body
        case.body.update(
            {name: real for name, real in widget.items() if isinstance(generated.get(name), str) and generated[name]}
        )
        headers = {**headers, "Origin": ORIGIN}
    excluded = [positive_data_acceptance] if f"{case.method} {case.path}" in RULES_BEYOND_SCHEMA else []
    case.call_and_validate(headers=headers, excluded_checks=excluded)


@pytest.mark.slow  # about 40 s: 80 generated requests per operation
@schema.exclude(path=ON_THE_POOL).parametrize()
@PROPERTY_SETTINGS
def test_every_operation_answers_as_its_schema_says(
    case: schemathesis.Case, alpha_key: dict[str, str], widget: dict[str, str]
) -> None:
    _call_and_validate(case, alpha_key, widget)


@pytest.mark.slow  # about 30 s: a customer message is answered (fake embedder and model)
@pytest.mark.django_db(transaction=True)
# The test's WSGI app reads the async stream synchronously, as Django warns; daphne streams it.
@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume asynchronous iterators")
@schema.include(path=ON_THE_POOL).parametrize()
@settings(PROPERTY_SETTINGS, max_examples=40)
def test_the_public_chat_views_answer_as_their_schema_says(case: schemathesis.Case, widget: dict[str, str]) -> None:
    # Enough for every generated message: the per-IP limits' 429 is their own tests' (chat/tests).
    with override_settings(CHAT_MESSAGES_PER_MINUTE_PER_IP=10_000, CHAT_CONVERSATIONS_PER_MINUTE_PER_IP=10_000):
        _call_and_validate(case, {}, widget)


def test_another_tenants_ids_are_not_found_and_show_none_of_its_data(tenant: Tenant) -> None:
    # given tenant B's documents and sources, tenant A's own, and A's key
    other = TenantFactory.create(name="Bravo Spa", slug="bravo")
    documents, sources = _knowledge(other, "bravo")
    _knowledge(tenant, "alpha")
    ids = {"document": [d.pk for d in documents], "source": [s.pk for s in sources]}
    secrets = [*(d.title for d in documents), *(s.name for s in sources), "bravo.example"]
    key = _bearer(tenant)

    def shows_nothing_of_b(response: schemathesis.Response) -> bool:
        return not any(secret in response.text for secret in secrets)

    @given(operation=st.sampled_from(ID_OPERATIONS), data=st.data())
    @PROPERTY_SETTINGS
    def by_id(operation: tuple[str, str, str], data: st.DataObject) -> None:
        method, path, kind = operation
        pk = data.draw(st.sampled_from(ids[kind]))
        # when A's key asks for B's object
        response = schema[path][method].Case(path_parameters={"id": pk}).call_and_validate(headers=key)
        # then it is not found, in the documented shape, and nothing of B's shows
        assert response.status_code == 404 and shows_nothing_of_b(response)

    @given(source=st.sampled_from(ids["source"]), status=st.sampled_from(["", "ready", "pending", "failed"]))
    @PROPERTY_SETTINGS
    def by_source_filter(source: int, status: str) -> None:
        # when A's key filters its document list by one of B's sources
        case = schema["/api/v1/knowledge/documents/"]["GET"].Case(query={"source": source, "status": status})
        response = case.call_and_validate(headers=key)
        # then that source is not found either
        assert response.status_code == 404 and shows_nothing_of_b(response)

    @given(words=st.lists(st.sampled_from(["bravo", "parking", "hours", "opens", "nine", "studio"]), min_size=1))
    @PROPERTY_SETTINGS
    def by_search(words: list[str]) -> None:
        # when A's key searches with B's words
        search = schema["/api/v1/knowledge/search/"]["POST"]
        case = search.Case(body={"query": " ".join(words)}, media_type="application/json")
        response = case.call_and_validate(headers=key)
        # then only A's passages come back
        assert response.status_code == 200 and shows_nothing_of_b(response)
        assert not {passage["document_id"] for passage in response.json()} & set(ids["document"])

    by_id()
    by_source_filter()
    by_search()
    # and B's data is all still there, its website source not synced
    assert Document.objects.filter(pk__in=ids["document"]).count() == len(documents)
    assert KnowledgeSource.objects.get(pk=sources[0].pk).status == sources[0].status


@pytest.mark.parametrize(("method", "path", "kind"), ID_OPERATIONS)
def test_own_ids_answer_bodies_that_match_the_schema(tenant: Tenant, method: str, path: str, kind: str) -> None:
    # given tenant A's own documents and sources
    documents, sources = _knowledge(tenant, "alpha")
    pk = (documents if kind == "document" else sources)[0].pk
    # when its key asks for one
    response = schema[path][method].Case(path_parameters={"id": pk}).call_and_validate(headers=_bearer(tenant))
    # then the answer is a success, its body checked against the schema
    assert response.status_code == {"GET": 200, "DELETE": 204, "POST": 202}[method], response.text
