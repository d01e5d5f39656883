"""A document is chunked as its file reads it: one that now comes from a file read another way
(Markdown headings or plain text, ``sections.reads_headings``) is indexed again, though its content
hash is the same; one that moves to another file of the same kind is not."""

from __future__ import annotations

import json

import pytest

from knowledge.models import Document
from knowledge.services import Outcome, file_ingest, source_get_or_create
from knowledge.tests.embedders import RecordingEmbedder
from supportai.models import Tenant

pytestmark = pytest.mark.django_db

# The refunds section is longer than a child (128 tokens): its second child sits under "## Refunds".
REFUNDS = " ".join(f"Refund rule {n}: money goes back to the card within five days." for n in range(30))
GUIDE = f"# Guide\n\n## Refunds\n\n{REFUNDS}"
IN_SECTION = "Guide > Refunds\n"


def _corpus(external_id: str, text: str = GUIDE) -> bytes:
    return json.dumps({"_id": external_id, "title": "Guide", "text": text}).encode()


def _sectioned(texts: list[str]) -> bool:
    """Whether some child was embedded with the section "Refunds" (each is, without, in "Guide")."""
    assert texts and all(text.startswith(("Guide\n", IN_SECTION)) for text in texts)
    return any(text.startswith(IN_SECTION) for text in texts)


def _ingest(tenant: Tenant, name: str, data: bytes, provider: RecordingEmbedder) -> dict[Outcome, int]:
    source = source_get_or_create(tenant=tenant, name="uploads")
    return file_ingest(tenant=tenant, source=source, name=name, data=data, provider=provider).outcomes


def test_renaming_a_text_file_to_markdown_gives_a_document_read_with_headings(tenant: Tenant) -> None:
    # given faq.txt, whose "#" lines are text
    provider = RecordingEmbedder()
    _ingest(tenant, "faq.txt", GUIDE.encode(), provider)
    assert not any(text.startswith("faq > ") for text in provider.seen)
    embedded = len(provider.seen)
    # when the same text comes as faq.md
    outcomes = _ingest(tenant, "faq.md", GUIDE.encode(), provider)
    # then it is another document (its id is its file's name), whose child is embedded in its section
    assert outcomes == {Outcome.CREATED: 1}
    assert _sectioned(provider.seen[embedded:])


def test_a_record_a_markdown_file_gave_is_chunked_again_as_plain_text_from_a_corpus(tenant: Tenant) -> None:
    # given guide.md, indexed with its headings
    provider = RecordingEmbedder()
    _ingest(tenant, "guide.md", GUIDE.encode(), provider)
    assert _sectioned(provider.seen)
    embedded = len(provider.seen)
    # when a corpus gives the same document (same id, title and text), where "#" lines are text
    outcomes = _ingest(tenant, "corpus.jsonl", _corpus("guide.md"), provider)
    # then it is indexed again without the section its old file gave it
    assert outcomes == {Outcome.UPDATED: 1}
    assert not _sectioned(provider.seen[embedded:])
    assert not set(provider.seen[embedded:]) & set(provider.seen[:embedded])  # an unchanged child's vector stays
    assert Document.objects.for_tenant(tenant).get().file_name == "corpus.jsonl"


def test_a_record_a_corpus_gave_is_chunked_again_with_headings_from_a_markdown_file(tenant: Tenant) -> None:
    # given a corpus record, indexed as plain text
    provider = RecordingEmbedder()
    _ingest(tenant, "corpus.jsonl", _corpus("guide.md"), provider)
    assert not _sectioned(provider.seen)
    embedded = len(provider.seen)
    # when guide.md gives the same document
    outcomes = _ingest(tenant, "guide.md", GUIDE.encode(), provider)
    # then its child is embedded in its section now
    assert outcomes == {Outcome.UPDATED: 1}
    assert _sectioned(provider.seen[embedded:])


def test_a_record_moved_to_a_file_of_the_same_kind_is_not_indexed_again(tenant: Tenant) -> None:
    # given a corpus record
    provider = RecordingEmbedder()
    _ingest(tenant, "a.jsonl", _corpus("guide.md"), provider)
    embedded = len(provider.seen)
    # when another corpus gives it unchanged
    outcomes = _ingest(tenant, "b.jsonl", _corpus("guide.md"), provider)
    # then it is that file's, and nothing was embedded
    assert outcomes == {Outcome.UNCHANGED: 1}
    assert len(provider.seen) == embedded
    assert Document.objects.for_tenant(tenant).get().file_name == "b.jsonl"
