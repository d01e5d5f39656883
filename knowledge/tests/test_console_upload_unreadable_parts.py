"""The console upload refuses a body with a part Django's multipart parser would skip, as the API does."""

from __future__ import annotations

import html

import pytest
from django.contrib.auth.models import User
from django.test import Client

from knowledge.console_views import CHOOSE_AGAIN
from knowledge.models import Document
from knowledge.multipart import UNFINISHED_BODY, UNREADABLE_PART
from knowledge.tests.factories import add_document
from supportai.models import Tenant

DOCUMENTS_PAGE = "/console/knowledge/"
LATIN_1_NAME = 'filename="M\xe4rz.md"'.encode("latin-1")
UNREADABLE_UPLOAD = f"{UNREADABLE_PART} {CHOOSE_AGAIN}"


def _field(name: str, value: str) -> bytes:
    return f'Content-Disposition: form-data; name="{name}"\r\n\r\n{value}'.encode()


def _file(disposition: bytes, content: bytes = b"# B\n\nOpen late.") -> bytes:
    headers = b"Content-Disposition: form-data; name=upload; " + disposition + b"\r\nContent-Type: text/markdown"
    return headers + b"\r\n\r\n" + content


def _post(client: Client, tenant: Tenant, *parts: bytes) -> str:
    """``parts`` posted as the upload form does, the CSRF token and the tenant field first, with CSRF
    checks on: the parts are counted before the CSRF middleware reads the body."""
    client.get(DOCUMENTS_PAGE)
    token = client.cookies["csrftoken"].value
    fields = (_field("csrfmiddlewaretoken", token), _field("tenant", str(tenant.pk)), *parts)
    body = b"".join(b"--B0undary\r\n" + part + b"\r\n" for part in fields) + b"--B0undary--\r\n"
    response = client.post(DOCUMENTS_PAGE, body, content_type="multipart/form-data; boundary=B0undary", follow=True)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


@pytest.mark.parametrize(
    "disposition",
    [
        LATIN_1_NAME,  # the header line is not UTF-8
        b"filename*=x-foo''b.md",  # a charset Python does not know
        b'filename=".."',  # no file name left once sanitized
    ],
)
def test_upload_with_a_part_django_would_skip_stores_nothing_and_says_so_keeping_the_language(
    csrf_client: Client, owner: User, tenant: Tenant, disposition: bytes
) -> None:
    # given a good file next to one whose part Django's parser would skip, and a language chosen
    csrf_client.force_login(owner)
    # when
    page = _post(
        csrf_client,
        tenant,
        _file(b'filename="a.md"', b"# A\n\nFree parking."),
        _file(disposition),
        _field("language", "de"),
    )
    # then the upload is refused whole, on the form, which keeps the language typed
    assert html.escape(UNREADABLE_UPLOAD) in page
    assert 'name="language" value="de"' in page
    assert not Document.objects.exists()


def test_upload_of_only_an_unreadable_part_says_it_could_not_be_read(
    csrf_client: Client, owner: User, tenant: Tenant
) -> None:
    csrf_client.force_login(owner)
    page = _post(csrf_client, tenant, _file(LATIN_1_NAME))
    assert html.escape(UNREADABLE_UPLOAD) in page
    assert "Choose at least one file" not in page
    assert not Document.objects.exists()


def test_upload_of_a_body_cut_before_its_closing_boundary_stores_nothing_and_says_so(
    csrf_client: Client, owner: User, tenant: Tenant
) -> None:
    # given two files whose body ends within the second (Django's parser dropped it without a word)
    csrf_client.force_login(owner)
    csrf_client.get(DOCUMENTS_PAGE)
    token = csrf_client.cookies["csrftoken"].value
    fields = (
        _field("csrfmiddlewaretoken", token),
        _field("tenant", str(tenant.pk)),
        _field("language", "de"),
        _file(b'filename="a.md"', b"# A\n\nFree parking."),
        _file(b'filename="b.md"'),
    )
    body = b"".join(b"--B0undary\r\n" + part + b"\r\n" for part in fields)
    # when
    response = csrf_client.post(
        DOCUMENTS_PAGE, body[:-8], content_type="multipart/form-data; boundary=B0undary", follow=True
    )
    # then the upload is refused whole, on the form, which keeps the language typed
    page = response.content.decode()
    assert html.escape(f"{UNFINISHED_BODY} {CHOOSE_AGAIN}") in page
    assert 'name="language" value="de"' in page
    assert not Document.objects.exists()


def test_upload_of_a_hand_built_body_with_readable_parts_is_stored(
    csrf_client: Client, owner: User, tenant: Tenant
) -> None:
    # given UTF-8 and RFC 2231 file names and a language field
    csrf_client.force_login(owner)
    # when
    page = _post(
        csrf_client,
        tenant,
        _file('filename="März.md"'.encode()),
        _file(b"filename*=UTF-8''Apr%C3%A8s.md", b"# C\n\nClosed Sundays."),
        _field("language", "de"),
    )
    # then both are stored, with the language chosen
    assert html.escape(UNREADABLE_UPLOAD) not in page
    assert sorted(Document.objects.for_tenant(tenant).values_list("title", "language")) == [("B", "de"), ("C", "de")]


def test_an_unreadable_upload_of_another_tenants_owner_shows_only_their_tenant(
    csrf_client: Client, outsider: User, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given a document of the tenant, and the other tenant's owner
    add_document(tenant, "Alpha parking", "Free parking.")
    csrf_client.force_login(outsider)
    # when their upload is refused
    page = _post(csrf_client, other_tenant, _file(LATIN_1_NAME), _field("language", "de"))
    # then the page shown again is their tenant's
    assert html.escape(UNREADABLE_UPLOAD) in page
    assert "Alpha parking" not in page and "Bravo Spa" in page
    assert not Document.objects.for_tenant(other_tenant).exists()


def test_another_tenants_owner_cannot_upload_into_the_tenant(
    csrf_client: Client, outsider: User, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given the other tenant's owner
    csrf_client.force_login(outsider)
    # when they post an upload naming the tenant
    page = _post(csrf_client, tenant, _file(b'filename="a.md"', b"# A\n\nFree parking."))
    # then nothing is stored, in either tenant
    assert "Nothing was uploaded" in page
    assert not Document.objects.exists()
    # and an upload of theirs goes to their own tenant
    _post(csrf_client, other_tenant, _file(b'filename="a.md"', b"# A\n\nFree parking."))
    assert not Document.objects.for_tenant(tenant).exists()
    assert Document.objects.for_tenant(other_tenant).get().title == "A"


def test_upload_without_the_csrf_token_is_refused(csrf_client: Client, owner: User, tenant: Tenant) -> None:
    # the view counts the parts before checking CSRF itself: a post without the token is still a 403
    csrf_client.force_login(owner)
    body = b"--B0undary\r\n" + _file(b'filename="a.md"', b"# A\n\nFree parking.") + b"\r\n--B0undary--\r\n"
    response = csrf_client.post(DOCUMENTS_PAGE, body, content_type="multipart/form-data; boundary=B0undary")
    assert response.status_code == 403
    assert not Document.objects.exists()
