"""The text of a PDF's pages as retrieval wants it, from what pypdf extracts page by page.

- Typographic ligatures (U+FB00-FB06: "ﬁ", "ﬂ", "ﬀ", "ﬃ", "ﬄ", "ﬅ", "ﬆ") are spelt out, so that "ﬁnd"
  is "find"; no other character changes (NFKC would also rewrite "½", "m²", full-width letters...).
- A form feed, like the break between two pages, is a paragraph break.
- A word hyphenated across a line end (or a page break) is joined: see ``_joined``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

LIGATURES = str.maketrans(
    {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st"}
)
SOFT_HYPHEN = "\u00ad"
# Hyphenation (TeX's and word processors' defaults) leaves two letters before the break and three
# after it at least: "e-mail" or "in-app" at a line end is a real hyphen.
HYPHENATION_MIN_BEFORE = 2
HYPHENATION_MIN_AFTER = 3
# Words that make hyphenated compounds ("non-refundable", "self-service", "gluten-free"), unless
# the document writes the word joined elsewhere.
COMPOUND_HEADS = frozenset({"non", "self"})
COMPOUND_TAILS = frozenset({"free", "based", "friendly", "related", "specific"})

# Stands for a page break while hyphens are joined (no form feed is left in the text by then).
PAGE_BREAK = "\n\f\n"
# A run of letters (not preceded by a letter, digit or hyphen), a hyphen or soft hyphen ending its
# line, and the letters that start the next line or page.
LINE_END_HYPHEN = re.compile(
    r"(?<![\w-])([^\W\d_]+)([-\u00ad])[^\S\n]*(?:\n|\n\f\n)[^\S\n]*([^\W\d_]+)(-?)",
)
WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def pdf_text(pages: Sequence[str]) -> str:
    """The text of ``pages`` (pypdf's ``extract_text`` of each), cleaned as the module says; lines
    and blanks otherwise as extracted (``_tidy`` in ``knowledge.parsing`` comes next)."""
    pages_lines = [page.translate(LIGATURES).replace("\f", "\n\n").splitlines() for page in pages]
    text = PAGE_BREAK.join("\n".join(lines) for lines in pages_lines)
    words = {word.casefold() for word in WORD.findall(text)}
    text = LINE_END_HYPHEN.sub(lambda match: _joined(match, words), text)
    return text.replace(SOFT_HYPHEN, "").replace("\f", "")


def _joined(match: re.Match[str], words: set[str]) -> str:
    """The hyphenated word of ``match`` joined, or ``match`` as it was if the hyphen is a real one.

    A soft hyphen always joins. A hyphen joins a lowercase letter to a lowercase letter ("cancel-" +
    "lation"), not after a digit, a capital or another hyphen ("24-hour", "JS-PAY-402",
    "state-of-the-art", "Wi-Fi") nor before one ("up-to-date"): when the document writes the joined
    word elsewhere; else not when it writes the hyphenated one elsewhere, nor when hyphenation could
    not have split the word there (``HYPHENATION_MIN_*``), nor for ``COMPOUND_HEADS`` and ``TAILS``.
    """
    before, hyphen, after, next_hyphen = match.groups()
    if hyphen == SOFT_HYPHEN:
        return before + after + next_hyphen
    if not (before[-1].islower() and after[0].islower()) or next_hyphen:
        return match.group()
    joined = (before + after).casefold()
    if joined in words:
        return before + after
    hyphenated = f"{before}-{after}".casefold()
    compound = before.casefold() in COMPOUND_HEADS or after.casefold() in COMPOUND_TAILS
    too_short = len(before) < HYPHENATION_MIN_BEFORE or len(after) < HYPHENATION_MIN_AFTER
    if hyphenated in words or compound or too_short:
        return match.group()
    return before + after
