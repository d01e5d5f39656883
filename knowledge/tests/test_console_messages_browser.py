"""What the knowledge console tells its staff, in a real browser (Debian chromium via Playwright, real
daphne): a refused file is an alert and a done action a status (so assistive technology announces
them), a refused page or an expired form says why and what to do, and the navigation says where one is."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.console_access import NOT_MANAGER
from knowledge.tests.console_browser import console_member, log_in, logged_in_page
from supportai.bidi import isolate
from supportai.models import Role
from supportai.tests.factories import TenantFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT = 20_000


def test_an_upload_error_is_an_alert_and_an_added_website_a_status(daphne_server: str, tmp_path: Path) -> None:
    # given an owner and an empty file
    tenant = TenantFactory.create(name="Alpha Clinic", slug="alpha")
    console_member(tenant, "olive", Role.OWNER)
    empty = tmp_path / "empty.md"
    empty.write_text("")
    with logged_in_page(daphne_server, "olive") as page:
        page.goto(f"{daphne_server}/console/knowledge/")
        # when they upload it with the keyboard alone
        page.get_by_label("Markdown, text, HTML").set_input_files(str(empty))
        page.get_by_role("button", name="Upload").focus()
        page.keyboard.press("Enter")
        # then the refusal is announced as an alert
        refused = f"{isolate('empty.md')}: The file has no text to index."
        page.get_by_role("alert").filter(has_text=refused).wait_for(timeout=TIMEOUT)
        # when they add a website, then the confirmation is announced as a status
        page.get_by_role("link", name="Add a website").click()
        page.get_by_label("Name").fill("Help site")
        page.get_by_label("Start URL").fill("https://help.alpha.example/")
        page.get_by_label("Sync now").uncheck()
        page.get_by_label("Start URL").press("Enter")
        page.get_by_role("status").filter(has_text=f"Added {isolate('Help site')}: use Sync now to read it.").wait_for(
            timeout=TIMEOUT
        )
        assert page.get_by_role("alert").count() == 0


def test_an_agent_sent_a_link_to_add_a_website_is_told_why_not(daphne_server: str) -> None:
    # given an agent, who sees no "Add a website" link, and a colleague's link to that page
    tenant = TenantFactory.create(name="Alpha Clinic", slug="alpha")
    console_member(tenant, "ada", Role.AGENT)
    with logged_in_page(daphne_server, "ada") as page:
        # when they open it
        response = page.goto(f"{daphne_server}/console/knowledge/sources/new/")
        # then it is refused, saying why, inside the console they can carry on from
        assert response is not None and response.status == 403
        assert page.get_by_text(NOT_MANAGER).is_visible()
        assert page.get_by_test_id("current-tenant").inner_text() == "Alpha Clinic"
        page.get_by_role("link", name="Knowledge", exact=True).click()
        page.get_by_role("heading", name="Knowledge", level=1).wait_for(timeout=TIMEOUT)


def test_a_form_left_open_across_a_new_login_says_to_reload_it(daphne_server: str, tmp_path: Path) -> None:
    # given an owner with the upload form open, who logs out and in again in another tab (a new
    # login gives a new CSRF token, so the open form's is stale)
    tenant = TenantFactory.create(name="Alpha Clinic", slug="alpha")
    console_member(tenant, "olive", Role.OWNER)
    hours = tmp_path / "hours.md"
    hours.write_text("# Hours\n\nOpen nine to seven.")
    with logged_in_page(daphne_server, "olive") as page:
        context = page.context
        page.goto(f"{daphne_server}/console/knowledge/")
        other = context.new_page()
        other.goto(f"{daphne_server}/console/knowledge/")
        other.get_by_role("button", name="Log out").click()
        log_in(other, daphne_server, "olive")
        # when they upload from the form left open
        page.get_by_label("Markdown, text, HTML").set_input_files(str(hours))
        page.get_by_role("button", name="Upload").click()
        # then the refusal says that nothing was saved and what to do, with a way back
        page.get_by_text("Nothing was saved").wait_for(timeout=TIMEOUT)
        assert "reload" in page.get_by_role("main").inner_text()
        page.get_by_role("link", name="Back to the console").click()
        page.get_by_test_id("current-tenant").wait_for(timeout=TIMEOUT)


def test_the_knowledge_section_stays_marked_current_on_its_inner_pages(daphne_server: str) -> None:
    tenant = TenantFactory.create(name="Alpha Clinic", slug="alpha")
    console_member(tenant, "olive", Role.OWNER)
    with logged_in_page(daphne_server, "olive") as page:
        # the section's own page is the current page; its inner pages are in the current section
        for path, current in (("", "page"), ("search/", "true"), ("sources/new/", "true")):
            page.goto(f"{daphne_server}/console/knowledge/{path}")
            navigation = page.get_by_role("navigation", name="Console sections")
            assert navigation.get_by_role("link", name="Knowledge").get_attribute("aria-current") == current
            assert navigation.locator("[aria-current]").count() == 1
