from __future__ import annotations

import pytest

from knowledge.fusion import WEIGHTS, QueryType, classify_query, convex, min_max, query_weights, rrf


def test_rrf_on_hand_made_rankings():
    fused = dict(rrf({"bm25": ["a", "b", "c"], "dense": ["b", "d"]}, k=60))
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["d"] == pytest.approx(1 / 62)
    assert [key for key, _ in rrf({"bm25": ["a", "b", "c"], "dense": ["b", "d"]})][:2] == ["b", "a"]


def test_rrf_weights_scale_each_ranking():
    fused = dict(rrf({"bm25": ["a"], "dense": ["b"]}, weights={"bm25": 0.3, "dense": 0.7}))
    assert fused == pytest.approx({"a": 0.3 / 61, "b": 0.7 / 61})


def test_min_max_window_and_constant_lists():
    assert min_max([("a", 10.0), ("b", 5.0), ("c", 0.0)]) == {"a": 1.0, "b": 0.5, "c": 0.0}
    assert min_max([("a", 10.0), ("b", 6.0), ("c", 2.0)], window=2) == {"a": 1.0, "b": 0.0, "c": 0.0}
    assert min_max([("a", 3.0), ("b", 3.0)]) == {"a": 1.0, "b": 1.0}
    assert min_max([]) == {}


def test_convex_on_hand_made_scores():
    fused = convex(
        {"bm25": [("a", 12.0), ("b", 6.0), ("c", 0.0)], "dense": [("b", 0.9), ("c", 0.5), ("d", 0.1)]},
        weights={"bm25": 0.3, "dense": 0.7},
    )
    scores = dict(fused)
    assert scores == pytest.approx({"a": 0.3, "b": 0.3 * 0.5 + 0.7, "c": 0.7 * 0.5, "d": 0.0})
    assert [key for key, _ in fused] == ["b", "c", "a", "d"]


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


def test_identifier_that_is_common_in_the_corpus_is_not_exact_match():
    assert classify_query("Is COVID-19 airborne?", is_rare=lambda found: False) == QueryType.CONCEPTUAL
    assert classify_query("Is COVID-19 airborne?", is_rare=lambda found: True) == QueryType.EXACT_MATCH


@pytest.mark.parametrize("query_type", [QueryType.CONCEPTUAL, QueryType.CONVERSATIONAL, QueryType.TECHNICAL])
def test_query_weights_scale_keywords_by_the_known_share_of_the_query(query_type):
    assert query_weights(query_type) == WEIGHTS[query_type]
    half = query_weights(query_type, known_share=0.5)
    assert half["bm25"] == pytest.approx(WEIGHTS[query_type]["bm25"] / 2)
    assert half["bm25"] + half["dense"] == pytest.approx(1.0)
    assert query_weights(query_type, known_share=0.0) == {"bm25": 0.0, "dense": 1.0}
    assert query_weights(query_type, known_share=3.0) == WEIGHTS[query_type]
    assert query_weights(query_type, known_share=-1.0) == {"bm25": 0.0, "dense": 1.0}


def test_exact_identifiers_keep_keyword_heavy_weights_whatever_the_share():
    assert query_weights(QueryType.EXACT_MATCH, known_share=0.2) == WEIGHTS[QueryType.EXACT_MATCH]
