"""Combining rankings: Reciprocal Rank Fusion and score-normalised convex combination.

Both work on any hashable keys (here: parent chunk ids). ``classify_query`` sorts a query into the
seed's four types; ``WEIGHTS`` gives the dense/keyword balance per type. The conceptual weight was
chosen by measurement on covid-faq (see docs/retrieval.md); exact identifiers lean on keywords.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Callable, Hashable, Mapping, Sequence
from enum import StrEnum
from typing import Generic, NamedTuple, TypeVar

K = TypeVar("K", bound=Hashable)

RRF_K = 60


class QueryType(StrEnum):
    CONCEPTUAL = "conceptual"
    TECHNICAL = "technical"
    CONVERSATIONAL = "conversational"
    EXACT_MATCH = "exact_match"


# Weight of each retriever per query type (they sum to 1). Dense 0.7 was the best of 0.55-0.9 on
# covid-faq (and robust across BM25 k1/b); equal weights lose to dense alone there. Session 19 moved
# conceptual to 0.6 and technical to 0.7 with the constants below (docs/retrieval.md "Session 19").
WEIGHTS: dict[QueryType, dict[str, float]] = {
    QueryType.CONCEPTUAL: {"dense": 0.6, "bm25": 0.4},
    QueryType.CONVERSATIONAL: {"dense": 0.7, "bm25": 0.3},
    QueryType.TECHNICAL: {"dense": 0.7, "bm25": 0.3},
    QueryType.EXACT_MATCH: {"dense": 0.15, "bm25": 0.85},
}
# Keyword evidence rests on the query's lexemes that the tenant's chunks contain: when a query is
# half words the knowledge never uses ("swap", "bill", an order number), BM25 ranks on the other
# half, and its weight shrinks with the eighth power of that share (``query_weights``): half the
# words known, 1/256 of the weight; dense retrieval bridges the vocabulary gap.
KNOWN_SHARE_POWER = 8
# Keywords break dense near-ties; they should not overturn a confident dense ranking. BM25's weight
# is TIE_BOOST x the type's when dense's two best parents score the same and falls by a factor e for
# every DENSE_MARGIN_SCALE of cosine between them (all-MiniLM-L6-v2's typical margins are 0-0.1).
# On covid-faq, queries whose dense margin is under 0.02 gained +0.069 nDCG@10 from keywords and
# those over 0.06 lost 0.012. Chosen with the power above on covid-faq and the dev half of the Bitext
# intent set (knowledge/bitext_intents.py), where BM25 reaches only 64 % of dense (sessions 8 and 19),
# the scale in session 27 with passages embedded in fp32 as well as bf16 (0.05, chosen on bf16 alone,
# left covid-faq at 1.029 x dense on hosts without bf16 units); docs/retrieval.md "A second set" has
# the tables; a tenant can measure its own scale (knowledge/tuning.py).
TIE_BOOST = 1.0
DENSE_MARGIN_SCALE = 0.08
# Keywords take over when their match could hardly be chance. The surprise of BM25's best child is
# its matched idf mass minus ln(N + 1) (``bm25.match_surprise``): minus the log of how many of the
# tenant's N children would hold those lexemes by chance. From SURPRISE_START nats on, BM25's weight
# rises linearly from the one above to 1 (keywords alone) over SURPRISE_SPAN nats: a verbatim line
# of one document (man-option, median 19 nats) ranks as keywords say, while covid-faq's short,
# lucky matches (median 0.9) and Bitext's near-twin answers (-0.4) keep the weight above. Chosen in
# session 28 over 203 settings on covid-faq, Bitext dev and two man-page sets (docs/retrieval.md
# "Session 28: when keywords are the stronger side").
SURPRISE_START = 2.0
SURPRISE_SPAN = 8.0


def top_margin(scored: Sequence[tuple[K, float]]) -> float:
    """How far a retriever's best candidate scores above its second (0 with fewer than two)."""
    return scored[0][1] - scored[1][1] if len(scored) > 1 else 0.0


def query_weights(
    query_type: QueryType,
    *,
    known_share: float = 1.0,
    keyword_scale: float = 1.0,
    dense_margin: float | None = None,
    keyword_surprise: float | None = None,
) -> dict[str, float]:
    """The retrievers' weights for one query: its type's, with BM25's scaled by the eighth power of
    ``known_share`` (the share of the query's lexemes found in the tenant's chunks), by how close
    dense retrieval's two best parents are (``dense_margin``, their cosine difference; None leaves
    the weight as the type's) and by the tenant's tuned ``keyword_scale`` (RetrievalTuning; 1 by
    default), then raised towards 1 by the surprise of BM25's best match (``keyword_surprise``, in
    nats; None leaves it). Exact identifiers keep theirs. A keyword scale of 0 (a tenant tuned to
    dense only) keeps BM25 at 0 whatever the surprise: the tenant chose it explicitly."""
    weights = WEIGHTS[query_type]
    if query_type == QueryType.EXACT_MATCH:
        return dict(weights)
    share = min(1.0, max(0.0, known_share))
    tie = 1.0 if dense_margin is None else TIE_BOOST * math.exp(-max(0.0, dense_margin) / DENSE_MARGIN_SCALE)
    keyword = min(1.0, weights["bm25"] * share**KNOWN_SHARE_POWER * tie * max(0.0, keyword_scale))
    if keyword_surprise is not None and keyword_scale > 0:
        keyword += (1.0 - keyword) * min(1.0, max(0.0, (keyword_surprise - SURPRISE_START) / SURPRISE_SPAN))
    return {"bm25": keyword, "dense": 1.0 - keyword}


# Each retriever's scores are standardised (z-scores) with the mean and spread of its top 8 (10
# until session 19): the fused score then counts how far a candidate stands out from the retriever's
# other strong candidates, whatever the scale (BM25's 2-30, cosine's 0.2-0.9). A candidate a
# retriever did not return gets that retriever's lowest standardised score: it scored no better than
# the last one returned. Chosen over min-max on the top 30 (docs/retrieval.md "Score normalisation").
NORMALISATION_WINDOW = 8

# Error codes, SKUs, booking references, policy codes: letters and digits glued with - or _, holding
# both (``identifiers`` checks that on each match: lookaheads in the pattern rescanned the rest of a
# hyphenated run from every position, quadratic in the query's length).
IDENTIFIER = re.compile(r"\b[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)+\b|\b[A-Z]{2,}\d{2,}\b")
QUOTED = re.compile(r"\"[^\"]{2,}\"")
TECHNICAL_WORDS = re.compile(
    r"\b(error|code|api|sku|id|setting|configure|install|login|password|app|browser|refund id|invoice)\b", re.I
)
CONVERSATIONAL_START = re.compile(
    r"^\s*(hi|hello|hey|thanks|thank you|i |i'm|im |my |can you|could you|please)\b", re.I
)


def identifiers(query: str) -> list[str]:
    """Identifier-looking tokens (``JS-GC-1001``, ``ERR-402``) and quoted phrases in ``query``."""
    codes = [match.group(0) for match in IDENTIFIER.finditer(query)]
    return [code for code in codes if _has_digit_and_letter(code)] + [m.group(0) for m in QUOTED.finditer(query)]


def _has_digit_and_letter(token: str) -> bool:
    return any(char.isdigit() for char in token) and any(char.isalpha() for char in token)


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


class Standardised(NamedTuple, Generic[K]):
    scores: dict[K, float]
    absent: float  # the score of a key the retriever did not return


def standardised(scored: Sequence[tuple[K, float]], *, window: int = NORMALISATION_WINDOW) -> Standardised[K]:
    """(score - mean) / standard deviation, both over the first ``window`` scores; an absent key
    gets the lowest standardised score. A window with fewer than two distinct scores (a lone
    match, a tie) has no spread to measure: its keys score 1, later and absent keys 0."""
    head = [score for _, score in scored[:window]]
    if len(set(head)) < 2:
        flat = {key: 1.0 if position < len(head) else 0.0 for position, (key, _) in enumerate(scored)}
        return Standardised(flat, 0.0)
    mean = statistics.fmean(head)
    spread = statistics.pstdev(head, mu=mean)
    scores = {key: (score - mean) / spread for key, score in scored}
    return Standardised(scores, min(scores.values()))


def convex(
    scored: Mapping[str, Sequence[tuple[K, float]]],
    *,
    weights: Mapping[str, float],
    window: int = NORMALISATION_WINDOW,
) -> list[tuple[K, float]]:
    """Σ weight x standardised score over the retrievers, best first; ties broken by weighted RRF."""
    normalised = {name: standardised(results, window=window) for name, results in scored.items()}
    keys = dict.fromkeys(key for results in scored.values() for key, _ in results)
    totals = {
        key: sum(weights.get(name, 0.0) * values.scores.get(key, values.absent) for name, values in normalised.items())
        for key in keys
    }
    tie_break = dict(rrf({name: [key for key, _ in results] for name, results in scored.items()}, weights=weights))
    return sorted(totals.items(), key=lambda item: (-item[1], -tie_break.get(item[0], 0.0)))
