"""What the widget says when its socket is closed with 4429, in a real browser (the chat socket is a
scripted stand-in, the page's clock Playwright's): the server's own reason when an error frame came
just before the close (the per-IP conversation limit, a frame flood), else the generic line; either
stays shown until the widget reconnects."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Browser, Page, WebSocketRoute

from chat.limits import TOO_MANY_CONVERSATIONS
from chat.tests import test_widget_resend_browser as resend
from chat.tests.test_widget_resend_browser import WAIT_MS, Frame, StandIn, status_line, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]
browser = resend.browser  # the fixture: chromium, once the demo tenant is seeded

GENERIC = "Too many messages. Reconnecting shortly…"  # static/widget/supportai.js
FLOOD = "Too many frames; this connection is closed."  # chat/phrases/, en


def refused(reason: str | None) -> StandIn:
    """A stand-in whose first socket is refused before session.ready: ``error rate_limited`` with
    ``reason`` (none: no error frame), then closed with 4429, as the per-IP conversation limit does."""

    class Refusing(StandIn):
        def __call__(self, ws: WebSocketRoute) -> None:
            if self.sockets:
                super().__call__(ws)
                return
            self.sockets.append(ws)
            if reason is not None:
                self.emit(ws, {"type": "error", "code": "rate_limited", "message": reason})
            ws.close(code=4429, reason="rate limited")

    return Refusing(on_send=lambda server, number, frame: None)


def open_chat_on_a_fake_clock(browser: Browser, server: str, stand_in: StandIn) -> Page:
    page = browser.new_page()
    page.clock.install()
    page.clock.pause_at(time.time() + 1)  # the back-off's reconnect waits for the test's run_for
    page.route_web_socket(re.compile(r"/ws/chat/"), stand_in)
    page.goto(f"{server}/demo/")
    page.get_by_role("button", name="Open chat").click()
    wait_until(page, lambda: len(stand_in.sockets) == 1, "the socket")
    return page


@pytest.mark.parametrize(
    ("reason", "shown"),
    [
        pytest.param(TOO_MANY_CONVERSATIONS, TOO_MANY_CONVERSATIONS, id="the server's reason"),
        pytest.param(None, GENERIC, id="no reason: the generic line"),
    ],
)
def test_widget_says_why_its_socket_was_closed_as_rate_limited(
    daphne_server: str, browser: Browser, reason: str | None, shown: str
) -> None:
    # given a server that refuses the widget's first socket as rate limited
    stand_in = refused(reason)
    # when the widget opens the chat
    page = open_chat_on_a_fake_clock(browser, daphne_server, stand_in)
    # then, after the close, the status line says why, until the back-off's reconnect
    wait_until(page, lambda: status_line(page) == shown, "the reason")
    page.wait_for_timeout(500)  # whatever else the socket's close does
    assert status_line(page) == shown
    page.clock.run_for(1000)
    wait_until(page, lambda: len(stand_in.sockets) == 2, "the reconnect")
    page.get_by_text("Hi!").wait_for(timeout=WAIT_MS)
    assert status_line(page) == ""


def test_widget_shows_the_reason_sent_just_before_the_close_of_an_open_socket(
    daphne_server: str, browser: Browser
) -> None:
    # given an open chat whose first question is refused (an error frame that closes nothing), and
    # whose next two questions close the socket as a frame flood: the first without an error frame
    # (the older one is no reason for it), the second after one
    def on_send(server: StandIn, number: int, frame: Frame) -> None:
        ws = server.sockets[number]
        if frame["type"] != "message.send":
            return
        if number == 0 and len(server.sends()) == 1:
            server.emit(ws, {"type": "error", "code": "rate_limited", "message": "Slow down."})
            return
        server.emit(ws, {"type": "message.ack", "client_id": frame["client_id"], "message_id": 90 + number})
        if number == 1:
            server.emit(ws, {"type": "error", "code": "rate_limited", "message": FLOOD})
        ws.close(code=4429)

    stand_in = StandIn(on_send=on_send)
    page = open_chat_on_a_fake_clock(browser, daphne_server, stand_in)
    page.get_by_text("Hi!").wait_for(timeout=WAIT_MS)
    resend.ask(page, "When do you open?")
    wait_until(page, lambda: status_line(page) == "Slow down.", "the refused question's error")

    # when the next question's socket is closed with 4429 and no error frame before it
    resend.ask(page, "Are you open on Sunday?")
    # then the status line says the generic line, until the reconnect
    wait_until(page, lambda: status_line(page) == GENERIC, "the generic line")
    page.clock.run_for(1400)
    wait_until(page, lambda: len(stand_in.sockets) == 2, "the reconnect")

    # when the socket after it is closed with 4429 after an error frame (the resent question floods it)
    # then its reason is shown
    wait_until(page, lambda: status_line(page) == FLOOD, "the flood's reason")
    page.wait_for_timeout(500)  # whatever else the socket's close does
    assert status_line(page) == FLOOD
