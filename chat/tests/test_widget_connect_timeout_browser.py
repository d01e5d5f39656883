"""The widget does not hang on a socket that never finishes connecting, in a real browser: one that is
not ready (``session.ready``) 15 s after it was created is dropped for a new one. The page's clock is
Playwright's, so the wait takes no 15 s; the first socket hangs either connecting (to a server that
accepted the TCP connection and answers nothing) or opened with no ``session.ready``."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, Page, WebSocketRoute

from chat.tests import test_widget_resend_browser as resend
from chat.tests.test_widget_resend_browser import WAIT_MS, Frame, StandIn, answer, ask, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]
browser = resend.browser  # the fixture: chromium, once the demo tenant is seeded

CONNECT_TIMEOUT_MS = 15_000  # static/widget/supportai.js
BACK_OFF_MS = 1_000  # more than the reconnect's first back-off
CONNECTING, OPENED = "connecting", "opened"


@dataclass
class HangingStandIn(StandIn):
    """The stand-in, but its first socket hangs ``connecting`` (to ``black_hole``) or ``opened``:
    open, it records what the widget sends but says nothing until the test calls ``ready``."""

    hang: str = CONNECTING
    black_hole: str = ""
    closed: list[int] = field(default_factory=list)  # the sockets the widget closed

    def __call__(self, ws: WebSocketRoute) -> None:
        number = len(self.sockets)
        ws.on_close(lambda code, reason: self.closed.append(number))
        if number:
            super().__call__(ws)
            return
        self.sockets.append(ws)
        if self.hang == CONNECTING:
            ws.connect_to_server()  # the page's socket stays connecting until the server answers
        else:
            ws.on_message(lambda payload: self.received.append((number, json.loads(payload))))

    def ready(self) -> None:
        """The hanging (opened) socket's ``session.ready``, at last."""
        ready = {"type": "session.ready", "resume_token": "r", "greeting": "Hi!", "history": []}
        self.emit(self.sockets[0], ready)


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A server that accepts TCP connections (the kernel does, listening) and never answers on them."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"


def answering(server: StandIn, number: int, frame: Frame) -> None:
    if frame["type"] == "message.send":
        ws = server.sockets[number]
        server.emit(ws, {"type": "message.ack", "client_id": frame["client_id"], "message_id": 10})
        server.emit(ws, *answer(11, "We open at 9."))


def open_widget_on_a_fake_clock(browser: Browser, server: str, stand_in: HangingStandIn) -> Page:
    """/demo/ with the chat open, its widget's sockets going to ``stand_in.black_hole``: its ``data-server``
    is set as the parser inserts its script (the page itself stays the server's, so Chromium lets it
    connect to a local address)."""
    page = browser.new_page()
    page.clock.install()
    page.add_init_script(f"""
      new MutationObserver(function (_, observer) {{
        var widget = document.querySelector("script[data-key]");
        if (widget) {{ widget.setAttribute("data-server", {json.dumps(stand_in.black_hole)}); observer.disconnect(); }}
      }}).observe(document, {{ childList: true, subtree: true }});
    """)
    page.route_web_socket(re.compile(r"/ws/chat/"), stand_in)
    page.goto(f"{server}/demo/")
    page.get_by_role("button", name="Open chat").click()
    wait_until(page, lambda: len(stand_in.sockets) == 1, "the socket")
    return page


@pytest.mark.parametrize("hang", [CONNECTING, OPENED])
def test_widget_drops_a_socket_not_ready_in_time_and_chats_on_a_new_one(
    daphne_server: str, browser: Browser, black_hole: str, hang: str
) -> None:
    # given a first socket that hangs and a second one that answers
    stand_in = HangingStandIn(on_send=answering, hang=hang, black_hole=black_hole)
    page = open_widget_on_a_fake_clock(browser, daphne_server, stand_in)

    # when almost the connect timeout passes
    page.clock.run_for(CONNECT_TIMEOUT_MS - 1_000)
    # then the widget still waits on its socket
    page.wait_for_timeout(200)
    assert len(stand_in.sockets) == 1 and stand_in.closed == []
    assert page.locator("#supportai-widget .status").inner_text() == "Connecting…"

    # when the timeout and the reconnect's back-off pass
    page.clock.run_for(1_000 + BACK_OFF_MS)
    wait_until(page, lambda: len(stand_in.sockets) == 2, "a second socket")

    # then the widget closed the hanging socket and chats on the new one
    page.get_by_text("Hi!").wait_for(timeout=WAIT_MS)
    assert page.locator("#supportai-widget .status").is_hidden()
    ask(page, "When do you open?")
    page.locator(".msg.assistant").filter(has_text="We open at 9.").wait_for(timeout=WAIT_MS)
    assert [number for number, _ in stand_in.sends()] == [1]
    assert stand_in.closed == [0]


def test_widget_keeps_a_socket_ready_just_in_time(daphne_server: str, browser: Browser, black_hole: str) -> None:
    # given a socket that opens and says nothing for most of the connect timeout
    stand_in = HangingStandIn(on_send=answering, hang=OPENED, black_hole=black_hole)
    page = open_widget_on_a_fake_clock(browser, daphne_server, stand_in)
    page.clock.run_for(CONNECT_TIMEOUT_MS - 1_000)

    # when it is ready just in time and long after the timeout passes
    stand_in.ready()
    page.get_by_text("Hi!").wait_for(timeout=WAIT_MS)
    page.clock.run_for(2 * CONNECT_TIMEOUT_MS)
    page.wait_for_timeout(200)

    # then the widget kept it and chats on it
    assert len(stand_in.sockets) == 1 and stand_in.closed == []
    ask(page, "When do you open?")
    wait_until(page, lambda: [number for number, _ in stand_in.sends()] == [0], "the question on the first socket")
