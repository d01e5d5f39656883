"""End to end in real browsers: a customer asks for a human in /demo/, an agent claims and replies in
/console/inbox/, the customer sees the reply (Debian chromium via Playwright, real daphne)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from chat.models import Message, MessageRole
from escalations.models import Escalation, Status
from escalations.tests.conftest import ALWAYS, set_hours
from supportai.demo import DEMO_STAFF, seed_demo_tenant

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
pytestmark = [pytest.mark.browser, pytest.mark.slow]
REPLY = "Hi, this is the front desk <b>team</b>. How can I help?"


def log_in_as_demo_agent(page: Page, base: str) -> None:
    """Logs ``page`` in to the console as the demo tenant's agent (``supportai.demo.DEMO_STAFF``)."""
    agent = next(staff for staff in DEMO_STAFF if staff.username == "demo-agent")
    page.goto(f"{base}/console/login/")
    page.get_by_label("Username").fill(agent.username)
    page.get_by_label("Password").fill(agent.password)
    page.get_by_role("button", name="Log in").click()


def test_customer_asks_for_a_human_and_sees_the_agents_reply(daphne_server: str) -> None:
    # given the demo tenant, in service hours
    tenant = seed_demo_tenant().tenant
    set_hours(tenant, ALWAYS, team_name="front desk team")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        customer = browser.new_context().new_page()
        agent = browser.new_context().new_page()
        try:
            # when the customer asks for a person in the widget
            customer.goto(f"{daphne_server}/demo/")
            customer.get_by_role("button", name="Open chat").click()
            customer.get_by_label("Your message").fill("I'd like to speak to a real person please")
            customer.keyboard.press("Enter")
            # then the widget shows the waiting state with the place in line
            customer.get_by_text("Waiting for a team member · you're number 1 in line").wait_for(timeout=20_000)
            assert customer.get_by_role("button", name="Talk to a human").is_disabled()
            # and after a reload the resumed conversation shows the waiting state again
            customer.reload()
            customer.get_by_role("button", name="Open chat").click()
            customer.get_by_text("Waiting for a team member · you're number 1 in line").wait_for(timeout=20_000)
            customer.get_by_text("You're already in line for our front desk team: number 1.").wait_for(timeout=10_000)
            assert customer.get_by_role("button", name="Talk to a human").is_disabled()

            # when an agent logs in, opens the inbox, claims the conversation and replies
            log_in_as_demo_agent(agent, daphne_server)
            agent.goto(f"{daphne_server}/console/inbox/")
            agent.locator("#queue-list .queue-item a").first.click()
            agent.get_by_role("button", name="Claim").click()
            agent.locator("#live-state.on").wait_for(timeout=10_000)
            agent.get_by_label("Reply to the customer").fill(REPLY)
            agent.get_by_role("button", name="Send reply").click()

            # then the customer sees that the agent joined and the reply, escaped, in the widget
            customer.get_by_text("You're chatting with our team.").wait_for(timeout=10_000)
            bubble = customer.locator(".msg.agent").last
            bubble.wait_for(timeout=10_000)
            assert bubble.locator(".body").inner_text() == REPLY
            assert bubble.locator(".who").inner_text() == "demo-agent"
            # and the agent's transcript shows the reply live
            agent.locator("#transcript .turn.agent").last.wait_for(timeout=10_000)
        finally:
            ARTIFACTS.mkdir(exist_ok=True)
            customer.screenshot(path=str(ARTIFACTS / "handoff-customer.png"), full_page=True)
            agent.screenshot(path=str(ARTIFACTS / "handoff-agent.png"), full_page=True)
            browser.close()

    escalation = Escalation.objects.get(tenant=tenant)
    assert escalation.status == Status.ACKNOWLEDGED and escalation.assigned_to is not None
    assert escalation.assigned_to.username == "demo-agent"
    reply = Message.objects.get(conversation=escalation.conversation, role=MessageRole.AGENT)
    assert reply.text == REPLY
