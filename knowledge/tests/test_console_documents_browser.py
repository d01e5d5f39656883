"""An owner uploads a help article from /console/knowledge/ and deletes it again, in a real browser
(Debian chromium via Playwright) against a real daphne that indexes it with the local model."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.models import Chunk, Document
from knowledge.tests.console_browser import console_member, logged_in_page
from supportai.bidi import isolate
from supportai.models import Role
from supportai.tests.factories import TenantFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT = 90_000  # the server loads the embedding model for the first upload


def test_owner_uploads_an_article_and_deletes_it(daphne_server: str, tmp_path: Path) -> None:
    # given an owner and a German article on disk
    tenant = TenantFactory.create(name="Alpha Clinic", slug="alpha")
    console_member(tenant, "olive", Role.OWNER)
    article = tmp_path / "Passwort-zurücksetzen.md"
    article.write_text("# Passwort zurücksetzen\n\nWählen Sie „Passwort vergessen“ auf der Anmeldeseite.")
    with logged_in_page(daphne_server, "olive") as page:
        page.goto(f"{daphne_server}/console/knowledge/")
        # when they upload it as German
        page.get_by_label("Markdown, text, HTML").set_input_files(str(article))
        page.get_by_label("Language of files that declare none").fill("de")
        page.get_by_role("button", name="Upload").click()
        # then it is listed, indexed, in German
        created = f"{isolate('Passwort-zurücksetzen.md')}: {isolate('Passwort zurücksetzen')}: created"
        page.get_by_text(created).wait_for(timeout=TIMEOUT)
        row = page.get_by_role("row").filter(has_text="Passwort zurücksetzen")
        assert "de" in row.inner_text() and "Ready" in row.inner_text()
        # when they delete it: asked first (Cancel keeps it), gone once confirmed
        page.get_by_role("link", name="Delete Passwort zurücksetzen").click()
        assert "its 1 chunk" in page.get_by_test_id("delete-summary").inner_text()
        page.get_by_role("link", name="Cancel").click()
        page.get_by_role("link", name="Delete Passwort zurücksetzen").click()
        page.get_by_role("button", name="Delete Passwort zurücksetzen").click()
        page.get_by_text(f"Deleted {isolate('Passwort zurücksetzen')}.").wait_for(timeout=TIMEOUT)
        assert page.get_by_text("No documents yet.").is_visible()
    # (the ORM is not used while Playwright's event loop runs in this thread)
    assert not Document.objects.for_tenant(tenant).exists()
    assert not Chunk.objects.filter(tenant=tenant).exists()
