"""The test-retrieval box's explanation of an exact identifier's weights, and a link to a chunk of
another of the tenant's documents, in a real browser (Debian chromium via Playwright) against a real
daphne, with no error (a Content-Security-Policy violation least of all) on the way."""

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
TIMEOUT = 30_000  # the server loads the embedding model on its first query


def test_an_error_code_query_is_explained_and_a_chunk_link_finds_its_document(daphne_server: str) -> None:
    # given a tenant with a page naming an error code and another page, and an agent
    tenant = TenantFactory.create(name="Alpha Clinic", slug="alpha")
    errors_page = add_document(tenant, "Errors", "ERR-404 means the booking page has moved.")
    parking = add_document(tenant, "Parking", "Free parking behind the studio.")
    chunk = Chunk.objects.get(document=errors_page, level=ChunkLevel.PARENT)
    console_member(tenant, "ada", Role.AGENT)
    with logged_in_page(daphne_server, "ada") as page:
        errors = console_errors(page)
        # when the agent tests the error code in hybrid mode
        run_test_retrieval(page, daphne_server, "ERR-404", mode="hybrid")
        # then the box says its weights are fixed rather than listing what did not count
        weighing = page.get_by_test_id("weighing")
        weighing.wait_for(timeout=TIMEOUT)
        text = " ".join(weighing.inner_text().split())
        assert "dense 0.15 · keywords 0.85 (an exact identifier, whose weights are fixed" in text
        assert "tenant keyword scale 1.00" not in text
        # when a link names the Parking page with the Errors page's chunk
        page.goto(f"{daphne_server}/console/knowledge/documents/{parking.pk}/?chunk={chunk.pk}")
        # then the Errors page opens at that chunk, and nothing speaks of a re-index
        page.wait_for_url(
            re.compile(rf"/console/knowledge/documents/{errors_page.pk}/\?chunk={chunk.pk}#chunk-{chunk.pk}$")
        )
        expect(page.locator(f"#chunk-{chunk.pk}")).to_be_in_viewport()
        expect(page.locator(f"#chunk-{chunk.pk}").get_by_text("ERR-404 means").first).to_be_visible()
        assert "no longer in this document" not in page.content()
        # and the browser reported no error
        assert errors == []
