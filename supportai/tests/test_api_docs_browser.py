"""The API docs page renders its operations in a real browser from our own static files (no CDN)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Request, sync_playwright

from chat.tests.test_widget_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_swagger_ui_renders_the_operations_offline(daphne_server: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            requested: list[str] = []

            def record(request: Request) -> None:
                requested.append(request.url)

            page.on("request", record)
            # when the docs page opens
            page.goto(f"{daphne_server}/api/docs/")
            page.wait_for_selector(".opblock", timeout=20_000)
            # then the operations are listed, and everything came from this server
            assert "/api/v1/tenant/" in page.content()
            assert requested and all(url.startswith(daphne_server) for url in requested)
        finally:
            browser.close()
