"""An owner adds, fixes, edits and deletes a website source from /console/knowledge/ in a real
browser (Debian chromium via Playwright) against a real daphne: real CSRF tokens, real redirects."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import sync_playwright

from chat.tests.test_widget_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from knowledge.models import KnowledgeSource, SourceKind
from knowledge.source_config import BAD_NUMBER
from knowledge.tests.console_browser import console_member, log_in, logged_in_page
from knowledge.tests.test_console_url_sources import ONE_ENTRY_URL_IN_THE_FORM
from supportai.bidi import isolate
from supportai.models import Role
from supportai.tests.factories import TenantFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT = 20_000
SYNCED = "12 pages: 1 created, 2 updated, 0 unchanged, 0 failed, 9 not_modified, 1 removed, 0 duplicates"


def test_owner_adds_fixes_edits_and_deletes_a_website_source(daphne_server: str) -> None:
    # given an owner of a tenant without sources
    tenant = TenantFactory.create(name="Alpha Clinic", slug="alpha")
    console_member(tenant, "olive", Role.OWNER)
    synced = KnowledgeSource.objects.create(
        tenant=tenant,
        name="Old site",
        kind=SourceKind.URL,
        config={"start_url": "https://old.example.com/"},
        last_synced_at=timezone.now(),
        last_sync_summary=SYNCED,
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context().new_page()
        try:
            log_in(page, daphne_server, "olive")
            page.goto(f"{daphne_server}/console/knowledge/")
            # the table says what the last sync of a source did
            assert page.locator(".sync-summary").inner_text() == SYNCED
            page.get_by_role("link", name="Add a website").click()
            # when both entry URLs are given (and no first sync, so nothing is fetched)
            page.get_by_label("Name").fill("Help centre")
            page.get_by_label("Start URL").fill("https://help.example.com/")
            page.get_by_label("Sitemap URL").fill("https://help.example.com/sitemap.xml")
            page.get_by_label("Max link depth").fill("11")
            page.get_by_label("Sync now").uncheck()
            page.get_by_role("button", name="Add website").click()
            # then the form comes back with the rule and what was typed
            page.get_by_text(ONE_ENTRY_URL_IN_THE_FORM).wait_for(timeout=TIMEOUT)
            assert page.get_by_label("Name").input_value() == "Help centre"
            assert page.get_by_label("Sitemap URL").input_value() == "https://help.example.com/sitemap.xml"
            # when the sitemap is cleared, then the depth is the next thing to fix
            page.get_by_label("Sitemap URL").fill("")
            page.get_by_role("button", name="Add website").click()
            page.get_by_text(BAD_NUMBER.format(key="Max link depth", minimum=0, maximum=10, value=11)).wait_for(
                timeout=TIMEOUT
            )
            page.get_by_label("Max link depth").fill("1")
            page.get_by_role("button", name="Add website").click()
            # then the source is listed
            page.get_by_text(f"Added {isolate('Help centre')}: use Sync now to read it.").wait_for(timeout=TIMEOUT)
            assert page.get_by_role("cell", name="Help centre", exact=True).is_visible()

            # when the owner changes its settings
            page.get_by_role("link", name="Settings of Help centre").click()
            assert page.get_by_label("Max link depth").input_value() == "1"
            page.get_by_label("Max pages").fill("20")
            page.get_by_label("Path prefix").fill("/help/")
            page.get_by_role("button", name="Save settings").click()
            saved = f"Saved the settings of {isolate('Help centre')}; the next sync uses them."
            page.get_by_text(saved).wait_for(timeout=TIMEOUT)
            page.get_by_role("link", name="Settings of Help centre").click()
            assert page.get_by_label("Max pages").input_value() == "20"
            assert page.get_by_label("Path prefix").input_value() == "/help/"

            # when they delete it, then they are asked first (Cancel keeps it), and it goes once they confirm
            page.get_by_role("link", name="← Knowledge").click()
            page.get_by_role("link", name="Delete Help centre").click()
            page.get_by_test_id("delete-summary").wait_for(timeout=TIMEOUT)
            page.get_by_role("link", name="Cancel").click()
            page.get_by_role("link", name="Delete Help centre").click()
            page.get_by_role("button", name="Delete Help centre").click()
            page.get_by_text(f"Deleted {isolate('Help centre')} and its 0 documents.").wait_for(timeout=TIMEOUT)
        finally:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "knowledge-url-sources.png"), full_page=True)
            browser.close()
    # (the ORM is not used while Playwright's event loop runs in this thread)
    assert list(KnowledgeSource.objects.filter(tenant=tenant)) == [synced]


def test_each_sync_now_button_names_its_source(daphne_server: str) -> None:
    # given an owner with two website sources, so two Sync now buttons in the table
    tenant = TenantFactory.create(name="Alpha Clinic", slug="alpha")
    console_member(tenant, "olive", Role.OWNER)
    for name, url in (("Help centre", "https://help.example.com/"), ("Blog", "https://blog.example.com/")):
        KnowledgeSource.objects.create(tenant=tenant, name=name, kind=SourceKind.URL, config={"start_url": url})
    with logged_in_page(daphne_server, "olive") as page:
        page.goto(f"{daphne_server}/console/knowledge/")
        # when / then: a screen reader or voice user can tell the buttons apart, as the links beside them
        for name in ("Help centre", "Blog"):
            assert page.get_by_role("button", name=f"Sync now {name}", exact=True).count() == 1
            assert page.get_by_role("link", name=f"Settings of {name}", exact=True).count() == 1
