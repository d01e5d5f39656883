"""In a real browser: the inbox page of a conversation shows the customer's messages and the
assistant's answers as they are written, before and after a handoff, without a reload (Debian
chromium via Playwright, real daphne; the launch is the one of test_inbox_browser)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, sync_playwright

from chat.models import Conversation, Message, MessageRole
from escalations.models import Escalation
from escalations.tests.conftest import ALWAYS, set_hours
from escalations.tests.test_inbox_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, log_in_as_demo_agent
from supportai.demo import seed_demo_tenant

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _ask(customer: Page, text: str) -> None:
    customer.get_by_label("Your message").fill(text)
    customer.keyboard.press("Enter")


def _turns(agent: Page) -> list[tuple[str, str, str]]:
    turns = agent.locator("#transcript .turn")
    return [
        (
            turns.nth(i).get_attribute("class") or "",
            turns.nth(i).get_attribute("data-message") or "",
            turns.nth(i).locator(".text").inner_text(),
        )
        for i in range(turns.count())
    ]


# The first question a daphne process retrieves for loads the embedding model: tens of seconds on
# a busy 2-core machine.
ANSWER_TIMEOUT_MS = 120_000


def _ask_and_watch(customer: Page, agent: Page, question: str, *, answers: int = 2) -> list[tuple[str, str, str]]:
    """The customer asks ``question``; once it and the conversation's ``answers``-th answer are on the
    agent's open page, which must not have reloaded (``window.notReloaded`` set before), its turns."""
    _ask(customer, question)
    agent.locator("#transcript .turn.customer", has_text=question).wait_for(timeout=10_000)
    agent.locator("#transcript .turn.assistant").nth(answers - 1).wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert agent.evaluate("window.notReloaded") is True
    return _turns(agent)


def _stored_turns(conversation: Conversation) -> list[tuple[str, int, str]]:
    """The conversation's messages as its transcript shows them: role, id and text, in stored order."""
    messages = Message.objects.filter(conversation=conversation).exclude(role=MessageRole.SYSTEM)
    return list(messages.order_by("pk").values_list("role", "pk", "text"))


def test_the_inbox_shows_customer_and_assistant_messages_live_after_a_hand_back(daphne_server: str) -> None:
    # given a customer who asked for a person, and an agent with that conversation open in the inbox
    tenant = seed_demo_tenant().tenant
    set_hours(tenant, ALWAYS, team_name="front desk team")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        customer = browser.new_context().new_page()
        agent = browser.new_context().new_page()
        try:
            customer.goto(f"{daphne_server}/demo/")
            customer.get_by_role("button", name="Open chat").click()
            _ask(customer, "I'd like to speak to a real person please")
            customer.get_by_text("Waiting for a team member").wait_for(timeout=20_000)
            log_in_as_demo_agent(agent, daphne_server)
            agent.goto(f"{daphne_server}/console/inbox/")
            agent.locator("#queue-list .queue-item a").first.click()
            agent.locator("#live-state.on").wait_for(timeout=10_000)
            # when the customer writes while waiting, then the agent hands back and the customer asks again
            _ask(customer, "Are you still there?")
            agent.locator("#transcript .turn.customer", has_text="Are you still there?").wait_for(timeout=10_000)
            agent.get_by_role("button", name="Hand back to the assistant").click()
            agent.locator("#live-state.on").wait_for(timeout=10_000)
            agent.evaluate("window.notReloaded = true")
            customer.get_by_text("You're back with the assistant.").wait_for(timeout=10_000)
            # then the assistant answers the message the team left unanswered, and the next question and
            # its answer appear on the open page, without a reload
            agent.locator("#transcript .turn.assistant").nth(1).wait_for(timeout=ANSWER_TIMEOUT_MS)
            shown = _ask_and_watch(customer, agent, "What are your opening hours?", answers=3)
        finally:
            ARTIFACTS.mkdir(exist_ok=True)
            agent.screenshot(path=str(ARTIFACTS / "inbox-watch-agent.png"), full_page=True)
            browser.close()

    # and the page lists every message of the conversation once, in the order they were stored
    stored = _stored_turns(Escalation.objects.get(tenant=tenant).conversation)
    assert [(f"turn {role}", str(pk), text) for role, pk, text in stored] == shown
    assert [role for role, _, _ in stored] == ["customer", "assistant"] * 3


def test_the_conversation_page_shows_the_conversation_live_before_any_handoff(daphne_server: str) -> None:
    # given a customer chatting (no handoff) and an agent with the conversation's console page open
    tenant = seed_demo_tenant().tenant
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        customer = browser.new_context().new_page()
        agent = browser.new_context().new_page()
        try:
            customer.goto(f"{daphne_server}/demo/")
            customer.get_by_role("button", name="Open chat").click()
            _ask(customer, "Do you have parking?")
            customer.locator(".msg.assistant").last.wait_for(timeout=ANSWER_TIMEOUT_MS)
            log_in_as_demo_agent(agent, daphne_server)
            agent.goto(f"{daphne_server}/console/conversations/")
            agent.locator("table a").first.click()  # the only conversation, the newest
            agent.locator("#live-state.on").wait_for(timeout=10_000)
            agent.evaluate("window.notReloaded = true")
            # when the customer asks again
            # then the question and the answer appear on the open page, once each, without a reload
            shown = _ask_and_watch(customer, agent, "What are your opening hours?")
        finally:
            ARTIFACTS.mkdir(exist_ok=True)
            agent.screenshot(path=str(ARTIFACTS / "conversation-watch-agent.png"), full_page=True)
            browser.close()

    stored = _stored_turns(Message.objects.get(tenant=tenant, text="Do you have parking?").conversation)
    assert [(f"turn {role}", str(pk), text) for role, pk, text in stored] == shown
    assert [role for role, _, _ in stored] == ["customer", "assistant", "customer", "assistant"]
