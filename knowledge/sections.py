"""The section a piece of a document sits in: the path of Markdown headings above it.

Headings stay lines of the stored text (``Document.content``): Markdown files keep theirs, and the
HTML extractor writes ``h1``-``h6`` as ``#`` lines (knowledge/parsing.py). ``markdown_headings`` reads
the ATX (``## Refunds``) and setext (a paragraph underlined with ``===`` or ``---``) headings of the
top level, outside fenced and indented code; ``SectionIndex`` then gives, for any character offset,
the headings above it, so each child chunk can be embedded and searched with its section's words
(knowledge/indexing.py). Text read from plain text, CSV, BEIR records or PDF (``PLAIN_SUFFIXES``)
has no headings, whatever its lines look like.

One pass over the lines, each step bounded: linear in the text, no regex that could backtrack.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from pathlib import PurePath

from knowledge.chunking import without_unread_words
from knowledge.markdown_title import BLANKS, heading_text

# Files whose text is read as plain text: a "# " line or a "----" underline there is no heading.
PLAIN_SUFFIXES = frozenset({".txt", ".csv", ".jsonl", ".pdf"})
# Between the parts of a section's path, as embedded ("Bookings > Cancelling > Refunds").
PATH_SEPARATOR = " > "
ORDERED_MARKER = re.compile(r"[0-9]{1,9}[.)]")
LINK = re.compile(r"\[([^\]\n]{0,500})\]\([^)\n]{0,2000}\)")
# A heading is a few words. What CommonMark reads as one can be a whole paragraph (a "---" rule
# written straight under it): only its first characters are read (bounding the link scan too), and
# at most ``HEADING_MAX_CHARS`` of them are kept, so it cannot fill the keywords of its section.
HEADING_SCAN_CHARS = 1000
HEADING_MAX_CHARS = 200


@dataclass(frozen=True)
class Heading:
    start: int  # offset in the text of the heading's first line
    level: int  # 1-6
    text: str


def reads_headings(file_name: str) -> bool:
    """Whether a document from the file ``file_name`` ("" for a web page) has Markdown headings."""
    return PurePath(file_name).suffix.lower() not in PLAIN_SUFFIXES


def _indent(line: str) -> int:
    columns = 0
    for char in line:
        if char == " ":
            columns += 1
        elif char == "\t":
            columns += 4 - columns % 4
        else:
            break
    return columns


def _run(text: str, char: str) -> int:
    return len(text) - len(text.lstrip(char))


def _atx_level(rest: str) -> int:
    level = _run(rest, "#")
    return level if 1 <= level <= 6 and (len(rest) == level or rest[level] in BLANKS) else 0


def _fence(rest: str) -> tuple[str, int] | None:
    char = rest[:1]
    length = _run(rest, char) if char in ("`", "~") else 0
    if length < 3 or (char == "`" and "`" in rest[length:]):
        return None
    return char, length


def _underline(rest: str) -> int:
    """1 for a run of "=", 2 for a run of "-" (blanks after it only), else 0."""
    body = rest.rstrip(BLANKS)
    if body and _run(body, "=") == len(body):
        return 1
    if body and _run(body, "-") == len(body):
        return 2
    return 0


def _thematic_break(rest: str) -> bool:
    marks = rest.replace(" ", "").replace("\t", "")
    return len(marks) >= 3 and marks[0] in "*-_" and _run(marks, marks[0]) == len(marks)


def _container(rest: str) -> bool:
    """Whether the line opens a block quote or a list item (whose lines are not top-level text)."""
    if rest[:1] == ">":
        return True
    marker = 1 if rest[:1] in ("-", "+", "*") else (m.end() if (m := ORDERED_MARKER.match(rest)) else 0)
    return bool(marker) and (len(rest) == marker or rest[marker] in BLANKS)


def clean_heading(text: str) -> str:
    """A heading as words: links become their text, emphasis and code marks go, blanks collapse,
    words the model cannot read go (``without_unread_words``); cut at a word boundary to
    ``HEADING_MAX_CHARS``."""
    text = LINK.sub(r"\1", text[:HEADING_SCAN_CHARS]).replace("*", "").replace("`", "")
    text = without_unread_words(" ".join(text.split()).strip("_ "))
    if len(text) > HEADING_MAX_CHARS:
        cut = text[: HEADING_MAX_CHARS + 1]
        text = cut.rsplit(" ", 1)[0] if " " in cut else cut[:HEADING_MAX_CHARS]
    return text


def markdown_headings(text: str) -> list[Heading]:
    """The top-level ATX and setext headings of ``text``, in order (lines end at ``\\n``; a ``\\r``
    before it is a blank)."""
    headings: list[Heading] = []
    fence: tuple[str, int] | None = None
    paragraph: list[str] = []  # the lines of the open top-level paragraph
    paragraph_start = 0
    in_container = False  # a quote's or list item's lines go on until a blank line
    start = 0
    while start <= len(text):
        end = text.find("\n", start)
        end = len(text) if end == -1 else end
        line = text[start:end].rstrip("\r")
        rest = line.lstrip(BLANKS)
        indent = _indent(line)
        if fence is not None:
            if indent <= 3 and _run(rest, fence[0]) >= fence[1] and not rest.lstrip(fence[0]).strip(BLANKS):
                fence = None
        elif not rest:
            paragraph, in_container = [], False
        elif indent > 3:
            if paragraph:
                paragraph.append(rest)  # indented code cannot interrupt a paragraph
        elif paragraph and (level := _underline(rest)):
            headings.append(Heading(paragraph_start, level, clean_heading(" ".join(paragraph))))
            paragraph = []
        elif level := _atx_level(rest):
            headings.append(Heading(start, level, clean_heading(heading_text(rest[level:]))))
            paragraph, in_container = [], False
        elif opened := _fence(rest):
            fence, paragraph, in_container = opened, [], False
        elif _thematic_break(rest):
            paragraph, in_container = [], False
        elif in_container or _container(rest):
            paragraph, in_container = [], True
        elif paragraph:
            paragraph.append(rest)
        else:
            paragraph, paragraph_start = [rest], start
        start = end + 1
    return headings


class SectionIndex:
    """The heading paths of one document's text, looked up by character offset."""

    def __init__(self, headings: list[Heading], *, title: str = "") -> None:
        self.starts = [heading.start for heading in headings]
        self.paths: list[tuple[Heading, ...]] = []
        stack: list[Heading] = []
        # The document's title heading ("# Bookings" of "Bookings") would repeat the title.
        title_key = " ".join(title.split()).casefold()
        for heading in headings:
            while stack and stack[-1].level >= heading.level:
                stack.pop()
            stack.append(heading)
            self.paths.append(tuple(h for h in stack if h.text and h.text.casefold() != title_key))

    @classmethod
    def of(cls, text: str, *, title: str = "", file_name: str = "") -> SectionIndex:
        """The index of a document's stored text (none for a plain-text format, ``reads_headings``)."""
        return cls(markdown_headings(text) if reads_headings(file_name) else [], title=title)

    def above(self, start: int) -> tuple[str, ...]:
        """The headings of the section a chunk starting at ``start`` is in, outermost first, without
        those inside the chunk: one starting with "### Refunds" under "## Cancelling" gets
        ("Cancelling",), and shows its own heading itself."""
        index = bisect.bisect_right(self.starts, start) - 1
        if index < 0:
            return ()
        return tuple(heading.text for heading in self.paths[index] if heading.start < start)
