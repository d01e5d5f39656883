"""Complexity analyzer (the seed's factors) and the tier it implies.

Score = length (0.2 when over 30 words) + several questions (0.3) + technical density (0.15 per
technical term, at most 0.4) + conditionals (0.1), capped at 1. Programming questions (code words,
a code snippet, a stack trace, an error name) go straight to tier 3. The factors that produced the
score are returned with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from routing.terms import without_unspaced

TECHNICAL_TERMS = (
    "configure",
    "implement",
    "integrate",
    "troubleshoot",
    "diagnose",
    "optimize",
    "architecture",
    "debug",
    "deployment",
    "authentication",
    "authorization",
    "webhook",
    "sso",
    "oauth",
    "migration",
)
CODE_KEYWORDS = ("api", "debug", "stack trace", "function", "exception", "traceback", "sdk")
# "code" alone is mostly a booking, promo or dress code: it means programming when it says so
# ("source code", "code sample") or when the question is technical ("error code 401 from the webhook"),
# and never after one of these words.
_EVERYDAY_CODE = (
    *("confirmation", "booking", "reservation", "reference", "verification", "promo", "promotional"),
    *("discount", "voucher", "coupon", "gift", "referral", "zip", "postal", "post", "dress", "area", "country"),
)
_CODE_WORD = re.compile(r"(?:([\w']+)[\s-]+)?\bcodes?\b")
_PROGRAMMING_CODE = re.compile(
    r"\b(?:source|sample|example|embed|snippet|widget|javascript|python|html|css|php|json)\s+code\b"
    r"|\bcode\s+(?:snippets?|samples?|examples?|blocks?|base)\b|\bcodebase\b"
)
# Code pasted into the question: a fenced or inline snippet, a stack frame (Java/JS or Python), an
# error class name (TypeError, NullPointerException).
_CODE_TEXT = re.compile(
    r"```|`[^`\n]+`|^\s*at \S+\(.*:\d+\)|File \"[^\"]+\", line \d+|\b[A-Z]\w*(?:Error|Exception)\b", re.MULTILINE
)
CONDITIONAL_WORDS = ("if", "when", "should", "would", "could", "unless")
_WORD = re.compile(r"[\w']+")
QUESTION_MARKS = ("?", "\uff1f", "\u061f")  # and the full-width (Chinese, Japanese) and Arabic ones


@dataclass(frozen=True)
class Complexity:
    score: float
    tier: int
    factors: dict[str, float]
    code: bool

    def as_dict(self) -> dict[str, object]:
        return {"score": self.score, "tier": self.tier, "code": self.code, "factors": dict(self.factors)}


def _has_word(words: set[str], lowered: str, phrase: str) -> bool:
    return phrase in lowered if " " in phrase else phrase in words


def _is_programming(question: str, lowered: str, words: set[str], *, technical: int) -> bool:
    if any(_has_word(words, lowered, keyword) for keyword in CODE_KEYWORDS) or _CODE_TEXT.search(question):
        return True
    if _PROGRAMMING_CODE.search(lowered):
        return True
    return technical > 0 and any(match[1] not in _EVERYDAY_CODE for match in _CODE_WORD.finditer(lowered))


def analyze(question: str, *, tier2_threshold: float = 0.3, tier3_threshold: float = 0.7) -> Complexity:
    lowered = question.lower()
    # Chinese, Japanese and Thai count at two characters a word (routing/terms.py), and the words
    # written next to them ("APIの使い方") stand on their own.
    spaced, unspaced = without_unspaced(lowered)
    words_list = _WORD.findall(spaced)
    words = set(words_list)
    technical = sum(1 for term in TECHNICAL_TERMS if any(w.startswith(term) for w in words))
    questions = sum(question.count(mark) for mark in QUESTION_MARKS)
    factors = {
        "length": 0.2 if len(words_list) + unspaced / 2 > 30 else 0.0,
        "multi_question": 0.3 if questions > 1 or " and " in f" {lowered} " else 0.0,
        "technical_density": min(technical * 0.15, 0.4),
        "conditional": 0.1 if any(word in words for word in CONDITIONAL_WORDS) else 0.0,
    }
    score = round(min(sum(factors.values()), 1.0), 3)
    code = _is_programming(question, lowered, words, technical=technical)
    if code:
        tier = 3
    elif score < tier2_threshold:
        tier = 1
    elif score < tier3_threshold:
        tier = 2
    else:
        tier = 3
    return Complexity(score, tier, factors, code)
