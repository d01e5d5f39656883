"""Extractive grounding: which passage sentences answer a question, and how well.

Used by the ``local`` provider to compose answers and by the router as the confidence estimate
when a provider gives neither logprobs nor a self-evaluation.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from routing.contracts import ContextPassage

# Words of any script (Cyrillic, Greek, accented Latin, ...), not just ASCII: a question and its
# passages in Russian share terms like any English pair.
_WORD = re.compile(r"[^\W_]+(?:['-][^\W_]+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])|\n{1,}")
_STOPWORD_TEXT = """
a an the and or but if then else of to in on at by for with from into onto about as is are was were
be been being do does did doing have has had having i me my we our you your he she it its they them
their this that these those what which who whom whose when where why how can could should would will
shall may might must not no nor so than too very just also any some all each every there here up
down out over under again further once only own same such both few more most other s t don now am
please hi hello thanks thank want need get tell know like help
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def stem(word: str) -> str:
    """A tiny suffix stripper: enough to match "refunds"/"refund", "booking"/"book", "cancelled"/"cancel"."""
    for suffix in ("ations", "ation", "ings", "ing", "ies", "led", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            return base + "y" if suffix == "ies" else base
    return word


def terms(text: str) -> list[str]:
    return [stem(word) for word in _WORD.findall(text.lower()) if word not in STOPWORDS]


def split_sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(text) if part and part.strip()]


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
    return sentence.lstrip().startswith("#") or len(sentence.split()) < MIN_ANSWER_WORDS


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
