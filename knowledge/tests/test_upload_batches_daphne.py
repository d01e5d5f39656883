"""Batches of uploads through a real daphne: a request may carry up to KNOWLEDGE_MAX_UPLOAD_REQUEST_BYTES
(default 100 MiB) in all, each file up to KNOWLEDGE_MAX_UPLOAD_BYTES (``supportai/daphne_setup.py``).

Users upload help-centre folders a batch at a time (up to 100 files on the console, 50 through the API),
so the limit daphne holds uploads to as they arrive is the request's, not one file's: a file over its
own limit inside a batch gets its own ``too_large`` result, and only a request over the request limit
is refused, whole, before it is read. Through a real daphne, the API with a tenant key and the
console with a logged-in owner, as a client sends them.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from knowledge.models import Document
from knowledge.tests.console_browser import PASSWORD, console_member
from knowledge.tests.pdfs import pdf_from_objects
from supportai.api_keys import api_key_create
from supportai.bidi import isolate
from supportai.models import Role, Tenant

# The daphne process indexes eagerly (no REDIS_URL): the fake embedder keeps that quick.
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
FAKE_EMBEDDINGS = {"KNOWLEDGE_EMBEDDING_PROVIDER": "fake"}
API_UPLOAD = "/api/v1/knowledge/documents/"
CONSOLE_UPLOAD = "/console/knowledge/"
MB = 1_000_000
TIMEOUT = 180
# A file of 3.3 MB is over the per-file limit below; with two small files, its batch is within the
# request's, and over what daphne used to allow a request (the file's limit plus 256 KiB).
SMALLER_LIMITS = {
    **FAKE_EMBEDDINGS,
    "KNOWLEDGE_MAX_UPLOAD_BYTES": "3000000",
    "KNOWLEDGE_MAX_UPLOAD_REQUEST_BYTES": "5000000",
}

Files = list[tuple[str, bytes]]


def pdf(text: str, size: int) -> bytes:
    """A one-page PDF of about ``size`` bytes: ``text`` and an uncompressed photo (random pixels), as
    a help-centre article with a screenshot exports."""
    width = 1000
    height = max(1, size // (width * 3))
    pixels = os.urandom(width * height * 3)
    content = f"q 250 0 0 {height // 4} 72 300 cm /Im1 Do Q BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> /XObject << /Im1 6 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 "
        b"/Length %d >>\nstream\n" % (width, height, len(pixels)) + pixels + b"\nendstream",
    ]
    return pdf_from_objects(objects)


def articles(count: int, size: int) -> Files:
    return [(f"article-{number:02d}.pdf", pdf(f"Article {number}: parking is free.", size)) for number in range(count)]


def api_upload(base: str, tenant: Tenant, files: Files) -> httpx.Response:
    key = api_key_create(tenant=tenant, name="batches").raw_key
    return httpx.post(
        f"{base}{API_UPLOAD}",
        files=[("files", (name, data, "application/pdf")) for name, data in files],
        headers={"Authorization": f"Bearer {key}"},
        timeout=TIMEOUT,
    )


@contextmanager
def console_owner(
    base: str, tenant: Tenant, role: Role = Role.OWNER, username: str = "olive"
) -> Iterator[httpx.Client]:
    """A client logged in to the console as an owner of ``tenant`` (or a member of another ``role``)."""
    console_member(tenant, username, role)
    with httpx.Client(base_url=base, timeout=TIMEOUT) as client:
        login = client.post(
            "/console/login/",
            data={
                "username": username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": _csrf_token(client, "/console/login/"),
            },
        )
        assert login.status_code == 302, login.text
        yield client


def _csrf_token(client: httpx.Client, path: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get(path).text)
    assert found, path
    return found.group(1)


def console_upload(client: httpx.Client, files: Files) -> httpx.Response:
    token = _csrf_token(client, CONSOLE_UPLOAD)
    return client.post(
        CONSOLE_UPLOAD,
        files=[("upload", (name, data, "application/pdf")) for name, data in files],
        data={"csrfmiddlewaretoken": token, "language": "en"},
    )


def stored_titles(tenant: Tenant) -> list[str]:
    return sorted(Document.objects.for_tenant(tenant).values_list("title", flat=True))


@pytest.mark.daphne_env(**FAKE_EMBEDDINGS)
def test_a_batch_of_twenty_2_mb_pdfs_is_stored_through_the_api(daphne_server: str, tenant: Tenant) -> None:
    # given twenty PDFs of 2 MB each (40 MB, within the default 100 MiB of a request; 2 MB each,
    # within the default 10 MiB of a file)
    files = articles(20, 2 * MB)
    # when
    response = api_upload(daphne_server, tenant, files)
    # then every file is stored
    assert response.status_code == 202, response.text[:500]
    results = response.json()["files"]
    assert [(result["name"], result["error"]) for result in results] == [(name, "") for name, _ in files]
    assert len(stored_titles(tenant)) == 20


@pytest.mark.daphne_env(**FAKE_EMBEDDINGS)
def test_a_batch_of_twenty_2_mb_pdfs_is_stored_through_the_console(daphne_server: str, tenant: Tenant) -> None:
    # given
    files = articles(20, 2 * MB)
    with console_owner(daphne_server, tenant) as client:
        # when
        response = console_upload(client, files)
        # then the console goes back to its page, which says what became of each file
        assert response.status_code == 302, response.text[:500]
        page = client.get(CONSOLE_UPLOAD).text
    assert all(f"{isolate(name)}: {isolate(name.removesuffix('.pdf'))}: created" in page for name, _ in files)
    assert len(stored_titles(tenant)) == 20


def _refusal_message(response: httpx.Response, *, json_body: bool) -> str:
    assert response.status_code == 413, response.text[:500]
    if json_body:
        assert response.headers["content-type"] == "application/json"
        detail: str = response.json()["detail"]
        return detail
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    return response.text


@pytest.mark.daphne_env(**SMALLER_LIMITS)
def test_a_batch_over_the_request_limit_is_refused_whole_and_says_the_limit(daphne_server: str, tenant: Tenant) -> None:
    # given three PDFs of 2 MB (6 MB: over the 5,000,000 bytes of a request, each within its own limit)
    files = articles(3, 2 * MB)
    # when they are sent through the API, and through the console
    api = api_upload(daphne_server, tenant, files)
    with console_owner(daphne_server, tenant) as client:
        console = console_upload(client, files)
        # then each is refused with 413, in its path's form, naming the request's limit and its setting
        for message in (_refusal_message(api, json_body=True), _refusal_message(console, json_body=False)):
            assert "5,000,000-byte limit of one upload request" in message, message
            assert "KNOWLEDGE_MAX_UPLOAD_REQUEST_BYTES" in message and "smaller batches" in message
        assert stored_titles(tenant) == []
        # and two of them (4 MB, over a file's limit plus 256 KiB) are one batch within it
        assert console_upload(client, files[:2]).status_code == 302
    assert len(stored_titles(tenant)) == 2


@pytest.mark.daphne_env(**SMALLER_LIMITS)
def test_a_file_over_its_limit_in_a_batch_gets_its_own_error(daphne_server: str, tenant: Tenant) -> None:
    # given a batch within the request's limit whose middle file is over a file's (3,000,000 bytes)
    files = [*articles(1, 100_000), ("manual.pdf", pdf("The whole manual.", 3_300_000)), *articles(2, 100_000)[1:]]
    # when
    response = api_upload(daphne_server, tenant, files)
    # then that file is refused in its own result, and the others are stored
    assert response.status_code == 202, response.text[:500]
    results = {result["name"]: result for result in response.json()["files"]}
    assert results["manual.pdf"]["error_code"] == "too_large"
    assert "the limit is 3000000 bytes" in results["manual.pdf"]["error"], json.dumps(results["manual.pdf"])
    assert [results[name]["error"] for name in ("article-00.pdf", "article-01.pdf")] == ["", ""]
    assert stored_titles(tenant) == ["article-00", "article-01"]
