"""What the server relays from tenants, staff and documents (branding, agent names, answers, source
titles and addresses) is shown as text in the widget, never as markup or a script link, in a real
browser (the chat socket is a scripted stand-in)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from chat.tests import test_widget_resend_browser as resend
from chat.tests.test_widget_resend_browser import WAIT_MS, Frame, StandIn, ask, open_widget, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]
browser = resend.browser  # the fixture: chromium, once the demo tenant is seeded

MARKUP = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>'
SCRIPT_URL = "javascript:window.__pwned=1"


def _hostile_answers(server: StandIn, number: int, frame: Frame) -> None:
    if frame["type"] != "message.send":
        return
    ws = server.sockets[number]
    text = f"See [the policy]({SCRIPT_URL}) and [1] and [2]. {MARKUP}"
    sources = [
        {"index": 1, "title": MARKUP, "url": SCRIPT_URL},
        {"index": 2, "title": "Data", "url": "data:text/html,<script>window.__pwned=1</script>"},
    ]
    server.emit(
        ws,
        {"type": "message.ack", "client_id": frame["client_id"], "message_id": 20},
        {"type": "message.start", "message_id": 21, "reply_to": frame["client_id"]},
        {"type": "message.delta", "message_id": 21, "text": MARKUP},
        {"type": "message.end", "message_id": 21, "reply_to": frame["client_id"], "text": text, "sources": sources},
        {"type": "agent.message", "message_id": 22, "text": MARKUP, "agent_name": MARKUP},
    )


def test_widget_shows_server_text_as_text_and_links_only_web_addresses(daphne_server: str, browser: Browser) -> None:
    # given a server whose branding, greeting, answer, sources and agent carry markup and script links
    stand_in = StandIn(on_send=_hostile_answers)
    ready = {
        "type": "session.ready",
        "resume_token": "r",
        "greeting": MARKUP,
        "history": [],
        "branding": {"name": MARKUP, "colour": "#123456", "logo_url": SCRIPT_URL},
    }
    page = open_widget(browser, daphne_server, stand_in, init_script="window.__pwned = 0;")
    stand_in.emit(stand_in.sockets[0], ready)
    # when the customer asks and the answer and a staff reply arrive
    ask(page, "What is the policy?")
    page.locator(".msg.agent").wait_for(timeout=WAIT_MS)
    wait_until(page, lambda: page.locator(".msg.assistant .sources li").count() == 2, "the sources")
    # then no markup became elements, no script ran and every link is a web address
    widget = "document.getElementById('supportai-widget').shadowRoot"
    assert page.evaluate(f"{widget}.querySelectorAll('script, img').length") == 0
    assert page.evaluate("window.__pwned") == 0
    hrefs = page.evaluate(f"Array.from({widget}.querySelectorAll('[href], [src]'), n => n.href || n.src)")
    assert all(href.startswith(("http://", "https://")) for href in hrefs), hrefs
    assert page.locator("#sai-title").inner_text() == MARKUP
    assert page.locator(".msg.agent .who").inner_text() == MARKUP
    assert page.locator(".msg.assistant .sources li").all_inner_texts() == [MARKUP, "Data"]
    assert page.locator(".msg.system").first.inner_text() == MARKUP
