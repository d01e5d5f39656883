"""An agent's day in the inbox, in real browsers (Debian chromium via Playwright, real daphne; the
launch is the one of test_inbox_browser): the queue fills live, the agent works by keyboard, a
second agent can't reply in a conversation the first holds, and the assistant takes over again.

test_inbox_browser covers the widget's side of a first reply, test_inbox_watch_browser the live
transcript around a hand-back; these cover what an agent with the inbox already open sees."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, WebSocketRoute, sync_playwright

from chat.models import Message, MessageRole
from escalations.models import Escalation, Status
from escalations.tests.conftest import ALWAYS, set_hours
from escalations.tests.test_inbox_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, log_in_as_demo_agent
from escalations.tests.test_inbox_watch_browser import ANSWER_TIMEOUT_MS
from supportai.demo import seed_demo_tenant
from supportai.models import Role, Tenant
from supportai.tests.factories import MembershipFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SECOND_AGENT = "second-agent"
SECOND_PASSWORD = "second-agent-2026"
ASK_FOR_A_PERSON = "I'd like to speak to a real person please"


# Every control of the inbox with no accessible name: a label, aria-label(ledby) or its own text.
UNNAMED_CONTROLS_JS = """() => Array.from(document.querySelectorAll(
    '#inbox a[href], #inbox button, #inbox input:not([type=hidden]), #inbox select, #inbox textarea'
  )).filter(node => {
    const labels = Array.from(node.labels || []).map(label => label.textContent).join(' ');
    const labelledBy = (node.getAttribute('aria-labelledby') || '').split(' ').filter(Boolean)
      .map(id => (document.getElementById(id) || {}).textContent || '').join(' ');
    const name = labels || node.getAttribute('aria-label') || labelledBy || node.textContent;
    return !name.trim();
  }).map(node => node.outerHTML)"""


@dataclass(frozen=True)
class Day:
    base: str
    tenant: Tenant
    browser: Browser

    def page(self) -> Page:
        return self.browser.new_context().new_page()


@pytest.fixture
def day(daphne_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Day]:
    """The demo tenant in service hours, a second agent, and a browser to open their pages in.

    The test reads the database between browser steps; Playwright's sync API runs an event loop in
    this thread, which Django would otherwise take for an async context (the server is another process).
    """
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    tenant = seed_demo_tenant().tenant
    set_hours(tenant, ALWAYS, team_name="front desk team")
    second = UserFactory.create(username=SECOND_AGENT, password=SECOND_PASSWORD)
    MembershipFactory.create(user=second, tenant=tenant, role=Role.AGENT)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield Day(base=daphne_server, tenant=tenant, browser=browser)
        finally:
            ARTIFACTS.mkdir(exist_ok=True)
            for i, context in enumerate(browser.contexts):
                for j, page in enumerate(context.pages):
                    page.screenshot(path=str(ARTIFACTS / f"inbox-day-{i}-{j}.png"), full_page=True)
            browser.close()


def open_widget(day: Day) -> Page:
    customer = day.page()
    customer.goto(f"{day.base}/demo/")
    customer.get_by_role("button", name="Open chat").click()
    return customer


def ask(customer: Page, text: str) -> None:
    customer.get_by_label("Your message").fill(text)
    customer.keyboard.press("Enter")


def open_inbox(day: Day, username: str | None = None) -> Page:
    """``username``'s (the demo agent's by default) inbox, marked so that a reload would show."""
    agent = day.page()
    if username is None:
        log_in_as_demo_agent(agent, day.base)
    else:
        agent.goto(f"{day.base}/console/login/")
        agent.get_by_label("Username").fill(username)
        agent.get_by_label("Password").fill(SECOND_PASSWORD)
        agent.get_by_role("button", name="Log in").click()
    agent.goto(f"{day.base}/console/inbox/")
    agent.locator("#live-state.on").wait_for(timeout=10_000)
    agent.evaluate("window.notReloaded = true")
    return agent


def queue_row(agent: Page, escalation_id: int) -> str:
    row = agent.locator(f'#queue-list .queue-item[data-escalation="{escalation_id}"]')
    row.wait_for(timeout=20_000)
    return row.inner_text()


def forged_reply(agent: Page, escalation_id: int, text: str) -> dict[str, object]:
    """POSTs a reply from ``agent``'s page with its own CSRF token, as a hand-made form would."""
    result: dict[str, object] = agent.evaluate(
        """async ([id, text]) => {
          const body = new URLSearchParams({
            csrfmiddlewaretoken: document.querySelector('[name=csrfmiddlewaretoken]').value, text: text,
          });
          const response = await fetch('/console/inbox/' + id + '/reply/', {method: 'POST', body: body});
          return {status: response.status, page: await response.text()};
        }""",
        [escalation_id, text],
    )
    return result


def test_an_agents_day_from_a_live_queue_to_the_assistant_taking_over(day: Day) -> None:
    # given the agent's inbox open before anyone asks for a person
    agent = open_inbox(day)
    # when a customer asks for one
    customer = open_widget(day)
    ask(customer, ASK_FOR_A_PERSON)
    # then the customer sees their place in line and the agent's open queue shows them, first in line
    customer.get_by_text("Waiting for a team member · you're number 1 in line").wait_for(timeout=20_000)
    escalation = Escalation.objects.get(tenant=day.tenant)
    row = queue_row(agent, escalation.pk)
    assert f"#{escalation.pk} · pending · #1 in line" in row
    assert escalation.priority in row.lower()
    assert agent.evaluate("window.notReloaded") is True

    # when the agent opens it and claims it by keyboard
    agent.locator(f'#queue-list .queue-item[data-escalation="{escalation.pk}"] a').focus()
    agent.keyboard.press("Enter")
    agent.get_by_role("button", name="Claim").focus()
    agent.keyboard.press("Enter")
    agent.locator("#assigned", has_text="demo-agent").wait_for(timeout=10_000)
    agent.locator("#live-state.on").wait_for(timeout=10_000)
    # and replies by keyboard
    agent.get_by_label("Reply to the customer").focus()
    agent.keyboard.type("Hello, I'm here. What can I do for you?")
    agent.keyboard.press("Enter")
    # then the customer sees the reply live
    customer.get_by_text("You're chatting with our team.").wait_for(timeout=10_000)
    customer.locator(".msg.agent", has_text="What can I do for you?").wait_for(timeout=10_000)
    agent.get_by_role("status").filter(has_text="Sent.").wait_for(timeout=10_000)
    # and the customer's answer reaches the agent's open page live
    agent.evaluate("window.notReloaded = true")
    ask(customer, "My booking for Friday shows the wrong time")
    agent.locator("#transcript .turn.customer", has_text="wrong time").wait_for(timeout=10_000)
    assert agent.evaluate("window.notReloaded") is True

    # when a second agent opens the conversation the first one holds
    second = open_inbox(day, SECOND_AGENT)
    second.goto(f"{day.base}/console/inbox/{escalation.pk}/")
    # then they are told who holds it and get no reply form, and a forged reply is refused
    second.get_by_text("demo-agent holds this escalation").wait_for(timeout=10_000)
    assert second.get_by_label("Reply to the customer").count() == 0
    refused = forged_reply(second, escalation.pk, "Sneaky reply")
    assert refused["status"] == 200
    assert "Another agent has already claimed this conversation." in str(refused["page"])

    # when the first agent hands the conversation back and the customer asks something else
    agent.get_by_role("button", name="Hand back to the assistant").focus()
    agent.keyboard.press("Enter")
    customer.get_by_text("You're back with the assistant.").wait_for(timeout=10_000)
    answers_before = customer.locator(".msg.assistant").count()
    ask(customer, "What are your opening hours?")
    # then the assistant answers it in the widget
    customer.locator(".msg.assistant").nth(answers_before).wait_for(timeout=ANSWER_TIMEOUT_MS)

    escalation.refresh_from_db()
    assert escalation.status == Status.RESOLVED and escalation.assigned_to is not None
    assert escalation.assigned_to.username == "demo-agent"
    replies = Message.objects.filter(conversation=escalation.conversation, role=MessageRole.AGENT)
    assert [(m.agent.username if m.agent else "", m.text) for m in replies] == [
        ("demo-agent", "Hello, I'm here. What can I do for you?")
    ]


@dataclass(frozen=True)
class TwoInLine:
    agent: Page
    first: Page
    second: Page
    waiting: int
    newcomer: int


def two_in_line(day: Day) -> TwoInLine:
    """An agent on the inbox, their keyboard focus on the first customer's row when a second customer
    asks for a person; the pages and the two escalations' ids, once the second is in the queue."""
    agent = open_inbox(day)
    first = open_widget(day)
    ask(first, ASK_FOR_A_PERSON)
    first.get_by_text("Waiting for a team member").wait_for(timeout=20_000)
    waiting = Escalation.objects.get(tenant=day.tenant).pk
    queue_row(agent, waiting)
    agent.locator(f'#queue-list .queue-item[data-escalation="{waiting}"] a').focus()
    second = open_widget(day)
    ask(second, "Can I talk to a human about my invoice?")
    second.get_by_text("Waiting for a team member").wait_for(timeout=20_000)
    newcomer = Escalation.objects.exclude(pk=waiting).get(tenant=day.tenant).pk
    queue_row(agent, newcomer)
    return TwoInLine(agent=agent, first=first, second=second, waiting=waiting, newcomer=newcomer)


def test_keyboard_focus_stays_on_its_queue_row_when_the_queue_changes(day: Day) -> None:
    # given / when a customer joins the queue while the agent's focus is on another customer's row
    line = two_in_line(day)
    agent, waiting = line.agent, line.waiting
    # then the focus is still on that row: Enter opens the conversation the agent was on
    focused = agent.evaluate("document.activeElement.closest('.queue-item')?.dataset.escalation")
    assert focused == str(waiting)
    agent.keyboard.press("Enter")
    agent.wait_for_url(f"**/console/inbox/{waiting}/")


def test_a_customer_joining_the_queue_is_announced(day: Day) -> None:
    # given / when a second customer joins the queue
    line = two_in_line(day)
    agent, newcomer = line.agent, line.newcomer
    # then a live region says so, with the place in line and the priority
    news = agent.get_by_role("status").filter(has_text=f"#{newcomer}")
    news.wait_for(timeout=10_000)
    assert news.inner_text() == f"New in the queue: #{newcomer}, medium priority, number 2 in line."


def test_every_inbox_control_is_named_and_the_transcript_is_a_log(day: Day) -> None:
    # given a customer in line
    agent = open_inbox(day)
    customer = open_widget(day)
    ask(customer, ASK_FOR_A_PERSON)
    customer.get_by_text("Waiting for a team member").wait_for(timeout=20_000)
    escalation = Escalation.objects.get(tenant=day.tenant)
    # then every control of the inbox has a name
    queue_row(agent, escalation.pk)
    assert agent.evaluate(UNNAMED_CONTROLS_JS) == []
    # and of the opened escalation, whose transcript is a named log (new turns are read out)
    agent.goto(f"{day.base}/console/inbox/{escalation.pk}/")
    assert agent.evaluate(UNNAMED_CONTROLS_JS) == []
    transcript = agent.get_by_role("log", name="Transcript")
    assert transcript.locator(".turn.customer").inner_text(timeout=10_000).endswith(ASK_FOR_A_PERSON)


def test_enter_that_ends_an_ime_composition_does_not_send_the_reply(day: Day) -> None:
    # given an agent holding a conversation, composing a reply with an input method (Japanese, say)
    agent = open_inbox(day)
    customer = open_widget(day)
    ask(customer, ASK_FOR_A_PERSON)
    escalation = int(
        agent.locator("#queue-list .queue-item").first.get_attribute("data-escalation", timeout=20_000) or 0
    )
    agent.goto(f"{day.base}/console/inbox/{escalation}/")
    agent.get_by_role("button", name="Claim").click()
    agent.locator("#live-state.on").wait_for(timeout=10_000)
    reply = agent.get_by_label("Reply to the customer")
    reply.fill("日本")
    # when Enter confirms the composition, then the agent goes on writing and sends with Enter
    reply.dispatch_event("keydown", {"key": "Enter", "isComposing": True})
    reply.press("End")
    reply.type("語です")
    reply.press("Enter")
    # then the customer gets one reply, the whole of it
    customer.locator(".msg.agent").first.wait_for(timeout=10_000)
    agent.get_by_role("status").filter(has_text="Sent.").wait_for(timeout=10_000)
    assert customer.locator(".msg.agent .body").all_inner_texts() == ["日本語です"]


class HeldAcks:
    """Routes a page's inbox socket through the test, which keeps back the server's ``reply.ack``
    frames until ``release`` and passes every other frame on: the ack of a busy server, made slow."""

    def __init__(self, page: Page) -> None:
        self.held: list[str] = []
        self.sockets: list[WebSocketRoute] = []
        page.route_web_socket("**/ws/inbox/**", self._route)

    def _route(self, page_side: WebSocketRoute) -> None:
        self.sockets.append(page_side)
        page_side.connect_to_server().on_message(lambda frame: self._from_server(page_side, frame))

    def _from_server(self, page_side: WebSocketRoute, frame: str | bytes) -> None:
        if isinstance(frame, str) and json.loads(frame)["type"] == "reply.ack":
            self.held.append(frame)
        else:
            page_side.send(frame)

    def release(self) -> None:
        self.sockets[-1].send(self.held.pop(0))


def test_a_slow_reply_ack_does_not_wipe_the_next_reply_being_written(day: Day) -> None:
    # given an agent holding a conversation, whose replies are acknowledged slowly
    agent = day.page()
    acks = HeldAcks(agent)
    log_in_as_demo_agent(agent, day.base)
    customer = open_widget(day)
    ask(customer, ASK_FOR_A_PERSON)
    customer.get_by_text("Waiting for a team member").wait_for(timeout=20_000)
    agent.goto(f"{day.base}/console/inbox/")
    agent.locator("#queue-list .queue-item a").first.click()
    agent.get_by_role("button", name="Claim").click()
    agent.locator("#live-state.on").wait_for(timeout=10_000)
    reply = agent.get_by_label("Reply to the customer")
    # when the agent sends a reply and starts the next one before its acknowledgement comes
    reply.fill("Let me check that for you.")
    reply.press("Enter")
    customer.locator(".msg.agent", has_text="Let me check").wait_for(timeout=10_000)
    reply.press_sequentially("One moment")
    acks.release()
    # then the acknowledgement says "Sent." and leaves the next reply as it is
    agent.get_by_role("status").filter(has_text="Sent.").wait_for(timeout=10_000)
    assert reply.input_value() == "One moment"


def test_a_reply_from_a_page_opened_before_another_agent_claimed_is_refused_and_kept(day: Day) -> None:
    # given a second agent with a waiting customer's conversation open, and the reply form on it
    second = open_inbox(day, SECOND_AGENT)
    customer = open_widget(day)
    ask(customer, ASK_FOR_A_PERSON)
    customer.get_by_text("Waiting for a team member").wait_for(timeout=20_000)
    escalation = Escalation.objects.get(tenant=day.tenant)
    second.goto(f"{day.base}/console/inbox/{escalation.pk}/")
    second.locator("#live-state.on").wait_for(timeout=10_000)
    # when the second agent has begun a reply, the demo agent claims it first, and the reply is sent
    reply = second.get_by_label("Reply to the customer")
    reply.fill("I can help you with that")
    first = open_inbox(day)
    first.goto(f"{day.base}/console/inbox/{escalation.pk}/")
    first.get_by_role("button", name="Claim").click()
    first.locator("#assigned", has_text="demo-agent").wait_for(timeout=10_000)
    second.get_by_text("demo-agent holds this escalation").wait_for(timeout=10_000)
    reply.press("Enter")
    # then it is refused, said so, and the text is back in the box; the customer got nothing
    second.get_by_role("status").filter(has_text="Another agent has already claimed").wait_for(timeout=10_000)
    assert reply.input_value() == "I can help you with that"
    assert not Message.objects.filter(conversation=escalation.conversation, role=MessageRole.AGENT).exists()
    assert customer.locator(".msg.agent").count() == 0


def test_the_next_customer_moves_up_live_when_the_first_is_claimed(day: Day) -> None:
    # given two customers in line, the second number 2
    line = two_in_line(day)
    line.second.get_by_text("Waiting for a team member · you're number 2 in line").wait_for(timeout=10_000)
    # when the agent claims the first
    line.agent.goto(f"{day.base}/console/inbox/{line.waiting}/")
    line.agent.get_by_role("button", name="Claim").click()
    line.agent.locator("#assigned", has_text="demo-agent").wait_for(timeout=10_000)
    # then the second customer is told they are next, and the agent's queue shows it
    line.second.get_by_text("Waiting for a team member · you're number 1 in line").wait_for(timeout=10_000)
    assert f"#{line.newcomer} · pending · #1 in line" in queue_row(line.agent, line.newcomer)
    assert f"#{line.waiting} · acknowledged" in queue_row(line.agent, line.waiting)


def test_a_claim_by_another_agent_takes_the_reply_form_off_an_open_page(day: Day) -> None:
    # given a second agent with a waiting customer's conversation open
    second = open_inbox(day, SECOND_AGENT)
    customer = open_widget(day)
    ask(customer, ASK_FOR_A_PERSON)
    customer.get_by_text("Waiting for a team member").wait_for(timeout=20_000)
    escalation = Escalation.objects.get(tenant=day.tenant)
    second.goto(f"{day.base}/console/inbox/{escalation.pk}/")
    second.locator("#live-state.on").wait_for(timeout=10_000)
    second.evaluate("window.notReloaded = true")
    # when the demo agent claims it
    first = open_inbox(day)
    first.goto(f"{day.base}/console/inbox/{escalation.pk}/")
    first.get_by_role("button", name="Claim").click()
    # then the second agent's page says who holds it and offers neither claim, reply nor closing, without a reload
    second.get_by_role("status").filter(has_text="demo-agent holds this escalation").wait_for(timeout=10_000)
    assert second.locator("#assigned").inner_text() == "demo-agent"
    assert not second.get_by_label("Reply to the customer").is_visible()
    assert not second.get_by_role("button", name="Claim").is_visible()
    assert not second.get_by_role("button", name="Resolve").is_visible()
    assert not second.get_by_role("button", name="Hand back to the assistant").is_visible()
    assert second.evaluate("window.notReloaded") is True
