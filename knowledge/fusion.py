"""Combining rankings: Reciprocal Rank Fusion and score-normalised convex combination.

Both work on any hashable keys (here: parent chunk ids). ``classify_query`` sorts a query into the
seed's four types; ``WEIGHTS`` gives the dense/keyword balance per type. The conceptual weight was
chosen by measurement on covid-faq (see docs/retrieval.md); exact identifiers lean on keywords.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from enum import StrEnum
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

RRF_K = 60


class QueryType(StrEnum):
    CONCEPTUAL = "conceptual"
    TECHNICAL = "technical"
    CONVERSATIONAL = "conversational"
    EXACT_MATCH = "exact_match"


# Weight of each retriever per query type (they sum to 1). Dense 0.7 was the best of 0.55-0.9 on
# covid-faq (and robust across BM25 k1/b); equal weights lose to dense alone there.
WEIGHTS: dict[QueryType, dict[str, float]] = {
    QueryType.CONCEPTUAL: {"dense": 0.7, "bm25": 0.3},
    QueryType.CONVERSATIONAL: {"dense": 0.7, "bm25": 0.3},
    QueryType.TECHNICAL: {"dense": 0.6, "bm25": 0.4},
    QueryType.EXACT_MATCH: {"dense": 0.15, "bm25": 0.85},
}
# Keyword evidence rests on the query's lexemes that the tenant's chunks contain: when a query is
# half words the knowledge never uses ("swap", "bill", an order number), BM25 ranks on the other
# half and its weight shrinks in proportion (``query_weights``); dense retrieval bridges the
# vocabulary gap. Chosen on covid-faq (queries share the FAQ's words: 1.0325x -> 1.0315x the best
# part) and the dev half of the Bitext intent set (knowledge/bitext_intents.py), where BM25 reaches
# only 64 % of dense: 0.946x -> 0.986x dense; the holdout half agrees (0.945x -> 0.986x). A squared
# share or a BM25 top-score coverage factor gained more there but pushed covid-faq under 1.03x.
# docs/retrieval.md "A second set" has the table; a tenant can measure its own scale (knowledge/tuning.py).


def query_weights(query_type: QueryType, *, known_share: float = 1.0, keyword_scale: float = 1.0) -> dict[str, float]:
    """The retrievers' weights for one query: its type's, with BM25's scaled by ``known_share``
    (the share of the query's lexemes found in the tenant's chunks) and by the tenant's tuned
    ``keyword_scale`` (RetrievalTuning; 1 by default). Exact identifiers keep theirs."""
    weights = WEIGHTS[query_type]
    if query_type == QueryType.EXACT_MATCH:
        return dict(weights)
    keyword = min(1.0, weights["bm25"] * min(1.0, max(0.0, known_share)) * max(0.0, keyword_scale))
    return {"bm25": keyword, "dense": 1.0 - keyword}


# Min-max normalisation uses each retriever's top-N scores; deeper results count as 0 there.
NORMALISATION_WINDOW = 30

# Error codes, SKUs, booking references, policy codes: letters and digits glued with - or _.
IDENTIFIER = re.compile(
    r"\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)+\b|\b[A-Z]{2,}\d{2,}\b"
)
QUOTED = re.compile(r"\"[^\"]{2,}\"")
TECHNICAL_WORDS = re.compile(
    r"\b(error|code|api|sku|id|setting|configure|install|login|password|app|browser|refund id|invoice)\b", re.I
)
CONVERSATIONAL_START = re.compile(
    r"^\s*(hi|hello|hey|thanks|thank you|i |i'm|im |my |can you|could you|please)\b", re.I
)


def identifiers(query: str) -> list[str]:
    """Identifier-looking tokens (``JS-GC-1001``, ``ERR-402``) and quoted phrases in ``query``."""
    return [match.group(0) for match in IDENTIFIER.finditer(query)] + [m.group(0) for m in QUOTED.finditer(query)]


def classify_query(query: str, *, is_rare: Callable[[list[str]], bool] | None = None) -> QueryType:
    """The query's type. An identifier makes it exact_match only if ``is_rare`` agrees: "COVID-19"
    looks like a code but is a common word in a COVID FAQ, while a booking reference is rare."""
    found = identifiers(query)
    if found and (is_rare is None or is_rare(found)):
        return QueryType.EXACT_MATCH
    if TECHNICAL_WORDS.search(query):
        return QueryType.TECHNICAL
    if CONVERSATIONAL_START.search(query) or len(query.split()) > 18:
        return QueryType.CONVERSATIONAL
    return QueryType.CONCEPTUAL


def rrf(
    rankings: Mapping[str, Sequence[K]], *, k: int = RRF_K, weights: Mapping[str, float] | None = None
) -> list[tuple[K, float]]:
    """Σ weight / (k + rank) over the rankings that contain a key; best first, ties by first appearance."""
    scores: dict[K, float] = {}
    for name, ranking in rankings.items():
        weight = 1.0 if weights is None else weights.get(name, 0.0)
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda item: -item[1])


def min_max(scored: Sequence[tuple[K, float]], *, window: int | None = None) -> dict[K, float]:
    """Scores rescaled to [0, 1] by the min and max of the first ``window`` results (clipped).

    A list whose (windowed) scores are all equal maps to 1 inside the window and 0 after it.
    """
    if not scored:
        return {}
    head = scored[: window or len(scored)]
    low, high = min(score for _, score in head), max(score for _, score in head)
    if high == low:
        return {key: 1.0 if position < len(head) else 0.0 for position, (key, _) in enumerate(scored)}
    return {key: min(1.0, max(0.0, (score - low) / (high - low))) for key, score in scored}


def convex(
    scored: Mapping[str, Sequence[tuple[K, float]]],
    *,
    weights: Mapping[str, float],
    window: int | None = NORMALISATION_WINDOW,
) -> list[tuple[K, float]]:
    """Σ weight x normalised score (a key a retriever did not return scores 0 there), best first.

    Ties (typically everything past the normalisation window) are broken by weighted RRF, so the
    tail stays in a sensible order for deep cut-offs such as Recall@100.
    """
    totals: dict[K, float] = {}
    for name, results in scored.items():
        weight = weights.get(name, 0.0)
        for key, normalised in min_max(results, window=window).items():
            totals[key] = totals.get(key, 0.0) + weight * normalised
    tie_break = dict(rrf({name: [key for key, _ in results] for name, results in scored.items()}, weights=weights))
    return sorted(totals.items(), key=lambda item: (-item[1], -tie_break.get(item[0], 0.0)))
