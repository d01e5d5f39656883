"""The title of a Markdown document: its first level-1 ATX heading at the top level, as CommonMark
reads the document's block structure.

A document's title is a heading of the document itself: one inside a block quote (``> # Title``, a
heading of the quoted text) or a list item (``- # Title``) is not taken, nor a ``#`` line in a
fenced code block, wherever the fence is. Fences, block quotes and list items are followed as
CommonMark defines them: a fence in a list item is indented by the item's content offset, each line
of a quote starts with ``>``, a fence ends with the container it was opened in, and a paragraph in a
container may go on in a line that lacks the container's marks (a "lazy" line). Setext headings and
HTML blocks are not read: a heading underlined with ``===`` is not taken, and a ``#`` line inside
``<pre>`` is.

The scan reads each line once and stops at the title. Every step on a line is bounded (container
nesting by ``MAX_NESTING``, indentation read up to ``INDENT_SCAN`` columns), so the time is linear in
the document; there is no regex that could backtrack (a heading padded with 4,000 blanks once took
85 s, and fences with 200,000 backticks must not stall either).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Deeper block quotes and list items than this are read as text of the innermost one. A title is at
# the top level, and markdown-it's own limit is 20; without a limit, each line of a document opening
# with 50,000 nested list items would be matched against all of them.
MAX_NESTING = 32
# Indentation only matters up to a list item's content offset (3 + 10 + 4 columns at most) or the
# four columns of indented code; further blanks are not counted one by one on each check.
INDENT_SCAN = 32
BLANKS = " \t"
# What a line outside any container starts with when it may be more than a paragraph's text.
BLOCK_MARKS = frozenset(" \t>-+*#`~_=0123456789")
ORDERED_MARKER = re.compile(r"[0-9]{1,9}[.)]")
# A title heads its document: only the first characters are scanned for it (Python reads ~100 KB of
# Markdown in 45-80 ms, so a 10 MB file with no level-1 heading would spend seconds finding none).
TITLE_SCAN_CHARS = 200_000


@dataclass
class _Container:
    """An open block quote (``width`` 0) or list item (``width``: its content offset in columns)."""

    quote: bool
    width: int = 0
    has_content: bool = True  # a list item opened by a marker alone has none until its next line


@dataclass
class _Fence:
    char: str
    length: int


class _Line:
    """A cursor on one line. Tabs count to the next multiple of four columns, as CommonMark counts
    them where they indent; a tab only partly consumed leaves ``spare`` columns."""

    __slots__ = ("col", "end", "pos", "spare", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.end = len(text.rstrip(BLANKS))  # the rest of the line is blank from here
        self.pos = self.col = self.spare = 0

    def blank(self) -> bool:
        return self.pos >= self.end

    def indent(self) -> int:
        """Columns of blanks before the next character, counted up to ``INDENT_SCAN``."""
        cols, col, pos = self.spare, self.col, self.pos
        while pos < self.end and cols < INDENT_SCAN and self.text[pos] in BLANKS:
            width = 4 - col % 4 if self.text[pos] == "\t" else 1
            cols, col, pos = cols + width, col + width, pos + 1
        return cols

    def advance(self, columns: int) -> None:
        """Consume ``columns`` columns of blanks (no more than ``indent()``)."""
        taken = min(columns, self.spare)
        self.spare -= taken
        columns -= taken
        while columns > 0 and self.pos < len(self.text) and self.text[self.pos] in BLANKS:
            width = 4 - self.col % 4 if self.text[self.pos] == "\t" else 1
            self.pos, self.col = self.pos + 1, self.col + width
            taken = min(width, columns)
            self.spare, columns = width - taken, columns - taken

    def skip_blanks(self) -> None:
        """Consume the blanks before the next character (called where there are three columns at most)."""
        self.advance(self.indent())

    def peek(self) -> str:
        """The next character after the blanks ("" at the line's end)."""
        pos = self.pos
        while pos < self.end and self.text[pos] in BLANKS:
            pos += 1
        return self.text[pos] if pos < self.end else ""

    def take(self, count: int) -> None:
        """Consume ``count`` characters that are not blanks."""
        self.pos, self.col, self.spare = self.pos + count, self.col + count, 0

    def take_quote_mark(self) -> None:
        """Consume the blanks before a ``>``, the ``>`` and the one optional blank column after it."""
        self.skip_blanks()
        self.take(1)
        self.advance(min(1, self.indent()))

    def rest(self) -> str:
        return self.text[self.pos : self.end]


def _run(text: str, char: str) -> int:
    return len(text) - len(text.lstrip(char))


def heading_text(line_rest: str) -> str:
    """A heading's text: blanks around it and a closing run of #s after a blank stripped ("C#" stays)."""
    text = line_rest.strip(BLANKS)
    opened = text.rstrip("#")
    if not opened:
        return ""
    return opened.rstrip(BLANKS) if opened != text and opened[-1] in BLANKS else text


def _heading_level(rest: str) -> int:
    """The level of an ATX heading that ``rest`` (from its first "#") opens; 0 when it opens none."""
    level = _run(rest, "#")
    return level if 1 <= level <= 6 and (len(rest) == level or rest[level] in BLANKS) else 0


def _fence_opened(rest: str) -> _Fence | None:
    """A fence of three or more backticks or tildes; a backtick fence's info string has no backtick."""
    char = rest[:1]
    length = _run(rest, char) if char in ("`", "~") else 0
    if length < 3 or (char == "`" and "`" in rest[length:]):
        return None
    return _Fence(char, length)


def _fence_closed(line: _Line, fence: _Fence) -> bool:
    """A run of the fence's character at least as long, indented up to three, with only blanks after."""
    if line.indent() > 3:
        return False
    rest = line.rest().lstrip(BLANKS)
    length = _run(rest, fence.char)
    return length >= fence.length and length == len(rest)


def _thematic_break(rest: str) -> bool:
    marks = rest.replace(" ", "").replace("\t", "")
    return len(marks) >= 3 and marks[0] in "*-_" and _run(marks, marks[0]) == len(marks)


def _list_marker(rest: str, *, interrupts_paragraph: bool) -> int:
    """The length of the list marker ``rest`` starts with, 0 if none. A list item interrupts a
    paragraph only if it is not empty and, when ordered, numbered 1."""
    if rest[:1] in ("-", "+", "*"):
        length = 1
    elif match := ORDERED_MARKER.match(rest):
        length = match.end()
        if interrupts_paragraph and int(rest[: length - 1]) != 1:
            return 0
    else:
        return 0
    after = rest[length:]
    if after and after[0] not in BLANKS:
        return 0
    if interrupts_paragraph and not after.strip(BLANKS):
        return 0
    return length


class _Scanner:
    """CommonMark's block structure, as far as a title needs it: the open containers, and whether
    the line before left a paragraph or a fence open."""

    def __init__(self) -> None:
        self.containers: list[_Container] = []
        self.fence: _Fence | None = None
        self.paragraph = False

    def title(self, text: str) -> str:
        start = 0
        while start <= len(text):
            end = text.find("\n", start)
            end = len(text) if end == -1 else end
            if not self._plain(text[start:end]) and (heading := self._line(_Line(text[start:end]))):
                return heading
            start = end + 1
        return ""

    def _plain(self, line: str) -> bool:
        """Whether ``line``, outside any container, is text of a paragraph or a code block that
        ``_line`` would read as just that (most lines of a document: a shortcut, no other outcome)."""
        if self.containers or not line:
            return False
        if self.fence is not None:
            return line[0] not in BLANKS and line[0] != self.fence.char
        if line[0] in BLOCK_MARKS:
            return False
        self.paragraph = True
        return True

    def _matched(self, line: _Line) -> int:
        """How many open containers ``line`` continues, consuming their marks and indentation."""
        for depth, container in enumerate(self.containers):
            if container.quote:
                if line.indent() > 3 or line.peek() != ">":
                    return depth
                line.take_quote_mark()
            elif line.blank():
                if not container.has_content:
                    return depth  # a blank line ends an item that began with one
            elif line.indent() >= container.width:
                line.advance(container.width)
            else:
                return depth
        return len(self.containers)

    def _line(self, line: _Line) -> str:
        """Read one line; the title if it is the one."""
        matched = self._matched(line)
        if self.fence is not None and matched == len(self.containers):
            if _fence_closed(line, self.fence):
                self.fence = None
            return ""
        if matched < len(self.containers):
            if self.paragraph and not line.blank() and not self._starts_block(line):
                return ""  # a lazy line of the paragraph: the containers stay open
            del self.containers[matched:]
            self.fence, self.paragraph = None, False
        if not line.blank():  # whatever it holds is content of the containers it continues
            for container in self.containers:
                container.has_content = True
        self._open_containers(line)
        if line.blank():
            self.paragraph = False
            return ""
        return self._leaf(line)

    def _starts_block(self, line: _Line) -> bool:
        """Whether what ``line`` holds after the containers it continues starts a block, which ends
        the paragraph of a container it does not continue (as in cmark, a list item may then be
        empty or numbered from any number: the paragraph it would interrupt is not in its container)."""
        if line.indent() > 3:
            return False
        rest = line.rest().lstrip(BLANKS)
        return rest[:1] == ">" or bool(
            _heading_level(rest)
            or _fence_opened(rest)
            or _thematic_break(rest)
            or _list_marker(rest, interrupts_paragraph=False)
        )

    def _open_containers(self, line: _Line) -> None:
        while len(self.containers) < MAX_NESTING and line.indent() <= 3 and not line.blank():
            rest = line.rest().lstrip(BLANKS)
            if rest[:1] == ">":
                line.take_quote_mark()
                self.containers.append(_Container(quote=True))
            elif not _thematic_break(rest) and (marker := _list_marker(rest, interrupts_paragraph=self.paragraph)):
                offset = line.indent()
                line.skip_blanks()
                line.take(marker)
                empty = line.blank()
                padding = line.indent()
                # No blank, or five or more (the content is indented code): the content starts one column on.
                padding = 1 if empty or padding > 4 else padding
                if not empty:
                    line.advance(padding)
                self.containers.append(_Container(quote=False, width=offset + marker + padding, has_content=not empty))
            else:
                return
            self.paragraph = False

    def _leaf(self, line: _Line) -> str:
        if line.indent() > 3:
            return ""  # indented code, or more of the paragraph (which indented code cannot interrupt)
        line.skip_blanks()
        rest = line.rest()
        if level := _heading_level(rest):
            self.paragraph = False
            # A heading of only Unicode blanks (U+00A0, U+3000) would show as no title at all.
            text = heading_text(rest[level:]) if level == 1 and not self.containers else ""
            return text if text.strip() else ""
        self.fence = _fence_opened(rest)
        # A thematic break ends a paragraph, and so does a setext underline under one (a run of "=" or
        # of "-": "-" alone is no empty list item there, which could not interrupt the paragraph).
        underline = self.paragraph and len(rest) in (_run(rest, "="), _run(rest, "-"))
        self.paragraph = self.fence is None and not _thematic_break(rest) and not underline
        return ""


def markdown_title(text: str) -> str:
    """The text of the document's first top-level level-1 ATX heading that has some, within its first
    ``TITLE_SCAN_CHARS`` characters; "" if none. A line ends at ``\n``, ``\r\n`` or a lone ``\r`` (classic
    Mac), as in CommonMark."""
    return _Scanner().title(text[:TITLE_SCAN_CHARS].replace("\r\n", "\n").replace("\r", "\n"))
