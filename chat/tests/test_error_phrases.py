"""The error sentences table: every language says every error, with the same placeholders."""

from __future__ import annotations

import dataclasses

import pytest

from chat.phrases import ERROR_PHRASES, ErrorText, error_message
from chat.services import IDENTITY_REFUSALS
from routing.phrases import PHRASES
from routing.tests.test_language import placeholders
from supportai.identity import IdentityRejection


def test_every_error_text_is_a_sentence_of_the_table():
    assert {text.value for text in ErrorText} == {field.name for field in dataclasses.fields(ERROR_PHRASES["en"])}


def test_error_phrases_speak_the_languages_of_the_assistants_phrases():
    assert ERROR_PHRASES.keys() == PHRASES.keys()


@pytest.mark.parametrize("language", sorted(ERROR_PHRASES))
def test_error_phrases_of_every_language_have_the_english_keys_and_placeholders(language: str):
    english = ERROR_PHRASES["en"].__dict__
    sentences = ERROR_PHRASES[language].__dict__
    assert sentences.keys() == english.keys()
    for key, sentence in sentences.items():
        assert sentence and sentence == sentence.strip(), key
        assert placeholders(sentence) == placeholders(english[key]), key


def test_error_message_fills_placeholders_and_falls_back_to_english():
    assert error_message(ErrorText.FIELD_TOO_LONG, language="de", field="text", limit=2000) == (
        "'text' ist länger als 2000 Zeichen."
    )
    assert error_message(ErrorText.NOT_JSON, language="uk") == "Frames must be JSON objects."


def test_a_client_sent_value_is_not_read_as_a_format_string():
    # the frame type the client sent is a value, never part of the template
    assert error_message(ErrorText.UNKNOWN_TYPE, language="en", kind="'{0.__class__}'") == (
        "Unknown frame type '{0.__class__}'."
    )


def test_every_identity_refusal_has_its_sentence():
    # a rejection added to supportai.identity without its sentence would fail where a token is refused
    assert IDENTITY_REFUSALS.keys() == set(IdentityRejection)
    assert error_message(IDENTITY_REFUSALS[IdentityRejection.EXPIRED], language="de") == (
        "Das Identitätstoken ist abgelaufen; bitte signieren Sie ein neues."
    )
