"""The error sentences table: every language says every error, with the same placeholders."""

from __future__ import annotations

import dataclasses

import pytest

from bookings.proposals import PROPOSAL_NOT_FOUND
from chat.limits import TOO_MANY_CONVERSATIONS
from chat.phrases import ERROR_PHRASES, ErrorText, error_message, said, sentence_of
from chat.services import IDENTITY_BELONGS_TO_OTHER
from escalations import services as escalation_services
from escalations.limits import RATE_LIMITED_MESSAGE
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


# Other modules' customer-facing errors, and the sentence of ours each one is (found by its English)
OTHER_MODULES_ERRORS = {
    TOO_MANY_CONVERSATIONS: ErrorText.TOO_MANY_CHATS,
    escalation_services.NO_CONVERSATION.message: ErrorText.HANDOFF_CHAT_ENDED,
    RATE_LIMITED_MESSAGE: ErrorText.HANDOFF_TOO_OFTEN,
    PROPOSAL_NOT_FOUND: ErrorText.PROPOSAL_NOT_FOUND,
    IDENTITY_BELONGS_TO_OTHER: ErrorText.IDENTITY_CONFLICT,
    # every rejection of an identity token (a new one without its sentence fails here)
    **{rejection.value: ErrorText[f"IDENTITY_{rejection.name}"] for rejection in IdentityRejection},
}


@pytest.mark.parametrize(("message", "text"), OTHER_MODULES_ERRORS.items())
def test_other_modules_customer_errors_are_found_by_their_english(message: str, text: ErrorText):
    # a module's sentence edited without the table's English would silently fall back to English
    assert sentence_of(message) is text


def test_said_translates_our_sentences_and_leaves_others_as_they_are():
    assert said(IDENTITY_BELONGS_TO_OTHER, language="de") == (
        "Dieses Gespräch gehört einem anderen angemeldeten Kunden; bitte beginnen Sie ein neues Gespräch."
    )
    assert said("Not one of ours.", language="de") == "Not one of ours."
    assert sentence_of("'{field}' is required.") is None  # a sentence with placeholders is never matched
