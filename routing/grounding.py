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
_LIST_ITEM = re.compile(r"(?:[-*]|\d+\.)\s")
# A quoted list item brings the items after it, up to this many lines in all: "Monday to Friday: …" is
# no answer to "What are your opening hours?" without Saturday and Sunday.
MAX_LIST_LINES = 8


@dataclass(frozen=True)
class AnswerSentence:
    position: int
    text: str
    own: frozenset[str]  # the sentence's own terms
    terms: frozenset[str]  # with the terms of the passage's title and of the headings it sits under
    section: frozenset[str]  # the terms of those headings, but a heading that repeats the title
    list_item: bool  # a line of a Markdown list ("- …", "* …", "1. …")


def is_list_item(sentence: str) -> bool:
    return _LIST_ITEM.match(sentence.lstrip()) is not None


def _heading_level(sentence: str) -> int | None:
    """Markdown headings (``##`` → 2) and short title-like lines: context for scoring, never answers."""
    stripped = sentence.lstrip()
    if is_list_item(sentence):
        return None
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
        section = frozenset().union(*(heading for heading in path.values() if heading != title_terms))
        read.append(
            AnswerSentence(
                position,
                sentence,
                own,
                own.union(title_terms, *path.values()),
                section,
                is_list_item(sentence),
            )
        )
    return tuple(read)


def _share(found: frozenset[str], weights: dict[str, float], weight_sum: float) -> float:
    # Summed in one order, so sentences with the same terms score exactly alike and tie.
    return sum(weights[term] for term in sorted(found)) / weight_sum


def ground(question: str, passages: tuple[ContextPassage, ...]) -> Grounding:
    """Pick up to three sentences that cover the question's terms best (idf-weighted over the passages),
    with the rest of a list one of them opens (``MAX_LIST_LINES``).

    Among sentences that score alike (a title such as "Opening hours and location" gives its terms to
    every sentence under it), those of a section whose own heading holds more of the question come
    first ("Regular hours" for "What are your opening hours?"), in the order the section reads; where
    no section heading tells them apart, one whose own words hold more of the question comes first.
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

    def share(found: frozenset[str]) -> float:
        return _share(found & question_terms, weights, weight_sum)

    def rank(row: tuple[ContextPassage, AnswerSentence]) -> tuple[float, float, float, int, int]:
        passage, sentence = row
        section = share(sentence.section)
        own = 0.0 if section else share(sentence.own)
        return (-share(sentence.terms), -section, -own, passage.index, sentence.position)

    chosen: list[ScoredSentence] = []
    picked = 0  # the chosen sentences, without the list items they brought
    covered: frozenset[str] = frozenset()
    for passage, sentence in sorted(candidates, key=rank):
        score = share(sentence.terms)
        if score < MIN_SENTENCE_SCORE or picked == MAX_SENTENCES:
            break
        new_terms = sentence.terms & question_terms
        if (chosen and new_terms <= covered) or _taken(chosen, passage, sentence):
            continue  # adds nothing new
        picked += 1
        # The rest of a list is quoted with its item but was not ranked: what it covers is not counted.
        for quoted in (sentence, *_rest_of_list(passage, sentence, chosen)):
            chosen.append(ScoredSentence(passage.index, quoted.position, quoted.text, score))
        covered |= new_terms
    return Grounding(tuple(chosen), round(_share(covered, weights, weight_sum), 3))


def _rest_of_list(passage: ContextPassage, first: AnswerSentence, chosen: list[ScoredSentence]) -> list[AnswerSentence]:
    """When ``first`` is a list item, the items that follow it in its list (up to ``MAX_LIST_LINES`` lines
    in all) that are not chosen yet."""
    rest: list[AnswerSentence] = []
    if not first.list_item:
        return rest
    position = first.position
    for sentence in answer_sentences(passage.title, passage.text):
        if sentence.position <= first.position:
            continue
        if sentence.position != position + 1 or not sentence.list_item or len(rest) == MAX_LIST_LINES - 1:
            break
        position = sentence.position
        if not _taken(chosen, passage, sentence):
            rest.append(sentence)
    return rest


def _taken(chosen: list[ScoredSentence], passage: ContextPassage, sentence: AnswerSentence) -> bool:
    return any(s.passage_index == passage.index and s.position == sentence.position for s in chosen)
