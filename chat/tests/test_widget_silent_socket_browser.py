"""The widget notices a half-dead socket, in a real browser: one on which nothing arrives (not even a
``pong``) in the two ping intervals after a ping is dropped and replaced, the conversation resumed and
its kept question resent. The page's clock is Playwright's, so a minute of silence takes no minute."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page

from chat.tests import test_widget_resend_browser as resend
from chat.tests.test_widget_resend_browser import (
    WAIT_MS,
    Frame,
    StandIn,
    answer,
    ask,
    customer_bubbles,
    unanswered,
    wait_until,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
browser = resend.browser  # the fixture: chromium, once the demo tenant is seeded

PING_INTERVAL_MS = 25_000  # static/widget/supportai.js


def open_widget_on_a_fake_clock(browser: Browser, server: str, stand_in: StandIn) -> Page:
    page = browser.new_page()
    page.clock.install()
    page.route_web_socket(re.compile(r"/ws/chat/"), stand_in)
    page.goto(f"{server}/demo/")
    page.get_by_role("button", name="Open chat").click()
    wait_until(page, lambda: len(stand_in.sockets) == 1, "the socket")
    page.get_by_text("Hi!").wait_for(timeout=WAIT_MS)
    return page


def test_widget_drops_a_socket_that_answers_no_ping_and_resends_on_a_new_one(
    daphne_server: str, browser: Browser
) -> None:
    # given a first socket that acks the question and then goes silent (no answer, no pong), and a
    # second socket that answers
    def on_send(server: StandIn, number: int, frame: Frame) -> None:
        if frame["type"] != "message.send":
            return
        ws = server.sockets[number]
        server.emit(ws, {"type": "message.ack", "client_id": frame["client_id"], "message_id": 90})
        if number == 1:
            server.emit(ws, *answer(91, "We open at 9."))

    stand_in = StandIn(on_send=on_send, ponging={1})
    page = open_widget_on_a_fake_clock(browser, daphne_server, stand_in)
    ask(page, "When do you open?")
    wait_until(page, lambda: len(stand_in.sends()) == 1, "the question")

    # when two ping intervals pass in silence
    page.clock.run_for(2 * PING_INTERVAL_MS)
    # then the widget has pinged twice and still waits on its socket
    wait_until(page, lambda: stand_in.pings.count(0) == 2, "two pings")
    assert len(stand_in.sockets) == 1

    # when the next ping is due (and the reconnect's back-off passes)
    page.clock.run_for(PING_INTERVAL_MS + 1_000)
    wait_until(page, lambda: len(stand_in.sockets) == 2, "a second socket")

    # then the widget resumed the conversation on a new socket and resent the kept question there
    assert "resume=r" in stand_in.sockets[1].url
    page.locator(".msg.assistant").filter(has_text="We open at 9.").wait_for(timeout=WAIT_MS)
    (_, first), (number, second) = stand_in.sends()
    assert number == 1 and second["client_id"] == first["client_id"]
    assert customer_bubbles(page) == ["When do you open?"]
    assert unanswered(page) == []


def test_widget_keeps_a_quiet_socket_whose_pings_are_answered(daphne_server: str, browser: Browser) -> None:
    # given a socket on which nothing happens but the pongs to the widget's pings
    stand_in = StandIn(on_send=lambda server, number, frame: None, ponging={0})
    page = open_widget_on_a_fake_clock(browser, daphne_server, stand_in)

    # when several ping intervals pass
    for _ in range(6):
        page.clock.run_for(PING_INTERVAL_MS)
        page.wait_for_timeout(100)  # the pong arrives in real time

    # then the widget kept its socket
    wait_until(page, lambda: stand_in.pings.count(0) == 6, "six pings")
    assert len(stand_in.sockets) == 1


def test_widget_settles_questions_resent_on_the_new_socket_by_the_answers_that_name_them(
    daphne_server: str, browser: Browser
) -> None:
    # given two questions acked on a socket that then goes silent; on the next socket the second one's
    # answer comes first, cut off (its turn ran on the old socket's server), and names its question
    acked = {"When do you open?": 90, "Can I park?": 92}

    def on_send(server: StandIn, number: int, frame: Frame) -> None:
        if frame["type"] != "message.send":
            return
        ws = server.sockets[number]
        server.emit(ws, {"type": "message.ack", "client_id": frame["client_id"], "message_id": acked[frame["text"]]})
        if number == 1 and frame["text"] == "Can I park?":
            end = {"type": "message.end", "message_id": 93, "text": "Behind the", "sources": []}
            server.emit(ws, {**end, "status": "interrupted", "reply_to": frame["client_id"]})

    stand_in = StandIn(on_send=on_send, ponging={1})
    page = open_widget_on_a_fake_clock(browser, daphne_server, stand_in)
    ask(page, "When do you open?")
    wait_until(page, lambda: len(stand_in.sends()) == 1, "the first question")
    ask(page, "Can I park?")
    wait_until(page, lambda: len(stand_in.sends()) == 2, "the second question")

    # when the silent socket is dropped and both questions are resent on the next one
    page.clock.run_for(3 * PING_INTERVAL_MS + 1_000)
    wait_until(page, lambda: len(stand_in.sends()) == 4, "the resends")
    cut = page.locator('.msg.assistant[data-status="interrupted"]')
    cut.get_by_role("button", name="Try again").wait_for(timeout=WAIT_MS)

    # then the answer settled the question it names, not the older one acked before it
    first, second = (frame["client_id"] for _, frame in stand_in.sends()[:2])
    assert [q["client_id"] for q in unanswered(page)] == [first]
    # and trying it again asks that question
    cut.get_by_role("button", name="Try again").click()
    wait_until(page, lambda: len(stand_in.sends()) == 5, "the new question")
    assert stand_in.sends()[-1][1]["text"] == "Can I park?"
    assert second not in [q["client_id"] for q in unanswered(page)]
