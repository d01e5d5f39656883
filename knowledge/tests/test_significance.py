"""Paired comparisons of two modes over the same queries (knowledge/significance.py)."""

from __future__ import annotations

import math

import pytest

from knowledge.evaluation import per_query_ndcg
from knowledge.significance import paired_bootstrap


def test_a_constant_gain_has_an_interval_of_exactly_that_gain():
    # given mode a scoring 0.1 above b on every query
    b = {f"q{n}": n / 10 for n in range(8)}
    a = {query: score + 0.1 for query, score in b.items()}
    # then every resample's mean difference is 0.1
    result = paired_bootstrap(a, b, resamples=200)
    assert result.mean_difference == pytest.approx(0.1)
    assert (result.low, result.high) == (pytest.approx(0.1), pytest.approx(0.1))
    assert (result.queries_better, result.queries_worse) == (8, 0)


def test_wins_and_losses_that_cancel_give_an_interval_around_zero():
    # given 50 queries a wins by 0.5 and 50 it loses by 0.5
    a = {f"q{n}": 1.0 if n % 2 else 0.0 for n in range(100)}
    b = {f"q{n}": 0.5 for n in range(100)}
    result = paired_bootstrap(a, b)
    # then the mean is 0 and the interval straddles it, about ±1.96 x 0.5 / 10 wide
    assert result.mean_difference == pytest.approx(0.0)
    assert -0.13 < result.low < -0.07 and 0.07 < result.high < 0.13
    assert (result.queries_better, result.queries_worse) == (50, 50)


def test_the_interval_is_the_percentiles_of_the_resampled_means():
    # given two queries, differences 0 and 1: a resampled mean is 0, 0.5 or 1 with odds 1:2:1
    result = paired_bootstrap({"q1": 0.0, "q2": 1.0}, {"q1": 0.0, "q2": 0.0}, resamples=4000, seed=7)
    # then the 2.5th percentile is 0 and the 97.5th is 1
    assert (result.low, result.high) == (0.0, 1.0)
    # and a 40 % interval sits on the middle value
    narrow = paired_bootstrap({"q1": 0.0, "q2": 1.0}, {"q1": 0.0, "q2": 0.0}, resamples=4000, confidence=0.4)
    assert (narrow.low, narrow.high) == (0.5, 0.5)


def test_the_same_seed_gives_the_same_interval():
    a = {f"q{n}": (n * 37 % 11) / 11 for n in range(60)}
    b = {f"q{n}": (n * 17 % 13) / 13 for n in range(60)}
    assert paired_bootstrap(a, b, seed=3) == paired_bootstrap(a, b, seed=3)


def test_json_rounds_and_names_the_interval_by_its_confidence():
    result = paired_bootstrap({"q1": 0.123456, "q2": 0.5}, {"q1": 0.0, "q2": 0.5}, resamples=10)
    figures = result.as_json()
    assert figures["mean_difference"] == 0.0617
    assert figures["interval_95"] == [0.0, 0.1235]
    assert (figures["queries_better"], figures["queries_worse"], figures["resamples"]) == (1, 0, 10)


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        ({"q1": 1.0}, {"q2": 1.0}, "same queries"),
        ({}, {}, "at least one query"),
    ],
)
def test_different_or_empty_query_sets_are_refused(a, b, message):
    with pytest.raises(ValueError, match=message):
        paired_bootstrap(a, b)


def test_bad_resamples_or_confidence_are_refused():
    with pytest.raises(ValueError, match="resamples"):
        paired_bootstrap({"q": 1.0}, {"q": 0.0}, resamples=0)
    with pytest.raises(ValueError, match="confidence"):
        paired_bootstrap({"q": 1.0}, {"q": 0.0}, confidence=1.0)


def test_per_query_ndcg_scores_every_judged_query_unanswered_ones_at_zero():
    qrels = {"q1": {"d1": 1}, "q2": {"d3": 1, "d4": 1}, "q3": {"d9": 1}}
    run = {"q1": ["d2", "d1"], "q2": ["d3", "d5"], "unjudged": ["d1"]}
    scores = per_query_ndcg(qrels, run)
    assert set(scores) == {"q1", "q2", "q3"}
    assert scores["q1"] == pytest.approx(1 / 1.5849625007211562)  # relevant at rank 2
    assert scores["q2"] == pytest.approx(1 / (1 + 1 / 1.5849625007211562))  # one of two at rank 1
    assert scores["q3"] == 0.0


def test_an_interval_above_0_is_a_gain_below_0_a_loss_across_0_neither():
    gain = paired_bootstrap({"q1": 0.5, "q2": 0.7}, {"q1": 0.2, "q2": 0.3}, resamples=50)
    loss = paired_bootstrap({"q1": 0.2, "q2": 0.3}, {"q1": 0.5, "q2": 0.7}, resamples=50)
    noise = paired_bootstrap({"q1": 1.0, "q2": 0.0}, {"q1": 0.0, "q2": 1.0}, resamples=50)
    assert (gain.is_gain, gain.is_loss) == (True, False)
    assert (loss.is_gain, loss.is_loss) == (False, True)
    assert (noise.is_gain, noise.is_loss) == (False, False)
    assert gain.interval_text("nDCG@10") == "+0.3500 nDCG@10, 95 % interval [+0.3000, +0.4000]"


def test_per_query_ndcg_is_cut_at_k():
    # given two relevant documents, one ranked first and one eleventh, just past k
    qrels = {"q": {"a": 1, "b": 1}}
    run = {"q": ["a", *(f"other{n}" for n in range(9)), "b"]}
    # when / then only "a" counts at k = 10: DCG 1 against the ideal 1 + 1/log2(3)
    assert per_query_ndcg(qrels, run, k=10) == {"q": pytest.approx(1 / (1 + 1 / math.log2(3)))}
