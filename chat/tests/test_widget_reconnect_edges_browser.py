"""The widget at the edges of its reconnects, and its Enter key, in a real browser (the chat socket is a
scripted stand-in, the page's clock Playwright's): a socket whose setup fails refuses no question kept
for resending; an ``online`` event while a socket is still closing opens one new socket, which the old
one's close leaves alone; the Enter that ends an input method's composition sends nothing."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, Page, WebSocketRoute

from chat.tests import test_widget_resend_browser as resend
from chat.tests.test_widget_resend_browser import (
    WAIT_MS,
    Frame,
    StandIn,
    answer,
    ask,
    customer_bubbles,
    status_line,
    unanswered,
    wait_until,
)
from chat.tests.test_widget_silent_socket_browser import open_widget_on_a_fake_clock

pytestmark = [pytest.mark.browser, pytest.mark.slow]
browser = resend.browser  # the fixture: chromium, once the demo tenant is seeded

QUESTION = "When do you open?"
UNAVAILABLE = {"type": "error", "code": "unavailable", "message": "We can't open the chat right now."}
CONNECT_TIMEOUT_MS = 15_000  # static/widget/supportai.js


@dataclass
class SetupFailingStandIn(StandIn):
    """The stand-in, but the sockets in ``failing`` cannot open the conversation: ``error unavailable``,
    then closed with 4503, as the server does when its database is down."""

    failing: set[int] = field(default_factory=set)

    def __call__(self, ws: WebSocketRoute) -> None:
        if len(self.sockets) not in self.failing:
            super().__call__(ws)
            return
        self.sockets.append(ws)
        self.emit(ws, UNAVAILABLE)
        ws.close(code=4503, reason="unavailable")


@dataclass
class SlowClosingStandIn(StandIn):
    """The stand-in, but a socket the page closes stays closing until the test calls ``finish_close``."""

    closed_by_page: list[int] = field(default_factory=list)

    def __call__(self, ws: WebSocketRoute) -> None:
        number = len(self.sockets)
        ws.on_close(lambda code, reason: self.closed_by_page.append(number))  # so the close is not forwarded
        super().__call__(ws)

    def finish_close(self, number: int) -> None:
        self.sockets[number].close()


def open_widget_keeping_its_sockets(browser: Browser, server: str, stand_in: StandIn) -> Page:
    """/demo/ with the chat open on a fake clock, the widget's sockets kept in ``window.widgetSockets``."""
    page = browser.new_page()
    page.clock.install()
    page.route_web_socket(re.compile(r"/ws/chat/"), stand_in)
    page.goto(f"{server}/demo/")
    page.evaluate("""() => {
      window.widgetSockets = [];
      window.WebSocket = class extends WebSocket {
        constructor(...args) { super(...args); window.widgetSockets.push(this); }
      };
    }""")
    page.get_by_role("button", name="Open chat").click()
    page.get_by_text("Hi!").wait_for(timeout=WAIT_MS)
    return page


def run_clock_until(page: Page, condition: Callable[[], bool], what: str) -> None:
    """Moves the page's clock on, half a second at a time, until ``condition`` (the reconnects' back-off)."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        page.clock.run_for(500)
        page.wait_for_timeout(50)  # lets Playwright dispatch the stand-in's handlers


def dropped_before_its_ack(server: StandIn, ws: WebSocketRoute, frame: Frame) -> None:
    ws.close()


def dropped_while_its_answer_streamed(server: StandIn, ws: WebSocketRoute, frame: Frame) -> None:
    # an answer from before answers named their question (no reply_to)
    server.emit(
        ws,
        {"type": "message.ack", "client_id": frame["client_id"], "message_id": 90},
        {"type": "message.start", "message_id": 91},
        {"type": "message.delta", "message_id": 91, "text": "We open"},
    )
    ws.close()


@pytest.mark.parametrize(
    "first_socket",
    [
        pytest.param(dropped_before_its_ack, id="dropped before the question's ack"),
        pytest.param(dropped_while_its_answer_streamed, id="dropped while its answer streamed"),
    ],
)
def test_widget_keeps_a_question_for_resending_when_the_next_socket_fails_to_open(
    daphne_server: str, browser: Browser, first_socket: Callable[[StandIn, WebSocketRoute, Frame], None]
) -> None:
    # given a first socket that drops while the question waits, a second that cannot open the
    # conversation (error unavailable, 4503), and a third that answers
    def on_send(server: StandIn, number: int, frame: Frame) -> None:
        if frame["type"] != "message.send":
            return
        ws = server.sockets[number]
        if number == 0:
            first_socket(server, ws, frame)
            return
        server.emit(ws, {"type": "message.ack", "client_id": frame["client_id"], "message_id": 90})
        server.emit(ws, *answer(92, "We open at 9."))

    stand_in = SetupFailingStandIn(on_send=on_send, failing={1})
    page = open_widget_on_a_fake_clock(browser, daphne_server, stand_in)

    # when the customer asks and the widget reconnects through the failed socket
    ask(page, QUESTION)
    wait_until(page, lambda: len(stand_in.sends()) == 1, "the question")
    run_clock_until(page, lambda: len(stand_in.sockets) == 3, "a third socket")

    # then the question was resent on the third socket, with its client_id, and answered there
    page.locator(".msg.assistant").filter(has_text="We open at 9.").wait_for(timeout=WAIT_MS)
    (_, first), (number, again) = stand_in.sends()
    assert number == 2 and again["client_id"] == first["client_id"] and again["text"] == QUESTION
    assert customer_bubbles(page) == [QUESTION]
    assert unanswered(page) == []


def test_widget_back_online_while_its_socket_closes_opens_one_socket_the_old_close_leaves_alone(
    daphne_server: str, browser: Browser
) -> None:
    # given a chat whose socket is closing: closed, its close not complete yet (as a browser's socket is
    # between a close frame and its close event)
    def on_send(server: StandIn, number: int, frame: Frame) -> None:
        if frame["type"] == "message.send":
            ws = server.sockets[number]
            server.emit(ws, {"type": "message.ack", "client_id": frame["client_id"], "message_id": 10})
            server.emit(ws, *answer(11, "We open at 9."))

    stand_in = SlowClosingStandIn(on_send=on_send)
    page = open_widget_keeping_its_sockets(browser, daphne_server, stand_in)
    page.evaluate("window.widgetSockets[0].close()")
    wait_until(page, lambda: stand_in.closed_by_page == [0], "the socket closing")

    # when the browser comes back online, a new socket opens, and then the old one's close completes
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_until(page, lambda: len(stand_in.sockets) == 2, "a second socket")
    page.get_by_text("Hi!").wait_for(timeout=WAIT_MS)
    stand_in.finish_close(0)
    page.wait_for_timeout(200)
    page.clock.run_for(CONNECT_TIMEOUT_MS + 5_000)
    page.wait_for_timeout(200)

    # then the widget reconnected no more: it chats on the one new socket and says nothing is wrong
    assert len(stand_in.sockets) == 2
    assert status_line(page) == ""
    ask(page, QUESTION)
    page.locator(".msg.assistant").filter(has_text="We open at 9.").wait_for(timeout=WAIT_MS)
    assert [number for number, _ in stand_in.sends()] == [1]


@pytest.mark.parametrize(
    "composing",
    [
        pytest.param({"isComposing": True}, id="isComposing"),
        pytest.param({"keyCode": 229}, id="keyCode 229, as Safari flags it"),
    ],
)
def test_widget_enter_that_ends_an_ime_composition_sends_nothing(
    daphne_server: str, browser: Browser, composing: dict[str, object]
) -> None:
    # given a customer writing Japanese with an input method
    stand_in = StandIn(on_send=lambda server, number, frame: None)
    page = open_widget_on_a_fake_clock(browser, daphne_server, stand_in)
    message = page.get_by_label("Your message")
    message.fill("日本")

    # when Enter confirms the composition
    message.dispatch_event("keydown", {"key": "Enter", **composing})
    page.wait_for_timeout(200)

    # then nothing was sent and the text stays to be written on
    assert stand_in.sends() == []
    assert message.input_value() == "日本"

    # when the customer writes on and presses Enter
    message.press("End")
    message.type("語です")
    message.press("Enter")

    # then the whole message is sent, once
    wait_until(page, lambda: len(stand_in.sends()) == 1, "the message")
    assert [frame["text"] for _, frame in stand_in.sends()] == ["日本語です"]
    assert customer_bubbles(page) == ["日本語です"]
