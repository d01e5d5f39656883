from __future__ import annotations

import itertools

import pytest

from knowledge.chunking import (
    MAX_CHARS_PER_TOKEN,
    MODEL_MAX_TOKENS,
    ParentChunk,
    chunk_document,
    count_tokens,
    split_text,
)
from knowledge.indexing import CONTEXT_TOKEN_BUDGET, max_embedding_tokens

# The deepest section path of the longest headings: the embedded context stays within its budget.
SECTION = tuple("Heading " * 100 for _ in range(6))


def test_split_text_empty_and_blank_give_no_chunks():
    assert split_text("", max_tokens=50, overlap=5) == []
    assert split_text(" \n\n \t ", max_tokens=50, overlap=5) == []


def test_split_text_short_text_is_one_chunk_with_its_span():
    text = "  Parking is free behind the studio.  "
    [chunk] = split_text(text, max_tokens=50, overlap=5)
    assert chunk.text == "Parking is free behind the studio."
    assert text[chunk.start : chunk.end] == chunk.text


def test_split_text_respects_token_limit_and_overlaps():
    # given: many sentences in one huge paragraph
    text = " ".join(f"Sentence number {n} talks about massage pricing and gift cards." for n in range(200))
    # when
    chunks = split_text(text, max_tokens=60, overlap=15)
    # then
    assert len(chunks) > 10
    assert all(count_tokens(c.text) <= 60 for c in chunks)
    assert all(text[c.start : c.end] == c.text for c in chunks)
    # consecutive chunks share text (the overlap) and together cover the whole text
    assert all(b.start < a.end for a, b in itertools.pairwise(chunks))
    assert chunks[0].start == 0 and chunks[-1].end == len(text)


def test_split_text_prefers_paragraph_boundaries():
    paragraphs = ["Alpha " * 20, "Beta " * 20, "Gamma " * 20]
    chunks = split_text("\n\n".join(paragraphs), max_tokens=30, overlap=0)
    assert [c.text.split()[0] for c in chunks] == ["Alpha", "Beta", "Gamma"]


def test_split_text_without_any_separator_cuts_at_token_boundaries():
    text = "健康" * 400  # no spaces, no punctuation
    chunks = split_text(text, max_tokens=50, overlap=0)
    assert "".join(c.text for c in chunks) == text
    assert all(c.tokens <= 50 for c in chunks)


def test_split_text_non_latin_sentences():
    text = "Массаж длится шестьдесят минут. " * 40 + "ご予約は前日までにお願いします。" * 30
    chunks = split_text(text, max_tokens=40, overlap=5)
    assert all(count_tokens(c.text) <= 40 for c in chunks)
    assert chunks[-1].text.endswith("。")


def test_split_text_ends_japanese_chunks_at_the_full_stop():
    # given: Japanese sentences (16 tokens each) with no space after their "。"
    sentence = "ご予約は前日までにお願いします。"
    text = sentence * 30
    # when: a chunk holds a few sentences but not all
    chunks = split_text(text, max_tokens=60, overlap=5)
    # then: every chunk is whole sentences, cut after a "。", never inside a sentence
    assert 1 < len(chunks) < 30
    assert all(c.tokens <= 60 for c in chunks)
    assert [c.text[-1] for c in chunks] == ["。"] * len(chunks)
    assert all(c.text == sentence * c.text.count("。") for c in chunks)
    assert chunks[0].start == 0 and chunks[-1].end == len(text)


def test_split_text_giant_word_is_cut_by_characters():
    chunks = split_text("x" * 5000, max_tokens=50, overlap=0)
    assert sum(len(c.text) for c in chunks) == 5000
    assert max(len(c.text) for c in chunks) <= 50 * 12


def test_split_text_keeps_words_joined_into_one_giant_word_by_characters_the_model_deletes() -> None:
    # given: words joined by vertical tabs (Word's line breaks), which the tokenizer deletes: to the
    # model the whole text is one "word" over 100 characters, one [UNK]
    text = "Refunds\x0btake\x0bfive\x0bdays\x0b" * 500
    # when
    chunks = split_text(text, max_tokens=50, overlap=10)
    # then: every word is in a chunk, and consecutive chunks overlap by a little, not by nearly all
    covered = [False] * len(text)
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert len(chunk.text) <= 50 * 12
        covered[chunk.start : chunk.end] = [True] * len(chunk.text)
    assert all(covered[i] for i, char in enumerate(text) if char != "\x0b")
    assert len(chunks) < 2 * len(text) / (50 * 12)


def test_split_text_rejects_overlap_not_smaller_than_size():
    with pytest.raises(ValueError, match="overlap"):
        split_text("some text", max_tokens=10, overlap=10)


def test_chunk_document_children_sit_inside_their_parent_and_fit_the_model():
    text = "\n\n".join(f"## Section {n}\n" + "Our therapists use warm oil and stones. " * 40 for n in range(6))
    parents = chunk_document(text, parent_tokens=350, parent_overlap=60, child_tokens=128, child_overlap=20)
    assert len(parents) > 3
    for parent in parents:
        assert parent.chunk.tokens <= 350
        for child in parent.children:
            assert parent.chunk.start <= child.start < child.end <= parent.chunk.end
            assert text[child.start : child.end] == child.text
            # zero truncation: even with a maximal title and section the model sees every word-piece
            assert max_embedding_tokens("T " * 200, child.text, SECTION) <= MODEL_MAX_TOKENS


def test_context_budget_is_applied():
    assert max_embedding_tokens("word " * 300, "x") <= CONTEXT_TOKEN_BUDGET + 4
    assert max_embedding_tokens("word " * 300, "x", SECTION) <= CONTEXT_TOKEN_BUDGET + 4
    assert max_embedding_tokens("", "x", SECTION) <= CONTEXT_TOKEN_BUDGET + 4


def test_chunk_document_child_holding_the_end_of_a_giant_word_fits_the_model() -> None:
    # given a pasted key of letters and digits (a word-piece per character) too long for the model's
    # vocabulary: in the whole text one [UNK], cut after 128 x 12 characters, so its last 100
    # characters begin a child of their own, where the model reads them as 100 word-pieces
    key = "x9" * 818
    text = f"Your licence key is {key}\n\n" + "Keep it somewhere safe. " * 60
    # when
    parents = chunk_document(text, parent_tokens=350, parent_overlap=60, child_tokens=128, child_overlap=20)
    # then
    children = [child for parent in parents for child in parent.children]
    assert all(count_tokens(child.text) <= 128 for child in children)
    assert all(child.tokens == count_tokens(child.text) for child in children)
    assert all(max_embedding_tokens("T " * 200, child.text, SECTION) <= MODEL_MAX_TOKENS for child in children)


@pytest.mark.parametrize("child_tokens", [128, 200])
def test_chunk_document_counts_are_what_the_model_reads_when_a_cut_splits_a_word(child_tokens: int) -> None:
    # given: a run without whitespace of one word the tokenizer splits into word-pieces ("q", "##z",
    # ...), so hard cuts fall between two pieces of one word; read alone, the rest of the word is
    # tokenized anew (without "##") and can take one word-piece more than it did in the whole text
    text = "Tracking codes: " + "-".join(["qzvkjpwxy"] * 400)
    # when
    parents = chunk_document(text, parent_tokens=350, parent_overlap=60, child_tokens=child_tokens, child_overlap=20)
    # then: every stored count is exact and within its limit, and the model truncates no child
    children = [child for parent in parents for child in parent.children]
    assert all(parent.chunk.tokens == count_tokens(parent.chunk.text) <= 350 for parent in parents)
    assert all(child.tokens == count_tokens(child.text) <= child_tokens for child in children)
    assert all(max_embedding_tokens("T " * 200, child.text, SECTION) <= MODEL_MAX_TOKENS for child in children)
    # and a cut moves back a token rather than leave a splinter of a word; nothing is lost
    assert all(parent.chunk.tokens >= 340 for parent in parents[1:-1])
    covered = [False] * len(text)
    for parent in parents:
        assert text[parent.chunk.start : parent.chunk.end] == parent.chunk.text
        covered[parent.chunk.start : parent.chunk.end] = [True] * len(parent.chunk.text)
    assert all(covered[i] for i, char in enumerate(text) if not char.isspace())


def test_a_heading_at_a_chunk_boundary_opens_the_next_chunk_instead_of_ending_the_last() -> None:
    # given a paragraph, a heading on its own line and the section's paragraph: the first paragraph
    # and the heading fit one chunk, the section's paragraph does not fit with them
    text = "Book online or at the desk. " * 10 + "\n\n## Refunds\n\n" + "The money is back in five days. " * 9
    heading = text.index("## Refunds")
    # when
    plain = split_text(text, max_tokens=90, overlap=0)
    sectioned = split_text(text, max_tokens=90, overlap=0, headings={heading})
    # then without headings the heading ends the first chunk; with them it opens the second
    assert plain[0].text.endswith("## Refunds") and len(plain) == 2
    assert [chunk.start for chunk in sectioned] == [0, heading]
    assert not sectioned[0].text.endswith("## Refunds")
    assert all(chunk.tokens <= 90 for chunk in sectioned)
    # and the same holds for the children of a document's parents
    parents = chunk_document(
        text, parent_tokens=350, parent_overlap=60, child_tokens=90, child_overlap=20, headings={heading}
    )
    children = [child for parent in parents for child in parent.children]
    assert any(child.start == heading for child in children)
    assert not any(child.text.endswith("## Refunds") for child in children)


def test_a_heading_that_opens_a_chunk_carries_no_overlap_from_the_section_before() -> None:
    # given a long paragraph (cut into sentences), a heading and its section, with overlap between chunks
    text = "Book online now. " * 30 + "\n\n## Refunds\n\n" + "Money back soon. " * 12
    heading = text.index("## Refunds")
    # when the heading is held for the next chunk
    chunks = split_text(text, max_tokens=90, overlap=20, headings={heading})
    # then that chunk starts at the heading (its section is Refunds), not with the tail before it
    assert heading in [chunk.start for chunk in chunks]
    assert not any(chunk.start < heading < chunk.end for chunk in chunks)
    assert all(chunk.tokens <= 90 for chunk in chunks)


def test_a_heading_that_would_not_fit_the_next_chunk_stays_where_it_is() -> None:
    # given a heading followed by a paragraph too long to share a chunk with it
    text = "Intro. " * 10 + "\n\n## Refunds\n\n" + "Money back in five days. " * 30
    heading = text.index("## Refunds")
    # when
    chunks = split_text(text, max_tokens=60, overlap=0, headings={heading})
    # then nothing is lost or over the limit, and the heading stays with the first words of its section
    assert all(chunk.tokens <= 60 for chunk in chunks)
    [holding] = [chunk for chunk in chunks if chunk.start <= heading < chunk.end]
    assert "## Refunds\n\nMoney back" in holding.text
    assert not any(chunk.text.endswith("## Refunds") for chunk in chunks)


def test_chunk_document_child_of_a_parent_with_few_tokens_keeps_the_child_character_limit() -> None:
    # given: a "word" over 100 characters, one [UNK] token to the model, long enough for a parent
    # (350 tokens, 4,200 characters) but not for a child (128 tokens, 1,536 characters)
    text = "0" * 3000
    # when
    parents = chunk_document(text, parent_tokens=350, parent_overlap=60, child_tokens=128, child_overlap=20)
    # then: the parent is cut into children, as a parent of many tokens would be
    children = [child for parent in parents for child in parent.children]
    assert [(parent.chunk.start, parent.chunk.end) for parent in parents] == [(0, 3000)]
    assert all(len(child.text) <= 128 * MAX_CHARS_PER_TOKEN for child in children)
    assert "".join(child.text for child in children) == text


@pytest.mark.parametrize(("max_tokens", "overlap"), [(6, 3), (5, 2)])
def test_split_text_gives_no_chunk_that_only_repeats_text_of_the_chunk_beside_it(max_tokens: int, overlap: int) -> None:
    # given: control characters Python splits words at and the tokenizer deletes (Word's vertical
    # tab, an information separator), so "Refunds\x1cor\x0bis" is three words to Python and one
    # word of word-pieces to the model; an overlap beginning inside it, read alone, is one piece
    # more and is cut again
    text = "Call\nRefunds\x1cor\x0bis expire\x0bbehind"
    # when
    chunks = split_text(text, max_tokens=max_tokens, overlap=overlap)
    # then: each chunk begins and ends after the one before, so none lies inside its neighbour
    assert all(a.start < b.start and a.end < b.end for a, b in itertools.pairwise(chunks))
    assert all(text[chunk.start : chunk.end] == chunk.text for chunk in chunks)
    assert chunks[0].start == 0 and chunks[-1].end == len(text)


def test_split_text_overlap_begins_at_a_token_so_chunks_stay_in_order() -> None:
    # given: an emoji, NEL (\x85, Python's whitespace, deleted by the tokenizer) and a Greek
    # letter: "👍\x85Ωxc" is one [UNK] word to the model, two words to Python
    text = "a\x1ea.👍\x85Ωxc.a\na"
    # when
    chunks = split_text(text, max_tokens=4, overlap=2)
    # then: no overlap begins inside that word (its rest, read alone, is a word of its own and was
    # cut again into chunks out of order, one of them twice)
    assert [(chunk.start, chunk.end) for chunk in chunks] == sorted({(chunk.start, chunk.end) for chunk in chunks})
    assert all(a.start < b.start and a.end < b.end for a, b in itertools.pairwise(chunks))
    assert "".join(text[chunk.start : chunk.end] for chunk in chunks).count("Ωxc") == 1


def _blob(length: int, seed: int = 0) -> str:
    """``length`` characters of base64 (with its + and /, which the tokenizer splits at)."""
    import base64
    import random

    generator = random.Random(seed)
    return base64.b64encode(bytes(generator.getrandbits(8) for _ in range(length))).decode()[:length]


ENCODED = {
    "base64": _blob(5000),
    "hex": _blob(2500, seed=1).encode().hex(),  # one 5,000-character word: a single [UNK]
    "one letter repeated": "x" * 5000,
}


def _served(text: str) -> list[ParentChunk]:
    """``text`` chunked with the served sizes (knowledge.conf's defaults)."""
    return chunk_document(text, parent_tokens=350, parent_overlap=60, child_tokens=128, child_overlap=20)


@pytest.mark.parametrize("blob", ENCODED.values(), ids=ENCODED)
def test_chunk_document_keeps_encoded_data_apart_from_the_text_and_marks_it_not_to_embed(blob: str) -> None:
    # given an article with a 5,000-character run of encoded data between its paragraphs
    intro, outro = "Intro words about parking.", "The end of the article."
    text = f"{intro}\n\n{blob}\n\n{outro}"
    # when it is chunked with the served sizes
    parents = _served(text)
    children = [child for parent in parents for child in parent.children]
    # then the words are children of their own, to embed
    assert [(c.text, c.opaque) for c in children if not c.opaque] == [(intro, False), (outro, False)]
    # and the run is cut by characters alone into as few children as the character limit allows
    # (4,200 a parent, 1,536 a child), which tile it exactly and are not embedded
    opaque = [c for c in children if c.opaque]
    assert [len(c.text) for c in opaque] == [1536, 1536, 1128, 800]
    assert "".join(c.text for c in opaque) == blob and opaque[0].start == text.index(blob)
    assert all(c.tokens == max(1, count_tokens(c.text)) for c in opaque)  # what the model would read, if asked
    assert [p.chunk.opaque for p in parents] == [False, True, True, False]


def test_a_data_address_keeps_its_scheme_with_the_text_and_its_data_apart() -> None:
    data = _blob(3000, seed=2)
    text = f"See the map: ![map](data:image/png;base64,{data}) and park behind the studio."
    children = [child for parent in _served(text) for child in parent.children]
    assert [c.text for c in children if c.opaque] == [data[:1536], data[1536:]]
    assert [c.text for c in children if not c.opaque] == [
        "See the map: ![map](data:image/png;base64,",
        ") and park behind the studio.",
    ]


LANGUAGE_LIKE = {
    "a long address of words": "https://example.com/" + "/".join(f"segment{n}" for n in range(400)),
    "an identifier": "_".join(["get_the_customer_account_settings_for_the_current_booking_window"] * 5),
    "a ruler": "=" * 300 + "\n" + "-" * 300,
    "hashes": " ".join(_blob(64, seed=n).encode().hex()[:64] for n in range(40)),
    "a short blob in a sentence": f"The key is {_blob(150, seed=3)} as issued.",
}


@pytest.mark.parametrize("text", LANGUAGE_LIKE.values(), ids=LANGUAGE_LIKE)
def test_text_that_merely_looks_technical_is_chunked_and_embedded_as_before(text: str) -> None:
    parents = _served(text)
    assert not any(p.chunk.opaque or any(c.opaque for c in p.children) for p in parents)
    assert all(c.tokens <= 128 for p in parents for c in p.children)
