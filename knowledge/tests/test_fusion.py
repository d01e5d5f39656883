from __future__ import annotations

import math

import pytest

from knowledge import fusion
from knowledge.fusion import (
    DENSE_MARGIN_SCALE,
    KNOWN_SHARE_POWER,
    SURPRISE_SPAN,
    SURPRISE_START,
    TIE_BOOST,
    WEIGHTS,
    QueryType,
    classify_query,
    convex,
    identifiers,
    query_weights,
    rrf,
    standardised,
    top_margin,
)


def test_rrf_on_hand_made_rankings():
    fused = dict(rrf({"bm25": ["a", "b", "c"], "dense": ["b", "d"]}, k=60))
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["d"] == pytest.approx(1 / 62)
    assert [key for key, _ in rrf({"bm25": ["a", "b", "c"], "dense": ["b", "d"]})][:2] == ["b", "a"]


def test_rrf_breaks_ties_by_first_appearance():
    # equal scores: the key first met (rankings in mapping order, then rank) comes first, whatever its name
    assert [key for key, _ in rrf({"bm25": ["a"], "dense": ["b"]})] == ["a", "b"]
    assert [key for key, _ in rrf({"bm25": ["b"], "dense": ["a"]})] == ["b", "a"]
    assert [key for key, _ in rrf({"dense": ["b"], "bm25": ["a"]})] == ["b", "a"]


def test_rrf_breaks_a_weighted_tie_by_first_appearance():
    # given: "z" second in BM25 (0.4 / (60 + 2)) and "a" 33rd in dense (0.6 / (60 + 33)), the same score
    dense = [f"d{n:02}" for n in range(32)] + ["a"]
    # when
    fused = rrf({"bm25": ["x", "z"], "dense": dense}, weights={"bm25": 0.4, "dense": 0.6})
    # then: they tie exactly and come last, BM25's first
    scores = dict(fused)
    assert scores["z"] == scores["a"] == 0.4 / 62 == 0.6 / 93
    assert [key for key, _ in fused][-2:] == ["z", "a"]


def test_rrf_weights_scale_each_ranking():
    fused = dict(rrf({"bm25": ["a"], "dense": ["b"]}, weights={"bm25": 0.3, "dense": 0.7}))
    assert fused == pytest.approx({"a": 0.3 / 61, "b": 0.7 / 61})


def test_standardised_scores_use_the_mean_and_spread_of_the_window():
    z = math.sqrt(1.5)  # 6 / population standard deviation of (12, 6, 0)
    scores, absent = standardised([("a", 12.0), ("b", 6.0), ("c", 0.0)])
    assert scores == pytest.approx({"a": z, "b": 0.0, "c": -z})
    assert absent == pytest.approx(-z)
    # only the first two set the mean (8) and spread (2); the third lies far below them
    assert standardised([("a", 10.0), ("b", 6.0), ("c", 2.0)], window=2) == ({"a": 1.0, "b": -1.0, "c": -3.0}, -3.0)


def test_standardised_lists_without_spread():
    assert standardised([("a", 3.0), ("b", 3.0)]) == ({"a": 1.0, "b": 1.0}, 0.0)
    assert standardised([("a", 5.0)]) == ({"a": 1.0}, 0.0)
    assert standardised([("a", 5.0), ("b", 4.0)], window=1) == ({"a": 1.0, "b": 0.0}, 0.0)
    assert standardised([]) == ({}, 0.0)


def test_convex_on_hand_made_scores():
    z = math.sqrt(1.5)
    fused = convex(
        {"bm25": [("a", 12.0), ("b", 6.0), ("c", 0.0)], "dense": [("b", 0.9), ("c", 0.5), ("d", 0.1)]},
        weights={"bm25": 0.3, "dense": 0.7},
    )
    # a is missing from dense and d from bm25: each gets that list's lowest score, -z
    assert dict(fused) == pytest.approx({"a": 0.3 * z - 0.7 * z, "b": 0.7 * z, "c": -0.3 * z, "d": -z})
    assert [key for key, _ in fused] == ["b", "c", "a", "d"]


def test_convex_lone_keyword_match_beats_what_keywords_did_not_find():
    # a booking reference in one chunk: BM25 returns it alone; dense prefers another passage
    fused = convex(
        {"bm25": [("ref", 9.0)], "dense": [("other", 0.8), ("ref", 0.6), ("third", 0.5)]},
        weights={"bm25": 0.85, "dense": 0.15},
    )
    assert [key for key, _ in fused] == ["ref", "other", "third"]


def test_convex_breaks_ties_by_rank_fusion():
    # equal normalised totals; the dense ranking (weighted more) decides
    lopsided = convex(
        {"bm25": [("x", 1.0), ("y", 1.0)], "dense": [("y", 0.5), ("x", 0.5)]}, weights={"bm25": 0.4, "dense": 0.6}
    )
    assert [key for key, _ in lopsided] == ["y", "x"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("What does error JS-PAY-402 mean?", QueryType.EXACT_MATCH),
        ('Where is "hot stone ritual" described?', QueryType.EXACT_MATCH),
        ("How do I reset my app password?", QueryType.TECHNICAL),
        ("hi, I'm wondering whether you could help me move my appointment", QueryType.CONVERSATIONAL),
        ("What is the cancellation policy", QueryType.CONCEPTUAL),
    ],
)
def test_classify_query(query, expected):
    assert classify_query(query) == expected


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("error JS-PAY-402 and order ab_12", ["JS-PAY-402", "ab_12"]),
        ("SKU AB123, not check-in or e-mail", ["AB123"]),
        ("ab-cd--3 is two words and a digit", []),
        ("x-y-z1 then 'COVID-19'", ["x-y-z1", "COVID-19"]),
    ],
)
def test_identifiers_are_runs_of_letters_and_digits_holding_both(query, found):
    assert identifiers(query) == found


@pytest.mark.timeout(5)
def test_identifiers_scan_a_long_hyphenated_query_once():
    # the pattern with lookaheads took ~20 s here (quadratic); one pass takes milliseconds
    assert identifiers("a-" * 30_000 + "b") == [] and identifiers("a-" * 30_000 + "1") == ["a-" * 30_000 + "1"]


def test_identifier_that_is_common_in_the_corpus_is_not_exact_match():
    assert classify_query("Is COVID-19 airborne?", is_rare=lambda found: False) == QueryType.CONCEPTUAL
    assert classify_query("Is COVID-19 airborne?", is_rare=lambda found: True) == QueryType.EXACT_MATCH


@pytest.mark.parametrize("query_type", [QueryType.CONCEPTUAL, QueryType.CONVERSATIONAL, QueryType.TECHNICAL])
def test_query_weights_scale_keywords_by_a_power_of_the_known_share(query_type):
    assert query_weights(query_type) == WEIGHTS[query_type]
    half = query_weights(query_type, known_share=0.5)
    assert half["bm25"] == pytest.approx(WEIGHTS[query_type]["bm25"] * 0.5**KNOWN_SHARE_POWER)
    assert half["bm25"] < WEIGHTS[query_type]["bm25"] / 100  # half the words unknown: keywords all but mute
    assert half["bm25"] + half["dense"] == pytest.approx(1.0)
    assert query_weights(query_type, known_share=0.0) == {"bm25": 0.0, "dense": 1.0}
    assert query_weights(query_type, known_share=3.0) == WEIGHTS[query_type]
    assert query_weights(query_type, known_share=-1.0) == {"bm25": 0.0, "dense": 1.0}


@pytest.mark.parametrize("query_type", [QueryType.CONCEPTUAL, QueryType.CONVERSATIONAL, QueryType.TECHNICAL])
def test_query_weights_give_keywords_most_weight_when_dense_is_tied(query_type):
    base = WEIGHTS[query_type]["bm25"]
    tied = query_weights(query_type, dense_margin=0.0)
    assert tied["bm25"] == pytest.approx(base * TIE_BOOST) and tied["dense"] == pytest.approx(1 - base * TIE_BOOST)
    # e times less for every DENSE_MARGIN_SCALE of cosine between dense's two best
    assert query_weights(query_type, dense_margin=DENSE_MARGIN_SCALE)["bm25"] == pytest.approx(
        base * TIE_BOOST / math.e
    )
    assert query_weights(query_type, dense_margin=2 * DENSE_MARGIN_SCALE)["bm25"] == pytest.approx(
        base * TIE_BOOST / math.e**2
    )
    assert query_weights(query_type, dense_margin=1.0)["bm25"] < 0.0001
    assert query_weights(query_type, dense_margin=-0.2) == tied  # a margin is never negative
    both = query_weights(query_type, known_share=0.5, dense_margin=DENSE_MARGIN_SCALE, keyword_scale=2.0)
    assert both["bm25"] == pytest.approx(base * 0.5**KNOWN_SHARE_POWER * TIE_BOOST / math.e * 2)


def test_exact_identifiers_keep_their_weights_whatever_dense_says():
    assert query_weights(QueryType.EXACT_MATCH, dense_margin=0.3) == WEIGHTS[QueryType.EXACT_MATCH]
    assert query_weights(QueryType.EXACT_MATCH, dense_margin=0.0) == WEIGHTS[QueryType.EXACT_MATCH]


def test_top_margin_is_the_gap_between_the_two_best_scores():
    assert top_margin([("a", 0.9), ("b", 0.65), ("c", 0.1)]) == pytest.approx(0.25)
    assert top_margin([("a", 0.9)]) == 0.0
    assert top_margin([]) == 0.0


def test_keywords_break_a_dense_near_tie_but_not_a_confident_dense_ranking():
    # given BM25 sure of "b" and two dense rankings of the same parents, one near-tied, one confident
    keywords = [("b", 12.0), ("a", 4.0), ("c", 3.5), ("d", 3.0), ("e", 2.5)]
    near_tie = [("a", 0.71), ("b", 0.70), ("c", 0.52), ("d", 0.50), ("e", 0.45)]
    confident = [("a", 0.80), ("b", 0.70), ("c", 0.52), ("d", 0.50), ("e", 0.45)]

    def fused(dense, weights):
        return dict(convex({"bm25": keywords, "dense": dense}, weights=weights))

    def by_margin(dense):
        return fused(dense, query_weights(QueryType.CONCEPTUAL, dense_margin=top_margin(dense)))

    fixed = WEIGHTS[QueryType.CONCEPTUAL]  # the type's weights alone, whatever dense says
    # then keywords decide between the tied two
    tied = by_margin(near_tie)
    assert tied["b"] > tied["a"]
    # and they leave the confident ranking alone, which the type's weights would have overturned
    assert by_margin(confident)["a"] > by_margin(confident)["b"]
    assert fused(confident, fixed)["b"] > fused(confident, fixed)["a"]


def test_exact_identifiers_keep_keyword_heavy_weights_whatever_the_share():
    assert query_weights(QueryType.EXACT_MATCH, known_share=0.2) == WEIGHTS[QueryType.EXACT_MATCH]


def test_the_tie_boost_scales_keywords_only_where_dense_is_tied(monkeypatch):
    # given a tie boost above 1 (the default is 1.0 since session 19: the type's weight at a tie)
    monkeypatch.setattr(fusion, "TIE_BOOST", 1.3)
    base = WEIGHTS[QueryType.CONCEPTUAL]["bm25"]
    # then keywords weigh 1.3 x the type's at a tie, and fade from there as dense's margin grows
    assert query_weights(QueryType.CONCEPTUAL, dense_margin=0.0)["bm25"] == pytest.approx(base * 1.3)
    assert query_weights(QueryType.CONCEPTUAL, dense_margin=DENSE_MARGIN_SCALE)["bm25"] == pytest.approx(
        base * 1.3 / math.e
    )
    # and without a dense list the type's weight stands
    assert query_weights(QueryType.CONCEPTUAL)["bm25"] == pytest.approx(base)


def test_surprise_constants_are_the_measured_ramp():
    assert (SURPRISE_START, SURPRISE_SPAN) == (2.0, 8.0)


@pytest.mark.parametrize("query_type", [QueryType.CONCEPTUAL, QueryType.CONVERSATIONAL, QueryType.TECHNICAL])
def test_query_weights_ramp_keywords_to_all_the_weight_as_the_match_grows_surprising(query_type):
    # given today's keyword weight for a query mostly known, with dense's two best a scale apart
    today = query_weights(query_type, known_share=0.9, dense_margin=DENSE_MARGIN_SCALE)
    w = today["bm25"]
    assert 0 < w < 0.4

    def ramped(surprise):
        return query_weights(query_type, known_share=0.9, dense_margin=DENSE_MARGIN_SCALE, keyword_surprise=surprise)

    # then: no surprise, or one up to the ramp's start, leaves today's weight
    assert query_weights(query_type, known_share=0.9, dense_margin=DENSE_MARGIN_SCALE, keyword_surprise=None) == today
    assert ramped(-4.0) == today and ramped(0.0) == today and ramped(SURPRISE_START) == today
    # halfway up the ramp, keywords weigh halfway between today's weight and 1
    half = ramped(SURPRISE_START + SURPRISE_SPAN / 2)
    assert half["bm25"] == pytest.approx(w + (1 - w) / 2) and half["dense"] == pytest.approx((1 - w) / 2)
    quarter = ramped(SURPRISE_START + SURPRISE_SPAN / 4)
    assert quarter["bm25"] == pytest.approx(w + (1 - w) / 4)
    # at the ramp's end and beyond, keywords alone
    assert ramped(SURPRISE_START + SURPRISE_SPAN) == pytest.approx({"bm25": 1.0, "dense": 0.0})
    assert ramped(40.0) == pytest.approx({"bm25": 1.0, "dense": 0.0})


def test_exact_identifiers_keep_their_weights_whatever_the_surprise():
    for surprise in (-3.0, SURPRISE_START + SURPRISE_SPAN / 2, 30.0):
        assert query_weights(QueryType.EXACT_MATCH, keyword_surprise=surprise) == WEIGHTS[QueryType.EXACT_MATCH]


def test_a_tenant_tuned_to_dense_only_keeps_keywords_mute_however_surprising_the_match():
    # given a keyword scale of exactly 0 (tune_retrieval's "dense only"), a tenant's explicit choice
    for surprise in (SURPRISE_START + SURPRISE_SPAN / 2, 30.0):
        # then the ramp does not lift keywords from 0
        assert query_weights(QueryType.CONCEPTUAL, keyword_scale=0.0, keyword_surprise=surprise) == {
            "bm25": 0.0,
            "dense": 1.0,
        }
    # while any other scale sets where the ramp starts from
    low = query_weights(QueryType.CONCEPTUAL, keyword_scale=0.1, keyword_surprise=SURPRISE_START + SURPRISE_SPAN / 2)
    w = WEIGHTS[QueryType.CONCEPTUAL]["bm25"] * 0.1
    assert low["bm25"] == pytest.approx(w + (1 - w) / 2)
