"""The widget settles a kept question by the answer that names it (``reply_to``), in a real browser:
an answer that arrived while it was away is not asked for again, and another tab's answer settles
nothing of this tab's, whatever the order of acks."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser

from chat.tests import test_widget_resend_browser as resend
from chat.tests.test_widget_resend_browser import Frame, StandIn, customer_bubbles, open_widget, unanswered, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]
browser = resend.browser  # the fixture: chromium, once the demo tenant is seeded


def test_widget_settles_kept_questions_by_the_answers_that_name_them(daphne_server: str, browser: Browser) -> None:
    # given two kept questions, the second answered while the widget was away (in the history, out of order)
    def turn(message_id: int, role: str, text: str, reply_to: str | None = None) -> Frame:
        frame: Frame = {"message_id": message_id, "role": role, "text": text, "status": "complete", "sources": []}
        return {**frame, "reply_to": reply_to} if role == "assistant" else frame

    history = [
        turn(70, "customer", "Where can I park?"),
        turn(72, "customer", "When do you open?"),
        turn(73, "assistant", "At nine.", reply_to="c-72"),
    ]

    def on_send(server: StandIn, number: int, frame: Frame) -> None:
        if frame["type"] == "message.send":  # acked, then another tab's question is answered first
            ws = server.sockets[number]
            server.emit(ws, {"type": "message.ack", "client_id": frame["client_id"], "message_id": 70})
            server.emit(ws, {"type": "message.end", "message_id": 74, "text": "Yes.", "sources": [], "reply_to": "t-2"})

    stand_in = StandIn(on_send=on_send, history=[history])
    # and another tenant's widget on this site kept a question with the same client_id
    foreign = json.dumps([{"client_id": "c-72", "text": "Another tenant's question"}])
    kept = [
        {"client_id": "c-70", "text": "Where can I park?", "message_id": 70},
        {"client_id": "c-72", "text": "When do you open?", "message_id": 72},
    ]
    # when the widget resumes
    page = open_widget(
        browser,
        daphne_server,
        stand_in,
        f"sessionStorage.setItem('supportai:pk_other:unanswered', {foreign!r});",
        unanswered=kept,
    )
    wait_until(page, lambda: len(stand_in.sends()) >= 1, "the resend")
    page.locator(".msg.assistant").filter(has_text="Yes.").wait_for()
    # then only the question without an answer is resent; another tab's answer settles nothing of it
    assert [frame["client_id"] for _, frame in stand_in.sends()] == ["c-70"]
    assert [q["client_id"] for q in unanswered(page)] == ["c-70"]
    # when its own answer comes
    end = {"type": "message.end", "message_id": 75, "text": "Behind us.", "sources": [], "reply_to": "c-70"}
    stand_in.emit(stand_in.sockets[0], end)
    wait_until(page, lambda: unanswered(page) == [], "the question settled")
    # then each question is shown once, and the other tenant's kept question is untouched
    assert customer_bubbles(page) == ["Where can I park?", "When do you open?"]
    assert json.loads(page.evaluate("sessionStorage.getItem('supportai:pk_other:unanswered')")) == json.loads(foreign)
