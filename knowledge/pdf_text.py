"""The text of a PDF's pages as retrieval wants it, from what pypdf extracts page by page.

- Typographic ligatures (U+FB00-FB06: "ﬁ", "ﬂ", "ﬀ", "ﬃ", "ﬄ", "ﬅ", "ﬆ") are spelt out, so that "ﬁnd"
  is "find" (in the metadata title too, knowledge/parsing.py); no other character changes (NFKC
  would also rewrite "½", "m²", full-width letters...).
- A form feed, like the break between two pages, is a paragraph break.
- Running headers and footers go: in a document of ``RUNNING_MIN_PAGES`` pages or more, a line among
  the first or last ``EDGE_LINES`` lines of at least ``RUNNING_SHARE`` of the pages (blanks and case
  set aside; numbers too when one of them follows the page's, so "Page 3 of 12" on page 3 repeats
  "Page 4 of 12" on page 4). From two pages on, so does a page's own number alone on a line ("7",
  "- 7 -", "Page 7", "7 of 12", "7/12"). Either is dropped only at the page's top or bottom (with
  what is dropped above or below it), never inside the page; a document that would lose all its
  text keeps it.
- A word hyphenated across a line end (or a page break) is joined: see ``_joined``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

# Each ligature with the letters it stands for (also read so by keyword search: ``languages.searchable_text``).
LIGATURE_LETTERS = {
    "\ufb00": "ff",
    "\ufb01": "fi",
    "\ufb02": "fl",
    "\ufb03": "ffi",
    "\ufb04": "ffl",
    "\ufb05": "st",
    "\ufb06": "st",
}
LIGATURES = str.maketrans(LIGATURE_LETTERS)
RUNNING_MIN_PAGES = 3
RUNNING_SHARE = 0.6
EDGE_LINES = 3
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
PAGE_NUMBER = re.compile(
    r"(?:page|p\.|seite|página|pagina|pág\.)?[-\u2013\u2014\s]*(\d+)[-\u2013\u2014\s]*(?:(?:of|von|de|di|sur|/)\s*\d+)?",
    re.IGNORECASE,
)
PAGE_NUMBER_MAX_LENGTH = 30  # and the pattern's runs of blanks and dashes never meet a long line
NUMBERED_MAX_LENGTH = 200  # a longer line is no header, and its numbers could be too long for int()
# A run of letters (not preceded by a letter, digit or hyphen), a hyphen or soft hyphen ending its
# line, and the letters that start the next line or page.
LINE_END_HYPHEN = re.compile(
    r"(?<![\w-])([^\W\d_]+)([-\u00ad])[^\S\n]*(?:\n|\n\f\n)[^\S\n]*([^\W\d_]+)(-?)",
)
# A line compared as its text, or with its numbers as "#" and its number's distance from the page's.
Mark = tuple[str, int | None]
WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def pdf_text(pages: Sequence[str]) -> str:
    """The text of ``pages`` (pypdf's ``extract_text`` of each), cleaned as the module says; lines
    and blanks otherwise as extracted (``_tidy`` in ``knowledge.parsing`` comes next)."""
    pages_lines = [page.translate(LIGATURES).replace("\f", "\n\n").splitlines() for page in pages]
    running = _running(pages_lines)
    kept = [_without_edges(lines, running, number, len(pages)) for number, lines in enumerate(pages_lines, start=1)]
    if not any(line.strip() for lines in kept for line in lines):
        kept = pages_lines
    text = PAGE_BREAK.join("\n".join(lines) for lines in kept)
    words = {word.casefold() for word in WORD.findall(text)}
    text = LINE_END_HYPHEN.sub(lambda match: _joined(match, words), text)
    return text.replace(SOFT_HYPHEN, "").replace("\f", "")


def _marks(line: str, number: int) -> set[Mark]:
    """What a line on page ``number`` is compared by: its text (blanks and case set aside), and, for
    each number in it, its text with every number as "#" and how far that number is from the page's
    (so "Page 3 of 12" on page 3 and "Page 4 of 12" on page 4 compare equal, and a table row's prices
    at the tops of pages do not)."""
    text = " ".join(line.split()).casefold()
    marks: set[Mark] = {(text, None)}
    if len(text) <= NUMBERED_MAX_LENGTH:
        pattern = re.sub(r"\d+", "#", text)
        marks |= {(pattern, number - int(found)) for found in re.findall(r"\d+", text)}
    return marks


def _edges(lines: list[str]) -> list[str]:
    filled = [line for line in lines if line.strip()]
    return filled[:EDGE_LINES] + filled[EDGE_LINES:][-EDGE_LINES:]


def _running(pages_lines: list[list[str]]) -> set[Mark]:
    """Marks of the lines at the top or bottom of enough pages to be running headers or footers."""
    if len(pages_lines) < RUNNING_MIN_PAGES:
        return set()
    counts = Counter(
        mark
        for number, lines in enumerate(pages_lines, start=1)
        for mark in set().union(*(_marks(line, number) for line in _edges(lines)))
    )
    least = math.ceil(RUNNING_SHARE * len(pages_lines))
    return {mark for mark, count in counts.items() if count >= least}


def _page_number(line: str, number: int, count: int) -> bool:
    line = line.strip()
    if count < 2 or len(line) > PAGE_NUMBER_MAX_LENGTH:
        return False
    match = PAGE_NUMBER.fullmatch(line)
    return match is not None and int(match.group(1)) == number


def _without_edges(lines: list[str], running: set[Mark], number: int, count: int) -> list[str]:
    """``lines`` of page ``number`` without the running lines and page number at its top and bottom."""

    def dropped(line: str) -> bool:
        return not running.isdisjoint(_marks(line, number)) or _page_number(line, number, count)

    filled = [index for index, line in enumerate(lines) if line.strip()]
    drop = set()
    for edge in (filled[:EDGE_LINES], filled[::-1][:EDGE_LINES]):
        for index in edge:
            if not dropped(lines[index]):
                break
            drop.add(index)
    return [line for index, line in enumerate(lines) if index not in drop]


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
