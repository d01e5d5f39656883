"""Shared steps of the knowledge console's browser tests: a staff member with a password, logged in."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import ConsoleMessage, Page, sync_playwright

from chat.tests.test_widget_browser import CHROMIUM, CHROMIUM_ARGS
from supportai.models import Role, Tenant
from supportai.tests.factories import MembershipFactory, UserFactory

PASSWORD = "console-browser-2026"
LOGIN_TIMEOUT = 20_000


def console_member(tenant: Tenant, username: str, role: Role) -> None:
    """A user of ``tenant`` with ``role`` who can log in with ``PASSWORD``."""
    user = UserFactory.create(username=username)
    user.set_password(PASSWORD)
    user.save()
    MembershipFactory.create(user=user, tenant=tenant, role=role)


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/console/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/console/**", timeout=LOGIN_TIMEOUT)


@contextmanager
def logged_in_page(base: str, username: str, *, args: Sequence[str] = ()) -> Iterator[Page]:
    """A page of Debian's chromium (with ``args`` besides ``CHROMIUM_ARGS``) logged in to the console
    as ``username``; the browser closes after. Use the ORM only outside the block: Playwright's event
    loop runs in this thread meanwhile."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *args])
        try:
            page = browser.new_context().new_page()
            log_in(page, base, username)
            yield page
        finally:
            browser.close()


def net_log_errors(path: Path, event: str) -> list[str]:
    """The network errors (``ERR_CONNECTION_RESET``, say) of each ``event`` (``SOCKET_WRITE_ERROR``,
    say) in the net log chromium wrote to ``path`` (``--log-net-log``; complete once it has closed)."""
    log = json.loads(path.read_text(encoding="utf-8"))
    events = {number: name for name, number in log["constants"]["logEventTypes"].items()}
    errors = {number: name for name, number in log["constants"]["netError"].items()}
    return [errors[entry["params"]["net_error"]] for entry in log["events"] if events[entry["type"]] == event]


def console_errors(page: Page) -> list[str]:
    """The errors the browser's console reports from now on (a Content-Security-Policy violation is
    one), gathered in the returned list as they come."""
    errors: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", record)
    return errors


def run_test_retrieval(page: Page, base: str, query: str, *, mode: str) -> None:
    """Runs ``query`` in ``mode`` through the console's test-retrieval box."""
    page.goto(f"{base}/console/knowledge/search/")
    page.get_by_label("Query").fill(query)
    page.get_by_label("Mode").select_option(mode)
    page.get_by_role("button", name="Search").click()
