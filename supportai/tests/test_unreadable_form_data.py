"""A staff page posted a multipart body Django's parser cannot read (no boundary, a base64 part cut
short or not base64) gets a 400 page saying the form's data could not be read, and is logged as one
WARNING line, never with a traceback: the console upload, another console form and the admin alike."""

from __future__ import annotations

import html
import logging
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from knowledge.models import Document, KnowledgeSource
from supportai.error_pages import UNREADABLE_FORM
from supportai.models import EndUser, Tenant
from supportai.tests.factories import EndUserFactory, api_client

UPLOAD_PAGE = "/console/knowledge/"
NEW_SOURCE_PAGE = "/console/knowledge/sources/new/"
BOUNDARY = "B0undary"


def _base64_upload(content: bytes) -> bytes:
    """An upload form's body whose one file part is sent base64-encoded as ``content``."""
    headers = (
        b'Content-Disposition: form-data; name="upload"; filename="faq.md"\r\n'
        b"Content-Type: text/markdown\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    )
    return f"--{BOUNDARY}\r\n".encode() + headers + content + f"\r\n--{BOUNDARY}--\r\n".encode()


MALFORMED = {
    # a Content-Type without its boundary: the parts cannot be told apart
    "no boundary": ("multipart/form-data", b"--B0undary\r\nContent-Disposition: form-data; name=a\r\n\r\n1"),
    # a base64 part cut off mid-quantum
    "base64 cut short": (f"multipart/form-data; boundary={BOUNDARY}", _base64_upload(b"IyBGQVEKCk9wZW4gbGF0ZS4K"[:-3])),
    # a base64 part that is no base64
    "bad base64": (f"multipart/form-data; boundary={BOUNDARY}", _base64_upload(b"A===")),
}


def _staff_client(user: User, page: str) -> Client:
    """A browser-like client, CSRF enforced (the middleware reads the form before any view), that
    has opened ``page``."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get(page).status_code == 200
    return client


def _assert_refused_as_unreadable(response: Any, page: str, caplog: pytest.LogCaptureFixture) -> logging.LogRecord:
    """A 400 page naming the problem and leading back to ``page``; one WARNING line logged for it
    (returned), and no record with a traceback."""
    body = response.content.decode()
    assert response.status_code == 400, body[:300]
    assert html.escape(UNREADABLE_FORM) in body and f'href="{page}"' in body
    traced = [(record.name, record.getMessage()) for record in caplog.records if record.exc_info or record.stack_info]
    assert not traced
    assert "Traceback" not in caplog.text
    [logged] = [record for record in caplog.records if record.name == "django.request"]
    assert logged.levelno == logging.WARNING and "\n" not in logged.getMessage()
    assert repr(page) in logged.getMessage()
    return logged


# The console upload, and another console form: each page with the model a post to it would store into.
CONSOLE_FORMS = {"upload": (UPLOAD_PAGE, Document), "new-source": (NEW_SOURCE_PAGE, KnowledgeSource)}


@pytest.mark.parametrize(("page", "stored"), CONSOLE_FORMS.values(), ids=list(CONSOLE_FORMS))
@pytest.mark.parametrize(("content_type", "body"), MALFORMED.values(), ids=list(MALFORMED))
def test_a_console_form_posted_malformed_gets_a_400_page_and_no_traceback(
    owner: User,
    tenant: Tenant,
    caplog: pytest.LogCaptureFixture,
    content_type: str,
    body: bytes,
    page: str,
    stored: type[Document] | type[KnowledgeSource],
) -> None:
    # given
    client = _staff_client(owner, page)
    caplog.set_level(logging.DEBUG)
    # when
    response = client.post(page, body, content_type=content_type)
    # then
    _assert_refused_as_unreadable(response, page, caplog)
    assert not stored.objects.for_tenant(tenant).exists()


@pytest.mark.parametrize(("content_type", "body"), MALFORMED.values(), ids=list(MALFORMED))
def test_an_admin_add_or_change_form_posted_malformed_gets_the_same_page(
    owner: User, tenant: Tenant, caplog: pytest.LogCaptureFixture, content_type: str, body: bytes
) -> None:
    # given a customer of the tenant, and the admin's add and change forms
    customer = EndUserFactory.create(tenant=tenant, full_name="Ada")
    for page in ("/admin/supportai/enduser/add/", f"/admin/supportai/enduser/{customer.pk}/change/"):
        client = _staff_client(owner, page)
        caplog.clear()
        caplog.set_level(logging.DEBUG)
        # when
        response = client.post(page, body, content_type=content_type)
        # then
        _assert_refused_as_unreadable(response, page, caplog)
    customer.refresh_from_db()
    assert customer.full_name == "Ada" and EndUser.objects.for_tenant(tenant).count() == 1


def test_the_log_line_cuts_and_escapes_what_the_client_sent(owner: User, caplog: pytest.LogCaptureFixture) -> None:
    # given a Content-Type forging a log line, long, with a line break and a bidi override
    client = _staff_client(owner, UPLOAD_PAGE)
    caplog.set_level(logging.DEBUG)
    forged = "multipart/form-data; boundary=" + "a" * 5000 + "\n2026-01-01 ERROR forged line \u202e"
    # when
    response = client.post(UPLOAD_PAGE, b"--a\r\n", content_type=forged)
    # then the parser's words, which quote it, are cut and escaped in the one line
    record = _assert_refused_as_unreadable(response, UPLOAD_PAGE, caplog)
    line = logging.Formatter("%(levelname)s %(name)s %(message)s").format(record)
    assert line.startswith("WARNING django.request form data could not be read: refused '/console/knowledge/' from ")
    assert "aaa…'" in line and "\u202e" not in line and "\n" not in line and len(line) < 400, line


@pytest.mark.parametrize(("content_type", "body"), MALFORMED.values(), ids=list(MALFORMED))
def test_the_api_answers_the_same_bodies_in_json_without_a_traceback(
    tenant: Tenant, caplog: pytest.LogCaptureFixture, content_type: str, body: bytes
) -> None:
    caplog.set_level(logging.DEBUG)
    response = api_client(tenant).post("/api/v1/knowledge/documents/", body, content_type=content_type)
    assert response.status_code == 400 and "detail" in response.json()
    assert not [record.getMessage() for record in caplog.records if record.exc_info or record.stack_info]
    assert not Document.objects.for_tenant(tenant).exists()
