from __future__ import annotations

import pytest

from routing.terms import stream_pieces


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ("We open at 7am [1].", ["We ", "open ", "at ", "7am ", "[1]."]),
        ("", []),
        (" two  spaces\nand a line ", [" ", "two ", " ", "spaces\nand ", "a ", "line "]),
        (
            "返金は元のお支払い方法に戻されます。 [1]",
            ["返金は元", "のお支払", "い方法に", "戻されま", "す", "。 ", "[1]"],
        ),
        ("APIの使い方", ["API", "の使い方"]),
        # Thai vowel signs and tone marks stay with their letter
        ("ส่งไปต่างประเทศได้ไหม", ["ส่งไป", "ต่างป", "ระเท", "ศได้ไ", "หม"]),
    ],
)
def test_stream_pieces_are_words_or_a_few_characters_of_scripts_without_spaces(text: str, pieces: list[str]):
    assert stream_pieces(text) == pieces
    assert "".join(pieces) == text


def test_stream_pieces_of_spaced_text_are_its_words_with_their_space():
    text = "Hello  there,\nfriend. How are you? "
    pieces = text.split(" ")
    expected = [piece + " " for piece in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])

    assert stream_pieces(text) == expected
