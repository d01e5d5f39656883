"""A newcomer books (paid, through the test-mode checkout), reschedules and cancels from /demo/ in a
real browser (Debian chromium via Playwright) against a real daphne, then finds it in the console,
owing a refund that staff make by hand (no Stripe key: no Refund button) and record there: first a
wrong amount, shown on its field, then the whole payment, which clears the refund due."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, sync_playwright

from bookings.models import Booking, BookingStatus
from chat.tests.test_widget_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from supportai.demo import DEMO_STAFF, seed_demo_tenant

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT = 20_000
EMAIL = "newcomer@example.org"


def _confirm_latest_proposal(page: Page) -> None:
    card = page.locator(".msg.proposal").last
    card.get_by_role("button", name="Confirm").click()


def _pick_slot(page: Page, index: int) -> None:
    page.get_by_role("button", name="Show free times").click()
    page.locator(".booking button.slot").nth(index).click(timeout=TIMEOUT)


def _manage(page: Page, code: str) -> None:
    page.get_by_role("button", name="Manage my booking").click()
    page.get_by_label("Confirmation code").fill(code)
    page.get_by_label("Email used for the booking").fill(EMAIL)
    page.get_by_role("button", name="Find my booking").click()


def test_newcomer_books_pays_reschedules_and_cancels(daphne_server: str) -> None:
    seed_demo_tenant()
    frames: list[dict[str, Any]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844})
            page = context.new_page()
            page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(json.loads(payload))))
            page.goto(f"{daphne_server}/demo/")
            page.get_by_role("button", name="Open chat").click()
            # book the paid massage through the quick action (no language model involved)
            page.get_by_role("button", name="Book", exact=True).click()
            page.get_by_role("button", name=re.compile("Swedish massage")).click(timeout=TIMEOUT)
            _pick_slot(page, 0)
            page.get_by_label("Your name").fill("Nia Newcomer")
            page.get_by_label("Email for the confirmation").fill(EMAIL)
            page.get_by_role("button", name="Continue").click()
            page.locator(".msg.proposal").last.wait_for(timeout=TIMEOUT)
            # a reload before confirming: the resumed conversation shows the proposal card again
            page.reload()
            page.get_by_role("button", name="Open chat").click()
            _confirm_latest_proposal(page)
            pay_link = page.locator("a.pay-link").last
            pay_link.wait_for(timeout=TIMEOUT)
            code = next(f for f in frames if f["type"] == "proposal.result")["confirmation_code"]
            # pay on the test-mode checkout page (BOOKINGS_PUBLIC_URL points elsewhere; follow its path here)
            checkout = context.new_page()
            checkout.goto(daphne_server + urlsplit(pay_link.get_attribute("href") or "").path)
            checkout.get_by_role("button", name=re.compile("Pay 95.00 USD")).click()
            checkout.get_by_text("your payment was received").wait_for(timeout=TIMEOUT)
            paid_status = checkout.get_by_test_id("booking-status").inner_text()
            checkout.close()
            # reschedule to another free time
            _manage(page, code)
            page.get_by_role("button", name="Reschedule").click(timeout=TIMEOUT)
            _pick_slot(page, 3)
            _confirm_latest_proposal(page)
            page.get_by_text("Your booking has been moved to").wait_for(timeout=TIMEOUT)
            # cancel
            _manage(page, code)
            page.get_by_role("button", name="Cancel booking").click(timeout=TIMEOUT)
            _confirm_latest_proposal(page)
            page.get_by_text("Your booking is canceled.").wait_for(timeout=TIMEOUT)
            # staff see it in the console
            owner = next(s for s in DEMO_STAFF if s.role == "owner")
            console = context.new_page()
            console.goto(f"{daphne_server}/console/login/")
            console.get_by_label("Username").fill(owner.username)
            console.get_by_label("Password").fill(owner.password)
            console.get_by_role("button", name=re.compile("Log in", re.I)).click()
            console.goto(f"{daphne_server}/console/bookings/?q={code}")
            console.get_by_role("link", name=code).click()
            console.get_by_test_id("status").wait_for(timeout=TIMEOUT)
            status = console.get_by_test_id("status").inner_text()
            history = console.locator("ol.events").inner_text()
            refund_buttons = console.get_by_role("button", name=re.compile("^Refund")).count()
            # the owner gave the money back at the desk and records it: a typo first, then the amount owed
            offline = console.get_by_test_id("refund-offline")
            offered_amount = offline.get_by_label(re.compile("^Amount")).input_value()
            offline.get_by_label(re.compile("^Amount")).fill("950.00")
            offline.get_by_label("How it was given back").fill("Cash at the desk")
            offline.get_by_role("button", name="Record refund (given back offline)").click()
            amount_error = console.locator("#id_amount_error").inner_text(timeout=TIMEOUT)
            kept_note = console.get_by_label("How it was given back").input_value()
            console.get_by_label(re.compile("^Amount")).fill(offered_amount)
            console.get_by_role("button", name="Record refund (given back offline)").click()
            console.get_by_text("given back offline for booking").wait_for(timeout=TIMEOUT)
            refunded_history = console.locator("ol.events").inner_text()
            price_after = console.get_by_test_id("price").inner_text()
            record_buttons_after = console.get_by_role("button", name=re.compile("^Record refund")).count()
        finally:
            ARTIFACTS.mkdir(exist_ok=True)
            for number, open_page in enumerate(browser.contexts[0].pages if browser.contexts else []):
                open_page.screenshot(path=str(ARTIFACTS / f"booking-demo-{number}.png"), full_page=True)
            browser.close()

    booking = Booking.objects.get(confirmation_code=code)
    assert booking.status == BookingStatus.CANCELED and booking.paid_at is not None
    assert paid_status == "Status: Confirmed · paid"
    assert status.startswith("Canceled")
    for step in ("Created", "Payment started", "Paid", "Rescheduled", "Canceled"):
        assert step in history
    assert "refund due" in history and refund_buttons == 0
    assert offered_amount == "95.00"
    assert amount_error == "Give the amount given back, at most the 95.00 USD owed, e.g. 95.00."
    assert kept_note == "Cash at the desk"
    assert "95.00 USD refunded, in full — given back offline: Cash at the desk" in refunded_history
    assert price_after.endswith("refunded") and record_buttons_after == 0
    booking.refresh_from_db()
    assert booking.refunded_at is not None and not booking.refund_due
    results = [f for f in frames if f["type"] == "proposal.result"]
    assert [(r["action"], r["status"]) for r in results] == [
        ("book", "executed"),
        ("reschedule", "executed"),
        ("cancel", "executed"),
    ]
