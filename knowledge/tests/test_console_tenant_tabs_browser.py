"""A member of two tenants with the knowledge console open in two tabs of one browser (Debian
chromium via Playwright, real daphne): the console's tenant lives in the session, so switching it in
one tab must not send what the other tab's form was filled in for into the tenant switched to."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page

from knowledge.models import Document, KnowledgeSource
from knowledge.source_config import url_source_create
from knowledge.tests.console_browser import console_member, logged_in_page
from knowledge.tests.factories import add_document
from supportai.models import Role
from supportai.tests.factories import MembershipFactory, TenantFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT = 20_000


def _switch_to(page: Page, tenant_name: str) -> None:
    page.get_by_label("Tenant").select_option(label=tenant_name)
    page.get_by_role("button", name="Switch").click()
    page.get_by_test_id("current-tenant").filter(has_text=tenant_name).wait_for(timeout=TIMEOUT)


def test_forms_of_a_tab_left_on_one_tenant_store_nothing_in_the_tenant_another_tab_switched_to(
    daphne_server: str, tmp_path: Path
) -> None:
    # given an owner of two tenants, and Alpha's price list on disk
    alpha = TenantFactory.create(name="Alpha Clinic", slug="alpha")
    bravo = TenantFactory.create(name="Bravo Spa", slug="bravo")
    console_member(alpha, "olive", Role.OWNER)
    MembershipFactory.create(user=User.objects.get(username="olive"), tenant=bravo, role=Role.OWNER)
    prices = tmp_path / "alpha-prices.md"
    prices.write_text("# Alpha prices\n\nA consultation at Alpha Clinic costs 80 euros.")
    with logged_in_page(daphne_server, "olive") as upload_tab:
        context = upload_tab.context
        upload_tab.goto(f"{daphne_server}/console/knowledge/")
        _switch_to(upload_tab, "Alpha Clinic")
        website_tab = context.new_page()
        website_tab.goto(f"{daphne_server}/console/knowledge/sources/new/")
        assert website_tab.get_by_test_id("current-tenant").inner_text() == "Alpha Clinic"
        # when the owner switches to Bravo in a third tab, then uses the two Alpha tabs
        other_tab = context.new_page()
        other_tab.goto(f"{daphne_server}/console/knowledge/")
        _switch_to(other_tab, "Bravo Spa")
        upload_tab.get_by_label("Markdown, text, HTML").set_input_files(str(prices))
        upload_tab.get_by_role("button", name="Upload").click()
        website_tab.get_by_label("Name").fill("Alpha help")
        website_tab.get_by_label("Start URL").fill("https://help.alpha.example/")
        website_tab.get_by_label("Sync now").uncheck()
        website_tab.get_by_role("button", name="Add website").click()
        # then each says that the console switched to Bravo and that nothing was stored
        upload_tab.get_by_text("Nothing was uploaded: the console switched to Bravo Spa").wait_for(timeout=TIMEOUT)
        website_tab.get_by_text("Nothing was added: the console switched to Bravo Spa").wait_for(timeout=TIMEOUT)
        # and the website form keeps what was typed, now for Bravo should the owner mean it
        assert website_tab.get_by_label("Name").input_value() == "Alpha help"
    # (the ORM is not used while Playwright's event loop runs in this thread)
    assert not Document.objects.for_tenant(bravo).exists()
    assert not KnowledgeSource.objects.for_tenant(bravo).exists()
    assert not Document.objects.for_tenant(alpha).exists()


def test_switching_tenant_on_a_page_of_one_source_or_document_lands_on_the_knowledge_page(daphne_server: str) -> None:
    # given an owner of two tenants, and a website source and a document of the first
    alpha = TenantFactory.create(name="Alpha Clinic", slug="alpha")
    bravo = TenantFactory.create(name="Bravo Spa", slug="bravo")
    console_member(alpha, "olive", Role.OWNER)
    MembershipFactory.create(user=User.objects.get(username="olive"), tenant=bravo, role=Role.OWNER)
    website = url_source_create(
        tenant=alpha, name="Alpha help", config={"start_url": "https://help.alpha.example/"}, sync_now=False
    )
    parking = add_document(alpha, "Parking", "Free parking behind the studio.")
    with logged_in_page(daphne_server, "olive") as page:
        page.goto(f"{daphne_server}/console/knowledge/")
        _switch_to(page, "Alpha Clinic")
        for path in (f"sources/{website.pk}/edit/", f"documents/{parking.pk}/delete/"):
            # when the owner switches tenant on the page of Alpha's source, or document
            page.goto(f"{daphne_server}/console/knowledge/{path}")
            _switch_to(page, "Bravo Spa")
            # then they land on Bravo's knowledge page, not on "Page not found"
            assert page.url == f"{daphne_server}/console/knowledge/"
            assert page.get_by_role("heading", level=1).inner_text() == "Knowledge"
            _switch_to(page, "Alpha Clinic")
