"""The console in Debian's chromium (Playwright, real daphne with DEBUG off and collected static
files): the page's icon loads, /favicon.ico leads to it, and no request of the page answers 404."""

from __future__ import annotations

import pytest
from playwright.sync_api import Response

from knowledge.tests.console_browser import console_member, logged_in_page
from supportai.models import Role
from supportai.tests.factories import TenantFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_console_loads_its_icon_and_nothing_answers_404(production_daphne_server: str) -> None:
    # given
    tenant = TenantFactory.create(name="Alpha Clinic", slug="alpha")
    console_member(tenant, "olive", Role.OWNER)
    with logged_in_page(production_daphne_server, "olive") as page:
        responses: list[Response] = []

        def record(response: Response) -> None:
            responses.append(response)

        page.on("response", record)
        # when
        page.goto(f"{production_daphne_server}/console/knowledge/")
        icon = page.locator('link[rel="icon"]').get_attribute("href")
        assert icon is not None
        loaded = page.request.get(f"{production_daphne_server}{icon}")
        favicon = page.request.get(f"{production_daphne_server}/favicon.ico")
        # and a language that is no language code is caught by the upload form
        language = page.get_by_label("Language of files that declare none")
        language.fill("zz")
        refused = language.evaluate("field => field.validity.patternMismatch")
        # then
        assert (loaded.status, loaded.headers["content-type"]) == (200, "image/svg+xml")
        assert favicon.status == 200 and favicon.url.endswith(icon)
        assert [r.url for r in responses if r.status == 404] == []
        assert refused is True
