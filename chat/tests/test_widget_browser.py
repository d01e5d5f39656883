"""The widget on /demo/ in a real browser (Debian chromium via Playwright) against a real daphne."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import WebSocketRoute, sync_playwright

from chat.models import ConversationRating, Message, MessageFeedback, MessageRole
from supportai.demo import seed_demo_tenant

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# A fresh server loads the local embedding model on its first question: seconds on a quiet machine,
# a minute on two cores shared with the rest of the suite (seen), so a first answer may take that long.
FIRST_ANSWER_MS = 120_000
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_demo_widget_streams_a_sourced_answer_and_takes_feedback_and_rating(daphne_server: str) -> None:
    # given the demo tenant with its help centre
    seed_demo_tenant()
    frames: list[dict[str, Any]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone-sized screen
            page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(json.loads(payload))))
            page.goto(f"{daphne_server}/demo/")
            # when the customer opens the chat and asks a question from the help centre
            page.get_by_role("button", name="Open chat").click()
            page.get_by_label("Your message").fill("What is your cancellation policy?")
            page.keyboard.press("Enter")
            # then a streamed answer with a numbered source link appears
            answer = page.locator(".msg.assistant[data-message-id]").last
            answer.locator(".source-link").first.wait_for(timeout=FIRST_ANSWER_MS)
            answer_text = answer.locator(".body").inner_text()
            # and feedback and rating go through
            answer.get_by_role("button", name="Helpful", exact=True).click()
            page.get_by_text("Thanks for the feedback!").wait_for(timeout=10_000)
            page.get_by_role("button", name="Rate this chat").click()
            page.get_by_role("button", name="5 stars").click()
            page.get_by_role("button", name="Send rating").click()
            page.get_by_text("Thanks for rating this conversation!").wait_for(timeout=10_000)
        finally:
            ARTIFACTS.mkdir(exist_ok=True)
            for open_page in browser.contexts[0].pages if browser.contexts else []:
                open_page.screenshot(path=str(ARTIFACTS / "widget-demo.png"), full_page=True)
            browser.close()

    kinds = [frame["type"] for frame in frames]
    assert kinds[0] == "session.ready"
    assert kinds.count("message.delta") >= 2, "the answer must arrive in several deltas"
    end = next(frame for frame in frames if frame["type"] == "message.end")
    assert end["sources"] and end["sources"][0]["title"]
    assert answer_text.strip()
    reply = Message.objects.get(pk=end["message_id"])
    assert reply.role == MessageRole.ASSISTANT and reply.sources == end["sources"]
    assert MessageFeedback.objects.get(message=reply).value == "up"
    assert ConversationRating.objects.get(conversation=reply.conversation).rating == 5


@pytest.mark.daphne_env(CHAT_MESSAGES_PER_MINUTE_PER_CONNECTION="1")  # so the second message is refused
def test_widget_shows_the_rate_limit_in_the_customers_language(daphne_server: str) -> None:
    # given the demo tenant and a customer writing in German
    seed_demo_tenant()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{daphne_server}/demo/")
            page.get_by_role("button", name="Open chat").click()
            page.get_by_label("Your message").fill("Wie kann ich meinen Termin absagen, bitte?")
            page.keyboard.press("Enter")
            page.locator(".msg.assistant[data-message-id]").last.wait_for(timeout=FIRST_ANSWER_MS)
            # when they send a second message within the minute
            page.get_by_label("Your message").fill("Und wann haben Sie am Sonntag geöffnet?")
            page.keyboard.press("Enter")
            # then the widget shows the server's German sentence, not an English one of its own
            status = page.get_by_text("Sie senden Nachrichten zu schnell; bitte warten Sie einen Moment.")
            status.wait_for(timeout=10_000)
            assert status.is_visible()
        finally:
            browser.close()


def _answer_with_sources(sources: list[dict[str, Any]]) -> Any:
    """A stand-in chat server for the widget: ready at once, then one answer citing ``sources``."""

    def serve(ws: WebSocketRoute) -> None:
        def on_message(payload: str | bytes) -> None:
            frame = json.loads(payload)
            if frame["type"] == "message.send":
                text = " ".join(f"Answer part [{source['index']}]." for source in sources)
                ws.send(json.dumps({"type": "message.end", "message_id": 7, "text": text, "sources": sources}))

        ws.on_message(on_message)
        ws.send(json.dumps({"type": "session.ready", "resume_token": "r", "greeting": "Hi!", "history": []}))

    return serve


def test_widget_links_only_sources_that_have_an_address(daphne_server: str) -> None:
    # given an answer citing two uploaded files without an address and a page with one
    seed_demo_tenant()
    sources = [
        {"index": 1, "title": "Refunds.txt", "url": ""},
        {"index": 2, "title": "Prices.pdf", "url": "  "},
        {"index": 3, "title": "Parking", "url": "https://alpha.example.com/parking"},
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.route_web_socket(re.compile(r"/ws/chat/"), _answer_with_sources(sources))
            page.goto(f"{daphne_server}/demo/")
            # when the customer asks and the answer arrives
            page.get_by_role("button", name="Open chat").click()
            page.get_by_label("Your message").fill("How long do refunds take?")
            page.keyboard.press("Enter")
            answer = page.locator(".msg.assistant[data-message-id]").last
            answer.wait_for(timeout=FIRST_ANSWER_MS)
            # then only the source with an address is a link, as its [n] and in the sources list
            cited = [sup.inner_text() for sup in answer.locator("sup").all()]
            cited_links = [(a.inner_text(), a.get_attribute("href")) for a in answer.locator("sup a").all()]
            listed = answer.locator(".sources li").all_inner_texts()
            listed_links = [(a.inner_text(), a.get_attribute("href")) for a in answer.locator(".sources a").all()]
        finally:
            browser.close()

    assert cited == ["[1]", "[2]", "[3]"]
    assert cited_links == [("[3]", "https://alpha.example.com/parking")]
    assert listed == ["Refunds.txt", "Prices.pdf", "Parking"]
    assert listed_links == [("Parking", "https://alpha.example.com/parking")]
