"""Token counts estimated without a tokenizer: for budgets, and for usage a vendor never reported.

About four characters make a token in English and other alphabetic text, but Chinese, Japanese and
Korean take about a token a character (their punctuation and full-width forms too), so counting
their characters at four a token would let them run about four times over a budget.

Thai and the Indic scripts (Devanagari, Bengali, Tamil, ...) are counted at a token a character,
vowel signs and tone marks included. Their letters are three UTF-8 bytes that byte-level BPE
vocabularies merge little: OpenAI's cl100k_base cuts the Hindi "हैलो वर्ल्ड" (11 characters) into
12 tokens (L. Monigatti, "Why OpenAI's API Is More Expensive for Non-English Languages", 2023; no
tokenizer is installed here to measure). Newer vocabularies (o200k_base) merge more of them, so a
token a character errs on the side of the budget; four characters a token ran several times over.
"""

from __future__ import annotations

import re

CHARS_PER_TOKEN = 4
_DENSE = re.compile(
    "[\u0900-\u0dff\u0e00-\u0e7f"  # Indic scripts, Thai
    "\u1100-\u11ff\u3000-\u303f\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7a3\uf900-\ufaff\uff00-\uffef]"
)


def estimate_tokens(text: str) -> int:
    """A token for each Chinese, Japanese, Korean, Thai or Indic character, one per four other
    characters (rounded up)."""
    dense = len(_DENSE.findall(text))
    return dense + -(-(len(text) - dense) // CHARS_PER_TOKEN)
