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


def _is_heading(sentence: str) -> bool:
    """Markdown headings and short title-like lines: context for scoring, not answers."""
    return sentence.lstrip().startswith("#") or word_count(sentence) < MIN_ANSWER_WORDS


MAX_SENTENCES = 3


@lru_cache(maxsize=4096)
def answer_sentences(title: str, text: str) -> tuple[tuple[int, str, frozenset[str]], ...]:
    """A passage's quotable sentences: (position, sentence, its terms with the passage's topic terms).

    A sentence is read under its passage's title and headings ("Cancellation policy" makes the
    sentences below it about cancellation), but headings themselves are never quoted as answers.
    Knowledge passages recur across turns, so the analysis is cached.
    """
    sentences = split_sentences(text)
    topic = set(terms(title)).union(*(set(terms(s)) for s in sentences if _is_heading(s)))
    return tuple(
        (position, sentence, frozenset(terms(sentence)) | topic)
        for position, sentence in enumerate(sentences)
        if not _is_heading(sentence)
    )


def ground(question: str, passages: tuple[ContextPassage, ...]) -> Grounding:
    """Pick up to three sentences that cover the question's terms best (idf-weighted over the passages)."""
    question_terms = set(terms(question))
    candidates = [
        (passage, position, sentence, sentence_terms)
        for passage in passages
        for position, sentence, sentence_terms in answer_sentences(passage.title, passage.text)
    ]
    if not question_terms or not candidates:
        return Grounding((), 0.0)
    document_frequency: Counter[str] = Counter()
    for *_, sentence_terms in candidates:
        document_frequency.update(sentence_terms & question_terms)
    total = len(candidates)
    # Question words that no passage mentions still count (with the highest idf): they are what is missing.
    weights = {term: math.log(1 + total / (1 + document_frequency[term])) for term in question_terms}
    weight_sum = sum(weights.values())
    scored = [
        ScoredSentence(
            passage.index, position, sentence, sum(weights[t] for t in sentence_terms & question_terms) / weight_sum
        )
        for passage, position, sentence, sentence_terms in candidates
    ]
    scored.sort(key=lambda s: (-s.score, s.passage_index, s.position))
    terms_at = {(passage.index, position): sentence_terms for passage, position, _, sentence_terms in candidates}
    chosen: list[ScoredSentence] = []
    covered: set[str] = set()
    for candidate in scored:
        if candidate.score < MIN_SENTENCE_SCORE or len(chosen) == MAX_SENTENCES:
            break
        new_terms = terms_at[(candidate.passage_index, candidate.position)] & question_terms
        if chosen and new_terms <= covered:
            continue  # adds nothing new
        chosen.append(candidate)
        covered |= new_terms
    coverage = sum(weights[t] for t in covered) / weight_sum
    return Grounding(tuple(chosen), round(coverage, 3))
