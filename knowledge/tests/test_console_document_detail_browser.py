"""From a test-retrieval passage to the chunk it quotes on its document's page, in a real browser
(Debian chromium via Playwright) against a real daphne: the page holding the chunk opens at it, with
its text shown, and nothing on the way breaks the staff pages' Content-Security-Policy."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from knowledge.models import Chunk, ChunkLevel
from knowledge.tests.console_browser import console_errors, console_member, logged_in_page, run_test_retrieval
from knowledge.tests.factories import add_document
from supportai.models import Role
from supportai.tests.factories import TenantFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT = 30_000
PER_PAGE = 25  # knowledge.console_views.PARENTS_PER_PAGE


def test_a_passage_leads_to_its_chunk_shown_open_on_the_documents_page(daphne_server: str) -> None:
    # given a document of more than a page of parents whose last paragraph alone speaks of valets
    tenant = TenantFactory.create(name="Alpha Clinic", slug="alpha")
    filler = "\n\n".join(f"Paragraph {n}: the studio is open every day from nine to seven." for n in range(600))
    document = add_document(tenant, "Visiting", f"{filler}\n\nValet parking is offered at the front door.")
    parents = list(Chunk.objects.filter(document=document, level=ChunkLevel.PARENT).order_by("ordinal"))
    last = parents[-1]
    assert len(parents) > PER_PAGE and "Valet parking" in last.text
    last_page = (len(parents) - 1) // PER_PAGE + 1
    console_member(tenant, "ada", Role.AGENT)
    with logged_in_page(daphne_server, "ada") as page:
        errors = console_errors(page)
        # when the agent tests retrieval and follows the passage's title
        run_test_retrieval(page, daphne_server, "valet", mode="bm25")
        passages = page.get_by_test_id("passages")
        passages.wait_for(timeout=TIMEOUT)
        passages.get_by_role("link", name="Visiting", exact=True).first.click()
        # then the document's page holding that parent opens at it, its text shown
        page.wait_for_url(re.compile(rf"/console/knowledge/documents/{document.pk}/\?chunk=\d+#chunk-\d+$"))
        chunk = page.locator(f"#chunk-{last.pk}")
        expect(chunk).to_be_in_viewport()
        expect(chunk.get_by_text("Valet parking is offered at the front door.").first).to_be_visible()
        expect(page.locator("h3", has_text=f"Parent {last.ordinal + 1} ·")).to_be_visible()
        expect(page.get_by_text(f"Page {last_page} of")).to_be_visible()
        # and the browser reported no error, a Content-Security-Policy violation least of all
        assert errors == []
