"""An upload request over KNOWLEDGE_MAX_UPLOAD_REQUEST_BYTES is refused before it is read on servers
other than daphne too (``RequestSizeUploadHandler``): the API with a 413 JSON naming the limit, the
console with its form saying it; nothing is stored. A batch within it keeps each file's own limit."""

from __future__ import annotations

import dataclasses
import html

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from knowledge import conf
from knowledge.models import Document
from knowledge.tests.factories import add_document
from knowledge.uploads import upload_request_too_large
from supportai.models import Tenant
from supportai.tests.factories import api_client

API_UPLOAD = "/api/v1/knowledge/documents/"
CONSOLE_UPLOAD = "/console/knowledge/"
FILE_LIMIT = 150_000
REQUEST_LIMIT = FILE_LIMIT + 262_144


@pytest.fixture(autouse=True)
def small_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        conf,
        "SETTINGS",
        dataclasses.replace(conf.SETTINGS, max_upload_bytes=FILE_LIMIT, max_upload_request_bytes=REQUEST_LIMIT),
    )


def _batch(count: int) -> list[SimpleUploadedFile]:
    """``count`` Markdown files of 100,000 bytes, each within a file's limit."""
    return [
        SimpleUploadedFile(f"page-{number}.md", f"# Page {number}\n\n".encode() + b"Open late. " * 9_000)
        for number in range(count)
    ]


def test_the_refusal_names_the_request_limit_its_setting_and_a_files_limit() -> None:
    message = upload_request_too_large()
    assert f"{REQUEST_LIMIT:,}-byte limit of one upload request (KNOWLEDGE_MAX_UPLOAD_REQUEST_BYTES" in message
    assert f"up to {FILE_LIMIT:,} bytes, KNOWLEDGE_MAX_UPLOAD_BYTES" in message and "smaller batches" in message


def test_an_api_upload_over_the_request_limit_gets_a_413_and_stores_nothing(
    tenant: Tenant, other_tenant: Tenant, owner: User
) -> None:
    # given five files of 100,000 bytes (500,000: over the 412,144 bytes of a request)
    add_document(other_tenant, "Their page", "Valet parking.")
    staff = APIClient(enforce_csrf_checks=True)
    staff.force_login(owner)
    staff.get(CONSOLE_UPLOAD)
    token = staff.cookies["csrftoken"].value
    # when a tenant key sends them, and a staff session with its CSRF token in the form (the CSRF check
    # reads the body first)
    for client, data in [(api_client(tenant), {}), (staff, {"csrfmiddlewaretoken": token})]:
        response = client.post(API_UPLOAD, {"files": _batch(5), **data}, format="multipart")
        # then
        assert response.status_code == 413
        assert response.json() == {"detail": upload_request_too_large()}
    assert not Document.objects.for_tenant(tenant).exists()
    assert Document.objects.for_tenant(other_tenant).count() == 1


def test_an_api_batch_within_the_request_limit_is_stored(tenant: Tenant) -> None:
    # given four files of 100,000 bytes: over a file's limit and the form's, within a request's
    response = api_client(tenant).post(API_UPLOAD, {"files": _batch(4)}, format="multipart")
    assert response.status_code == 202
    assert [result["error"] for result in response.json()["files"]] == ["", "", "", ""]


def test_a_console_upload_over_the_request_limit_says_so_on_the_form_and_stores_nothing(
    owner: User, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given an owner on the documents page, and another tenant's document
    add_document(other_tenant, "Their page", "Valet parking.")
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    client.get(CONSOLE_UPLOAD)
    token = client.cookies["csrftoken"].value
    # when
    response = client.post(CONSOLE_UPLOAD, {"upload": _batch(5), "csrfmiddlewaretoken": token})
    # then the page's form says the limit; the page is the owner's tenant's
    assert response.status_code == 413
    page = response.content.decode()
    assert html.escape(upload_request_too_large()) in page
    assert "Their page" not in page
    assert not Document.objects.for_tenant(tenant).exists()
    # and a batch within the limit goes through
    assert client.post(CONSOLE_UPLOAD, {"upload": _batch(4), "csrfmiddlewaretoken": token}).status_code == 302
    assert Document.objects.for_tenant(tenant).count() == 4


def test_a_console_upload_over_the_limit_from_an_agent_or_a_stranger_shows_no_page(agent: User) -> None:
    # an agent may not upload
    client = Client()
    client.force_login(agent)
    assert client.post(CONSOLE_UPLOAD, {"upload": _batch(5)}).status_code == 403
    # and a client not logged in is sent to log in
    response = Client().post(CONSOLE_UPLOAD, {"upload": _batch(5)})
    assert response.status_code == 302 and "/console/login/" in response["Location"]


def test_the_upload_form_states_both_limits(owner: User) -> None:
    client = Client()
    client.force_login(owner)
    page = client.get(CONSOLE_UPLOAD).content.decode()
    assert "Up to 100 files at a time, each up to 146.5\xa0KB, 402.5\xa0KB in all" in page
