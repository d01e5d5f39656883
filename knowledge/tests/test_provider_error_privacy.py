"""The embedding provider and its key are the operator's: what its vendor says about them goes to the
server log, and tenants see a plain message by kind of failure (REST API, console, website sources)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.html import escape

from knowledge import conf
from knowledge.indexing import EMBEDDING_FAILED
from knowledge.models import Document, DocumentStatus
from knowledge.providers.base import PUBLIC_MESSAGES, ProviderErrorKind, embedding_provider
from knowledge.providers.fake import FakeEmbeddingProvider
from knowledge.retrieval import EMBEDDING_UNAVAILABLE
from knowledge.source_config import url_source_create
from knowledge.sources import knowledge_source_sync
from knowledge.tests.http_fake import FakeApi
from knowledge.tests.migration_state import migrate_knowledge_to
from knowledge.tests.site_fake import FakeSite
from supportai.models import Tenant
from supportai.tests.factories import api_client

DOCUMENTS = "/api/v1/knowledge/documents/"
# What OpenAI answers a wrong key with: the key's last characters, and where keys are managed.
KEY_TAIL = "Zq7w"
INCORRECT_KEY = {
    "error": {
        "message": f"Incorrect API key provided: sk-proj-********{KEY_TAIL}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
}
REFUSED = EMBEDDING_FAILED.format(reason=PUBLIC_MESSAGES[ProviderErrorKind.AUTH])


def _leaks(text: str) -> bool:
    return KEY_TAIL in text or "sk-proj" in text or "platform.openai.com" in text or "invalid_api_key" in text


@pytest.fixture
def refused_key(
    fake_api: FakeApi, fake_embeddings: FakeEmbeddingProvider, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The operator configured OpenAI (environment, as in production) with a key the API refuses."""
    fake_api.route("/v1/embeddings", lambda body: (401, INCORRECT_KEY, {"x-request-id": "req_5f1e"}))
    monkeypatch.setenv("OPENAI_API_KEY", f"sk-proj-wrong{KEY_TAIL}")
    monkeypatch.setenv("OPENAI_BASE_URL", f"{fake_api.url}/v1")
    monkeypatch.setattr(conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, embedding_provider="openai"))
    embedding_provider.cache_clear()
    yield
    embedding_provider.cache_clear()


def _vendor_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if KEY_TAIL in record.getMessage()]


def test_a_refused_key_fails_an_upload_with_a_plain_message_and_logs_the_vendors_words(
    tenant: Tenant, other_tenant: Tenant, owner, client, refused_key, caplog, django_capture_on_commit_callbacks
) -> None:
    # given: a file uploaded through the API while the operator's key is refused
    upload = {"files": [SimpleUploadedFile("parking.md", b"# Parking\n\nFree parking behind the studio.")]}
    # when it is indexed
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        assert api_client(tenant).post(DOCUMENTS, upload, format="multipart").status_code == 202
    # then: the document failed saying what kind of failure it was, in our words
    document = Document.objects.for_tenant(tenant).get()
    assert (document.status, document.error) == (DocumentStatus.FAILED, REFUSED)
    # and the API's detail and list and the console's documents page show only that
    detail = api_client(tenant).get(f"{DOCUMENTS}{document.pk}/")
    listing = api_client(tenant).get(DOCUMENTS, {"status": "failed"})
    client.force_login(owner)
    page = client.get("/console/knowledge/").content.decode()
    assert detail.json()["error"] == REFUSED and listing.json()["results"][0]["error"] == REFUSED
    assert escape(REFUSED) in page
    assert not any(_leaks(shown) for shown in (detail.content.decode(), listing.content.decode(), page))
    # another tenant's key finds no such document
    assert api_client(other_tenant).get(f"{DOCUMENTS}{document.pk}/").status_code == 404
    # and the operators have the vendor's words in the log, with the tenant and the document
    [logged] = _vendor_records(caplog)
    assert logged.levelno == logging.ERROR
    assert f"tenant {tenant.pk}" in logged.getMessage() and f"[{document.pk}]" in logged.getMessage()


def test_a_refused_key_answers_dense_search_with_a_plain_message_in_the_api_and_console(
    tenant: Tenant, agent, client, refused_key, caplog
) -> None:
    # when: a dense search through the API and the console's test box
    with caplog.at_level(logging.WARNING):
        response = api_client(tenant).post("/api/v1/knowledge/search/", {"query": "parking", "mode": "dense"})
        client.force_login(agent)
        page = client.get("/console/knowledge/search/", {"q": "parking", "mode": "dense", "k": 5}).content.decode()
    # then: both say the query could not be embedded and why, in our words
    expected = EMBEDDING_UNAVAILABLE.format(reason=PUBLIC_MESSAGES[ProviderErrorKind.AUTH])
    assert (response.status_code, response.json()) == (503, {"detail": expected})
    assert escape(expected) in page
    assert not _leaks(response.content.decode()) and not _leaks(page)
    # and the log has the vendor's, for each of the two queries, with the tenant
    assert [f"tenant {tenant.pk}" in record.getMessage() for record in _vendor_records(caplog)] == [True, True]


def test_a_website_sync_while_the_key_is_refused_stores_no_vendor_text(
    tenant: Tenant, local_crawl, refused_key, site: FakeSite, caplog
) -> None:
    # given: a website source of one page
    site.article("/help/parking", "Parking", "Free parking behind the studio on weekdays.")
    site.sitemap("/sitemap.xml", ["/help/parking"])
    config = {"sitemap_url": f"{site.url}/sitemap.xml"}
    source = url_source_create(tenant=tenant, name="Help centre", config=config, sync_now=False)
    # when it syncs
    with caplog.at_level(logging.WARNING):
        result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then: the page failed with our message, and the source's error and summary hold no vendor text
    source.refresh_from_db()
    page = Document.objects.for_tenant(tenant).get(source=source)
    assert (page.status, page.error) == (DocumentStatus.FAILED, REFUSED)
    assert result.errors == {f"{site.url}/help/parking": "embedding"}
    assert not any(_leaks(text) for text in (source.error, source.last_sync_summary, result.error))
    assert _vendor_records(caplog)


@pytest.mark.django_db(transaction=True)
def test_migration_replaces_provider_text_stored_before_with_a_plain_message() -> None:
    # given documents failed or waiting with the provider's words, as they were stored before
    old = migrate_knowledge_to("0012_document_nfc_file_names")
    uploads = old.source.objects.create(tenant=old.tenant, name="Uploads", kind="upload")
    vendor = f"OpenAI embeddings: HTTP 401: Incorrect API key provided: sk-proj-****{KEY_TAIL}"
    for title, status, error in [
        ("failed", "failed", f"Embedding failed: {vendor}"),
        ("waiting", "pending", f"Embedding failed: {vendor}; retry 1 of 3 in 2 s"),
        ("stopped", "failed", f"Re-index stopped: {vendor}"),
        ("internal", "failed", "Re-index stopped by an internal error (logged on the server); run it again"),
        ("page", "failed", "HTTP 404 from https://help.example.com/gone"),  # the tenant's own site's
    ]:
        old.document.objects.create(
            tenant=old.tenant, source=uploads, external_id=title, title=title, status=status, error=error
        )
    # when the migration runs
    migrated = migrate_knowledge_to("0013_document_errors_without_provider_text").document
    # then no stored error holds the provider's words; ours are as they were
    errors = dict(migrated.objects.values_list("title", "error"))
    assert errors == {
        "failed": "Embedding failed. The embedding service failed. Re-index the document to try again.",
        "waiting": "Embedding failed. The embedding service failed. Re-index the document to try again.",
        "stopped": "Re-index stopped. The embedding service failed. Re-index the document to try again.",
        "internal": "Re-index stopped by an internal error (logged on the server); run it again",
        "page": "HTTP 404 from https://help.example.com/gone",
    }
