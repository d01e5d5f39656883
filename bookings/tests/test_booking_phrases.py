"""The booking sentences table: every language says every booking error and result, with English's placeholders."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from bookings.dates import said_time
from bookings.phrases import BOOKING_PHRASES, BookingText, booking_message, english
from bookings.services import INVALID, BookingError
from chat.phrases import ERROR_PHRASES
from chat.protocol import ErrorCode, ProtocolError
from routing.tests.test_language import placeholders

SAMPLE_PARAMS = {
    "first": "2000-01-01",
    "last": "2036-12-07",
    "field": "date",
    "limit": 14,
    "service": "Massage",
    "when": "Wednesday 11 March 2026 at 10:00",
    "old": "Wednesday 11 March 2026 at 10:00",
    "new": "Thursday 12 March 2026 at 11:00",
    "name": "Pat",
    "email": "pat@x.org",
    "code": "ABC123",
    "price": "95.00 EUR",
}


def test_every_booking_text_is_a_sentence_of_the_table():
    assert {text.value for text in BookingText} == {field.name for field in dataclasses.fields(BOOKING_PHRASES["en"])}


def test_booking_phrases_speak_the_languages_of_the_chats_errors():
    assert BOOKING_PHRASES.keys() == ERROR_PHRASES.keys()


@pytest.mark.parametrize("language", sorted(BOOKING_PHRASES))
def test_every_row_has_every_sentence_with_the_english_placeholders(language: str):
    english_row = BOOKING_PHRASES["en"].__dict__
    sentences = BOOKING_PHRASES[language].__dict__
    assert sentences.keys() == english_row.keys()
    for key, sentence in sentences.items():
        assert sentence and sentence == sentence.strip(), key
        assert placeholders(sentence) == placeholders(english_row[key]), key


@pytest.mark.parametrize("language", sorted(BOOKING_PHRASES))
def test_every_sentence_formats_with_sample_parameters(language: str):
    for text in BookingText:
        said = booking_message(text, language=language, **SAMPLE_PARAMS)
        assert "{" not in said and "}" not in said, (language, text)
        assert text.say(language, **SAMPLE_PARAMS) == said


def test_a_language_without_a_row_is_english():
    assert booking_message(BookingText.SLOT_TAKEN, language="uk") == english(BookingText.SLOT_TAKEN)
    assert english(BookingText.DAYS_RANGE, limit=14) == "'days' must be between 1 and 14."
    assert booking_message(BookingText.DAYS_RANGE, language="de", limit=14) == "'days' muss zwischen 1 und 14 liegen."


def test_an_arabic_booking_is_said_in_arabic_with_its_code_and_time_as_they_are():
    when = said_time(datetime(2026, 3, 11, 10, 0), "ar")
    assert booking_message(BookingText.BOOKED, language="ar", code="ABC123") == (
        "تم الحجز! رمز التأكيد الخاص بك هو ABC123. أرسلنا إليك التفاصيل عبر البريد الإلكتروني."
    )
    assert booking_message(BookingText.MOVED, language="ar", when=when) == (
        "تم نقل حجزك إلى الأربعاء، 11 مارس 2026، 10:00."
    )


def test_an_error_can_be_raised_with_a_sentence_that_names_a_code():
    # given sentences with a {code} placeholder, as a booking's confirmation code
    # when a booking error and a protocol error are made of one, with that placeholder
    booking_error = BookingError.of(INVALID, BookingText.BOOKED, code="BK-7F3Q")
    protocol_error = ProtocolError.of(ErrorCode.BAD_REQUEST, BookingText.HELD_UNTIL_PAID, code="BK-7F3Q")
    # then the placeholder is the sentence's, not the error's own code
    assert booking_error.code == INVALID
    assert "BK-7F3Q" in booking_error.message
    assert protocol_error.code == ErrorCode.BAD_REQUEST
    assert "BK-7F3Q" in protocol_error.message
