"""The widget marks failed the question an ``error`` frame names by its ``client_id``, not the one it sent
last, in a real browser (the chat socket is a scripted stand-in, the page's clock Playwright's)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from chat.tests import test_widget_resend_browser as resend
from chat.tests.test_widget_resend_browser import WAIT_MS, Frame, StandIn, answer, ask, unanswered, wait_until
from chat.tests.test_widget_silent_socket_browser import open_widget_on_a_fake_clock

pytestmark = [pytest.mark.browser, pytest.mark.slow]
browser = resend.browser  # the fixture: chromium, once the demo tenant is seeded

FIRST, SECOND = "When do you open?", "Can I park?"


def test_widget_marks_failed_the_question_an_error_names_and_tries_it_again(
    daphne_server: str, browser: Browser
) -> None:
    # given a server that acks the first question, and whose turn for it fails as the second one
    # arrives: the error naming the first comes before the second's ack, then the second is answered
    def on_send(server: StandIn, number: int, frame: Frame) -> None:
        if frame["type"] != "message.send":
            return
        ws = server.sockets[number]
        if frame["text"] == FIRST:
            server.emit(ws, {"type": "message.ack", "client_id": frame["client_id"], "message_id": 90})
            return
        failed = {"type": "error", "code": "internal", "message": "Something went wrong on our side."}
        server.emit(ws, {**failed, "client_id": server.sends()[0][1]["client_id"]})
        server.emit(ws, {"type": "message.ack", "client_id": frame["client_id"], "message_id": 92})
        server.emit(ws, *[{**end, "reply_to": frame["client_id"]} for end in answer(93, "Yes, behind the shop.")])

    stand_in = StandIn(on_send=on_send)
    page = open_widget_on_a_fake_clock(browser, daphne_server, stand_in)

    # when the customer asks two questions
    ask(page, FIRST)
    wait_until(page, lambda: len(stand_in.sends()) == 1, "the first question")
    ask(page, SECOND)
    page.locator(".msg.assistant").filter(has_text="Yes, behind the shop.").wait_for(timeout=WAIT_MS)

    # then the first question is marked failed, the second is answered and neither waits any more
    (_, first), (_, second) = stand_in.sends()
    failed = page.locator(".msg.customer.failed")
    assert failed.all_inner_texts() == [f"{FIRST}\nThis question was not answered.\nTry again"]
    assert page.locator(".msg.customer").filter(has_text=SECOND).get_attribute("class") == "msg customer"
    assert page.get_by_text("Something went wrong on our side.").is_visible()
    assert unanswered(page) == []

    # when the customer tries the first question again
    failed.get_by_role("button", name="Try again").click()

    # then it is resent with its client_id, waits for its answer again and is no longer marked failed
    wait_until(page, lambda: len(stand_in.sends()) == 3, "the question again")
    again = stand_in.sends()[-1][1]
    assert (again["client_id"], again["text"]) == (first["client_id"], FIRST)
    assert [q["client_id"] for q in unanswered(page)] == [first["client_id"]]
    assert page.locator(".msg.customer.failed").count() == 0
    assert second["client_id"] != first["client_id"]
