"""The widget counts a message's, a rating comment's and a booking name's characters as the server does
(code points, not UTF-16 code units), in a real browser (the chat socket is a scripted stand-in)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from bookings.protocol import MAX_NAME_CHARS
from bookings.tests import test_widget_booking_flow_browser as booking
from chat.protocol import MAX_COMMENT_CHARS, MAX_MESSAGE_CHARS
from chat.tests import test_widget_resend_browser as resend
from chat.tests.test_widget_resend_browser import WAIT_MS, Frame, StandIn, answer, ask, open_widget, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]
browser = resend.browser  # the fixture: chromium, once the demo tenant is seeded

EMOJI = "\U0001f600"  # one character to the server, two UTF-16 code units to JavaScript's String.length
NAME_CHAR = "\U00020bb7"  # 𠮷, of Japanese names: outside the BMP too


def _answering(server: StandIn, number: int, frame: Frame) -> None:
    if frame["type"] == "message.send":
        ws = server.sockets[number]
        server.emit(ws, {"type": "message.ack", "client_id": frame["client_id"], "message_id": 10})
        server.emit(ws, *[{**end, "reply_to": frame["client_id"]} for end in answer(11, "Noted.")])


def test_widget_sends_the_longest_message_in_any_script_and_refuses_one_character_more(
    daphne_server: str, browser: Browser
) -> None:
    # given the widget
    stand_in = StandIn(on_send=_answering)
    page = open_widget(browser, daphne_server, stand_in)
    # when the customer sends the longest message the server takes, in characters outside the BMP
    ask(page, EMOJI * MAX_MESSAGE_CHARS)
    # then it is sent whole
    wait_until(page, lambda: len(stand_in.sends()) == 1, "the longest message")
    sent = stand_in.sends()[0][1]["text"]
    assert (len(sent), set(sent)) == (MAX_MESSAGE_CHARS, {EMOJI})
    page.locator(".msg.assistant").filter(has_text="Noted.").wait_for(timeout=WAIT_MS)
    # when they send one character more (which the textarea takes: its maxlength counts UTF-16 units)
    ask(page, EMOJI * (MAX_MESSAGE_CHARS // 2) + "a" * (MAX_MESSAGE_CHARS // 2 + 1))
    # then the widget refuses it itself, as the server would, and sends nothing
    page.get_by_text(f"Messages are limited to {MAX_MESSAGE_CHARS} characters.").wait_for(timeout=WAIT_MS)
    assert len(stand_in.sends()) == 1


def test_widget_sends_the_longest_rating_comment_in_any_script(daphne_server: str, browser: Browser) -> None:
    # given the widget's rating form
    stand_in = StandIn(on_send=lambda server, number, frame: None)
    page = open_widget(browser, daphne_server, stand_in)
    page.get_by_role("button", name="Rate this chat").click()
    page.get_by_role("button", name="4 stars").click()
    # when the customer writes the longest comment the server takes (and more) in emoji, and sends it
    page.get_by_label("Tell us more (optional)").fill(EMOJI * (MAX_COMMENT_CHARS + 1))
    page.get_by_role("button", name="Send rating").click()
    # then the comment is sent cut to the server's limit in characters, never inside a character
    wait_until(page, lambda: any(frame["type"] == "rating" for _, frame in stand_in.received), "the rating")
    rating = next(frame for _, frame in stand_in.received if frame["type"] == "rating")
    assert (rating["rating"], len(rating["comment"]), set(rating["comment"])) == (4, MAX_COMMENT_CHARS, {EMOJI})


def test_widget_books_under_the_longest_name_in_any_script_and_refuses_one_character_more(
    daphne_server: str, browser: Browser
) -> None:
    # given the widget's booking pane at its last step
    stand_in = booking.serving(booking.booking_steps())
    page = booking.open_connected(browser, daphne_server, stand_in)
    booking.fill_in_a_booking(page, "ann@example.org")
    # when the customer gives the longest name the server takes, in characters outside the BMP
    page.get_by_label("Your name").fill(NAME_CHAR * MAX_NAME_CHARS)
    page.get_by_role("button", name="Continue").click()
    # then it is sent whole
    wait_until(page, lambda: len(booking.sent(stand_in, "booking.propose")) == 1, "the proposal request")
    name = booking.sent(stand_in, "booking.propose")[0]["name"]
    assert (len(name), set(name)) == (MAX_NAME_CHARS, {NAME_CHAR})
    # when they give one character more (which the field takes: its maxlength counts UTF-16 units)
    stand_in.emit(stand_in.sockets[0], {"type": "error", "code": "unavailable", "message": "Try again."})
    page.get_by_text("Try again.").wait_for(timeout=WAIT_MS)
    page.get_by_label("Your name").fill(NAME_CHAR * (MAX_NAME_CHARS // 2) + "a" * (MAX_NAME_CHARS // 2 + 1))
    page.get_by_role("button", name="Continue").click()
    # then the widget refuses it itself, as the server would, marks the field and sends nothing
    page.get_by_text(f"Names are limited to {MAX_NAME_CHARS} characters.").wait_for(timeout=WAIT_MS)
    invalid = [
        page.get_by_label(label).get_attribute("aria-invalid") for label in ("Your name", "Email for the confirmation")
    ]
    assert invalid == ["true", None]
    assert len(booking.sent(stand_in, "booking.propose")) == 1
