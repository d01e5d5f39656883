"""The console's upload form past Django's file limit, in a real browser (Debian chromium via
Playwright) against a real daphne with DEBUG off: the page names the limit and nothing is stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from knowledge.models import Document
from knowledge.tests.console_browser import console_member, logged_in_page
from supportai.models import Role
from supportai.request_limits import TOO_MANY_FILES
from supportai.tests.factories import TenantFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT = 30_000


def test_owner_drops_too_many_files_and_is_told_the_limit(production_daphne_server: str, tmp_path: Path) -> None:
    # given an owner and one file more than a request may carry
    tenant = TenantFactory.create(name="Alpha Clinic", slug="alpha")
    console_member(tenant, "olive", Role.OWNER)
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
    files = []
    for number in range(limit + 1):
        path = tmp_path / f"article-{number:03d}.md"
        path.write_text(f"# Article {number}\n\nAnswer number {number}.", encoding="utf-8")
        files.append(str(path))
    with logged_in_page(production_daphne_server, "olive") as page:
        page.goto(f"{production_daphne_server}/console/knowledge/")
        assert f"Up to {limit} files at a time" in page.get_by_test_id("upload-limit").inner_text()
        # when
        page.get_by_label("Markdown, text, HTML").set_input_files(files)
        page.get_by_role("button", name="Upload").click()
        # then
        message = page.get_by_test_id("bad-request-message")
        message.wait_for(timeout=TIMEOUT)
        assert message.inner_text() == TOO_MANY_FILES.format(limit=limit)
        page.get_by_role("link", name="Back to the page").click()
        page.wait_for_url(f"{production_daphne_server}/console/knowledge/", timeout=TIMEOUT)
    assert not Document.objects.for_tenant(tenant).exists()
