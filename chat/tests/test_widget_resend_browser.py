"""The widget's client behaviour when sockets drop and answers are cut short, in a real browser.

The page is /demo/ from a real daphne; the chat socket is a scripted stand-in (Playwright's
``route_web_socket``) so a test can drop it at an exact frame and see what the widget does next.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, WebSocketRoute, sync_playwright

from chat.tests.test_widget_browser import CHROMIUM, CHROMIUM_ARGS
from supportai.demo import seed_demo_tenant

pytestmark = [pytest.mark.browser, pytest.mark.slow]
WAIT_MS = 15_000

Frame = dict[str, Any]


@dataclass
class StandIn:
    """A scripted chat server: ``on_send(server, socket_number, frame)`` answers each client frame."""

    on_send: Callable[[StandIn, int, Frame], None]
    history: list[list[Frame]] = field(default_factory=list)  # session.ready history per connection
    sockets: list[WebSocketRoute] = field(default_factory=list)
    received: list[tuple[int, Frame]] = field(default_factory=list)
    ponging: set[int] = field(default_factory=set)  # the sockets that answer the widget's pings
    pings: list[int] = field(default_factory=list)  # the socket of each ping

    def __call__(self, ws: WebSocketRoute) -> None:
        number = len(self.sockets)
        self.sockets.append(ws)

        def on_message(payload: str | bytes) -> None:
            frame = json.loads(payload)
            if frame["type"] == "ping":
                self.pings.append(number)
                if number in self.ponging:
                    ws.send(json.dumps({"type": "pong"}))
                return
            self.received.append((number, frame))
            self.on_send(self, number, frame)

        ws.on_message(on_message)
        history = self.history[number] if number < len(self.history) else []
        ws.send(json.dumps({"type": "session.ready", "resume_token": "r", "greeting": "Hi!", "history": history}))

    def sends(self) -> list[tuple[int, Frame]]:
        return [(number, frame) for number, frame in self.received if frame["type"] == "message.send"]

    @staticmethod
    def emit(ws: WebSocketRoute, *frames: Frame) -> None:
        for frame in frames:
            ws.send(json.dumps(frame))


def answer(message_id: int, text: str, status: str = "complete") -> list[Frame]:
    return [
        {"type": "message.start", "message_id": message_id},
        {"type": "message.delta", "message_id": message_id, "text": text},
        {"type": "message.end", "message_id": message_id, "text": text, "sources": [], "status": status},
    ]


@pytest.fixture
def browser(daphne_server: str) -> Iterator[Browser]:
    """Chromium, once the demo tenant is seeded (the ORM cannot run inside Playwright's event loop)."""
    seed_demo_tenant()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def open_widget(
    browser: Browser, server: str, stand_in: StandIn, init_script: str = "", unanswered: list[Frame] | None = None
) -> Page:
    """/demo/ with the chat open; ``unanswered`` is put in the widget's storage first, as a previous page left it."""
    page = browser.new_page()
    if init_script:
        page.add_init_script(init_script)
    page.route_web_socket(re.compile(r"/ws/chat/"), stand_in)
    page.goto(f"{server}/demo/")
    if unanswered is not None:
        key = page.evaluate("document.querySelector('script[data-key]').dataset.key")
        page.evaluate(f"sessionStorage.setItem('supportai:{key}:unanswered', {json.dumps(json.dumps(unanswered))})")
        page.reload()
    page.get_by_role("button", name="Open chat").click()
    return page


def ask(page: Page, text: str) -> None:
    page.get_by_label("Your message").fill(text)
    page.keyboard.press("Enter")


def wait_until(page: Page, condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_MS / 1000
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        page.wait_for_timeout(50)  # lets Playwright dispatch the stand-in's handlers


def unanswered(page: Page) -> Any:
    """The widget's list of questions still waiting for their answer, from the tab's storage."""
    key = page.evaluate("document.querySelector('script[data-key]').dataset.key")
    return json.loads(page.evaluate(f"sessionStorage.getItem('supportai:{key}:unanswered') || 'null'"))


def customer_bubbles(page: Page) -> list[str]:
    return page.locator(".msg.customer").all_inner_texts()


def test_widget_resends_a_question_whose_socket_dropped_before_the_answer(daphne_server: str, browser: Browser) -> None:
    # given a server that stores the question (acks it) and then loses the socket before answering;
    # on the next socket the question is in the history without an answer, and a resend is answered
    def on_send(server: StandIn, number: int, frame: Frame) -> None:
        ws = server.sockets[number]
        if frame["type"] != "message.send":
            return
        server.emit(ws, {"type": "message.ack", "client_id": frame["client_id"], "message_id": 10})
        if number == 0:
            ws.close()
        else:
            server.emit(ws, *answer(11, "We open at 9."))

    question = {"message_id": 10, "role": "customer", "text": "When do you open?", "status": "complete", "sources": []}
    answered = {**question, "message_id": 11, "role": "assistant", "text": "We open at 9."}
    stand_in = StandIn(on_send=on_send, history=[[], [question], [question, answered]])
    # and another tenant's widget on this site left a question of its own in the tab's storage
    foreign = json.dumps([{"client_id": "foreign-1", "text": "Another tenant's question"}])
    page = open_widget(
        browser, daphne_server, stand_in, f"sessionStorage.setItem('supportai:pk_other:unanswered', {foreign!r});"
    )

    # when the customer asks and the socket drops before the answer
    ask(page, "When do you open?")
    page.locator(".msg.assistant").filter(has_text="We open at 9.").wait_for(timeout=WAIT_MS)

    # then the widget reconnected, resent the question with its client_id and shows the answer, the question once
    first, second = stand_in.sends()
    assert (first[0], second[0]) == (0, 1)
    assert second[1]["client_id"] == first[1]["client_id"] and second[1]["text"] == "When do you open?"
    assert customer_bubbles(page) == ["When do you open?"]

    # when the socket drops again after the answer
    stand_in.sockets[1].close()
    wait_until(page, lambda: len(stand_in.sockets) == 3, "a third socket")
    page.locator(".msg.assistant").filter(has_text="We open at 9.").wait_for(timeout=WAIT_MS)
    page.wait_for_timeout(300)

    # then nothing is resent: the answered question left the list; nor is the other tenant's question
    assert len(stand_in.sends()) == 2
    assert unanswered(page) == []
    assert customer_bubbles(page) == ["When do you open?"]
    assert page.get_by_text("Another tenant's question").count() == 0
    assert json.loads(page.evaluate("sessionStorage.getItem('supportai:pk_other:unanswered')"))[0]["client_id"] == (
        "foreign-1"
    )


def test_widget_redraws_and_resends_a_question_lost_on_a_half_dead_socket(daphne_server: str, browser: Browser) -> None:
    # given a socket that swallows the question (it never reaches the server) and then dies
    def on_send(server: StandIn, number: int, frame: Frame) -> None:
        ws = server.sockets[number]
        if frame["type"] != "message.send":
            return
        if number == 0:
            ws.close()
            return
        server.emit(ws, {"type": "message.ack", "client_id": frame["client_id"], "message_id": 20})
        server.emit(ws, *answer(21, "Gift cards never expire."))

    stand_in = StandIn(on_send=on_send)
    page = open_widget(browser, daphne_server, stand_in)

    # when the customer asks
    ask(page, "Do gift cards expire?")

    # then after the reconnect (the new history does not have the question) it is drawn again and resent
    page.locator(".msg.assistant").filter(has_text="Gift cards never expire.").wait_for(timeout=WAIT_MS)
    (_, first), (_, second) = stand_in.sends()
    assert second["client_id"] == first["client_id"]
    assert customer_bubbles(page) == ["Do gift cards expire?"]
    assert unanswered(page) == []


def test_widget_in_a_live_handoff_keeps_no_acked_question_for_resending(daphne_server: str, browser: Browser) -> None:
    # given a conversation waiting for a person: the server stores and acks messages, nothing answers them
    waiting = {"type": "escalation", "escalation_id": 3, "status": "pending", "mode": "live", "position": 1}

    def on_send(server: StandIn, number: int, frame: Frame) -> None:
        if frame["type"] == "message.send":
            ack = {"type": "message.ack", "client_id": frame["client_id"], "message_id": 30}
            server.emit(server.sockets[number], ack)

    stand_in = StandIn(on_send=on_send)
    page = open_widget(browser, daphne_server, stand_in)
    stand_in.emit(stand_in.sockets[0], {**waiting, "message": "You're number 1 in line."})
    page.locator(".handoff").filter(has_text="number 1 in line").wait_for(timeout=WAIT_MS)

    # when the customer writes and the message is acked, and later the socket drops
    ask(page, "My order number is 1234")
    wait_until(page, lambda: len(stand_in.sends()) == 1, "the message")
    page.wait_for_timeout(300)
    assert unanswered(page) == []
    stand_in.sockets[0].close()
    wait_until(page, lambda: len(stand_in.sockets) == 2, "a second socket")
    page.wait_for_timeout(500)

    # then it is not resent (after a hand-back the assistant would answer it)
    assert len(stand_in.sends()) == 1


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param({"type": "message.ack", "message_id": 40}, id="ack"),
        pytest.param(
            {"type": "agent.message", "message_id": 41, "text": "Hi, Sam here.", "agent_name": "Sam"}, id="agent"
        ),
        pytest.param(
            {
                "type": "escalation",
                "escalation_id": 4,
                "status": "acknowledged",
                "mode": "live",
                "message": "Sam joined.",
            },
            id="escalation",
        ),
    ],
)
def test_widget_lets_the_customer_write_again_after_a_message_that_gets_no_answer(
    daphne_server: str, browser: Browser, reply: Frame
) -> None:
    # given a live handoff: a customer message gets its ack, or a person's reply or step, and no assistant answer
    def on_send(server: StandIn, number: int, frame: Frame) -> None:
        if frame["type"] == "message.send":
            server.emit(server.sockets[number], {**reply, "client_id": frame["client_id"]})

    stand_in = StandIn(on_send=on_send)
    page = open_widget(browser, daphne_server, stand_in)

    # when the customer writes
    ask(page, "Is anyone there?")
    wait_until(page, lambda: len(stand_in.sends()) == 1, "the message")

    # then the Send button works again
    assert page.wait_for_function(
        "() => !document.querySelector('#supportai-widget').shadowRoot.querySelector('form.compose button').disabled",
        timeout=WAIT_MS,
    )


def test_widget_marks_a_cut_off_answer_and_tries_the_question_again(daphne_server: str, browser: Browser) -> None:
    # given a server whose first answer is cut off (its socket closed mid-answer elsewhere) and whose next is whole
    def on_send(server: StandIn, number: int, frame: Frame) -> None:
        if frame["type"] != "message.send":
            return
        ws, first = server.sockets[number], len(server.sends()) == 1
        server.emit(ws, {"type": "message.ack", "client_id": frame["client_id"], "message_id": 50 if first else 52})
        server.emit(ws, *(answer(51, "Our hours are", "interrupted") if first else answer(53, "Our hours are 9 to 5.")))

    stand_in = StandIn(on_send=on_send)
    page = open_widget(browser, daphne_server, stand_in)

    # when the customer asks and the answer arrives cut off
    ask(page, "What are your hours?")
    cut = page.locator('.msg.assistant[data-status="interrupted"]')
    cut.get_by_text("This answer was cut off.").wait_for(timeout=WAIT_MS)

    # then trying again asks the question once more and the whole answer follows
    cut.get_by_role("button", name="Try again").click()
    page.locator('.msg.assistant[data-status="complete"]', has_text="Our hours are 9 to 5.").wait_for(timeout=WAIT_MS)
    (_, first), (_, second) = stand_in.sends()
    assert second["text"] == first["text"] == "What are your hours?"
    assert second["client_id"] != first["client_id"], "a resend of the first would only repeat the cut-off answer"
    assert cut.get_by_role("button", name="Try again").count() == 0
    assert unanswered(page) == []


def test_widget_marks_failed_and_cut_off_answers_in_the_history(daphne_server: str, browser: Browser) -> None:
    # given a resumed conversation with a whole, a failed and a cut-off answer; the cut-off one's question
    # is still kept unanswered (its answer's end never arrived), and its resend repeats that end
    sources = [{"index": 1, "title": "Opening hours", "url": "https://alpha.example.com/hours"}]

    def turn(message_id: int, role: str, text: str, status: str = "complete") -> Frame:
        return {"message_id": message_id, "role": role, "text": text, "status": status, "sources": []}

    history = [
        turn(60, "customer", "Where are you?"),
        turn(61, "assistant", "On Pearl Street."),
        turn(62, "customer", "Can I pay by card?"),
        turn(63, "assistant", "Sorry, I could not answer that.", "failed"),
        turn(64, "customer", "When do you open?"),
        {**turn(65, "assistant", "We open [1]", "interrupted"), "sources": sources},
    ]

    def on_send(server: StandIn, number: int, frame: Frame) -> None:
        if frame["type"] == "message.send":
            end = {"type": "message.end", "message_id": 65, "text": "We open [1]", "sources": sources}
            server.emit(
                server.sockets[number], {"type": "message.ack", "client_id": frame["client_id"], "message_id": 64}
            )
            server.emit(server.sockets[number], {**end, "status": "interrupted"})

    stand_in = StandIn(on_send=on_send, history=[history])

    # when the widget resumes it
    page = open_widget(
        browser,
        daphne_server,
        stand_in,
        unanswered=[{"client_id": "c-64", "text": "When do you open?", "message_id": 64}],
    )
    wait_until(page, lambda: len(stand_in.sends()) == 1, "the resend")
    cut = page.locator('.msg.assistant[data-status="interrupted"]')
    cut.get_by_role("button", name="Try again").wait_for(timeout=WAIT_MS)

    # then the whole answer takes feedback, the failed one is marked and does not, the cut-off one says so once
    whole = page.locator('.msg.assistant[data-status="complete"]')
    failed = page.locator('.msg.assistant[data-status="failed"]')
    assert whole.get_by_role("button", name="Helpful", exact=True).count() == 1
    assert failed.count() == 1 and failed.locator(".feedback").count() == 0
    assert cut.get_by_text("This answer was cut off.").count() == 1
    assert cut.locator(".sources li").all_inner_texts() == ["Opening hours"]
    assert customer_bubbles(page) == ["Where are you?", "Can I pay by card?", "When do you open?"]
    assert unanswered(page) == []


def status_line(page: Page) -> str:
    return str(
        page.evaluate("document.querySelector('#supportai-widget').shadowRoot.querySelector('.status').textContent")
    )


def test_widget_typing_indicator_clears_only_itself(daphne_server: str, browser: Browser) -> None:
    # given a customer in a live handoff whose agent is typing
    stand_in = StandIn(on_send=lambda server, number, frame: None)
    page = open_widget(browser, daphne_server, stand_in)
    page.get_by_label("Your message").wait_for(timeout=WAIT_MS)
    stand_in.emit(stand_in.sockets[0], {"type": "agent.typing"})
    page.get_by_text("A team member is typing…").wait_for(timeout=WAIT_MS)

    # when an error arrives while the indicator shows
    stand_in.emit(stand_in.sockets[0], {"type": "error", "code": "rate_limited", "message": "Please slow down."})
    page.get_by_text("Please slow down.").wait_for(timeout=WAIT_MS)
    page.wait_for_timeout(3500)

    # then the indicator's timer leaves the error showing
    assert status_line(page) == "Please slow down."

    # and a typing indicator alone goes away after 3 s
    stand_in.emit(stand_in.sockets[0], {"type": "agent.typing"})
    page.get_by_text("A team member is typing…").wait_for(timeout=WAIT_MS)
    page.get_by_text("A team member is typing…").wait_for(state="hidden", timeout=WAIT_MS)


def test_widget_proposal_buttons_work_again_after_an_error(daphne_server: str, browser: Browser) -> None:
    # given a proposal card, and a server that refuses the first decision with an error
    proposal = {"type": "proposal", "proposal_id": "p-1", "action": "book", "summary": "Book a facial on Tuesday."}

    def on_send(server: StandIn, number: int, frame: Frame) -> None:
        ws = server.sockets[number]
        if frame["type"] == "proposal.confirm" and len(server.received) == 1:
            server.emit(ws, {"type": "error", "code": "unavailable", "message": "Please try again in a moment."})
        elif frame["type"] == "proposal.confirm":
            server.emit(ws, {"type": "proposal.result", "proposal_id": "p-1", "status": "rejected", "action": "book"})

    stand_in = StandIn(on_send=on_send)
    page = open_widget(browser, daphne_server, stand_in)
    page.get_by_label("Your message").wait_for(timeout=WAIT_MS)
    stand_in.emit(stand_in.sockets[0], proposal)
    confirm = page.locator('[data-proposal-id="p-1"]').get_by_role("button", name="Confirm")

    # when the customer confirms and the server answers an error
    confirm.click()
    page.get_by_text("Please try again in a moment.").wait_for(timeout=WAIT_MS)

    # then they can confirm again, and the result arrives
    assert confirm.is_enabled(timeout=WAIT_MS)
    confirm.click()
    page.get_by_text("This request is rejected.").wait_for(timeout=WAIT_MS)
    assert [frame["type"] for _, frame in stand_in.received] == ["proposal.confirm", "proposal.confirm"]
