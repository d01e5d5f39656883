"""A document whose indexing failed still answers from its previous chunks: its page says so, and
managers can re-index it from there."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from django.contrib.auth.models import User
from django.test import Client
from django.utils import dateformat, timezone

from knowledge import tasks
from knowledge.models import Document, DocumentStatus
from knowledge.tests.factories import add_document
from supportai.bidi import isolate
from supportai.models import Tenant

CaptureCallbacks = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]


def _detail(document: Document) -> str:
    return f"/console/knowledge/documents/{document.pk}/"


def _reindex(document: Document) -> str:
    return f"/console/knowledge/documents/{document.pk}/reindex/"


def _text(content: bytes) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", content.decode()).split())


def _failed_reindex(tenant: Tenant) -> Document:
    document = add_document(tenant, "Parking", "Free parking behind the studio.")
    error = tasks.REINDEX_STOPPED.format(reason="The embedding service is unavailable.")
    Document.objects.filter(pk=document.pk).update(status=DocumentStatus.FAILED, error=error)
    document.refresh_from_db()
    return document


def test_a_failed_document_with_chunks_says_answers_still_use_them(client: Client, agent: User, tenant: Tenant) -> None:
    # given a document whose re-index failed, its chunks of the last indexing still in place
    document = _failed_reindex(tenant)
    assert document.indexed_at is not None and document.chunk_count > 0
    client.force_login(agent)
    # when
    detail = _text(client.get(_detail(document)).content)
    listing = _text(client.get("/console/knowledge/").content)
    # then
    indexed = dateformat.format(timezone.localtime(document.indexed_at), "Y-m-d H:i:s")
    assert f"Answers still use the chunks below, indexed {indexed}, until the document is indexed again." in detail
    assert "Failed (answers use its previous chunks)" in listing


def test_a_ready_document_says_nothing_of_previous_chunks(client: Client, agent: User, tenant: Tenant) -> None:
    document = add_document(tenant, "Parking", "Free parking behind the studio.")
    client.force_login(agent)
    assert "Answers still use" not in _text(client.get(_detail(document)).content)
    assert "previous chunks" not in _text(client.get("/console/knowledge/").content)


def test_a_manager_re_indexes_a_document_from_its_page(
    client: Client, owner: User, tenant: Tenant, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    # given a failed document, whose page offers its managers a re-index (a form with a CSRF token)
    document = _failed_reindex(tenant)
    client.force_login(owner)
    page = client.get(_detail(document)).content.decode()
    assert re.search(
        rf'<form method="post" action="{_reindex(document)}">\s*<input type="hidden" name="csrfmiddlewaretoken"', page
    )
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(_reindex(document), follow=True)
    # then the re-index is queued, and the document pending until it is done
    assert len(callbacks) == 1
    document.refresh_from_db()
    assert (document.status, document.error, document.reembed) == (DocumentStatus.PENDING, "", True)
    assert response.redirect_chain == [(_detail(document), 302)]
    assert f"Re-index of {isolate('Parking')} queued" in _text(response.content)


def test_a_page_with_no_text_is_not_re_indexed_and_says_what_to_do(client: Client, owner: User, tenant: Tenant) -> None:
    # given a website page whose fetch failed: no text to index
    document = _failed_reindex(tenant)
    Document.objects.filter(pk=document.pk).update(content_hash="")
    client.force_login(owner)
    # when
    response = client.post(_reindex(document), follow=True)
    # then
    assert Document.objects.get(pk=document.pk).status == DocumentStatus.FAILED
    assert "has no text to index" in _text(response.content)


def test_agents_get_no_re_index_button_and_a_403(client: Client, agent: User, tenant: Tenant) -> None:
    document = _failed_reindex(tenant)
    client.force_login(agent)
    assert _reindex(document) not in client.get(_detail(document)).content.decode()
    assert client.post(_reindex(document)).status_code == 403
    assert Document.objects.get(pk=document.pk).status == DocumentStatus.FAILED


def test_another_tenants_document_is_not_found_and_left_alone(
    client: Client, outsider: User, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given the owner of another tenant, and this tenant's failed document
    document = _failed_reindex(tenant)
    client.force_login(outsider)
    # when
    response = client.post(_reindex(document))
    # then
    assert response.status_code == 404
    assert Document.objects.get(pk=document.pk).status == DocumentStatus.FAILED


def test_re_index_is_post_only(client: Client, owner: User, tenant: Tenant) -> None:
    document = _failed_reindex(tenant)
    client.force_login(owner)
    assert client.get(_reindex(document)).status_code == 405
    assert Document.objects.get(pk=document.pk).status == DocumentStatus.FAILED
