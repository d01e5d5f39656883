"""Properties of the chunker over arbitrary text (hypothesis, derandomized so CI is repeatable).

Whatever the text (any script, emoji, combining marks, right-to-left text, CRLF, blanks only, no
separator at all, one giant word), every chunk is a trimmed span of the text that the model reads
whole, children lie inside their parent, nothing but blanks is lost, and the result is the same on
every run. The tokenizer is the local model's own (``chunking._tokenizer``, loaded once per process).
"""

from __future__ import annotations

import functools
import itertools
import re
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knowledge import conf
from knowledge.chunking import (
    MAX_CHARS_PER_TOKEN,
    MODEL_MAX_TOKENS,
    TextChunk,
    chunk_document,
    count_tokens,
    opaque_runs,
    split_text,
)
from knowledge.indexing import _plan, max_embedding_tokens
from knowledge.models import Document
from knowledge.sections import SectionIndex

PROPERTIES = settings(max_examples=600, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces of text of the kinds that make splitting hard.
WORDS = st.sampled_from(
    [
        "Parking",
        "refund",
        "qzvkjpwxy",  # word-pieces: "q", "##z", ...
        "x9" * 80,  # over 100 characters: one [UNK] in the whole text, a piece per character alone
        "健康管理",  # CJK: a token per character, no spaces
        "ご予約は前日までにお願いします。",
        "Массаж",
        "مرحبا",  # right to left
        "שלום",
        "e\u0301\u0301",  # combining marks
        "👍🏽",  # emoji with a skin tone modifier
        "👨\u200d👩\u200d👧",  # a ZWJ sequence
        "\u200f",  # RLM, a format character
        "\ufeff",
        "\x0b",  # a vertical tab: Python's whitespace, deleted by the tokenizer
        "\x1b[0m",
        "C#",
        "e.g.",
        "...",
        "!?",
        "3.14",
        # encoded data (base64, with its "+" and "/"): chunked apart by characters, and not embedded
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg+/"
        "QmFzZTY0IGVuY29kZWQgZGF0YSBpbmxpbmVkIGluIGEgaGVscCBjZW50cmUgcGFnZTogYW4gaW1hZ2Ugb3IgYSBmaWxlLg==/"
        "U3VwcG9ydEFJIGtlZXBzIGl0IGFwYXJ0IGZyb20gdGhlIHRleHQgYXJvdW5kIGl0Lg+ZXhhbXBsZQ",
    ]
)
# Python's whitespace includes control characters the tokenizer deletes inside a word (\x0b, \x1c-\x1f,
# \x85): where Python splits, the model may read one word.
SEPARATORS = st.sampled_from(
    [
        " ",
        "  ",
        "\n",
        "\r\n",
        "\n\n",
        "\r\n\r\n",
        "\t",
        "\u00a0",
        "\u3000",
        "\u2028",
        "。",
        ". ",
        "",
        "\x0b",
        "\x1c",
        "\x85",
        # Section headings (knowledge/sections.py), which the chunker keeps with their section.
        "\n\n## Refunds\n\n",
        "\n\n# Bookings\n",
        "\nOpening hours\n---\n\n",
    ]
)
STRUCTURED = st.lists(st.tuples(WORDS, SEPARATORS), max_size=400).map(
    lambda pairs: "".join(word + separator for word, separator in pairs)
)
ARBITRARY = st.text(max_size=3000)
BLANKS = st.text(alphabet=" \t\n\r\x0b\x0c\u00a0\u2028\u3000", max_size=200)
GIANT_WORD = st.builds(
    lambda char, n: char * n, st.sampled_from(["x", "0", "健", "é", "👍", "qz", "a1"]), st.integers(1, 4000)
)
# Long runs of any characters, many of them control characters: words that Python splits at its
# whitespace (\x1c-\x1f, \x85) and the model reads as one, in every arrangement.
CONTROLLED = st.text(
    alphabet=st.one_of(
        st.characters(max_codepoint=0x20),
        # No surrogates: a document's text is stored in PostgreSQL, which holds none.
        st.characters(min_codepoint=0x21, max_codepoint=0x1FAFF, codec="utf-8"),
    ),
    min_size=100,
    max_size=2000,
)
TEXTS = st.one_of(STRUCTURED, ARBITRARY, BLANKS, GIANT_WORD, CONTROLLED)

# The smallest sizes the settings allow (knowledge/conf.py) make many chunks from short texts; the
# defaults are the ones served.
SIZES = st.sampled_from([(64, 16, 32, 8), (64, 0, 32, 0), (350, 60, 128, 20), (350, 60, 200, 20)])


@cache
def _readable(char: str) -> bool:
    """Whether the model reads ``char`` on its own. The tokenizer deletes control and format
    characters and (uncased) combining marks; a piece of only those is blank to the model and is
    dropped, as ``chunking._split`` documents, so they are the one thing besides blanks a chunk may lose."""
    return count_tokens(char) > 0


def _assert_chunks_are_spans(text: str, chunks: list[TextChunk], max_tokens: int) -> None:
    for chunk in chunks:
        assert 0 <= chunk.start < chunk.end <= len(text)
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.text == chunk.text.strip()
        # The stored count is what the model reads, and within the limit: no truncation.
        assert chunk.tokens == max(1, count_tokens(chunk.text))
        # Encoded data is never embedded: cut by characters alone, the model's limit is not its own.
        assert chunk.tokens <= max_tokens or chunk.opaque
        assert len(chunk.text) <= max_tokens * MAX_CHARS_PER_TOKEN


def _assert_opaque_apart(text: str, chunks: list[TextChunk]) -> None:
    """Encoded data (``opaque_runs``) is in opaque chunks only, and opaque chunks hold nothing else."""
    runs = opaque_runs(text)
    for chunk in chunks:
        inside = any(start <= chunk.start and chunk.end <= end for start, end in runs)
        overlaps = any(chunk.start < end and start < chunk.end for start, end in runs)
        assert inside if chunk.opaque else not overlaps


def _assert_forward(chunks: list[TextChunk]) -> None:
    """Each chunk starts and ends after the one before: an overlap never repeats a whole chunk."""
    assert all(a.start < b.start and a.end < b.end for a, b in itertools.pairwise(chunks))


def _heading_marks(text: str) -> set[int]:
    """Where the "#" marks of ``text``'s ATX headings are: a chunk of those alone, cut from their
    heading's words, is dropped (``chunking._heading_marks_alone``)."""
    marks: set[int] = set()
    for start in SectionIndex.of(text).starts:
        if match := re.compile(r" {0,3}(#{1,6})").match(text, start):
            marks.update(range(match.start(1), match.end(1)))
    return marks


def _assert_covered(text: str, chunks: list[TextChunk]) -> None:
    covered: set[int] = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    lost = {i for i, char in enumerate(text) if not char.isspace() and _readable(char)} - covered - _heading_marks(text)
    assert not lost, [text[i] for i in sorted(lost)]


@PROPERTIES
@given(text=TEXTS, max_tokens=st.integers(8, 80), overlap_share=st.floats(0, 0.5))
def test_split_text_chunks_are_spans_within_the_limit_and_lose_nothing(
    text: str, max_tokens: int, overlap_share: float
) -> None:
    overlap = int(max_tokens * overlap_share)
    headings = SectionIndex.of(text).starts
    chunks = split_text(text, max_tokens=max_tokens, overlap=overlap, headings=headings)
    _assert_chunks_are_spans(text, chunks, max_tokens)
    _assert_covered(text, chunks)
    _assert_forward(chunks)
    _assert_opaque_apart(text, chunks)
    assert split_text(text, max_tokens=max_tokens, overlap=overlap, headings=headings) == chunks


@PROPERTIES
@given(text=TEXTS, sizes=SIZES)
def test_chunk_document_parents_and_children_fit_and_children_lie_in_their_parent(
    text: str, sizes: tuple[int, int, int, int]
) -> None:
    parent_tokens, parent_overlap, child_tokens, child_overlap = sizes
    chunked = functools.partial(
        chunk_document,
        text,
        parent_tokens=parent_tokens,
        parent_overlap=parent_overlap,
        child_tokens=child_tokens,
        child_overlap=child_overlap,
        headings=SectionIndex.of(text).starts,
    )
    parents = chunked()
    _assert_chunks_are_spans(text, [p.chunk for p in parents], parent_tokens)
    children = [child for parent in parents for child in parent.children]
    _assert_chunks_are_spans(text, children, child_tokens)
    _assert_forward([p.chunk for p in parents])
    for parent in parents:
        assert parent.children
        # Only within a parent: children of consecutive parents overlap as their parents do.
        _assert_forward(parent.children)
        assert all(parent.chunk.start <= c.start < c.end <= parent.chunk.end for c in parent.children)
    _assert_covered(text, children)
    _assert_opaque_apart(text, [p.chunk for p in parents])
    _assert_opaque_apart(text, children)
    # Zero truncation: with the longest title the model still reads every word-piece of a child it embeds.
    assert all(max_embedding_tokens("T " * 200, c.text) <= MODEL_MAX_TOKENS for c in children if not c.opaque)
    assert chunked() == parents  # deterministic


@PROPERTIES
@given(text=TEXTS)
def test_a_documents_planned_chunks_are_numbered_in_order_and_each_child_names_its_parent(text: str) -> None:
    # given: the served sizes (knowledge.conf's defaults)
    plan = _plan(Document(content=text), conf.SETTINGS)
    # then: parents are numbered 0, 1, 2, ... and children follow them, each inside its parent
    assert [p.parent_ordinal for p in plan.parents] == list(range(len(plan.parents)))
    assert [c.parent_ordinal for c in plan.children] == sorted(c.parent_ordinal for c in plan.children)
    assert {c.parent_ordinal for c in plan.children} == set(range(len(plan.parents)))
    for child in plan.children:
        parent = plan.parents[child.parent_ordinal]
        assert parent.start <= child.start < child.end <= parent.end
        assert text[child.start : child.end] == child.text
