"""The bookings console's pages in a real browser (Debian chromium via Playwright) against a real
daphne, for a salon in New York (a time zone with summer time): every control has a label a screen
reader and a keyboard user can find, and a long customer name stays within the window."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Route

from bookings.models import AvailabilityRule, BlackoutDate, Booking
from bookings.services import CUSTOMER, booking_create
from bookings.tests.conftest import local, open_every_day
from bookings.tests.factories import ServiceFactory
from knowledge.tests.console_browser import console_member, logged_in_page
from supportai.models import Role
from supportai.tests.factories import TenantFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]
OWNER = "olga"
# Every visible form control's name that has neither a <label> nor an aria-label.
UNLABELED = """() => [...document.querySelectorAll('main input:not([type=hidden]), main select, main textarea')]
    .filter(control => !control.labels.length && !control.getAttribute('aria-label')).map(control => control.name)"""


def _salon() -> Booking:
    """A New York salon with an owner, hours every day, a closed date and a booking (the day after
    the clocks move to summer time)."""
    salon = TenantFactory.create(name="NY Salon", slug="ny-salon", timezone="America/New_York")
    open_every_day(salon, capacity=2)
    cut = ServiceFactory.create(tenant=salon, name="Cut")
    BlackoutDate.objects.create(tenant=salon, date=date(2027, 3, 20), reason="Staff day")
    console_member(salon, OWNER, Role.OWNER)
    return booking_create(
        tenant=salon,
        service=cut,
        start=local(salon, date(2027, 3, 15), 10),
        name="Maximiliana-Wilhelmina Bartholomew-Fitzgeraldine Oppenheimer-Kowalczykowska",
        email="maximiliana.wilhelmina.bartholomew-fitzgeraldine@example-clinic-with-a-long-domain.org",
        actor=CUSTOMER,
    )


def test_every_control_of_the_bookings_pages_has_a_label(daphne_server: str) -> None:
    # given the salon's owner in the console
    booking = _salon()
    pages = ["", "day/?date=2027-03-15", f"{booking.pk}/", "new/", "services/", "services/new/"]
    unlabeled: dict[str, list[str]] = {}
    with logged_in_page(daphne_server, OWNER) as page:
        # when they open each page of the bookings console
        for path in pages:
            page.goto(f"{daphne_server}/console/bookings/{path}")
            unlabeled[path] = page.evaluate(UNLABELED)
    # then no control is left without a label
    assert unlabeled == {path: [] for path in pages}


def test_a_long_customer_name_and_email_stay_within_the_window(daphne_server: str) -> None:
    # given a booking by a customer with a long name and a long email address
    booking = _salon()
    pages = ["", "day/?date=2027-03-15", f"{booking.pk}/"]
    wider: dict[str, bool] = {}
    with logged_in_page(daphne_server, OWNER) as page:
        # when the owner opens the pages that name the customer on a laptop's screen
        page.set_viewport_size({"width": 1024, "height": 768})
        for path in pages:
            page.goto(f"{daphne_server}/console/bookings/{path}")
            page.get_by_text(booking.confirmation_code).first.wait_for()
            wider[path] = page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")
    # then no page is wider than the window (no sideways scrolling to reach the status)
    assert wider == {path: False for path in pages}


def _hold_posts(route: Route, held: list[Route]) -> None:
    """Hold a POST in ``held`` (the test lets it through), let any other request through."""
    if route.request.method == "POST":
        held.append(route)
    else:
        route.fallback()


# Book pressed, and pressed again a moment later (the first request is held: a server slow to answer).
PRESS_TWICE = """() => { const book = document.querySelector('main form button[type=submit]');
    book.click(); setTimeout(() => book.click(), 200); }"""


@pytest.mark.timeout(120)
def test_a_second_press_of_book_while_the_first_is_under_way_sends_nothing(daphne_server: str) -> None:
    # given the owner's new-booking form filled in, and a server slow to answer the first press
    _salon()
    posts: list[Route] = []
    with logged_in_page(daphne_server, OWNER) as page:
        page.goto(f"{daphne_server}/console/bookings/new/")
        page.get_by_label("Service").select_option(label="Cut")
        page.get_by_label("Date").fill("2027-03-16")
        page.get_by_label("Time").fill("11:00")
        page.get_by_label("Name").fill("Pat Impatient")
        page.get_by_label("Email").fill("pat@example.org")
        page.route("**/console/bookings/new/", lambda route: _hold_posts(route, posts))
        # when they press Book, and again while the first press is under way
        page.evaluate(PRESS_TWICE)
        page.wait_for_timeout(1000)
        sent = len(posts)
        posts[-1].fallback()
        page.get_by_text("Booked BK-").wait_for()
    # then one booking request went out, and one booking was made
    assert sent == 1
    assert Booking.objects.filter(customer_name="Pat Impatient").count() == 1


def test_each_remove_link_of_the_catalogue_names_what_it_removes_and_asks_first(daphne_server: str) -> None:
    # given the salon's hours every day and one closed date
    _salon()
    closed_date = "Remove the closed date 2027-03-20 (all services)"
    with logged_in_page(daphne_server, OWNER) as page:
        catalogue = f"{daphne_server}/console/bookings/services/"
        page.goto(catalogue)
        # when the owner (or their screen reader) looks for the link that removes Monday's hours
        monday = page.get_by_role("link", name="Remove all services' hours on Monday, 09:00\u201317:00").count()
        # and follows the one that removes the closed date, then thinks better of it
        page.get_by_role("link", name=closed_date).click()
        asked = page.get_by_role("heading", level=1).inner_text()
        page.get_by_role("link", name="Cancel", exact=True).click()
        page.wait_for_url(catalogue)
        kept = page.get_by_role("link", name=closed_date).count()
        # and follows it again, and confirms
        page.get_by_role("link", name=closed_date).click()
        page.get_by_role("button", name="Remove this closed date").click()
        page.get_by_text("Blackout date removed.").wait_for()
        listed = page.get_by_role("link", name=closed_date).count()
    # then each link is found by what it removes, the page asked naming the date, Cancel kept it, and
    # only the confirmation opened the date again
    assert monday == 1
    assert asked == f"{closed_date}?"
    assert (kept, listed) == (1, 0)
    assert not BlackoutDate.objects.exists()


# The box of each occurrence of ``code`` in the page's main text: its height, the line height of its
# element, and how many line boxes it spans (a code broken after "BK-" spans two).
CODE_BOXES = """(code) => {
    const boxes = [];
    const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        const text = walker.currentNode, at = text.data.indexOf(code);
        if (at < 0) continue;
        const range = document.createRange();
        range.setStart(text, at);
        range.setEnd(text, at + code.length);
        boxes.push({height: range.getBoundingClientRect().height, lines: range.getClientRects().length,
                    line: parseFloat(getComputedStyle(text.parentElement).lineHeight)});
    }
    return boxes;
}"""


def test_a_booking_code_never_wraps_on_a_phones_screen(daphne_server: str) -> None:
    # given a booking in the salon
    booking = _salon()
    pages = ["", "day/?date=2027-03-15", f"{booking.pk}/"]
    boxes: dict[str, list[dict[str, float]]] = {}
    with logged_in_page(daphne_server, OWNER) as page:
        # when the owner opens each page that shows its code on a phone 360 px wide
        page.set_viewport_size({"width": 360, "height": 740})
        for path in pages:
            page.goto(f"{daphne_server}/console/bookings/{path}")
            boxes[path] = page.evaluate(CODE_BOXES, booking.confirmation_code)
    # then the code is shown on each, every time on one line (not broken after "BK-")
    assert all(boxes.values()), boxes
    wrapped = {path: box for path, found in boxes.items() for box in found if box["lines"] != 1}
    assert not wrapped, wrapped
    assert all(box["height"] < 1.5 * box["line"] for found in boxes.values() for box in found), boxes


# Whether the page scrolls sideways, and for the message the element sticking out furthest past the
# window (its tag, class and right edge).
SIDEWAYS = """() => {
    const root = document.documentElement, right = el => el.getBoundingClientRect().right;
    const out = [...document.querySelectorAll('body *')].filter(el => right(el) > root.clientWidth + 1);
    const widest = out.sort((a, b) => right(b) - right(a))[0];
    const named = widest ? `${widest.tagName.toLowerCase()}.${widest.className} ${Math.round(right(widest))}px` : '';
    return {sideways: root.scrollWidth > root.clientWidth, widest: named};
}"""


def test_no_bookings_page_scrolls_sideways_on_a_phones_screen(daphne_server: str) -> None:
    # given the salon's bookings (one by a customer with a long name), its hours and a closed date
    booking = _salon()
    rule, blackout = AvailabilityRule.objects.filter(tenant=booking.tenant).first(), BlackoutDate.objects.get()
    assert rule is not None
    pages = [
        "",
        "day/?date=2027-03-15",
        f"{booking.pk}/",
        "new/",
        "services/",
        "services/new/",
        f"services/{booking.service_id}/",
        f"services/rules/{rule.pk}/delete/",
        f"services/blackouts/{blackout.pk}/delete/",
    ]
    found: dict[str, dict[str, object]] = {}
    with logged_in_page(daphne_server, OWNER) as page:
        # when the owner opens each bookings page on a phone 360 px wide
        page.set_viewport_size({"width": 360, "height": 740})
        for path in pages:
            page.goto(f"{daphne_server}/console/bookings/{path}")
            found[path] = page.evaluate(SIDEWAYS)
    # then none is wider than the screen: a wide table scrolls within its own box, long words wrap
    sideways = {path: seen["widest"] for path, seen in found.items() if seen["sideways"]}
    assert not sideways, "; ".join(f"{path}: {widest}" for path, widest in sideways.items())
