from __future__ import annotations

from dataclasses import replace

import pytest

from routing.contracts import ToolCall, ToolResult, ToolRound
from routing.providers.base import ChatMessage, ProviderRequest, SystemBlock
from routing.tokens import estimate_tokens


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("", 0),
        ("abcd", 1),
        ("We open at 7am " * 10, 38),  # 150 characters, ~4 a token, rounded up
        ("返金ポリシー", 6),  # Chinese, Japanese and Korean: ~1 token a character
        ("배송비는 얼마인가요?", 9 + 1),  # 9 syllables, then " " and "?" make one more
        ("送料は5,000円以上です。 [1]", 9 + 3),  # 9 Japanese characters (。 included), then "5,000 [1]"
        # Thai and Devanagari, vowel signs and tone marks included: ~1 token a character, not 4 a token
        ("ส่งไปต่างประเทศได้ไหม", 21),
        ("धनवापसी कितने दिनों में मिलती है?", 27 + 2),  # 27 Devanagari characters, then 5 spaces and "?"
    ],
)
def test_estimate_tokens_counts_dense_scripts_a_token_a_character(text: str, tokens: int):
    assert estimate_tokens(text) == tokens


def test_estimated_prompt_tokens_count_the_tool_rounds_sent_after_the_messages():
    bare = ProviderRequest(
        model="m", system=(SystemBlock("Be brief."),), messages=(ChatMessage("user", "Book me in"),),
        temperature=0.0, max_tokens=16,
    )  # fmt: skip
    call = ToolCall(id="t1", name="book_class", arguments={"class_id": 4})
    result = ToolResult(call_id="t1", name="book_class", content='{"booked": true, "class": "Yoga at 7"}')
    with_round = replace(bare, tool_rounds=(ToolRound(text="Booking now.", calls=(call,), results=(result,)),))

    added = with_round.estimated_prompt_tokens - bare.estimated_prompt_tokens

    expected = (
        estimate_tokens("Booking now.") + estimate_tokens('book_class{"class_id": 4}') + estimate_tokens(result.content)
    )
    assert added == expected
