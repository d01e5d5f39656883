"""Staff pages refused by Django's request-size guards say which limit it was (DEBUG off)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pytest_django.fixtures import Settings

from knowledge.models import Document, KnowledgeSource
from supportai.error_pages import GENERIC, NO_SUCH_ENDPOINT
from supportai.models import Tenant
from supportai.request_limits import BODY_TOO_LARGE, TOO_MANY_FILES

UPLOAD_PAGE = "/console/knowledge/"


@pytest.fixture
def production(settings: Settings) -> Settings:
    settings.DEBUG = False  # Django shows its technical page instead of handler400 in DEBUG
    return settings


def _logged_in_with_csrf(user: User) -> tuple[Client, str]:
    """A browser-like client: CSRF enforced, as the middleware reads the form before any view."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get(UPLOAD_PAGE)
    return client, client.cookies["csrftoken"].value


def test_too_many_files_on_the_upload_form_name_the_limit_and_store_nothing(
    production: Settings, owner: User, tenant: Tenant
) -> None:
    # given
    production.DATA_UPLOAD_MAX_NUMBER_FILES = 3
    client, token = _logged_in_with_csrf(owner)
    page = client.get(UPLOAD_PAGE).content.decode()
    # the form says so first (and a file's and a request's limits in bytes)
    assert "Up to 3 files at a time, each up to 10.0\xa0MB, 100.0\xa0MB in all" in page
    files = [SimpleUploadedFile(f"page{number}.md", b"# Page\n\nText.") for number in range(4)]
    # when
    response = client.post(UPLOAD_PAGE, {"upload": files, "csrfmiddlewaretoken": token})
    # then
    body = response.content.decode()
    assert response.status_code == 400
    assert TOO_MANY_FILES.format(limit=3) in body and f'href="{UPLOAD_PAGE}"' in body
    assert not Document.objects.for_tenant(tenant).exists()


def test_a_form_over_the_size_limit_gets_413_naming_it(production: Settings, owner: User) -> None:
    # given
    production.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    client, token = _logged_in_with_csrf(owner)
    # when
    response = client.post(UPLOAD_PAGE, {"language": "x" * 2000, "csrfmiddlewaretoken": token})
    # then
    assert response.status_code == 413
    assert BODY_TOO_LARGE.format(limit=1024) in response.content.decode()


def test_other_bad_requests_keep_a_generic_message_and_a_safe_link(production: Settings) -> None:
    # when: a Host header the site does not serve, refused before sessions and authentication run
    response = Client(HTTP_HOST="evil.example").get("//evil.example/console/")
    # then
    body = response.content.decode()
    assert response.status_code == 400
    assert GENERIC in body and 'href="/console/"' in body and "evil.example" not in body


def test_an_unknown_api_path_gets_a_json_404_and_other_paths_django_s_page(production: Settings) -> None:
    # when
    api = Client().get("/api/v1/knowledge/documents/null,null/")
    page = Client().get("/no-such-page/")
    # then
    assert (api.status_code, api.json()) == (404, {"detail": NO_SUCH_ENDPOINT})
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_a_console_page_not_found_is_a_console_page_saying_what_was_not_found(
    production: Settings, owner: User, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given a document of another tenant, and an owner who follows a link to delete it
    uploads = KnowledgeSource.objects.create(tenant=other_tenant, name="Uploads")
    theirs = Document.objects.create(
        tenant=other_tenant, source=uploads, external_id="pricing.md", title="Their pricing"
    )
    client = Client()
    client.force_login(owner)
    # when
    response = client.get(f"/console/knowledge/documents/{theirs.pk}/delete/")
    # then the console says what it did not find, with its navigation and a way back, and nothing of theirs
    body = response.content.decode()
    assert response.status_code == 404
    assert 'data-testid="current-tenant">Alpha Clinic<' in body and 'href="/console/knowledge/"' in body
    assert "No such document." in body and 'href="/console/">Back to the console' in body
    assert "Their pricing" not in body


def test_an_unknown_console_path_is_a_console_page_naming_no_internals(production: Settings, owner: User) -> None:
    client = Client()
    client.force_login(owner)
    response = client.get("/console/knowledge/no-such-page/")
    body = response.content.decode()
    assert response.status_code == 404
    assert "There is no such console page." in body and "Resolver404" not in body and "tried" not in body
