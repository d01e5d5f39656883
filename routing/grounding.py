"""Extractive grounding: which passage sentences answer a question, and how well.

Used by the ``local`` provider to compose answers and by the router as the confidence estimate
when a provider gives neither logprobs nor a self-evaluation.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from routing.contracts import ContextPassage
from routing.terms import split_sentences, terms, word_count


@dataclass(frozen=True)
class ScoredSentence:
    passage_index: int
    position: int
    text: str
    score: float  # share of the question's (idf-weighted) terms this sentence contains, 0..1


@dataclass(frozen=True)
class Grounding:
    sentences: tuple[ScoredSentence, ...]  # the chosen ones, best first
    coverage: float  # share of question terms covered by the chosen sentences together, 0..1

    @property
    def confidence(self) -> float:
        if not self.sentences:
            return 0.05
        best = self.sentences[0].score
        return round(min(1.0, 0.5 * best + 0.5 * self.coverage), 3)


MIN_SENTENCE_SCORE = 0.34
MIN_ANSWER_WORDS = 4
MAX_SENTENCES = 3
# A short title-like line ("Refund policy.") heads what follows it like a heading below any Markdown level.
_SHORT_LINE_LEVEL = 7


@dataclass(frozen=True)
class AnswerSentence:
    position: int
    text: str
    own: frozenset[str]  # the sentence's own terms
    terms: frozenset[str]  # with the terms of the passage's title and of the headings it sits under


def _heading_level(sentence: str) -> int | None:
    """Markdown headings (``##`` → 2) and short title-like lines: context for scoring, never answers."""
    stripped = sentence.lstrip()
    if stripped.startswith("#"):
        return min(len(stripped) - len(stripped.lstrip("#")), 6)
    return _SHORT_LINE_LEVEL if word_count(sentence) < MIN_ANSWER_WORDS else None


@lru_cache(maxsize=4096)
def answer_sentences(title: str, text: str) -> tuple[AnswerSentence, ...]:
    """A passage's quotable sentences, each read under the title and its own heading path.

    The path is the nearest heading of each level above the sentence, as Markdown nests them: a
    heading closes the ones of its level and deeper ("## Address" above "### Parking" both head the
    parking sentences, and the next "##" closes both). So "Cancellation policy" makes the sentences
    below it about cancellation, but not those of the "Opening hours" section after it. Headings
    themselves are never quoted as answers. Knowledge passages recur across turns, so the analysis
    is cached.
    """
    title_terms = frozenset(terms(title))
    path: dict[int, frozenset[str]] = {}
    read: list[AnswerSentence] = []
    for position, sentence in enumerate(split_sentences(text)):
        level = _heading_level(sentence)
        if level is not None:
            path = {above: heading for above, heading in path.items() if above < level}
            path[level] = frozenset(terms(sentence))
            continue
        own = frozenset(terms(sentence))
        read.append(AnswerSentence(position, sentence, own, own.union(title_terms, *path.values())))
    return tuple(read)


def _share(found: frozenset[str], weights: dict[str, float], weight_sum: float) -> float:
    # Summed in one order, so sentences with the same terms score exactly alike and tie.
    return sum(weights[term] for term in sorted(found)) / weight_sum


def ground(question: str, passages: tuple[ContextPassage, ...]) -> Grounding:
    """Pick up to three sentences that cover the question's terms best (idf-weighted over the passages).

    Among sentences that score alike (a title such as "Opening hours and location" gives its terms to
    every sentence under it), one whose own words hold more of the question comes first.
    """
    question_terms = frozenset(terms(question))
    candidates = [
        (passage, sentence) for passage in passages for sentence in answer_sentences(passage.title, passage.text)
    ]
    if not question_terms or not candidates:
        return Grounding((), 0.0)
    document_frequency: Counter[str] = Counter()
    for _, sentence in candidates:
        document_frequency.update(sentence.terms & question_terms)
    total = len(candidates)
    # Question words that no passage mentions still count (with the highest idf): they are what is missing.
    weights = {term: math.log(1 + total / (1 + document_frequency[term])) for term in question_terms}
    weight_sum = sum(weights.values())
    # (score, the share in the sentence's own words, passage, sentence): best first, then in text order
    ranked = sorted(
        (
            (
                _share(sentence.terms & question_terms, weights, weight_sum),
                _share(sentence.own & question_terms, weights, weight_sum),
                passage.index,
                sentence,
            )
            for passage, sentence in candidates
        ),
        key=lambda row: (-row[0], -row[1], row[2], row[3].position),
    )
    chosen: list[ScoredSentence] = []
    covered: frozenset[str] = frozenset()
    for score, _, passage_index, sentence in ranked:
        if score < MIN_SENTENCE_SCORE or len(chosen) == MAX_SENTENCES:
            break
        new_terms = sentence.terms & question_terms
        if chosen and new_terms <= covered:
            continue  # adds nothing new
        chosen.append(ScoredSentence(passage_index, sentence.position, sentence.text, score))
        covered |= new_terms
    coverage = _share(covered, weights, weight_sum)
    return Grounding(tuple(chosen), round(coverage, 3))
