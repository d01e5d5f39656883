"""The widget's booking flow in a real browser (Debian chromium via Playwright): how it shows paying,
"Pay now" for a held booking, one card per proposal, where the keyboard focus goes, how a booking's
status reads, the pane's forms (Enter, validation, errors), Escape, and what the accessibility tree says.

The page is /demo/ from a real daphne; the chat socket is the scripted stand-in of the widget's
resend tests, answering the booking frames as the server does (docs/websocket-protocol.md).
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from chat.tests import test_widget_resend_browser as resend
from chat.tests.test_widget_resend_browser import Frame, StandIn, open_widget, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The result of confirming proposal("desk", payment="on_arrival", price_cents=4500, price="45.00 EUR"), as an
# older server sends it: no message, no pay_terms.
BOOKED_AT_THE_DESK: Frame = {
    "type": "proposal.result",
    "proposal_id": "desk",
    "status": "executed",
    "action": "book",
    "confirmation_code": "BK-DESK01",
    "booking_status": "confirmed",
    "payment": "on_arrival",
    "price_cents": 4500,
    "price": "45.00 EUR",
    "checkout_url": "",
}
browser = resend.browser  # the fixture: chromium, once the demo tenant is seeded

SERVICES = [
    {"id": 2, "name": "Swedish massage", "duration_minutes": 60, "price_cents": 9500, "currency": "usd"},
    {"id": 3, "name": "Haircut", "duration_minutes": 30, "price_cents": 4500, "currency": "eur"},
]
SLOT = {"start": "2030-03-12T09:00", "label": "Tuesday 12 March 2030 at 09:00"}


def proposal(proposal_id: str, **details: Any) -> Frame:
    return {
        "type": "proposal",
        "proposal_id": proposal_id,
        "action": "book",
        "summary": f"Book it ({proposal_id}).",
        "details": {"level": "T2", **details},
        "expires_at": "2030-03-02T18:40:00+00:00",
    }


def detail(**booking: Any) -> Frame:
    base = {
        "confirmation_code": "BK-7KQ4MX",
        "service": "Swedish massage",
        "service_id": 2,
        "status": "confirmed",
        "start": SLOT["start"],
        "label": SLOT["label"],
        "timezone": "Europe/Paris",
        "name": "Ann",
        "paid": False,
        "payment": "online",
        "price": "95.00 USD",
        "payment_status": "paid",
        "refunded": "",
        "checkout_url": "",
        "hold_expired": False,
    }
    return {"type": "booking.detail", "booking": {**base, **booking}}


def free_times() -> Frame:
    """The server's free times for Swedish massage: ``SLOT``."""
    return {"type": "booking.slots", "service_id": 2, "date": "2030-03-12", "timezone": "Europe/Paris", "slots": [SLOT]}


def booking_steps() -> dict[str, list[Frame]]:
    """The answers to the pane's booking steps before the proposal: the services, then ``free_times``."""
    return {"booking.services": [{"type": "booking.services", "services": SERVICES}], "booking.slots": [free_times()]}


def booked(proposal_id: str) -> Frame:
    """The result of a confirmed booking proposal."""
    return {
        "type": "proposal.result",
        "proposal_id": proposal_id,
        "status": "executed",
        "action": "book",
        "confirmation_code": "BK-7KQ4MX",
        "booking_status": "confirmed",
    }


def serving(answers: dict[str, list[Frame]]) -> StandIn:
    """A stand-in that answers each client frame type with the frames ``answers`` has for it (one per
    send, the last one again once they run out)."""

    def on_send(server: StandIn, number: int, frame: Frame) -> None:
        queue = answers.get(frame["type"], [])
        if queue:
            server.emit(server.sockets[number], queue.pop(0) if len(queue) > 1 else queue[0])

    return StandIn(on_send=on_send)


def sent(stand_in: StandIn, kind: str) -> list[Frame]:
    return [frame for _, frame in stand_in.received if frame["type"] == kind]


def focused(page: Page) -> str:
    """The focused element in the widget's shadow root, as ``tag.class:text``."""
    return page.evaluate(
        """() => { const a = document.getElementById('supportai-widget').shadowRoot.activeElement;
                   return a ? a.tagName.toLowerCase() + '.' + a.className + ':' + a.textContent.trim() : ''; }"""
    )


def find_booking(page: Page) -> None:
    page.get_by_role("button", name="Manage my booking").click()
    page.get_by_label("Confirmation code").fill("BK-7KQ4MX")
    page.get_by_label("Email used for the booking").fill("ann@example.org")
    page.get_by_role("button", name="Find my booking").click()


def open_connected(browser: Browser, daphne_server: str, stand_in: StandIn) -> Page:
    """The widget open, once its socket is connected and it has said so."""
    page = open_widget(browser, daphne_server, stand_in)
    wait_until(page, lambda: len(stand_in.sockets) == 1, "the socket")
    page.locator(".msg.system").first.wait_for()
    return page


def fill_in_a_booking(page: Page, email: str) -> None:
    """Through the pane's booking steps to the last one, filled in (not sent): Swedish massage at ``SLOT``, for Ann
    at ``email``."""
    page.get_by_role("button", name="Book", exact=True).click()
    page.get_by_role("button", name="Swedish massage").click()
    page.get_by_role("button", name="Show free times").click()
    page.get_by_role("button", name=SLOT["label"]).click()
    page.get_by_label("Your name").fill("Ann")
    page.get_by_label("Email for the confirmation").fill(email)


def test_the_proposal_card_and_the_result_say_how_the_booking_is_paid(daphne_server: str, browser: Browser) -> None:
    # given the widget connected
    stand_in = serving({})
    page = open_connected(browser, daphne_server, stand_in)
    # when proposals for a service paid online, one paid at the venue, a free one and a legacy one arrive
    stand_in.emit(
        stand_in.sockets[0],
        proposal("online", payment="online", price_cents=9500, price="95.00 USD"),
        proposal("desk", payment="on_arrival", price_cents=4500, price="45.00 EUR"),
        proposal("free", payment="online", price_cents=0, price="Free"),
        proposal("legacy"),
    )
    page.locator('.msg.proposal[data-proposal-id="legacy"]').wait_for()
    terms = {
        pid: page.locator(f'.msg.proposal[data-proposal-id="{pid}"] .pay-terms').all_inner_texts()
        for pid in ("online", "desk", "free", "legacy")
    }
    # and the one paid at the venue is confirmed
    page.locator('.msg.proposal[data-proposal-id="desk"]').get_by_role("button", name="Confirm").click()
    wait_until(page, lambda: bool(sent(stand_in, "proposal.confirm")), "the confirmation")
    stand_in.emit(stand_in.sockets[0], BOOKED_AT_THE_DESK)
    booked = page.locator("[data-proposal-result=executed]")
    booked.wait_for()
    # then
    assert terms == {
        "online": ["Pay online after you confirm."],
        "desk": ["Pay at the venue: 45.00 EUR"],
        "free": [],
        "legacy": [],
    }
    assert "Pay at the venue: 45.00 EUR" in booked.inner_text()
    assert booked.locator("a").count() == 0


@pytest.mark.parametrize(
    ("booking", "state"),
    [
        ({"payment_status": "paid", "paid": True}, "Paid: 95.00 USD"),
        (
            {"payment_status": "paid", "paid": True, "price": "40.00 EUR", "refunded": "12.00 EUR"},
            "Paid — 12.00 EUR of 40.00 EUR refunded",
        ),
        ({"payment_status": "refunded", "paid": True, "refunded": "95.00 USD"}, "Refunded: 95.00 USD"),
        (
            {"payment": "on_arrival", "payment_status": "on_arrival", "price": "45.00 EUR"},
            "Pay at the venue: 45.00 EUR",
        ),
        ({"status": "pending", "payment_status": "awaiting_payment"}, "Awaiting payment: 95.00 USD"),
        ({"payment_status": "free", "price": "Free"}, ""),
    ],
    ids=["paid", "partly_refunded", "refunded", "on_arrival", "awaiting", "free"],
)
def test_your_booking_says_whether_it_is_paid(
    daphne_server: str, browser: Browser, booking: dict[str, Any], state: str
) -> None:
    stand_in = serving({"booking.lookup": [detail(**booking)]})
    page = open_widget(browser, daphne_server, stand_in)
    find_booking(page)
    page.get_by_role("heading", name="Your booking").wait_for()
    shown = page.locator(".booking .pay-state").all_inner_texts()
    assert shown == ([state] if state else [])


def test_your_booking_offers_pay_now_for_a_held_booking_with_a_safe_link(daphne_server: str, browser: Browser) -> None:
    # given a held booking looked up twice: first with its payment link, then with a link that is no web address
    link = "https://checkout.stripe.com/c/pay/cs_test_1"
    held = {"status": "pending", "payment_status": "awaiting_payment"}
    stand_in = serving(
        {"booking.lookup": [detail(**held, checkout_url=link), detail(**held, checkout_url="javascript:alert(1)")]}
    )
    page = open_widget(browser, daphne_server, stand_in)
    # when the customer finds it
    find_booking(page)
    pay = page.locator(".booking a.pay-link")
    pay.wait_for()
    first = (pay.inner_text(), pay.get_attribute("href"), pay.get_attribute("target"), pay.get_attribute("rel"))
    # and again, when the server's link is not http(s)
    find_booking(page)
    wait_until(page, lambda: len(sent(stand_in, "booking.lookup")) == 2, "the second look-up")
    page.get_by_role("heading", name="Your booking").wait_for()
    page.wait_for_timeout(200)
    # then "Pay now" opens the payment page in a new tab, and only for a web address
    assert first == ("Pay now", link, "_blank", "noopener noreferrer")
    assert page.locator(".booking a.pay-link").count() == 0
    assert page.locator(".booking .pay-state").inner_text() == "Awaiting payment: 95.00 USD"


def test_your_booking_says_a_hold_ran_out_and_offers_to_book_again(daphne_server: str, browser: Browser) -> None:
    # given a booking released (or about to be) because it was not paid in time
    released = detail(status="canceled", payment_status="unpaid", hold_expired=True)
    stand_in = serving({"booking.lookup": [released]})
    page = open_widget(browser, daphne_server, stand_in)
    # when the customer finds it and books again
    find_booking(page)
    page.get_by_role("heading", name="Your booking").wait_for()
    status = page.locator(".booking .booking-status").inner_text()
    buttons = page.locator(".booking .choices button").all_inner_texts()
    page.get_by_role("button", name="Book again").click()
    page.get_by_role("button", name="Show free times").click()
    wait_until(page, lambda: len(sent(stand_in, "booking.slots")) == 1, "the slots request")
    # then it says why, offers no change nor payment, and books the same service
    assert status == "Not paid in time: this time was released · code BK-7KQ4MX"
    assert buttons == ["Book again"] and page.locator(".booking a.pay-link").count() == 0
    assert sent(stand_in, "booking.slots")[0]["service_id"] == 2


def test_a_proposal_sent_twice_is_one_card(daphne_server: str, browser: Browser) -> None:
    # given the widget connected
    stand_in = serving({})
    page = open_connected(browser, daphne_server, stand_in)
    # when the same proposal arrives twice (the server answers a repeated propose with the open proposal)
    stand_in.emit(stand_in.sockets[0], proposal("p1"), proposal("p1"))
    page.wait_for_timeout(300)
    # then it is one card, and confirming it leaves no live buttons anywhere
    assert page.locator('.msg.proposal[data-proposal-id="p1"]').count() == 1
    page.get_by_role("button", name="Confirm").click()
    wait_until(page, lambda: bool(sent(stand_in, "proposal.confirm")), "the confirmation")
    stand_in.emit(
        stand_in.sockets[0],
        {"type": "proposal.result", "proposal_id": "p1", "status": "rejected", "action": "book", "message": "Okay."},
    )
    page.locator("[data-proposal-result=rejected]").wait_for()
    assert page.locator(".msg.proposal button").count() == 0


def test_asking_again_for_a_change_already_proposed_points_to_its_card(daphne_server: str, browser: Browser) -> None:
    # given a customer who asked to cancel their booking: its proposal card is open
    cancel = {**proposal("c1"), "action": "cancel", "summary": "Cancel Swedish massage (BK-7KQ4MX)."}
    stand_in = serving({"booking.lookup": [detail()], "booking.cancel": [cancel]})
    page = open_widget(browser, daphne_server, stand_in)
    find_booking(page)
    page.get_by_role("button", name="Cancel booking").click()
    page.locator('.msg.proposal[data-proposal-id="c1"]').wait_for()
    # when they find the booking again and ask to cancel again (the server answers with the open proposal)
    find_booking(page)
    page.get_by_role("heading", name="Your booking").wait_for()
    page.get_by_role("button", name="Cancel booking").click()
    wait_until(page, lambda: len(sent(stand_in, "booking.cancel")) == 2, "the second request")
    page.wait_for_timeout(300)
    # then the pane gives way to the one card, as the first time: no pane left waiting with a dead button
    assert page.locator('.msg.proposal[data-proposal-id="c1"]').count() == 1
    assert page.locator(".booking").is_hidden()


def test_continue_sends_one_proposal_request_until_it_is_answered(daphne_server: str, browser: Browser) -> None:
    # given a customer on the last step of booking, and a server that has not answered yet
    stand_in = serving(
        {
            **booking_steps(),
            "booking.propose": [{"type": "error", "code": "bad_request", "message": "Enter a valid email address."}],
        }
    )
    page = open_widget(browser, daphne_server, stand_in)
    fill_in_a_booking(page, "ann@example")
    # when they press Continue twice, quickly
    page.get_by_role("button", name="Continue").dblclick()
    page.get_by_text("Enter a valid email address.").wait_for()
    sent_first = len(sent(stand_in, "booking.propose"))
    # then one request went; after its error they can correct the email and try again
    page.get_by_label("Email for the confirmation").fill("ann@example.org")
    page.get_by_role("button", name="Continue").click()
    wait_until(page, lambda: len(sent(stand_in, "booking.propose")) == 2, "the second request")
    assert sent_first == 1


def test_a_new_time_sends_one_reschedule_request_until_it_is_answered(daphne_server: str, browser: Browser) -> None:
    # given a customer choosing a new time for their booking, and a server slow to answer
    stand_in = serving({"booking.lookup": [detail()], "booking.slots": [free_times()]})
    page = open_widget(browser, daphne_server, stand_in)
    find_booking(page)
    page.get_by_role("button", name="Reschedule").click()
    page.get_by_role("button", name="Show free times").click()
    slot = page.get_by_role("button", name=SLOT["label"])
    # when they press the new time twice, quickly
    slot.dblclick()
    wait_until(page, lambda: bool(sent(stand_in, "booking.reschedule")), "the reschedule request")
    page.wait_for_timeout(300)
    requested = sent(stand_in, "booking.reschedule")
    waiting = slot.is_disabled()
    # and the server refuses that time, then they press it again
    refusal = {"type": "error", "code": "bad_request", "message": "That time is no longer free."}
    stand_in.emit(stand_in.sockets[0], refusal)
    page.get_by_text(refusal["message"]).wait_for()
    refused = page.locator(".booking .pane-error").all_inner_texts()
    slot.click()
    wait_until(page, lambda: len(sent(stand_in, "booking.reschedule")) == len(requested) + 1, "the next request")
    # then one request went while the first waited for its answer, whose error shows in the pane
    assert requested == [
        {"type": "booking.reschedule", "code": "BK-7KQ4MX", "email": "ann@example.org", "start": SLOT["start"]}
    ]
    assert waiting
    assert refused == ["That time is no longer free."]


def test_the_keyboard_focus_follows_the_booking_pane(daphne_server: str, browser: Browser) -> None:
    # given a customer using the keyboard only
    stand_in = serving(
        {
            **booking_steps(),
            "booking.propose": [proposal("p1", payment="online", price_cents=9500, price="95.00 USD")],
            "proposal.confirm": [booked("p1")],
        }
    )
    page = open_widget(browser, daphne_server, stand_in)
    wait_until(page, lambda: len(stand_in.sockets) == 1, "the socket")
    page.get_by_role("button", name="Book", exact=True).focus()
    # when they open the booking pane and choose a service with Enter
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Swedish massage").wait_for()
    after_services = focused(page)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the first service
    page.get_by_role("button", name="Show free times").wait_for()
    after_service = focused(page)
    page.get_by_role("button", name="Show free times").focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name=SLOT["label"]).wait_for()
    after_slots = focused(page)
    page.get_by_role("button", name=SLOT["label"]).focus()
    page.keyboard.press("Enter")
    page.get_by_label("Your name").fill("Ann")
    page.get_by_label("Email for the confirmation").fill("ann@example.org")
    page.get_by_role("button", name="Continue").focus()
    page.keyboard.press("Enter")
    page.locator(".msg.proposal").wait_for()
    after_proposal = focused(page)
    page.keyboard.press("Tab")  # to Confirm
    page.keyboard.press("Enter")
    page.locator("[data-proposal-result=executed]").wait_for()
    after_result = focused(page)
    # and they close a pane they opened again
    page.get_by_role("button", name="Manage my booking").focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Close booking").focus()
    page.keyboard.press("Enter")
    after_close = focused(page)
    # then focus is where the next step is, never lost to the page
    assert after_services == "h3.:What would you like to book?"
    assert after_service == "h3.:Swedish massage"
    assert after_slots == "h3.:Pick a time"
    assert after_proposal.startswith("div.msg system proposal:Book it (p1).")
    assert after_result.startswith("div.msg system:Booked! Your confirmation code is BK-7KQ4MX.")
    assert after_close == "button.:Manage my booking"


def test_your_booking_says_its_status_in_plain_words(daphne_server: str, browser: Browser) -> None:
    # given bookings in every status the server has (bookings.models.BookingStatus) and one it may add later
    statuses = ["pending", "confirmed", "canceled", "completed", "no_show", "archived"]
    stand_in = serving({"booking.lookup": [detail(status=status) for status in statuses]})
    page = open_widget(browser, daphne_server, stand_in)
    # when the customer looks each one up
    shown = []
    for number, _ in enumerate(statuses, start=1):
        find_booking(page)
        wait_until(page, lambda n=number: len(sent(stand_in, "booking.lookup")) == n, "the look-up")  # type: ignore[misc]
        page.get_by_role("heading", name="Your booking").wait_for()
        shown.append(page.locator(".booking .booking-status").inner_text())
    # then each reads as words for the customer, never the server's status name
    assert shown == [
        "Held until paid · code BK-7KQ4MX",
        "Confirmed · code BK-7KQ4MX",
        "Canceled · code BK-7KQ4MX",
        "Completed · code BK-7KQ4MX",
        "Missed · code BK-7KQ4MX",
        "Ask us about this booking · code BK-7KQ4MX",
    ]


def pane_fields(page: Page) -> list[dict[str, Any]]:
    """The pane's inputs: label text, whether the browser finds them invalid, and their ARIA error state."""
    return list(
        page.evaluate(
            """() => Array.from(document.getElementById('supportai-widget').shadowRoot
                         .querySelectorAll('.booking input')).map(i => ({
                 label: i.closest('label').firstChild.textContent,
                 invalid: i.getAttribute('aria-invalid'),
                 describedby: i.getAttribute('aria-describedby'),
                 native: i.validationMessage !== '' }))"""
        )
    )


def pane_error(page: Page) -> tuple[str, str]:
    """The error shown in the pane: its id and its text."""
    error = page.locator(".booking .pane-error")
    return str(error.get_attribute("id")), error.inner_text()


def test_enter_in_a_pane_field_sends_its_step_once_with_native_checks(daphne_server: str, browser: Browser) -> None:
    # given a server that has the services and times, and is slow to answer the proposal
    stand_in = serving(booking_steps())
    page = open_widget(browser, daphne_server, stand_in)
    page.get_by_role("button", name="Book", exact=True).click()
    page.get_by_role("button", name="Swedish massage").click()
    # when the customer presses Enter in the date field
    page.get_by_label("From").press("Enter")
    page.get_by_role("button", name=SLOT["label"]).click()
    # and in the empty name field, then in a half-typed email
    page.get_by_label("Your name").press("Enter")
    empty = pane_fields(page)
    page.get_by_label("Your name").fill("Ann")
    page.get_by_label("Email for the confirmation").fill("ann@")
    page.get_by_label("Email for the confirmation").press("Enter")
    half_typed = pane_fields(page)
    proposed_before = len(sent(stand_in, "booking.propose"))
    # and twice in a good one before the server answers, which then refuses the time
    page.get_by_label("Email for the confirmation").fill("ann@example.org")
    page.get_by_label("Email for the confirmation").press("Enter")
    page.get_by_label("Email for the confirmation").press("Enter")
    wait_until(page, lambda: bool(sent(stand_in, "booking.propose")), "the proposal request")
    page.wait_for_timeout(200)
    proposed = len(sent(stand_in, "booking.propose"))
    stand_in.emit(
        stand_in.sockets[0], {"type": "error", "code": "bad_request", "message": "That time is no longer free."}
    )
    page.locator(".booking .pane-error").wait_for()
    error_id, error_text = pane_error(page)
    # then Enter sends the step as its button does, once, and the browser's own checks come first
    assert len(sent(stand_in, "booking.slots")) == 1
    assert [f["native"] for f in empty] == [True, True]
    assert [f["native"] for f in half_typed] == [False, True]
    assert proposed_before == 0
    assert proposed == 1
    # and the server's error shows in the pane, tied to the fields it is about
    assert error_text == "That time is no longer free."
    assert pane_fields(page) == [
        {"label": "Your name", "invalid": "true", "describedby": error_id, "native": False},
        {"label": "Email for the confirmation", "invalid": "true", "describedby": error_id, "native": False},
    ]
    assert page.locator(".status").is_hidden()


def test_enter_finds_a_booking_and_a_wrong_code_is_marked_on_its_fields(daphne_server: str, browser: Browser) -> None:
    # given a server that knows no such booking
    stand_in = serving({"booking.lookup": [{"type": "error", "code": "not_found", "message": "No booking matches."}]})
    page = open_widget(browser, daphne_server, stand_in)
    page.get_by_role("button", name="Manage my booking").click()
    # when the customer presses Enter with the code missing, then with both filled
    page.get_by_label("Email used for the booking").fill("ann@example.org")
    page.get_by_label("Email used for the booking").press("Enter")
    missing_code = pane_fields(page)
    page.get_by_label("Confirmation code").fill("BK-NOPE00")
    page.get_by_label("Confirmation code").press("Enter")
    page.locator(".booking .pane-error").wait_for()
    error_id, error_text = pane_error(page)
    # then only the complete form went, and its error is on both fields
    assert [f["native"] for f in missing_code] == [True, False]
    assert sent(stand_in, "booking.lookup") == [
        {"type": "booking.lookup", "code": "BK-NOPE00", "email": "ann@example.org"}
    ]
    assert error_text == "No booking matches."
    assert [(f["invalid"], f["describedby"]) for f in pane_fields(page)] == [("true", error_id), ("true", error_id)]
    assert page.get_by_role("button", name="Find my booking").is_enabled()


def escape(page: Page, selector: str, composing: bool = False) -> None:
    """An Escape keydown on the widget's element ``selector``, as an input method composing sends it, or not."""
    page.evaluate(
        """([selector, composing]) => {
             const target = document.getElementById('supportai-widget').shadowRoot.querySelector(selector);
             target.focus();
             target.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', isComposing: composing,
                                                                bubbles: true, composed: true, cancelable: true}));
           }""",
        [selector, composing],
    )


def test_escape_in_the_pane_closes_the_pane_only(daphne_server: str, browser: Browser) -> None:
    # given the booking pane open from "Manage my booking"
    stand_in = serving({})
    page = open_widget(browser, daphne_server, stand_in)
    page.get_by_role("button", name="Manage my booking").click()
    pane = page.get_by_role("region", name="Booking")
    chat = page.get_by_role("dialog")
    # when an input method's composition ends with Escape in the pane, and in the message box
    escape(page, ".booking input", composing=True)
    escape(page, "form.compose textarea", composing=True)
    after_composing = (pane.is_visible(), chat.is_visible())
    # and the customer presses Escape in the pane
    page.get_by_label("Confirmation code").press("Escape")
    after_pane_escape = (pane.is_visible(), chat.is_visible(), focused(page))
    # and Escape again, now outside the pane
    page.keyboard.press("Escape")
    # then composing closes nothing, Escape in the pane closes the pane and returns to its opener
    assert after_composing == (True, True)
    assert after_pane_escape == (False, True, "button.:Manage my booking")
    # and Escape elsewhere closes the chat, as before
    assert chat.is_hidden()


def ax_nodes(page: Page, name_start: str) -> list[tuple[str, str, bool]]:
    """The named nodes of Chromium's accessibility tree whose name starts with ``name_start``, but text runs:
    (role, name, focused)."""
    cdp = page.context.new_cdp_session(page)
    try:
        tree = cdp.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        cdp.detach()
    found = []
    for node in tree:
        role, name = node["role"]["value"], str(node.get("name", {}).get("value", ""))
        if node.get("ignored") or role in ("StaticText", "InlineTextBox") or not name.startswith(name_start):
            continue
        focused = any(p["name"] == "focused" and p["value"].get("value") for p in node.get("properties", []))
        found.append((role, name, focused))
    return found


def live(page: Page, selector: str) -> Any:
    """The aria-live the widget's element ``selector`` sets on itself (CDP shows a live region's settings on its
    root only, not on what is inside it)."""
    return page.evaluate(
        "s => document.getElementById('supportai-widget').shadowRoot.querySelector(s).getAttribute('aria-live')",
        selector,
    )


def test_a_card_the_focus_moves_to_is_announced_once(daphne_server: str, browser: Browser) -> None:
    # given a keyboard user at the last booking step, and a proposal the assistant makes in the chat
    stand_in = serving(
        {
            **booking_steps(),
            "booking.propose": [proposal("p1")],
            "proposal.confirm": [booked("p1")],
        }
    )
    page = open_connected(browser, daphne_server, stand_in)
    page.get_by_label("Your message").focus()
    stand_in.emit(stand_in.sockets[0], proposal("chat"))
    page.locator('.msg.proposal[data-proposal-id="chat"]').wait_for()
    fill_in_a_booking(page, "ann@example.org")
    # when they send it and the card takes the focus, then confirm it and the result takes the focus
    page.get_by_label("Email for the confirmation").press("Enter")
    page.locator('.msg.proposal[data-proposal-id="p1"]').wait_for()
    card = ax_nodes(page, "Book it (p1).")
    card_live = live(page, '.msg.proposal[data-proposal-id="p1"]')
    page.locator('.msg.proposal[data-proposal-id="p1"]').get_by_role("button", name="Confirm").press("Enter")
    page.locator("[data-proposal-result=executed]").wait_for()
    result = ax_nodes(page, "Booked!")
    result_live = live(page, "[data-proposal-result=executed]")
    # then a focused card is a group named by its text, and the log (a polite live region) does not
    # announce it as well: the focus says it, once
    assert ax_nodes(page, "Conversation") == [("log", "Conversation", False)]
    assert card == [("group", "Book it (p1).", True)]
    assert card_live == "off"
    assert result == [("group", "Booked! Your confirmation code is BK-7KQ4MX. We've emailed you the details.", True)]
    assert result_live == "off"
    # and a card that does not take the focus is left to the log to announce, as any message
    assert ax_nodes(page, "Book it (chat).") == []
    assert live(page, '.msg.proposal[data-proposal-id="chat"]') is None


def test_an_error_naming_a_field_is_marked_on_that_field_only(daphne_server: str, browser: Browser) -> None:
    # given a server that refuses the proposal's email, then its time (a slot, no field of the step)
    email_error = {"type": "error", "code": "bad_request", "message": "Give a valid email.", "field": "email"}
    start_error = {"type": "error", "code": "bad_request", "message": "That time is taken.", "field": "start"}
    stand_in = serving(
        {
            **booking_steps(),
            "booking.propose": [email_error, start_error],
        }
    )
    page = open_widget(browser, daphne_server, stand_in)
    fill_in_a_booking(page, "ann@example.org")
    # when the customer sends the step and the server names the email
    page.get_by_role("button", name="Continue").click()
    page.locator(".booking .pane-error").wait_for()
    error_id, email_text = pane_error(page)
    on_email = pane_fields(page)
    # and sends it again, and the server names the time
    page.get_by_role("button", name="Continue").click()
    wait_until(page, lambda: pane_error(page)[1] == "That time is taken.", "the second error")
    on_start = pane_fields(page)
    # then the email's error is on the email field alone
    assert email_text == "Give a valid email."
    assert on_email == [
        {"label": "Your name", "invalid": None, "describedby": None, "native": False},
        {"label": "Email for the confirmation", "invalid": "true", "describedby": error_id, "native": False},
    ]
    # and the time's shows in the pane on no field (the time is no field of this step)
    assert [(f["invalid"], f["describedby"]) for f in on_start] == [(None, None), (None, None)]
