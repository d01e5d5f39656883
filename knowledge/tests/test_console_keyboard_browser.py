"""The knowledge console by keyboard alone, in a real browser (Debian chromium via Playwright) against
a real daphne: the first Tab offers to skip the top bar and the sections, straight to the page's own
controls."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from knowledge.tests.console_browser import console_member, logged_in_page
from knowledge.tests.factories import add_document
from supportai.models import Role
from supportai.tests.factories import TenantFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _focused(page: Page) -> str:
    return str(page.evaluate("document.activeElement.textContent.trim()"))


def test_the_first_tab_skips_to_the_pages_own_controls(daphne_server: str) -> None:
    # given an owner of a tenant with a document
    tenant = TenantFactory.create(name="Alpha Clinic", slug="alpha")
    console_member(tenant, "olive", Role.OWNER)
    add_document(tenant, "Parking", "Free parking behind the studio.")
    with logged_in_page(daphne_server, "olive") as page:
        page.goto(f"{daphne_server}/console/knowledge/")
        # when they press Tab, then the skip link is focused and shown
        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Skip to content")
        assert _focused(page) == "Skip to content"
        box = skip.bounding_box()
        assert box is not None and box["x"] >= 0 and box["y"] >= 0
        # when they follow it and press Tab again, then they are at the page's first control
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        assert _focused(page) == "Test retrieval →"
        # and on the test-retrieval page, at its back link, the query box next
        page.goto(f"{daphne_server}/console/knowledge/search/")
        for key in ("Tab", "Enter", "Tab", "Tab"):
            page.keyboard.press(key)
        assert page.evaluate("document.activeElement.name") == "q"
