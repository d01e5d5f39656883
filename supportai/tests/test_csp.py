"""The staff pages' Content-Security-Policy: sent where it belongs, and nothing of ours breaks under it."""

from __future__ import annotations

import base64
import datetime
import hashlib
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path as url_path
from playwright.sync_api import ConsoleMessage, Page, sync_playwright

from bookings.models import BlackoutDate
from chat.tests.test_widget_browser import CHROMIUM, CHROMIUM_ARGS
from knowledge.models import Chunk
from knowledge.tests.console_browser import PASSWORD, console_member, log_in
from knowledge.tests.factories import add_document
from supportai.csp import HEADER, STAFF_POLICY
from supportai.models import Role, Tenant
from supportai.tests.factories import TenantFactory, UserFactory

VIOLATION = "Content Security Policy"
STAFF_PAGES = (
    "/console/",
    "/console/knowledge/",
    "/console/knowledge/search/?q=parking&mode=bm25&k=5",  # with the document's passage: see below
    "/console/inbox/",
    "/console/conversations/",
    "/console/bookings/",
    "/console/bookings/day/",
    "/console/bookings/services/",  # with a blackout date: its inline "Remove" form
)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/console/login/", "/console/", "/console/knowledge/", "/admin/login/"])
def test_staff_pages_send_the_strict_policy(owner: User, path: str) -> None:
    client = Client()
    client.force_login(owner)
    response = client.get(path)
    assert response.status_code in (200, 302)
    assert response[HEADER] == STAFF_POLICY
    assert "script-src 'self'" in STAFF_POLICY and "unsafe-inline" not in STAFF_POLICY


@pytest.mark.django_db
def test_the_demo_page_and_the_api_are_left_to_their_own_policies(tenant: Tenant) -> None:
    # the widget styles its shadow root inline, and runs on customers' sites under theirs
    for path in ("/demo/", "/healthz", "/api/schema/"):
        assert HEADER not in Client().get(path)


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


# for DEBUG's technical 500 page under the staff prefix (@pytest.mark.urls(__name__))
urlpatterns = [url_path("console/boom/", _boom)]
STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _allows_only_its_own_style(content: bytes, policy: str) -> None:
    """``policy`` is the strict one plus the hash of the page's one stylesheet, in style-src alone."""
    [style] = STYLE.findall(content.decode())
    assert f"style-src 'self' {_sha256(style)};" in policy
    assert policy.replace(f" {_sha256(style)}", "") == STAFF_POLICY
    assert "unsafe-inline" not in policy and "unsafe-hashes" not in policy


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/console/no/such/page/", "/console/inbox/999999/"])
def test_a_debug_404_page_may_use_its_own_stylesheet_and_nothing_else(owner: User, settings: Any, path: str) -> None:
    # given DEBUG on, and a path no URL matches, or a view that finds nothing (Http404)
    settings.DEBUG = True
    client = Client()
    client.force_login(owner)
    # when the console member opens it
    response = client.get(path)
    # then Django's technical 404 page comes, allowed its stylesheet and nothing else inline
    assert response.status_code == 404 and b"DEBUG = True" in response.content
    _allows_only_its_own_style(response.content, response[HEADER])


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_debug_500_page_may_use_its_own_stylesheet_but_not_its_script(settings: Any) -> None:
    settings.DEBUG = True
    response = Client(raise_request_exception=False).get("/console/boom/")
    assert response.status_code == 500 and b"RuntimeError" in response.content and b"<script>" in response.content
    _allows_only_its_own_style(response.content, response[HEADER])
    assert "script-src 'self';" in response[HEADER]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/console/", "/console/no-such-section/", "/console/knowledge/"])
def test_debug_leaves_the_consoles_own_pages_and_not_found_page_strict(owner: User, settings: Any, path: str) -> None:
    # given DEBUG on: the console's own pages, its "not found" page included, keep the strict policy
    settings.DEBUG = True
    client = Client()
    client.force_login(owner)
    response = client.get(path)
    assert response.status_code in (200, 404)
    assert response[HEADER] == STAFF_POLICY


@pytest.mark.django_db
def test_without_debug_error_pages_keep_the_strict_policy(owner: User, settings: Any) -> None:
    settings.DEBUG = False
    client = Client()
    client.force_login(owner)
    response = client.get("/console/no/such/page/")
    assert response.status_code == 404 and b"DEBUG = True" not in response.content
    assert response[HEADER] == STAFF_POLICY


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_without_debug_a_server_error_keeps_the_strict_policy(settings: Any) -> None:
    settings.DEBUG = False
    response = Client(raise_request_exception=False).get("/console/boom/")
    assert response.status_code == 500 and b"RuntimeError" not in response.content
    assert response[HEADER] == STAFF_POLICY


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.daphne_env(DEBUG="1")
def test_a_debug_404_page_is_drawn_styled_in_the_browser(daphne_server: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context().new_page()
            violations = _violations(page)
            response = page.goto(f"{daphne_server}/console/no/such/page/")
            assert response is not None and response.status == 404
            page.get_by_text("Page not found").first.wait_for()
            # Django's stylesheet applied (body { background: #eee }), and nothing was blocked on the way
            assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(238, 238, 238)"
            assert violations == []
        finally:
            browser.close()


def _violations(page: Page) -> list[str]:
    found: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if VIOLATION in message.text:
            found.append(message.text)

    page.on("console", record)
    return found


def _inline_script_runs(page: Page) -> bool:
    return bool(
        page.evaluate(
            """() => { const s = document.createElement('script'); s.textContent = 'window.__injected = true';
                       document.body.appendChild(s); return window.__injected === true; }"""
        )
    )


@pytest.mark.browser
@pytest.mark.slow
def test_console_and_admin_work_under_the_policy_and_an_injected_script_does_not_run(daphne_server: str) -> None:
    # given a tenant with a document, an agent and a superuser
    tenant = TenantFactory.create(name="Alpha Clinic", slug="alpha")
    document = add_document(tenant, "Parking", "Free parking behind the studio.")
    chunk = Chunk.objects.filter(document=document).order_by("level", "pk").first()
    assert chunk is not None
    document_page = f"/console/knowledge/documents/{document.pk}/"
    # the document's page, plain and opened at a chunk as a test-retrieval passage links it
    pages = (*STAFF_PAGES, document_page, f"{document_page}?chunk={chunk.pk}")
    BlackoutDate.objects.create(tenant=tenant, date=datetime.date(2030, 12, 25), reason="Holiday")
    console_member(tenant, "ada", Role.ADMIN)
    root = UserFactory.create(username="root", is_staff=True, is_superuser=True)
    root.set_password(PASSWORD)
    root.save()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            # when the console member walks through the console pages
            page = browser.new_context().new_page()
            violations = _violations(page)
            log_in(page, daphne_server, "ada")
            for path in pages:
                response = page.goto(f"{daphne_server}{path}")
                assert response is not None and response.status == 200, path
                if path.startswith(("/console/knowledge/search/", document_page)):
                    # the page as it is with its content: the passage and the chunk's text
                    assert page.get_by_text("Free parking behind the studio.").first.is_visible(), path
                # then our stylesheet applied (a blocked one would leave the body transparent)
                background = page.evaluate("getComputedStyle(document.body).backgroundColor")
                assert background != "rgba(0, 0, 0, 0)", path
            assert violations == []
            # and the admin works for the superuser too
            admin = browser.new_context().new_page()
            admin_violations = _violations(admin)
            admin.goto(f"{daphne_server}/admin/login/")
            admin.get_by_label("Username").fill("root")
            admin.get_by_label("Password").fill(PASSWORD)
            admin.get_by_role("button", name="Log in").click()
            admin.wait_for_url(f"{daphne_server}/admin/")
            admin.goto(f"{daphne_server}/admin/knowledge/document/")
            assert "Parking" in admin.content()
            assert admin_violations == []
            # and a script that slipped into a console page would not run
            assert not _inline_script_runs(page)
            assert any("script-src" in text for text in violations)
        finally:
            browser.close()
