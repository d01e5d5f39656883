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
CODE_KEYWORDS = ("api", "stack trace", "traceback", "sdk")


@dataclass(frozen=True)
class _ContextWord:
    """A word that means programming only in context: when a phrase says so (`programming`), or when
    the question is otherwise technical and it is not one of its `everyday` uses. `term` is its own
    technical term, which is no context for itself."""

    word: re.Pattern[str]
    programming: re.Pattern[str]
    everyday: re.Pattern[str]
    term: str = ""

    def means_programming(self, lowered: str, technical: set[str]) -> bool:
        if self.programming.search(lowered):
            return True
        uses = len(self.word.findall(lowered))
        return bool(technical - {self.term}) and uses > len(self.everyday.findall(lowered))


def _after(words: tuple[str, ...], word: str) -> str:
    return rf"\b(?:{'|'.join(words)})[\s-]+{word}"


_NO_MATCH = re.compile(r"(?!)")
# "code" alone is mostly a booking, promo or dress code, "function" a function room or a private
# function, "exception" one made to a policy, "debug" what a customer asks of a failed booking. Each
# means programming when a phrase says so ("source code", "function call", "throws an exception",
# "debug log") or when the question is technical ("error code 401 from the webhook", "debug the
# webhook"), and never in the everyday phrases.
_EVERYDAY_CODE = (
    *("confirmation", "booking", "reservation", "reference", "verification", "promo", "promotional"),
    *("discount", "voucher", "coupon", "gift", "referral", "zip", "postal", "post", "dress", "area", "country"),
)
# A code given with its value ("my code is 1234", "access code: 5521") is one to type in, unless it
# is an error or status code.
_CODE_WITH_VALUE = (
    "".join(rf"(?<!{word}[\s-])" for word in ("error", "status", "exit", "response", "return"))
    + r"\bcodes?\s*(?:(?:is|was)\s+|[:#=]\s*)[a-z-]*\d"
)
_CONTEXT_WORDS = (
    _ContextWord(
        word=re.compile(r"\bcodes?\b"),
        programming=re.compile(
            r"\b(?:source|sample|example|embed|snippet|widget|javascript|python|html|css|php|json)\s+code\b"
            r"|\bcode\s+(?:snippets?|samples?|examples?|blocks?|base)\b|\bcodebase\b"
        ),
        everyday=re.compile(_after(_EVERYDAY_CODE, r"codes?\b") + "|" + _CODE_WITH_VALUE),
    ),
    _ContextWord(
        word=re.compile(r"\bfunctions?\b"),
        programming=re.compile(
            r"\bfunctions?\s*\(|\bfunctions?\s+(?:calls?|returns?|returned|signatures?|parameters?|arguments?)\b"
            r"|\bcall(?:s|ed|ing)?\s+(?:(?:a|the|this|that|my|your|which)\s+)?functions?\b"
            r"|\bfunctions?\s+(?:should|do|does|can|must)\s+(?:i|we|you)\s+call\b|"
            + _after(("callback", "javascript", "js", "python", "lambda", "serverless", "cloud", "async"), "function")
        ),
        everyday=re.compile(
            r"\bfunctions?\s+(?:rooms?|halls?|spaces?|suites?|venues?)\b"
            r"|" + _after(("private", "corporate", "social", "family", "evening", "wedding"), r"functions?\b")
        ),
    ),
    _ContextWord(
        word=re.compile(r"\bexceptions?\b"),
        programming=re.compile(
            r"\b(?:throw|throws|threw|thrown|throwing|raises|raised|raising)\s+(?:an?\s+|the\s+)?(?:\w+\s+){0,2}exception"
            r"|\bexceptions?\s+(?:(?:is|was|gets|got)\s+)?(?:thrown|raised|handling|handler|messages?)\b"
            + "|"
            + _after(("unhandled", "uncaught", "runtime", "pointer", "timeout"), "exception")
        ),
        everyday=re.compile(
            r"\b(?:make|made|making|makes)\s+(?:an?\s+|one\s+)?exceptions?\b|\bexceptions?\s+(?:for|to)\b"
            r"|\b(?:no|without|with\s+the)\s+exceptions?\b"
        ),
    ),
    _ContextWord(
        word=re.compile(r"\bdebug\w*"),
        programming=re.compile(
            r"\bdebugger\b|\bdebug\s*[=:]\s*(?:true|1|on)\b"
            r"|\bdebug\s+(?:logs?|logging|mode|output|console|build|flag|level|info|messages?)\b"
        ),
        everyday=_NO_MATCH,
        term="debug",
    ),
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


def _is_programming(question: str, lowered: str, words: set[str], *, technical: set[str]) -> bool:
    if any(_has_word(words, lowered, keyword) for keyword in CODE_KEYWORDS) or _CODE_TEXT.search(question):
        return True
    return any(word.means_programming(lowered, technical) for word in _CONTEXT_WORDS)


def analyze(question: str, *, tier2_threshold: float = 0.3, tier3_threshold: float = 0.7) -> Complexity:
    lowered = question.lower()
    # Chinese, Japanese and Thai count at two characters a word (routing/terms.py), and the words
    # written next to them ("APIの使い方") stand on their own.
    spaced, unspaced = without_unspaced(lowered)
    words_list = _WORD.findall(spaced)
    words = set(words_list)
    technical = {term for term in TECHNICAL_TERMS if any(w.startswith(term) for w in words)}
    questions = sum(question.count(mark) for mark in QUESTION_MARKS)
    factors = {
        "length": 0.2 if len(words_list) + unspaced / 2 > 30 else 0.0,
        "multi_question": 0.3 if questions > 1 or " and " in f" {lowered} " else 0.0,
        "technical_density": min(len(technical) * 0.15, 0.4),
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
