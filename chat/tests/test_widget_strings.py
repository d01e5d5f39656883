"""``GET /api/v1/public/widget/strings/<tags>``: the widget's words in the page's language, for any page."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from chat.widget_phrases import WIDGET_PHRASES
from chat.widget_strings import MAX_AGE_S

PATH = "/api/v1/public/widget/strings/"


def _get(tags: str, **headers: str) -> Any:
    return Client().get(PATH + quote(tags, safe=","), headers=headers)


@pytest.mark.parametrize(
    ("tags", "language"),
    [
        ("de", "de"),
        ("de-AT", "de"),
        ("pt-BR", "pt"),
        ("zh-TW", "zh-Hant"),
        ("zh-HK", "zh-Hant"),
        ("zh-Hant-HK", "zh-Hant"),
        ("zh-CN", "zh"),
        ("ja", "ja"),
        ("fr-CH,fr,en-US", "fr"),  # the page's or browser's order: the first one of ours
        ("sv,de-DE", "de"),  # one we do not speak is passed over
        ("en-GB", "en"),
        ("ar", "ar"),
        ("ar-EG", "ar"),  # Egyptian Arabic: the row of Modern Standard Arabic
        ("he,ar-SA", "ar"),
    ],
)
def test_the_words_are_those_of_the_first_language_of_ours(tags: str, language: str) -> None:
    response = _get(tags)
    assert response.status_code == 200
    body = response.json()
    assert body == {"language": language, "strings": WIDGET_PHRASES[language]}


def test_the_answer_is_public_cacheable_and_readable_from_any_page() -> None:
    # when a tenant's website asks for German words
    response = _get("de", Origin="https://shop.example.com")
    # then any page may read them, and browsers and shared caches keep them
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == f"public, max-age={MAX_AGE_S}"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Set-Cookie" not in response and "Cookie" not in response.get("Vary", "")
    assert response.json()["strings"]["open_chat"] == "Chat öffnen"


def test_an_arabic_page_gets_arabic_words() -> None:
    body = _get("ar-EG").json()
    assert body["language"] == "ar"
    assert (body["strings"]["open_chat"], body["strings"]["talk_to_human"]) == ("فتح الدردشة", "التحدث إلى موظف")
    # the result sentences are the booking table's own
    assert body["strings"]["result_canceled"] == "تم إلغاء حجزك."


@pytest.mark.parametrize(
    "tags",
    ["he", "sv", "xx-YY", "*", "de;q=0", "de;q=zz", "\x00", "😀", "-", "a" * 300, "de," * 100],
)
def test_a_language_we_do_not_speak_or_cannot_read_gets_english(tags: str) -> None:
    response = _get(tags)
    assert response.status_code == 200
    assert response.json() == {"language": "en", "strings": WIDGET_PHRASES["en"]}


def test_only_reading_is_allowed() -> None:
    response = Client().post(PATH + "de", data="{}", content_type="application/json")
    assert response.status_code == 405
    assert Client().head(PATH + "de").status_code == 200


@settings(max_examples=150, derandomize=True, database=None, deadline=None)
@given(st.text(max_size=60))
def test_no_path_is_answered_with_a_server_error(tags: str) -> None:
    # a "/" in the tags makes another path, one that names nothing: 404
    response = Client().get(PATH + quote(tags, safe=""))
    assert response.status_code in (200, 404), (tags, response.status_code)
    if response.status_code == 200:
        assert response.json()["strings"] == WIDGET_PHRASES[response.json()["language"]]
