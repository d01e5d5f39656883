"""The widget says an executed proposal's result as the server does, in the customer's language, in a real
browser (Debian chromium via Playwright): the result's ``message`` and ``pay_terms`` when the server sends
them, its own English when an older server does not (docs/websocket-protocol.md, ``proposal.result``).

The page is /demo/ from a real daphne; the chat socket is the scripted stand-in of the widget's booking
flow tests.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Locator

from bookings.tests.test_widget_booking_flow_browser import BOOKED_AT_THE_DESK, open_connected, proposal, sent, serving
from chat.tests import test_widget_resend_browser as resend
from chat.tests.test_widget_resend_browser import Frame, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]
browser = resend.browser  # the fixture: chromium, once the demo tenant is seeded


def confirmed(browser: Browser, daphne_server: str, result: Frame) -> Locator:
    """The widget's result bubble once the customer confirmed a booking paid at the venue and ``result`` came."""
    stand_in = serving({})
    page = open_connected(browser, daphne_server, stand_in)
    stand_in.emit(stand_in.sockets[0], proposal("desk", payment="on_arrival", price_cents=4500, price="45.00 EUR"))
    page.locator('.msg.proposal[data-proposal-id="desk"]').get_by_role("button", name="Confirm").click()
    wait_until(page, lambda: bool(sent(stand_in, "proposal.confirm")), "the confirmation")
    stand_in.emit(stand_in.sockets[0], result)
    booked = page.locator("[data-proposal-result=executed]")
    booked.wait_for()
    return booked


def test_the_result_is_the_servers_sentence_in_the_customers_language(daphne_server: str, browser: Browser) -> None:
    # given a server that says the result in German
    german = {
        **BOOKED_AT_THE_DESK,
        "message": "Gebucht! Ihr Bestätigungscode lautet BK-DESK01. Wir haben Ihnen die Details per E-Mail geschickt.",
        "pay_terms": "Zahlung vor Ort: 45.00 EUR.",
    }
    # when the customer confirms and the result comes
    booked = confirmed(browser, daphne_server, german)
    # then the widget shows the German sentences, and none of its own English
    text = booked.inner_text()
    assert german["message"] in text
    assert booked.locator(".pay-terms").inner_text() == "Zahlung vor Ort: 45.00 EUR."
    assert "Your booking" not in text and "Booked!" not in text and "Pay at the venue" not in text


def test_an_older_servers_result_is_said_in_the_widgets_english(daphne_server: str, browser: Browser) -> None:
    # given a server that sends no message or pay_terms for an executed result
    # when the customer confirms and the result comes
    booked = confirmed(browser, daphne_server, BOOKED_AT_THE_DESK)
    # then the widget says it in its own English, as before
    assert "Booked! Your confirmation code is BK-DESK01. We've emailed you the details." in booked.inner_text()
    assert booked.locator(".pay-terms").inner_text() == "Pay at the venue: 45.00 EUR"
