"""Long words in the knowledge console (a file name as a title, an address in an error, a token in a
passage) in a real browser (Debian chromium via Playwright, real daphne): they wrap, so the tables'
last columns (status, error, Delete) stay on a laptop's screen instead of past its right edge."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Page

from knowledge.models import Document, DocumentStatus, KnowledgeSource, SourceKind, SourceStatus
from knowledge.source_config import NAME_MAX_LENGTH
from knowledge.tests.console_browser import console_member, logged_in_page
from knowledge.tests.factories import add_document
from supportai.models import Role
from supportai.tests.factories import TenantFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]
WIDTH = 1280
LONG_TITLE = "Preisliste_Standort_Muenchen_Schwabing_" * 6
LONG_ADDRESS = "https://help.alpha.example/" + "kategorie/" * 20 + "seite.html"


def _page_width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def test_long_titles_addresses_and_errors_wrap_within_the_window(daphne_server: str) -> None:
    # given a document titled by a long file name, one that failed on a long address, and a
    # website source whose last sync failed on it
    tenant = TenantFactory.create(name="Alpha Clinic", slug="alpha")
    console_member(tenant, "olive", Role.OWNER)
    add_document(tenant, LONG_TITLE, f"Prices of the Schwabing studio: see {LONG_ADDRESS} for all of them.")
    failed = add_document(tenant, "Parking", "Free parking behind the studio.")
    Document.objects.filter(pk=failed.pk).update(status=DocumentStatus.FAILED, error=f"404 Not Found: {LONG_ADDRESS}")
    KnowledgeSource.objects.create(
        tenant=tenant,
        name="Help site",
        kind=SourceKind.URL,
        config={"start_url": LONG_ADDRESS},
        status=SourceStatus.FAILED,
        last_synced_at=timezone.now(),
        error=f"Nothing was synced or removed: {LONG_ADDRESS} could not be read.",
    )
    with logged_in_page(daphne_server, "olive") as page:
        page.set_viewport_size({"width": WIDTH, "height": 900})
        # when the owner opens the knowledge page on a laptop-sized window
        page.goto(f"{daphne_server}/console/knowledge/")
        # then nothing reaches past the window, and each row's Delete is on the screen
        assert _page_width(page) <= WIDTH
        for name in (LONG_TITLE, "Parking"):
            delete = page.get_by_role("link", name=f"Delete {name}").bounding_box()
            assert delete is not None and delete["x"] + delete["width"] <= WIDTH
        sync = page.get_by_role("button", name="Sync now").bounding_box()
        assert sync is not None and sync["x"] + sync["width"] <= WIDTH
        # when they test retrieval for it, then its passage wraps too
        page.goto(f"{daphne_server}/console/knowledge/search/?q=Schwabing+prices&mode=bm25")
        page.get_by_test_id("passages").wait_for()
        assert _page_width(page) <= WIDTH


def test_a_long_source_name_leaves_the_documents_filter_and_table_within_the_window(daphne_server: str) -> None:
    # given a website source named at the length a name may have, with a page of it indexed
    tenant = TenantFactory.create(name="Alpha Clinic", slug="alpha")
    console_member(tenant, "olive", Role.OWNER)
    name = ("Alpha Clinic patient help centre, English articles imported from Zendesk " * 4)[:NAME_MAX_LENGTH]
    site = KnowledgeSource.objects.create(
        tenant=tenant, name=name, kind=SourceKind.URL, config={"start_url": LONG_ADDRESS}
    )
    add_document(tenant, "Parking", "Free parking behind the studio.", source=site)
    with logged_in_page(daphne_server, "olive") as page:
        page.set_viewport_size({"width": WIDTH, "height": 900})
        # when the owner opens the knowledge page on a laptop-sized window
        page.goto(f"{daphne_server}/console/knowledge/")
        # then the source filter and the documents table stay on the screen, the source still chosen by name
        assert _page_width(page) <= WIDTH
        source_filter = page.get_by_label("Source", exact=True)
        box = source_filter.bounding_box()
        assert box is not None and box["x"] + box["width"] <= WIDTH
        delete = page.get_by_role("link", name="Delete Parking").bounding_box()
        assert delete is not None and delete["x"] + delete["width"] <= WIDTH
        source_filter.select_option(label=name)
        page.get_by_role("button", name="Filter").click()
        page.wait_for_url(f"**/console/knowledge/?status=&source={site.pk}")
        assert page.get_by_test_id("documents").get_by_role("link", name="Parking", exact=True).is_visible()
