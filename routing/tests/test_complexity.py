from __future__ import annotations

import pytest

from routing.complexity import analyze


def test_complexity_simple_question_goes_to_tier1():
    result = analyze("What are your opening hours?")

    assert (result.score, result.tier, result.code) == (0.0, 1, False)


def test_complexity_factors_add_up_and_are_reported():
    result = analyze("How do I configure SSO and what happens if authentication fails?")

    assert result.factors == {"length": 0.0, "multi_question": 0.3, "technical_density": 0.4, "conditional": 0.1}
    assert result.score == 0.8
    assert result.tier == 3


def test_complexity_moderate_question_goes_to_tier2():
    result = analyze("Can I move my booking and also change the room?")

    assert result.factors["multi_question"] == 0.3
    assert result.tier == 2


def test_complexity_code_keywords_go_straight_to_tier3():
    result = analyze("Why does your API return 500?")

    assert result.code is True
    assert result.tier == 3


def test_complexity_long_question_scores_length():
    result = analyze(" ".join(["word"] * 31))

    assert result.factors["length"] == 0.2
    assert result.tier == 1


def test_complexity_long_question_scores_length_in_scripts_without_spaces():
    # 64 Japanese characters: 32 words (two characters a word, as grounding counts them)
    question = (
        "先月注文した商品がまだ届いていないのですが配送状況を確認して"
        "届かない場合は返金か再送をお願いできますでしょうか今すぐ知りたいです"
    )

    result = analyze(question)

    assert len(question) == 64
    assert result.factors["length"] == 0.2
    assert analyze(question[:60]).factors["length"] == 0.0  # 30 words


def test_complexity_several_questions_with_full_width_question_marks():
    result = analyze("返金できますか？送料はいくらですか？")  # noqa: RUF001

    assert result.factors["multi_question"] == 0.3
    assert result.tier == 2


def test_complexity_code_keywords_are_words_next_to_japanese_or_chinese_too():
    assert analyze("APIの使い方を教えてください").code is True
    assert analyze("如何调用API？").tier == 3  # noqa: RUF001


@pytest.mark.parametrize(
    "question",
    [
        "I lost my booking confirmation code, can you resend it?",
        "Do you have a promo code?",
        "Is there a dress code?",
        "Where do I find my BK- booking code?",
        "My discount code doesn't work",
        "Can I use two voucher codes or a coupon code?",
        "What is your zip code?",
        "Which postal code should I use for delivery?",
        "I need to configure my promo code",  # a technical word, but the code is still a promo code
        "The card reader shows error code 5",  # an error code without anything technical around it
        "Can I get a code?",
    ],
)
def test_complexity_everyday_codes_are_not_programming(question):
    result = analyze(question)

    assert result.code is False
    assert result.tier == 1


@pytest.mark.parametrize(
    "question",
    [
        "Here is my code:\n```js\nwidget.init({key: 'abc'});\n```\nWhy is nothing shown?",
        "Calling `widget.init()` shows nothing, what am I missing?",
        "I get error code 401 when the webhook fires",
        "Where is the source code of the embed widget?",
        "Can you send a code sample for the booking widget?",
        "The page throws TypeError: cannot read properties of undefined",
        "It fails with\n  at com.acme.Client.send(Client.java:42)\n  at com.acme.Main.run(Main.java:7)",
        'It fails with File "sync.py", line 12, in run',
        "The code I wrote to integrate your calendar fails",
    ],
)
def test_complexity_programming_questions_go_to_tier3(question):
    result = analyze(question)

    assert result.code is True
    assert result.tier == 3


@pytest.mark.parametrize(
    "question",
    [
        "Can you make an exception for my late cancellation?",
        "Are there any exceptions to the cancellation policy?",
        "Does the sauna function on Sundays?",
        "What does the function room cost?",
        "Can we hold a private function in the garden?",
        "Can you debug why my booking was charged twice?",
        "I need to configure my booking, can you make an exception?",  # technical word, everyday exception
    ],
)
def test_complexity_everyday_function_exception_and_debug_are_not_programming(question):
    result = analyze(question)

    assert result.code is False
    assert result.tier < 3


@pytest.mark.parametrize(
    "question",
    [
        "The function call to your booking endpoint hangs",
        "Which function should I call to open the chat widget?",
        "The callback function never runs",
        "The widget throws an exception on load",
        "I get an uncaught exception after login",
        "Where do I find the debug log?",
        "How do I turn on debug mode for the widget?",
        "Can you help me debug my code?",
        "Can you debug the webhook for me?",  # debug with something technical to debug
        "The function I wrote to integrate your calendar fails",
        "Which exception does the sso login raise?",
    ],
)
def test_complexity_programming_function_exception_and_debug_go_to_tier3(question):
    result = analyze(question)

    assert result.code is True
    assert result.tier == 3


@pytest.mark.parametrize(
    "question",
    [
        "I want to configure SSO for my team, my code is 1234",
        "How do I integrate the calendar? The access code: 5521",
    ],
)
def test_complexity_a_code_with_its_value_is_not_programming_in_a_technical_question(question):
    assert analyze(question).code is False


@pytest.mark.parametrize(
    "question",
    [
        "The webhook fails and the error code is 401",
        "After the sso login the status-code: 500 comes back",
        "I configured the webhook but my code is broken",
    ],
)
def test_complexity_error_codes_and_code_without_a_value_stay_programming_in_a_technical_question(question):
    assert analyze(question).code is True
