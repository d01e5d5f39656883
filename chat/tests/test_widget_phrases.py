"""The widget's own words: every language says every one with English's placeholders, and the widget's
copy of English (its fallback) and the keys it asks for are the table's."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from chat.phrases import ERROR_PHRASES
from chat.widget_phrases import WIDGET_PHRASES, widget_strings
from routing.tests.test_language import placeholders

WIDGET = (Path(__file__).resolve().parents[2] / "static" / "widget" / "supportai.js").read_text(encoding="utf-8")
ENGLISH_BLOCK = re.compile(r"/\* BEGIN ENGLISH \*/(.*?)/\* END ENGLISH \*/", re.DOTALL)


def _widget_outside_english() -> str:
    return ENGLISH_BLOCK.sub("", WIDGET)


def test_widget_phrases_speak_the_languages_of_the_servers_sentences():
    assert WIDGET_PHRASES.keys() == ERROR_PHRASES.keys()


@pytest.mark.parametrize("language", sorted(WIDGET_PHRASES))
def test_widget_phrases_of_every_language_have_the_english_keys_and_placeholders(language: str):
    english = WIDGET_PHRASES["en"]
    words = WIDGET_PHRASES[language]
    assert words.keys() == english.keys()
    for key, sentence in words.items():
        assert sentence and sentence == sentence.strip(), key
        assert placeholders(sentence) == placeholders(english[key]), key


def test_languages_other_than_english_are_translated():
    # a row copied from English would pass the drift test; a few words are the same in some (Conversation)
    english = WIDGET_PHRASES["en"]
    for language, words in WIDGET_PHRASES.items():
        untranslated = [key for key in english if words[key] == english[key]]
        assert language == "en" or len(untranslated) <= 4, (language, untranslated)


def test_the_widgets_english_is_the_tables():
    # the widget's fallback, used until (or instead of) the fetched row, cannot drift from the table
    block = ENGLISH_BLOCK.search(WIDGET)
    assert block is not None
    assert json.loads(block[1]) == WIDGET_PHRASES["en"]


def test_every_key_the_widget_says_is_in_the_table_and_every_one_is_said():
    code = _widget_outside_english()
    asked = set(re.findall(r"""\bt\(\s*"(\w+)"|"t(?:-[\w-]+)?":\s*"(\w+)"|\bt:\s*"(\w+)"|field\("(\w+)\"""", code))
    asked_keys = {key for match in asked for key in match if key}
    literals = set(re.findall(r'"(\w+)"', code))
    assert asked_keys <= WIDGET_PHRASES["en"].keys(), asked_keys - WIDGET_PHRASES["en"].keys()
    # keys chosen by a table in the widget (stars, booking states, payment states) appear as literals
    assert WIDGET_PHRASES["en"].keys() <= literals, WIDGET_PHRASES["en"].keys() - literals


def test_widget_strings_fall_back_to_english():
    assert widget_strings("de")["open_chat"] == "Chat öffnen"
    assert widget_strings("uk") == WIDGET_PHRASES["en"]
