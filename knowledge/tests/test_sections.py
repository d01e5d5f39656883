"""Children know the section they come from: the heading path above them is embedded and searched
with them (knowledge/sections.py, knowledge/indexing.py), while their stored text stays their own."""

from __future__ import annotations

import dataclasses

import pytest

from knowledge import conf, indexing, staleness
from knowledge.bm25 import bm25_search
from knowledge.chunking import MODEL_MAX_TOKENS
from knowledge.dense import dense_search
from knowledge.embedding_reuse import text_sha256
from knowledge.indexing import CONTEXT_TOKEN_BUDGET, embedding_text, max_embedding_tokens
from knowledge.models import Chunk, ChunkLevel, Document
from knowledge.parsed import ParsedDocument
from knowledge.parsing import parse_file
from knowledge.providers.base import EmbeddingProvider
from knowledge.providers.fake import FakeEmbeddingProvider
from knowledge.references import child_texts
from knowledge.sections import HEADING_MAX_CHARS, Heading, SectionIndex, markdown_headings
from knowledge.services import file_ingest, parsed_ingest, source_get_or_create, tenant_reindex
from knowledge.staleness import StaleReason, stale_counts
from knowledge.tests.embedders import RecordingEmbedder
from knowledge.tests.factories import add_document
from supportai.models import Tenant

# Headings glued to their first paragraph, so each section's first child starts with its heading.
BOOKINGS = """# Bookings

Book a massage, facial or yoga class online, in the chat or at the front desk.

## Cancelling
Cancelling is done online: open the booking in your account and cancel it there. Late cancelling costs a fee.

### Refunds
Refunds go back to the card you paid with, never as cash.

You can do this up to 24 hours before. The money is back within five days.

## Rescheduling
Pick a new time on the same page, as often as you like, free of charge."""
TARGET = "You can do this up to 24 hours before. The money is back within five days."
QUESTION = "refund after cancelling"


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Children of a sentence or two, so that each section of a short article has its own."""
    small = dataclasses.replace(conf.SETTINGS, parent_tokens=64, parent_overlap=8, child_tokens=32, child_overlap=0)
    monkeypatch.setattr(conf, "SETTINGS", small)


def _index(tenant: Tenant, provider: EmbeddingProvider, *documents: tuple[str, str, str]) -> None:
    source = source_get_or_create(tenant=tenant, name="help centre")
    parsed = [ParsedDocument(external_id, title, text) for external_id, title, text in documents]
    result = parsed_ingest(tenant=tenant, source=source, name="articles", parsed_documents=parsed, provider=provider)
    assert not result.error


def _children(tenant: Tenant) -> dict[str, Chunk]:
    return {chunk.text: chunk for chunk in Chunk.objects.filter(tenant=tenant, level=ChunkLevel.CHILD)}


def _lexemes(chunk: Chunk) -> dict[str, int]:
    """Each lexeme of the child's stored search vector and its tf."""
    counts: dict[str, int] = {}
    for entry in str(chunk.search_vector).split():
        lexeme, _, positions = entry.rpartition(":")
        counts[lexeme.strip("'")] = len(positions.split(","))
    return counts


def _refund_section(tenant: Tenant) -> set[int]:
    """The children lying in "Cancelling > Refunds"."""
    document = Document.objects.get(tenant=tenant, external_id="bookings")
    start, end = document.content.index("### Refunds"), document.content.index("## Rescheduling")
    children = Chunk.objects.filter(tenant=tenant, document=document, level=ChunkLevel.CHILD)
    return {chunk.pk for chunk in children if start <= chunk.char_start < end}


def test_markdown_headings_reads_atx_and_setext_headings_outside_code_lists_and_quotes() -> None:
    # given
    text = (
        "# Bookings #\n\nIntro.\n\n## **Cancelling** online\n\n```\n# not a heading\n```\n\n"
        "    # indented code\n\n- # a list item\n> ## a quote\n\nRefunds\nand returns\n---\n\n"
        "Prices\n===\n\n- item\n---\n\n####### seven\n#hashtag"
    )
    # when
    headings = markdown_headings(text)
    # then
    assert [(h.level, h.text) for h in headings] == [
        (1, "Bookings"),
        (2, "Cancelling online"),
        (2, "Refunds and returns"),
        (1, "Prices"),
    ]
    assert headings[2].start == text.index("Refunds\n")


def test_section_index_gives_the_path_above_an_offset_without_the_title_or_headings_inside_the_chunk() -> None:
    # given
    sections = SectionIndex.of(BOOKINGS, title="Bookings")
    # then
    assert sections.above(BOOKINGS.index("Book a massage")) == ()
    assert sections.above(BOOKINGS.index("Cancelling is done")) == ("Cancelling",)
    assert sections.above(BOOKINGS.index("### Refunds")) == ("Cancelling",)
    assert sections.above(BOOKINGS.index(TARGET)) == ("Cancelling", "Refunds")
    # a chunk opening with a heading of the level above leaves the section it closes
    assert sections.above(BOOKINGS.index("## Rescheduling")) == ()
    assert sections.above(BOOKINGS.index("Pick a new time")) == ("Rescheduling",)


def test_plain_text_formats_have_no_sections() -> None:
    text = "Prices\n------\n\n### 60 minutes\n\nMassage is $90."
    for name in ("notes.txt", "faq.csv", "corpus.jsonl", "manual.pdf"):
        assert SectionIndex.of(text, file_name=name).above(text.index("Massage")) == ()
    assert SectionIndex.of(text, file_name="notes.md").above(text.index("Massage")) == ("Prices", "60 minutes")
    assert SectionIndex([Heading(0, 2, "Prices")]).above(5) == ("Prices",)


def test_html_headings_become_markdown_heading_lines_and_empty_ones_leave_nothing() -> None:
    # given
    page = (
        b"<html><head><title>Bookings</title></head><body><main><h1>Bookings</h1><p>Book online.</p>"
        b"<h2> <b>Cancelling</b> </h2><h3>Refunds</h3><p>You can do this up to 24 hours before.</p>"
        b"<h2></h2><h4> </h4><p>Thanks.</p></main></body></html>"
    )
    # when
    [document] = parse_file("bookings.html", page, max_bytes=100_000)
    # then
    assert document.text == (
        "# Bookings\n\nBook online.\n\n## Cancelling\n\n### Refunds\n\n"
        "You can do this up to 24 hours before.\n\nThanks."
    )
    sections = SectionIndex.of(document.text, title=document.title, file_name="bookings.html")
    assert sections.above(document.text.index("You can")) == ("Cancelling", "Refunds")


def test_each_child_is_embedded_with_title_and_section_and_keeps_its_own_text(tenant, small_chunks) -> None:
    # given
    recorder = RecordingEmbedder()
    # when
    _index(tenant, recorder, ("bookings", "Bookings", BOOKINGS))
    # then the child under "Cancelling > Refunds" is stored as written, embedded with its path
    children = _children(tenant)
    target = children[TARGET]
    expected = f"Bookings > Cancelling > Refunds\n{TARGET}"
    assert embedding_text("Bookings", TARGET, ("Cancelling", "Refunds")) == expected
    assert expected in recorder.seen
    assert target.embedded_text_sha256 == text_sha256(expected)
    # a child opening with its own heading gets only the headings above it
    opening = next(chunk for text, chunk in children.items() if text.startswith("### Refunds"))
    assert f"Bookings > Cancelling\n{opening.text}" in recorder.seen
    # the first child has no section: its input is what it always was
    assert f"Bookings\n{BOOKINGS[: BOOKINGS.index('## Cancelling')].strip()}" in recorder.seen


def test_section_words_are_keywords_of_the_child_once_and_never_twice_for_a_heading_it_holds(
    tenant, small_chunks
) -> None:
    # given
    _index(tenant, FakeEmbeddingProvider(), ("bookings", "Bookings", BOOKINGS))
    children = _children(tenant)
    # then the target gets the section's lexemes once each, beside its own
    target = _lexemes(children[TARGET])
    assert target["cancel"] == 1 and target["refund"] == 1 and target["money"] == 1
    # and a child holding the "### Refunds" heading counts it from its text only
    opening = _lexemes(next(chunk for text, chunk in children.items() if text.startswith("### Refunds")))
    assert opening["refund"] == 2  # "### Refunds" and "Refunds go back": no third from the section
    assert opening["cancel"] == 1  # "Cancelling", the section above it
    # and the title's weight is unchanged (Bookings is the title, and no section of its own)
    assert target["book"] == conf.SETTINGS.title_weight


def test_a_question_naming_only_the_section_finds_its_children_first_by_keywords(
    tenant, other_tenant, small_chunks
) -> None:
    # given
    _index(tenant, FakeEmbeddingProvider(), ("bookings", "Bookings", BOOKINGS))
    # when
    hits = bm25_search(tenant=tenant, query=QUESTION, limit=5)
    # then both children of "Cancelling > Refunds" (one without either word in its text) come first
    assert {hit.chunk_id for hit in hits[:2]} == _refund_section(tenant)
    assert Chunk.objects.get(pk=hits[0].chunk_id).char_start >= BOOKINGS.index("### Refunds")
    # and another tenant finds none of them
    assert bm25_search(tenant=other_tenant, query=QUESTION, limit=5) == []


def test_a_question_naming_only_the_section_finds_its_children_first_by_meaning(
    tenant, other_tenant, small_chunks, local_model
) -> None:
    # given
    _index(tenant, local_model, ("bookings", "Bookings", BOOKINGS))
    vector = local_model.embed_query(QUESTION)
    # when
    hits = dense_search(tenant=tenant, vector=vector, limit=5)
    # then
    assert {hit.chunk_id for hit in hits[:2]} == _refund_section(tenant)
    assert dense_search(tenant=other_tenant, vector=vector, limit=5) == []


def test_a_renamed_heading_embeds_its_sections_children_again_and_reuses_the_others(tenant, small_chunks) -> None:
    # given
    recorder = RecordingEmbedder()
    _index(tenant, recorder, ("bookings", "Bookings", BOOKINGS))
    before = _children(tenant)
    recorder.seen.clear()
    # when the heading above the target changes, and the target's own text does not
    _index(tenant, recorder, ("bookings", "Bookings", BOOKINGS.replace("### Refunds", "### Money back")))
    # then the target is embedded again with its new path; children outside the section are not
    after = _children(tenant)
    assert f"Bookings > Cancelling > Money back\n{TARGET}" in recorder.seen
    assert after[TARGET].embedded_text_sha256 != before[TARGET].embedded_text_sha256
    assert not any("Pick a new time" in text or "Book a massage" in text for text in recorder.seen)


def test_reindex_after_the_rules_bump_embeds_only_children_whose_input_gained_a_section(
    tenant, other_tenant, small_chunks
) -> None:
    # given an article with sections and one without, indexed by the rules before sections
    recorder = RecordingEmbedder()
    plain = "Free parking is behind the studio.\n\nStreet parking is metered until 6 pm."
    with pytest.MonkeyPatch.context() as before_sections:
        before_sections.setattr(indexing.SectionIndex, "of", classmethod(lambda cls, *args, **kwargs: cls([])))
        before_sections.setattr(staleness, "INDEX_RULES_VERSION", staleness.SECTIONS_RULES_VERSION - 1)
        _index(tenant, recorder, ("bookings", "Bookings", BOOKINGS), ("parking", "Parking", plain))
        _index(other_tenant, recorder, ("bookings", "Bookings", BOOKINGS))
    recorder.seen.clear()
    # when
    reindexed = tenant_reindex(tenant=tenant, provider=recorder)
    # then both are stale, and only the inputs that changed reach the model
    assert reindexed == 2
    children = _children(tenant)
    # (the children opening with "## Cancelling" and "## Rescheduling" have no heading above them)
    gained = {"### Refunds": "Bookings > Cancelling", "You can": "Bookings > Cancelling > Refunds"}
    expected = [f"{context}\n{next(t for t in children if t.startswith(start))}" for start, context in gained.items()]
    assert sorted(recorder.seen) == sorted(expected)
    # and the other tenant's stale document is left as it was
    theirs = Document.objects.get(tenant=other_tenant)
    assert theirs.index_settings["rules"] == staleness.SECTIONS_RULES_VERSION - 1


def test_title_and_section_together_stay_within_the_budget_so_nothing_is_truncated() -> None:
    # given a long title, a deep section of long headings and a maximal child
    title = "Title words " * 100
    section = tuple(f"Heading {n} " + "long " * 60 for n in range(6))
    child = "word " * 200
    # then
    assert max_embedding_tokens(title, child, section) <= 200 + CONTEXT_TOKEN_BUDGET + 2 <= MODEL_MAX_TOKENS
    # and the nearest heading outlasts the outer ones when the path is cut
    assert "Heading 5" in embedding_text("Bookings", "x", section)
    assert "Heading 0" not in embedding_text("Bookings", "x", section)


def test_only_files_read_as_markdown_or_html_give_their_children_sections(tenant, small_chunks) -> None:
    # given a Markdown upload and a plain text upload of the same words
    source = source_get_or_create(tenant=tenant, name="uploads")
    for name in ("bookings.md", "bookings.txt"):
        assert not file_ingest(tenant=tenant, source=source, name=name, data=BOOKINGS.encode()).error
    # then only the Markdown document's target is searched with its section
    targets = Chunk.objects.filter(tenant=tenant, level=ChunkLevel.CHILD, text=TARGET).select_related("document")
    lexemes = {chunk.document.file_name: _lexemes(chunk) for chunk in targets}
    assert "refund" in lexemes["bookings.md"] and "refund" not in lexemes["bookings.txt"]


def test_documents_indexed_before_sections_are_taken_by_reindex(tenant, other_tenant) -> None:
    # given a document indexed under rules version 1 (no sections) and one indexed now
    old = add_document(tenant, "Bookings", BOOKINGS, external_id="old")
    add_document(tenant, "Bookings", BOOKINGS, external_id="new")
    add_document(other_tenant, "Bookings", BOOKINGS, external_id="old")
    Document.objects.filter(external_id="old").update(index_settings=old.index_settings | {"rules": 1})
    # when
    counts = stale_counts(tenant=tenant, model=FakeEmbeddingProvider().model, settings=conf.SETTINGS)
    # then
    assert counts == {StaleReason.INDEX_RULES: 1}


def test_the_benchmark_reference_embeds_what_the_indexer_embedded(tenant, other_tenant, small_chunks) -> None:
    # given
    _index(tenant, FakeEmbeddingProvider(), ("bookings", "Bookings", BOOKINGS))
    _index(other_tenant, FakeEmbeddingProvider(), ("bookings", "Other", BOOKINGS))
    # when
    texts = child_texts(tenant=tenant)
    # then
    stored = {chunk.pk: chunk.embedded_text_sha256 for chunk in _children(tenant).values()}
    assert {unit.chunk_id: text_sha256(text) for unit, text in texts.items()} == stored


def test_headings_on_lines_of_their_own_open_their_sections_children(tenant, other_tenant, small_chunks) -> None:
    # given the article written as the demo help centre is: a blank line after each heading
    spaced = BOOKINGS.replace("## Cancelling\n", "## Cancelling\n\n").replace("### Refunds\n", "### Refunds\n\n")
    spaced = spaced.replace("## Rescheduling\n", "## Rescheduling\n\n")
    _index(tenant, FakeEmbeddingProvider(), ("bookings", "Bookings", spaced))
    # when
    hits = bm25_search(tenant=tenant, query=QUESTION, limit=5)
    # then no child ends with a heading cut off from its section, and the section's children come first
    children = _children(tenant)
    assert not [text for text in children if text.splitlines()[-1].startswith("#")]
    assert {hit.chunk_id for hit in hits[:2]} == _refund_section(tenant)
    assert bm25_search(tenant=other_tenant, query=QUESTION, limit=5) == []


@pytest.mark.timeout(30)  # reading a million brackets is linear: well under a second, not minutes
def test_a_paragraph_read_as_a_heading_is_cut_so_it_cannot_fill_its_sections_keywords() -> None:
    # given a long paragraph with a "---" rule written straight under it (a setext heading to
    # CommonMark), and a heading line of a million brackets
    paragraph = "Our studio opens at nine and closes at seven on weekdays. " * 200
    text = f"{paragraph}\n---\n\nWe are closed on holidays.\n\n# {'[' * 1_000_000}"
    # when
    headings = markdown_headings(text)
    # then
    assert len(headings[0].text) <= HEADING_MAX_CHARS and paragraph.startswith(headings[0].text + " ")
    assert len(headings[1].text) == HEADING_MAX_CHARS
