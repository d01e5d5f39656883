"""The widget stops an answer whose turn fails after its ``message.start`` (an ``error`` instead of its
``message.end``) and marks it cut off, in a real browser (the chat socket is a scripted stand-in, the
page's clock Playwright's)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from chat.tests import test_widget_resend_browser as resend
from chat.tests.test_widget_resend_browser import WAIT_MS, Frame, StandIn, ask, unanswered, wait_until
from chat.tests.test_widget_silent_socket_browser import open_widget_on_a_fake_clock

pytestmark = [pytest.mark.browser, pytest.mark.slow]
browser = resend.browser  # the fixture: chromium, once the demo tenant is seeded

QUESTION, PARTIAL = "When do you open?", "We open at"
FAILED = {"type": "error", "code": "internal", "message": "Something went wrong on our side."}


@pytest.mark.parametrize(
    "names_the_question",
    [
        pytest.param(True, id="start and error name the question's client_id"),
        pytest.param(False, id="neither names it"),
    ],
)
def test_widget_marks_cut_off_an_answer_whose_turn_fails_after_it_started(
    daphne_server: str, browser: Browser, names_the_question: bool
) -> None:
    # given a server that acks the question, starts its answer, streams a delta and then fails the turn
    def on_send(server: StandIn, number: int, frame: Frame) -> None:
        if frame["type"] != "message.send" or len(server.sends()) > 1:
            return
        named = {"client_id": frame["client_id"]} if names_the_question else {}
        start = {"type": "message.start", "message_id": 91}
        server.emit(
            server.sockets[number],
            {"type": "message.ack", "client_id": frame["client_id"], "message_id": 90},
            {**start, "reply_to": frame["client_id"]} if names_the_question else start,
            {"type": "message.delta", "message_id": 91, "text": PARTIAL},
            {**FAILED, **named},
        )

    stand_in = StandIn(on_send=on_send)
    page = open_widget_on_a_fake_clock(browser, daphne_server, stand_in)

    # when the customer asks
    ask(page, QUESTION)
    page.get_by_text(FAILED["message"]).wait_for(timeout=WAIT_MS)

    # then the answer streams no more: it keeps its text, is marked cut off with "Try again", and the
    # question waits for nothing
    answer = page.locator(".msg.assistant").filter(has_text=PARTIAL)
    assert answer.get_attribute("class") == "msg assistant"
    assert page.locator(".streaming").count() == 0
    assert answer.locator(".body").inner_text() == PARTIAL
    assert answer.locator(".cut").inner_text() == "This answer was cut off.\nTry again"
    assert page.get_by_role("button", name="Try again").count() == 1
    assert unanswered(page) == []

    # when the customer tries again
    answer.get_by_role("button", name="Try again").click()

    # then the question is asked anew
    wait_until(page, lambda: len(stand_in.sends()) == 2, "the question again")
    (_, first), (_, again) = stand_in.sends()
    assert again["text"] == QUESTION and again["client_id"] != first["client_id"]


def test_widget_keeps_streaming_an_answer_when_an_error_names_another_question(
    daphne_server: str, browser: Browser
) -> None:
    # given a server streaming the first question's answer when the second question cannot be stored
    def on_send(server: StandIn, number: int, frame: Frame) -> None:
        if frame["type"] != "message.send":
            return
        ws = server.sockets[number]
        if frame["text"] == QUESTION:
            server.emit(
                ws,
                {"type": "message.ack", "client_id": frame["client_id"], "message_id": 90},
                {"type": "message.start", "message_id": 91, "reply_to": frame["client_id"]},
                {"type": "message.delta", "message_id": 91, "text": PARTIAL},
            )
            return
        server.emit(ws, {**FAILED, "client_id": frame["client_id"]})

    stand_in = StandIn(on_send=on_send)
    page = open_widget_on_a_fake_clock(browser, daphne_server, stand_in)

    # when the customer asks twice and the error names the second question
    ask(page, QUESTION)
    page.locator(".msg.assistant.streaming").filter(has_text=PARTIAL).wait_for(timeout=WAIT_MS)
    ask(page, "Can I park?")
    page.get_by_text(FAILED["message"]).wait_for(timeout=WAIT_MS)

    # then the first answer still streams, its question still waits, and the second question is the failed one
    assert page.locator(".msg.assistant").filter(has_text=PARTIAL).get_attribute("class") == "msg assistant streaming"
    assert [q["text"] for q in unanswered(page)] == [QUESTION]
    assert page.locator(".msg.customer.failed").filter(has_text="Can I park?").count() == 1
