"""A Markdown document whose heading is one 600-character "word" (no language writes one; the model
reads it as a single [UNK]): its chunks stay within the documented limits, the word makes no title
and no section carried into every child, and readable long headings are left alone."""

from __future__ import annotations

import pytest

from knowledge import conf
from knowledge.chunking import MAX_CHARS_PER_TOKEN, MODEL_MAX_TOKENS, chunk_document, without_unread_words
from knowledge.indexing import CONTEXT_TOKEN_BUDGET, embedding_context, embedding_text, max_embedding_tokens
from knowledge.parsing import parse_file
from knowledge.sections import SectionIndex

PARAGRAPHS = "\n\n".join(
    f"Paragraph {n}: the studio opens at nine and closes at six on weekdays; parking is free behind it."
    for n in range(12)
)
UNREAD_WORDS = ["a" * 600, "ж" * 600, "Straßenbahn" * 55, "a" * 600 + "."]


@pytest.mark.parametrize("word", UNREAD_WORDS)
def test_a_heading_of_one_unread_word_chunks_within_the_limits_without_it_as_title_or_section(word: str) -> None:
    # given
    document = parse_file("opening-hours.md", f"# {word}\n\n{PARAGRAPHS}\n".encode(), max_bytes=10**6)[0]
    settings = conf.SETTINGS
    sections = SectionIndex.of(document.text, title=document.title, file_name="opening-hours.md")
    # when
    parents = chunk_document(
        document.text,
        parent_tokens=settings.parent_tokens,
        parent_overlap=settings.parent_overlap,
        child_tokens=settings.child_tokens,
        child_overlap=settings.child_overlap,
        headings=sections.starts,
    )
    # then the title is the file's, as for a heading that says nothing
    assert document.title == "opening-hours"
    children = [child for parent in parents for child in parent.children]
    assert any("Paragraph 11" in child.text for child in children)
    # and no chunk is the heading's "#" alone, cut from its word
    assert all(chunk.text != "#" for parent in parents for chunk in (parent.chunk, *parent.children))
    for child in children:
        section = sections.above(child.start)
        # no child carries the word before its text
        assert section == ()
        assert embedding_text(document.title, child.text, section) == f"opening-hours\n{child.text}"
        # the limits of docs/retrieval.md "Chunking"
        assert child.tokens <= settings.child_tokens
        assert len(child.text) <= settings.child_tokens * MAX_CHARS_PER_TOKEN
        assert max_embedding_tokens(document.title, child.text, section) <= MODEL_MAX_TOKENS


def test_a_long_readable_heading_stays_the_title_and_no_chunk_is_its_mark_alone() -> None:
    heading = "日本" * 300  # each character a word-piece of its own: read, not one [UNK]
    document = parse_file("nihon.md", f"# {heading}\n\n{PARAGRAPHS}\n".encode(), max_bytes=10**6)[0]
    settings = conf.SETTINGS

    parents = chunk_document(
        document.text,
        parent_tokens=settings.parent_tokens,
        parent_overlap=settings.parent_overlap,
        child_tokens=settings.child_tokens,
        child_overlap=settings.child_overlap,
        headings=SectionIndex.of(document.text, file_name="nihon.md").starts,
    )

    assert document.title == heading
    assert embedding_context(document.title).startswith("日本")
    assert len(embedding_context(document.title)) <= CONTEXT_TOKEN_BUDGET
    children = [child for parent in parents for child in parent.children]
    assert children[0].text.startswith("日本") and children[0].tokens <= settings.child_tokens
    assert all(chunk.text != "#" for parent in parents for chunk in (parent.chunk, *parent.children))


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("a" * 600, ""),
        (f"Opening {'a' * 600} hours", "Opening hours"),
        ("Opening  hours", "Opening  hours"),  # nothing left out: the text as it was
        ("https://example.com/" + "segment/" * 20, "https://example.com/" + "segment/" * 20),
        ("a" * 100, "a" * 100),
    ],
)
def test_without_unread_words_leaves_out_only_words_the_model_reads_as_unk(text: str, read: str) -> None:
    assert without_unread_words(text) == read
