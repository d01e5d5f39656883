from __future__ import annotations

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
