"""A console form drawn again with its errors puts the keyboard focus on its first error, as a notice
after a form does (static/console/notice_focus.js), in a real browser (Debian chromium via Playwright)
against a real daphne: keyboard and screen-reader users hear what was wrong and go on from there."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from chat.tests.test_widget_browser import CHROMIUM, CHROMIUM_ARGS
from escalations.tests.conftest import ALWAYS, set_hours
from escalations.tests.factories import EscalationFactory
from knowledge.tests.console_browser import PASSWORD, console_member, log_in
from supportai.models import Role, Tenant
from supportai.tests.factories import TenantFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]
FOCUSED = "(e => [e.tagName, e.getAttribute('role'), e.textContent.trim()])(document.activeElement)"


@pytest.fixture
def tenant_and_browser(daphne_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Tenant, Browser]]:
    """A tenant open around the clock with an agent, "ada"; the test writes rows between browser steps."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    tenant = TenantFactory.create()
    set_hours(tenant, ALWAYS)
    console_member(tenant, "ada", Role.AGENT)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield tenant, browser
        finally:
            browser.close()


def _focused(page: Page) -> list[str]:
    """What has the focus once the page's deferred scripts ran (notice_focus.js among them)."""
    page.wait_for_load_state("domcontentloaded")
    return list(page.evaluate(FOCUSED))


def test_a_failed_log_in_focuses_its_error(daphne_server: str, tenant_and_browser: tuple[Tenant, Browser]) -> None:
    _, browser = tenant_and_browser
    page = browser.new_page()
    # when the agent logs in with a wrong password
    page.goto(f"{daphne_server}/console/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD + "-wrong")
    page.keyboard.press("Enter")
    page.get_by_role("alert").wait_for()
    # then the focus is on the error, not in the username box above it, and Tab goes on to the form
    tag, role, text = _focused(page)
    assert (tag, role) == ("P", "alert") and "correct username and password" in text
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_username"


def test_a_filter_refused_focuses_what_it_was_not_filtered_by(
    daphne_server: str, tenant_and_browser: tuple[Tenant, Browser]
) -> None:
    _, browser = tenant_and_browser
    page = browser.new_page()
    log_in(page, daphne_server, "ada")
    # when the agent filters the conversations by a date that is none
    page.goto(f"{daphne_server}/console/conversations/?date_from=2026-02-30")
    # then the focus is on the block saying what the list was not filtered by
    tag, role, text = _focused(page)
    assert (tag, role) == ("DIV", "alert") and text.startswith("Not filtered by:")


def test_a_field_refused_focuses_its_error(daphne_server: str, tenant_and_browser: tuple[Tenant, Browser]) -> None:
    _, browser = tenant_and_browser
    page = browser.new_page()
    log_in(page, daphne_server, "ada")
    # when the agent runs test retrieval in a mode there is none of
    page.goto(f"{daphne_server}/console/knowledge/search/?q=parking&mode=psychic")
    # then the focus is on that field's error
    tag, role, text = _focused(page)
    assert (tag, role) == ("SPAN", "alert") and "valid choice" in text


def test_an_inbox_reply_refused_focuses_its_error(
    daphne_server: str, tenant_and_browser: tuple[Tenant, Browser]
) -> None:
    tenant, browser = tenant_and_browser
    escalation = EscalationFactory.create(conversation__tenant=tenant)
    page = browser.new_page()
    log_in(page, daphne_server, "ada")
    # when the agent sends a reply of spaces alone by the form (the socket down: the page posts it)
    page.route_web_socket("**/ws/inbox/**", lambda socket: socket.close())
    page.goto(f"{daphne_server}/console/inbox/{escalation.pk}/")
    page.get_by_label("Reply to the customer").fill("   ")
    page.get_by_role("button", name="Send reply").click()
    page.get_by_role("alert").first.wait_for()
    # then the reloaded page has the focus on the error
    assert _focused(page)[:2] == ["P", "alert"]


def test_an_inbox_claim_conflict_focuses_its_error(
    daphne_server: str, tenant_and_browser: tuple[Tenant, Browser]
) -> None:
    tenant, browser = tenant_and_browser
    console_member(tenant, "bob", Role.AGENT)
    escalation = EscalationFactory.create(conversation__tenant=tenant)
    page = browser.new_page()
    log_in(page, daphne_server, "ada")
    # given the agent's page of an escalation, drawn before another agent claimed it (no socket to say so)
    page.route_web_socket("**/ws/inbox/**", lambda socket: socket.close())
    page.goto(f"{daphne_server}/console/inbox/{escalation.pk}/")
    other = browser.new_page()
    log_in(other, daphne_server, "bob")
    other.goto(f"{daphne_server}/console/inbox/{escalation.pk}/")
    other.get_by_role("button", name="Claim").click()
    other.get_by_text("You hold escalation").wait_for()
    # when the agent claims it by the keyboard
    page.get_by_role("button", name="Claim").focus()
    page.keyboard.press("Enter")
    page.get_by_role("alert").first.wait_for()
    # then the reloaded page has the focus on the error saying who holds it
    tag, role, text = _focused(page)
    assert (tag, role) == ("P", "alert") and text
