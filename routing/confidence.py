"""Confidence estimates for an answer: logprobs, a self-evaluation reply, or retrieval grounding."""

from __future__ import annotations

import math
import re

from routing.contracts import ContextPassage
from routing.terms import terms

SELF_EVAL_PROMPT = (
    "Rate from 0 to 10 how well the answer below is supported by the knowledge passages and how fully it "
    "answers the question. Reply with the number only.\n\nQuestion: {question}\n\nAnswer: {answer}"
)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def from_logprob(mean_logprob: float) -> float:
    return round(max(0.0, min(1.0, math.exp(mean_logprob))), 3)


def from_self_eval(reply: str) -> float | None:
    """Parse "8" / "8/10" / "Confidence: 7.5" → 0..1; None when the reply holds no number."""
    match = _NUMBER.search(reply)
    if match is None:
        return None
    return round(max(0.0, min(10.0, float(match.group()))) / 10, 3)


def from_grounding(answer: str, passages: tuple[ContextPassage, ...]) -> float:
    """Share of the answer's content words that occur in the passages (no passages → low)."""
    answer_terms = set(terms(answer))
    if not passages or not answer_terms:
        return 0.3
    passage_terms: set[str] = set()
    for passage in passages:
        passage_terms.update(terms(passage.text))
    return round(len(answer_terms & passage_terms) / len(answer_terms), 3)
