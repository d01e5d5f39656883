"""The widget's own words in its page's language, in a real browser (the chat socket is a scripted
stand-in; the words come from the real server): German from ``<html lang>`` or ``data-lang``, never drawn
in English first; Arabic in Arabic, laid out right to left; the conversation's language once ``session.ready``
names it; English when the words cannot be fetched."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route

from chat.tests import test_widget_resend_browser as resend
from chat.tests.test_widget_resend_browser import WAIT_MS, StandIn, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]
browser = resend.browser  # the fixture: chromium, once the demo tenant is seeded

# The launcher's accessible name at the moment the widget is added to the page: what is drawn first.
FIRST_DRAWN = """
window.__firstLabels = [];
new MutationObserver(function (records) {
  records.forEach(function (record) {
    record.addedNodes.forEach(function (node) {
      if (node.id === "supportai-widget") {
        window.__firstLabels.push(node.shadowRoot.querySelector(".launcher").getAttribute("aria-label"));
      }
    });
  });
}).observe(document, { childList: true, subtree: true });
"""


def _ignore(server: StandIn, number: int, frame: dict[str, Any]) -> None:
    """The stand-in answers nothing: these tests look at the widget's own words."""


def demo_page(browser: Browser, server: str, stand_in: StandIn, *, html_lang: str = "", data_lang: str = "") -> Page:
    """/demo/ as a page in another language: ``<html lang>`` and the script tag's ``data-lang`` rewritten."""
    page = browser.new_page()
    page.add_init_script(FIRST_DRAWN)
    page.route_web_socket("**/ws/chat/**", stand_in)

    def rewrite(route: Route) -> None:
        response = route.fetch()
        body = response.text()
        if html_lang:
            body = body.replace('<html lang="en">', f'<html lang="{html_lang}">')
        if data_lang:
            body = body.replace(" data-key=", f' data-lang="{data_lang}" data-key=')
        route.fulfill(response=response, body=body)

    page.route(f"{server}/demo/", rewrite)
    page.goto(f"{server}/demo/")
    return page


def panel_attribute(page: Page, name: str) -> str | None:
    return page.locator("section.panel").get_attribute(name)


@pytest.mark.parametrize("where", ["html lang", "data-lang"])
def test_a_german_page_gets_a_german_widget_without_english_first(
    daphne_server: str, browser: Browser, where: str
) -> None:
    # given the demo page in German, said by its <html lang> or by the script tag's data-lang
    stand_in = StandIn(on_send=_ignore)
    page = demo_page(
        browser, daphne_server, stand_in, **({"html_lang": "de-DE"} if where == "html lang" else {"data_lang": "de"})
    )
    # when the widget has loaded
    launcher = page.get_by_role("button", name="Chat öffnen")
    launcher.wait_for(timeout=WAIT_MS)
    # then it was drawn in German from the first (no English launcher before the words came)
    assert page.evaluate("window.__firstLabels") == ["Chat öffnen"]
    assert page.locator("#sai-title").text_content() == "Schreiben Sie uns"
    # and the open panel speaks German
    launcher.click()
    wait_until(page, lambda: len(stand_in.sockets) == 1, "the chat socket")
    page.get_by_role("button", name="Mit einem Menschen sprechen").wait_for(timeout=WAIT_MS)
    assert page.locator("#sai-title").inner_text() == "Schreiben Sie uns"  # the stand-in sends no branding
    assert page.get_by_label("Ihre Nachricht").get_attribute("placeholder") == "Ihre Frage…"
    assert page.get_by_role("button", name="Senden", exact=True).is_visible()
    assert page.get_by_role("button", name="Chat bewerten").is_visible()
    assert (panel_attribute(page, "lang"), panel_attribute(page, "dir")) == ("de", "ltr")
    page.close()


def test_an_arabic_page_gets_an_arabic_right_to_left_panel(daphne_server: str, browser: Browser) -> None:
    # given the demo page in Arabic (Egypt), a language written right to left
    stand_in = StandIn(on_send=_ignore)
    page = demo_page(browser, daphne_server, stand_in, html_lang="ar-EG")
    # when the customer opens the chat
    launcher = page.get_by_role("button", name="فتح الدردشة")
    launcher.wait_for(timeout=WAIT_MS)
    launcher.click()
    wait_until(page, lambda: len(stand_in.sockets) == 1, "the chat socket")
    # then it was drawn in Arabic from the first, and the panel speaks Arabic, laid out right to left
    assert page.evaluate("window.__firstLabels") == ["فتح الدردشة"]
    page.get_by_role("button", name="التحدث إلى موظف").wait_for(timeout=WAIT_MS)
    assert page.locator("#sai-title").inner_text() == "تحدّث معنا"
    assert page.get_by_label("رسالتك").get_attribute("placeholder") == "اكتب سؤالك…"
    assert page.get_by_role("button", name="إرسال", exact=True).is_visible()
    assert (panel_attribute(page, "lang"), panel_attribute(page, "dir")) == ("ar", "rtl")
    page.close()


def test_the_widget_speaks_the_language_session_ready_names(daphne_server: str, browser: Browser) -> None:
    # given an English page and a conversation whose customer wrote in French
    stand_in = StandIn(on_send=_ignore)
    page = demo_page(browser, daphne_server, stand_in)
    page.get_by_role("button", name="Open chat").click()
    wait_until(page, lambda: len(stand_in.sockets) == 1, "the chat socket")
    # when session.ready names the conversation's language
    ready = {"type": "session.ready", "resume_token": "r", "greeting": "Bonjour !", "history": [], "language": "fr"}
    stand_in.emit(stand_in.sockets[0], ready)
    # then the widget's own words switch to French
    page.get_by_role("button", name="Parler à une personne").wait_for(timeout=WAIT_MS)
    assert page.get_by_role("button", name="Fermer le chat").is_visible()
    assert page.get_by_label("Votre message").get_attribute("placeholder") == "Posez votre question…"
    assert panel_attribute(page, "lang") == "fr"
    page.close()


def test_the_widget_is_english_when_its_words_cannot_be_fetched(daphne_server: str, browser: Browser) -> None:
    # given a German page whose request for the widget's words fails
    stand_in = StandIn(on_send=_ignore)
    page = browser.new_page()
    page.add_init_script(FIRST_DRAWN)
    page.route("**/api/v1/public/widget/strings/**", lambda route: route.abort())
    page.route_web_socket("**/ws/chat/**", stand_in)
    page.route(
        f"{daphne_server}/demo/",
        lambda route: route.fulfill(
            response=(fetched := route.fetch()), body=fetched.text().replace('lang="en"', 'lang="de"')
        ),
    )
    page.goto(f"{daphne_server}/demo/")
    # when the widget loads
    page.get_by_role("button", name="Open chat").wait_for(timeout=WAIT_MS)
    # then it shows itself at once, in the English it carries
    assert page.evaluate("window.__firstLabels") == ["Open chat"]
    assert page.locator("#sai-title").text_content() == "Chat with us"
    page.close()
