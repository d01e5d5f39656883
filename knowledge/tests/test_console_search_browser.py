"""Test retrieval in the console, in a real browser (Debian chromium via Playwright) against a real
daphne: the ranked passages and how hybrid weighed keywords for the query."""

from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright

from chat.tests.test_widget_browser import CHROMIUM, CHROMIUM_ARGS
from knowledge.console_forms import QUERY_MAX_CHARS, QUERY_TOO_LONG
from knowledge.models import RetrievalTuning
from knowledge.tests.console_browser import console_member, log_in, logged_in_page, run_test_retrieval
from knowledge.tests.factories import add_document
from supportai.models import Role
from supportai.tests.factories import TenantFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT = 30_000  # the server loads the embedding model on its first query


def test_agent_tests_retrieval_and_sees_the_hybrid_weights(daphne_server: str) -> None:
    # given a tenant with a tuned keyword scale and an agent, and another tenant using other words
    tenant = TenantFactory.create(name="Alpha Clinic", slug="alpha")
    other = TenantFactory.create(name="Bravo Spa", slug="bravo")
    add_document(tenant, "Parking", "Free parking behind the studio.")
    add_document(other, "Orders", "Swap the items of an order.")
    RetrievalTuning.objects.create(tenant=tenant, keyword_scale=0.4)
    console_member(tenant, "ada", Role.AGENT)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context().new_page()
        try:
            log_in(page, daphne_server, "ada")
            # when the agent searches in hybrid mode
            run_test_retrieval(page, daphne_server, "swap free parking", mode="hybrid")
            # then the passage and the weights for this tenant and query are shown
            weighing = page.get_by_test_id("weighing")
            weighing.wait_for(timeout=TIMEOUT)
            text = " ".join(weighing.inner_text().split())
            assert "dense 0.99" in text and "keywords 0.01" in text
            assert "67 % of its words are in your knowledge" in text and "tenant keyword scale 0.40" in text
            assert "[1] Parking" in page.get_by_test_id("passages").inner_text()
            assert "Orders" not in page.content()
        finally:
            browser.close()


def test_a_query_over_the_limit_is_refused_whole_not_cut_unseen(daphne_server: str) -> None:
    # given an agent, and a customer's e-mail pasted whole: longer than a query may be
    tenant = TenantFactory.create(name="Alpha Clinic", slug="alpha")
    add_document(tenant, "Parking", "Free parking behind the studio.")
    console_member(tenant, "ada", Role.AGENT)
    email = " ".join(["Hello, where can I park my car when I come to the studio?"] * 50)
    assert len(email) > QUERY_MAX_CHARS
    with logged_in_page(daphne_server, "ada") as page:
        # when they search with it
        run_test_retrieval(page, daphne_server, email, mode="hybrid")
        # then the box says it is too long, by how much, and keeps all of it to shorten
        page.get_by_text(QUERY_TOO_LONG.format(length=len(email), limit=QUERY_MAX_CHARS)).wait_for(timeout=TIMEOUT)
        assert page.get_by_label("Query").input_value() == email
        assert page.get_by_test_id("passages").count() == 0


def test_a_question_of_a_customers_length_shows_whole_in_the_query_box(daphne_server: str) -> None:
    # given an agent on a laptop-sized window
    tenant = TenantFactory.create(name="Alpha Clinic", slug="alpha")
    console_member(tenant, "ada", Role.AGENT)
    question = "Can I still get a refund if I cancel my massage less than 24 hours before it starts?"
    with logged_in_page(daphne_server, "ada") as page:
        page.set_viewport_size({"width": 1280, "height": 900})
        # when they type a customer's question
        page.goto(f"{daphne_server}/console/knowledge/search/")
        page.get_by_label("Query").fill(question)
        # then the box shows all of it, none scrolled out of sight
        shown = page.get_by_label("Query").evaluate("box => box.scrollWidth <= box.clientWidth")
        assert shown is True
