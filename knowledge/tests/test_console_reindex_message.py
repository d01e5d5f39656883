"""The console's re-index message says what happened by the time the page is answered: with Celery
eager (local development, no broker) the re-index already ran in-process, so the message says it was
re-indexed, or that it failed; queued to a worker it says the document is pending until it is in."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest
from django.contrib.auth.models import User
from django.test import Client

from knowledge import tasks
from knowledge.models import Document, DocumentStatus
from knowledge.providers.base import ProviderError, ProviderErrorKind
from knowledge.providers.fake import FakeEmbeddingProvider
from knowledge.tests.factories import add_document
from supportai.bidi import isolate
from supportai.models import Tenant

# Committed at the end of the view's transaction, so on_commit runs the eager task before the redirect.
pytestmark = pytest.mark.django_db(transaction=True)


def _reindex(client: Client, document: Document) -> str:
    response = client.post(f"/console/knowledge/documents/{document.pk}/reindex/", follow=True)
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def test_an_in_process_re_index_says_it_was_re_indexed(client: Client, owner: User, tenant: Tenant) -> None:
    # given
    document = add_document(tenant, "Parking", "Free parking behind the studio.")
    client.force_login(owner)
    # when
    page = _reindex(client, document)
    # then
    document.refresh_from_db()
    assert document.status == DocumentStatus.READY
    assert f"Re-indexed {isolate('Parking')}: {document.chunk_count} chunk" in page
    assert "queued" not in page and "Pending" not in page


def test_an_in_process_re_index_that_failed_says_so(
    client: Client, owner: User, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an embedding service that is down
    def outage(self: FakeEmbeddingProvider, texts: Sequence[str]) -> list[list[float]]:
        raise ProviderError("connection refused", kind=ProviderErrorKind.UNAVAILABLE)

    document = add_document(tenant, "Parking", "Free parking behind the studio.")
    monkeypatch.setattr(FakeEmbeddingProvider, "embed_documents", outage)
    client.force_login(owner)
    # when
    page = _reindex(client, document)
    # then
    document.refresh_from_db()
    assert document.status == DocumentStatus.FAILED
    assert f"Re-index of {isolate('Parking')} failed: {document.error}" in page
    assert "queued" not in page


def test_a_re_index_queued_to_a_worker_says_it_is_pending(
    client: Client, owner: User, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a broker that takes the task for a worker
    sent: list[tuple[int, list[int]]] = []
    monkeypatch.setattr(tasks.reindex_documents, "delay", lambda *args: sent.append(args))
    document = add_document(tenant, "Parking", "Free parking behind the studio.")
    client.force_login(owner)
    # when
    page = _reindex(client, document)
    # then
    assert sent == [(tenant.pk, [document.pk])]
    assert f"Re-index of {isolate('Parking')} queued: it shows as Pending until its new chunks are in" in page
