"""The inbox as a support lead reviews it, in real browsers (Debian chromium via Playwright, real
daphne; the launch is the one of test_inbox_browser), on escalations seeded by the factories: a
tenant in Tokyo, its agent, and customers whose text is long or in other languages."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, sync_playwright

from chat.models import Message, MessageRole
from chat.services import conversation_open
from escalations.models import Escalation, Mode
from escalations.tests.conftest import ALWAYS, set_hours
from escalations.tests.factories import ConversationFactory, EscalationFactory, MessageFactory
from escalations.tests.test_inbox_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from supportai.models import Role, Tenant
from supportai.tests.factories import MembershipFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]
AGENT = "alice"
PASSWORD = "correct-horse-battery"  # UserFactory's
LONG_WORD = "https://example.com/" + "a" * 400
WROTE_AT = datetime(2026, 3, 1, 3, 4, 5, tzinfo=UTC)


@dataclass(frozen=True)
class Inbox:
    base: str
    tenant: Tenant
    page: Page

    def open(self, escalation: Escalation) -> None:
        self.page.goto(f"{self.base}/console/inbox/{escalation.pk}/")
        self.page.locator("#live-state.on").wait_for(timeout=10_000)


def escalated(tenant: Tenant, text: str) -> Escalation:
    """A conversation of ``tenant`` whose customer wrote ``text`` and was escalated for it."""
    conversation = ConversationFactory.create(tenant=tenant)
    MessageFactory.create(conversation=conversation, text=text)
    return EscalationFactory.create(conversation=conversation, reason=text, summary=f"Customer: {text}")


@pytest.fixture
def inbox(daphne_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """A tenant in Tokyo in service hours and its agent, logged in to the console in a 1280px window.

    The test writes the database between browser steps; Playwright's sync API runs an event loop in
    this thread, which Django would otherwise take for an async context (the server is another process).
    """
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    tenant = TenantFactory.create(timezone="Asia/Tokyo")
    set_hours(tenant, ALWAYS)
    MembershipFactory.create(tenant=tenant, role=Role.AGENT, user=UserFactory.create(username=AGENT))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        try:
            page.goto(f"{daphne_server}/console/login/")
            page.get_by_label("Username").fill(AGENT)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{daphne_server}/console/**")
            yield Inbox(base=daphne_server, tenant=tenant, page=page)
        finally:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "inbox-review.png"), full_page=True)
            browser.close()


def test_a_long_word_wraps_instead_of_widening_the_page(inbox: Inbox) -> None:
    # given a customer who pasted a long address
    escalation = escalated(inbox.tenant, LONG_WORD)
    # when the agent opens their escalation
    inbox.open(escalation)
    # then the page is no wider than the window: the reason and the transcript wrap the address
    widths = inbox.page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1]
    inbox.page.get_by_text(LONG_WORD).first.wait_for()


def test_times_are_the_tenants_and_say_so_on_the_page_and_live(inbox: Inbox) -> None:
    # given a customer who wrote at 03:04:05 UTC, 12:04:05 in Tokyo, and is due an answer at 04:00 UTC
    escalation = escalated(inbox.tenant, "Where is my parcel?")
    Message.objects.filter(conversation=escalation.conversation).update(created_at=WROTE_AT)
    Escalation.objects.filter(pk=escalation.pk).update(sla_due_at=WROTE_AT.replace(hour=4, minute=0, second=0))
    # when the agent opens it, claims it and replies
    inbox.open(escalation)
    page = inbox.page
    # then the page says in which zone its times are, and shows them there
    page.get_by_text("Times are in Asia/Tokyo.").wait_for()
    assert "12:04:05" in page.locator("#transcript .turn.customer .meta").inner_text()
    assert "2026-03-01 13:00" in page.locator("dd", has_text="2026-03-01").inner_text()
    page.get_by_role("button", name="Claim").click()
    page.locator("#live-state.on").wait_for(timeout=10_000)
    page.get_by_label("Reply to the customer").fill("Let me look")
    page.get_by_role("button", name="Send reply").click()
    # and the reply drawn live shows its time in Tokyo too
    live = page.locator("#transcript .turn.agent .meta")
    live.wait_for(timeout=10_000)
    sent = Message.objects.get(conversation=escalation.conversation, role=MessageRole.AGENT).created_at
    assert sent.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%H:%M:%S") in live.inner_text()


def test_the_queue_says_when_a_customer_is_due_in_the_tenants_zone(inbox: Inbox) -> None:
    # given a customer due an answer at 04:00 UTC, 13:00 in Tokyo
    escalation = escalated(inbox.tenant, "Where is my parcel?")
    Escalation.objects.filter(pk=escalation.pk).update(sla_due_at=WROTE_AT.replace(hour=4, minute=0, second=0))
    # when the agent opens the inbox, once without its socket and once with it
    drawn = inbox.page.context.new_page()
    drawn.route_web_socket("**/ws/inbox/**", lambda socket: socket.close())
    drawn.goto(f"{inbox.base}/console/inbox/")
    page = inbox.page
    page.goto(f"{inbox.base}/console/inbox/")
    page.locator("#queue-list .queue-item a > span > .prio").wait_for(timeout=10_000)  # redrawn by inbox.js
    # then the queue row says it in Tokyo, on the page as drawn and as the queue frames redraw it
    drawn.get_by_text("Times are in Asia/Tokyo.").wait_for()
    assert drawn.locator("#queue-list .queue-item a > .prio").count() == 1  # as drawn, not redrawn
    assert drawn.locator("#queue-list .sla").inner_text() == "due 2026-03-01 13:00"
    assert page.locator("#queue-list .sla").inner_text() == "due 2026-03-01 13:00"


def test_a_right_to_left_preview_is_isolated_from_the_row_around_it(inbox: Inbox) -> None:
    # given a customer who wrote in Arabic, ending with digits and punctuation (neutral in bidi)
    escalated(inbox.tenant, "أين طلبي رقم 123؟")
    # when the agent opens the inbox, once without its socket and once with it
    drawn = inbox.page.context.new_page()
    drawn.route_web_socket("**/ws/inbox/**", lambda socket: socket.close())
    drawn.goto(f"{inbox.base}/console/inbox/")
    page = inbox.page
    page.goto(f"{inbox.base}/console/inbox/")
    page.locator("#queue-list .queue-item a > span > .prio").wait_for(timeout=10_000)  # redrawn by inbox.js
    # then its preview takes its direction from its own text, isolated from "#id · status" and the due
    # time beside it, on the page as drawn and as the queue frames redraw it
    for shown in (drawn, page):
        preview = shown.locator("#queue-list .preview")
        assert preview.get_attribute("dir") == "auto"
        assert preview.evaluate("node => getComputedStyle(node).direction") == "rtl"
        assert preview.evaluate("node => getComputedStyle(node).unicodeBidi") == "isolate"


def test_an_open_page_learns_live_that_its_escalation_was_resolved_elsewhere(inbox: Inbox) -> None:
    # given the agent's escalation open on a page
    escalation = escalated(inbox.tenant, "Where is my parcel?")
    inbox.open(escalation)
    page = inbox.page
    # when it is resolved from another page
    other = page.context.new_page()
    other.goto(f"{inbox.base}/console/inbox/{escalation.pk}/")
    other.get_by_role("button", name="Resolve").click()
    other.get_by_text("Resolved", exact=False).first.wait_for()
    # then the open page says so and offers no reply the server would refuse
    page.get_by_text("This escalation was closed meanwhile").wait_for(timeout=10_000)
    assert page.get_by_label("Reply to the customer").is_hidden()
    assert page.get_by_role("button", name="Claim").is_hidden()
    assert page.get_by_role("button", name="Resolve").is_hidden()


def test_a_keyboard_claim_leaves_the_focus_on_the_reply_box_that_the_notice_describes(inbox: Inbox) -> None:
    # given a customer waiting
    escalation = escalated(inbox.tenant, "Where is my parcel?")
    inbox.open(escalation)
    page = inbox.page
    # when the agent claims it with the keyboard
    page.get_by_role("button", name="Claim").focus()
    page.keyboard.press("Enter")
    page.get_by_text("You hold escalation").wait_for()
    page.wait_for_load_state("domcontentloaded")  # its deferred scripts ran (notice_focus.js)
    # then the reloaded page has the focus in the reply box, not on the page's body, and it says why
    focused = page.evaluate("[document.activeElement.id, document.activeElement.getAttribute('aria-describedby')]")
    assert focused[0] == "reply-text"
    assert "You hold escalation" in page.locator(f"#{focused[1]}").inner_text()
    page.keyboard.type("Let me look")
    assert page.get_by_label("Reply to the customer").input_value() == "Let me look"


def test_a_keyboard_resolve_leaves_the_focus_on_the_notice(inbox: Inbox) -> None:
    # given the agent's claimed escalation
    escalation = escalated(inbox.tenant, "Where is my parcel?")
    inbox.open(escalation)
    page = inbox.page
    page.get_by_role("button", name="Claim").click()
    page.get_by_text("You hold escalation").wait_for()
    # when they resolve it with the keyboard
    page.get_by_role("button", name="Resolve").focus()
    page.keyboard.press("Enter")
    page.get_by_text("is resolved").wait_for()
    page.wait_for_load_state("domcontentloaded")  # its deferred scripts ran (notice_focus.js)
    # then the focus is on the notice, where the next Tab carries on, not at the top of the page
    focused = page.evaluate("[document.activeElement.tagName, document.activeElement.textContent]")
    assert focused == ["P", f"Escalation #{escalation.pk} is resolved."]


OPEN_CHAT = "url => new Promise(ready => { window.chat = new WebSocket(url); window.chat.onmessage = ready; })"


@dataclass(frozen=True)
class CustomerChat:
    """A customer's browser page with the chat's socket in ``window.chat`` (same origin as the server)."""

    page: Page
    url: str

    def open(self) -> None:
        self.page.evaluate(OPEN_CHAT, self.url)


def handed_off_customer_in_chat(inbox: Inbox) -> tuple[Escalation, CustomerChat]:
    """A conversation handed off to a person, with the customer's chat open in a page of the browser."""
    opened = conversation_open(tenant=inbox.tenant)
    escalation = EscalationFactory.create(conversation=opened.conversation, reason="help", summary="Customer: help")
    page = inbox.page.context.new_page()
    page.goto(f"{inbox.base}/console/")
    socket = (
        f"{inbox.base.replace('http', 'ws', 1)}/ws/chat/?key={inbox.tenant.public_key}&resume={opened.resume_token}"
    )
    customer = CustomerChat(page, socket)
    customer.open()
    return escalation, customer


IN_THE_CHAT = "Customer in the chat"


def _left_at_in_tokyo() -> set[str]:
    """What the console says of a customer who left this minute or the one before, in the tenant's zone."""
    tokyo = datetime.now(ZoneInfo("Asia/Tokyo"))
    return {f"Customer left at {(tokyo - timedelta(minutes=m)).strftime('%H:%M')}" for m in (0, 1)}


def test_the_open_page_says_when_the_customer_left_the_chat_and_came_back(inbox: Inbox) -> None:
    # given a customer handed off to a person, with the chat open in their browser (same origin as the
    # server, as the /demo/ page), and their escalation open on the agent's page
    escalation, customer = handed_off_customer_in_chat(inbox)
    inbox.open(escalation)
    page = inbox.page
    page.wait_for_timeout(500)  # the page's watch frame is answered
    # when the customer closes the chat
    customer.page.evaluate("window.chat.close()")
    # then the agent's page says so, and when, in Tokyo, in a live region
    presence = page.locator("#customer-presence[role=status]")
    presence.get_by_text("Customer left at").wait_for(timeout=10_000)
    assert presence.inner_text() in _left_at_in_tokyo()
    # and when they open it again, that they are in the chat, as a page drawn then says
    customer.open()
    presence.get_by_text(IN_THE_CHAT, exact=True).wait_for(timeout=10_000)


def test_a_page_opened_later_says_whether_the_customer_is_in_the_chat(inbox: Inbox) -> None:
    # given a customer handed off to a person, with the chat open in their browser
    escalation, customer = handed_off_customer_in_chat(inbox)
    # when the agent opens the escalation then, the page says at once that they are in the chat
    inbox.open(escalation)
    page = inbox.page
    presence = page.locator("#customer-presence[role=status]")
    assert presence.inner_text() == IN_THE_CHAT
    # and when the customer has closed the chat before the agent opens the escalation
    customer.page.evaluate("new Promise(closed => { window.chat.onclose = closed; window.chat.close(); })")
    for _ in range(20):  # the server counts the closed socket just after the close
        inbox.open(escalation)
        if "left" in presence.inner_text():
            break
        page.wait_for_timeout(250)
    # then the page says when they left, in Tokyo, in the region the live frames update
    assert presence.inner_text() in _left_at_in_tokyo()
    # and the live frames take it from there
    page.wait_for_timeout(500)  # the page's watch frame is answered
    customer.open()
    presence.get_by_text(IN_THE_CHAT, exact=True).wait_for(timeout=10_000)


def test_the_queue_row_and_the_conversation_page_say_whether_the_customer_is_in_the_chat(inbox: Inbox) -> None:
    # given a customer handed off to a person, with the chat open in their browser
    escalation, customer = handed_off_customer_in_chat(inbox)
    # when the agent opens the inbox (its rows redrawn from the queue frame) and the conversation's page
    page = inbox.page
    page.goto(f"{inbox.base}/console/inbox/")
    page.locator("#queue-list .queue-item a > span > .prio").wait_for(timeout=10_000)  # redrawn by inbox.js
    conversation = page.context.new_page()
    conversation.goto(f"{inbox.base}/console/conversations/{escalation.conversation_id}/")
    conversation.locator("#live-state.on").wait_for(timeout=10_000)
    # then both say the customer is there, in words
    row = page.locator(f'#queue-list .queue-item[data-escalation="{escalation.pk}"] .presence')
    assert row.inner_text() == IN_THE_CHAT
    said = conversation.locator("#customer-presence[role=status]")
    assert said.inner_text() == IN_THE_CHAT
    # and when the customer closes the chat, both say so live, in the same words: the row as the next queue
    # frame redraws it
    customer.page.evaluate("window.chat.close()")
    row.get_by_text("Customer left at").wait_for(timeout=10_000)
    said.get_by_text("Customer left at").wait_for(timeout=10_000)
    assert row.inner_text() in _left_at_in_tokyo() and said.inner_text() == row.inner_text()


def test_an_open_ticket_page_learns_live_that_it_was_resolved_elsewhere(inbox: Inbox) -> None:
    # given a ticket-mode escalation (out of hours: in no queue frame) open on the agent's page
    escalation = escalated(inbox.tenant, "Where is my parcel?")
    Escalation.objects.filter(pk=escalation.pk).update(mode=Mode.TICKET)
    inbox.open(escalation)
    page = inbox.page
    page.wait_for_timeout(500)  # the page's watch frame is answered
    # when it is resolved from another page
    other = page.context.new_page()
    other.goto(f"{inbox.base}/console/inbox/{escalation.pk}/")
    other.get_by_role("button", name="Resolve").click()
    other.get_by_text("is resolved").wait_for()
    # then the open page says so and offers no reply the server would refuse
    page.get_by_text("This escalation was closed meanwhile").wait_for(timeout=10_000)
    assert page.get_by_label("Reply to the customer").is_hidden()
    assert page.get_by_role("button", name="Resolve").is_hidden()
