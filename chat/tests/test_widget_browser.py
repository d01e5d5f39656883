"""The widget on /demo/ in a real browser (Debian chromium via Playwright) against a real daphne."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright

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
            answer.locator(".source-link").first.wait_for(timeout=20_000)
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
            page.locator(".msg.assistant[data-message-id]").last.wait_for(timeout=20_000)
            # when they send a second message within the minute
            page.get_by_label("Your message").fill("Und wann haben Sie am Sonntag geöffnet?")
            page.keyboard.press("Enter")
            # then the widget shows the server's German sentence, not an English one of its own
            status = page.get_by_text("Sie senden Nachrichten zu schnell; bitte warten Sie einen Moment.")
            status.wait_for(timeout=10_000)
            assert status.is_visible()
        finally:
            browser.close()
