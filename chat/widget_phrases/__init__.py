"""The chat widget's own words (``static/widget/supportai.js``) in the customer's language.

What the server says (errors, booking results) is already in the customer's language (``chat/phrases/``,
``bookings/phrases/``); this table is what the widget says by itself: its launcher, buttons, labels,
placeholders, status lines, the rating, the feedback buttons and the booking pane. The widget fetches
one language's row from ``GET /api/v1/public/widget/strings/<tags>`` (``chat/widget_strings.py``),
chosen as the server chooses the language of an ``Accept-Language`` header
(``chat.public_language.accepted_language``: a tag, else its base language; ``zh-TW``/``zh-HK``:
``zh-Hant``; English when none is ours), and keeps the English row as its fallback (a test holds the
two equal).

English is the reference: every language has its keys with the same ``{name}`` placeholders, in the
languages of ``chat/phrases/`` (a test holds both). The result sentences of a booking the widget shows
for a server that sends none (``result_*``) are the booking table's own (``bookings/phrases/``), so they
are said once.

The translations other than English are machine-drafted and have not been reviewed by native
speakers yet.
"""

from __future__ import annotations

from bookings.phrases import BOOKING_PHRASES, BookingPhrases
from chat.widget_phrases.arabic import ARABIC
from chat.widget_phrases.east_asian import EAST_ASIAN
from chat.widget_phrases.english import ENGLISH
from chat.widget_phrases.northern import NORTHERN
from chat.widget_phrases.romance import ROMANCE
from chat.widget_phrases.south_asian import SOUTH_ASIAN
from routing.language import DEFAULT

__all__ = ["WIDGET_PHRASES", "widget_strings"]


def _results(phrases: BookingPhrases) -> dict[str, str]:
    """The ``proposal.result`` sentences of an executed booking action, as the server says them."""
    return {
        "result_booked": phrases.booked,
        "result_held": phrases.held_until_paid,
        "result_canceled": phrases.canceled,
        "result_moved": phrases.moved,
    }


_OWN: dict[str, dict[str, str]] = {DEFAULT: ENGLISH, **ROMANCE, **NORTHERN, **EAST_ASIAN, **SOUTH_ASIAN, **ARABIC}
WIDGET_PHRASES: dict[str, dict[str, str]] = {
    language: {**own, **_results(BOOKING_PHRASES[language])} for language, own in _OWN.items()
}


def widget_strings(language: str) -> dict[str, str]:
    """The widget's words in ``language``, English when it has no row."""
    return WIDGET_PHRASES.get(language, WIDGET_PHRASES[DEFAULT])
