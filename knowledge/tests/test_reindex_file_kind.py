"""A plain ``reindex`` takes a document whose chunks were sectioned as another file kind than its file
is now (Markdown headings or plain text, ``sections.reads_headings``): each index run records which
(``index_settings["headings"]``), and a document indexed before it did is taken once. Children whose
embedded text did not change keep their vectors."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db.models import Value

from knowledge import conf
from knowledge.management.commands import reindex
from knowledge.models import Chunk, ChunkLevel, Document
from knowledge.sections import reads_headings
from knowledge.services import file_ingest, source_get_or_create
from knowledge.staleness import StaleReason, plain_text_file, stale_counts
from knowledge.tests.embedders import RecordingEmbedder
from supportai.models import Tenant

pytestmark = pytest.mark.django_db

# The refunds section is longer than a child (128 tokens): its second child sits under "## Refunds"
# (the title, "guide", is the file's name: "# Guide" in a plain-text file is no title).
REFUNDS = " ".join(f"Refund rule {n}: money goes back to the card within five days." for n in range(30))
GUIDE = f"# Guide\n\n## Refunds\n\n{REFUNDS}"


def _in_section(text: str) -> bool:
    """Whether an embedded text has the section "Refunds" (its first line is "<title> > Refunds")."""
    return text.split("\n", 1)[0].endswith(" > Refunds")


@pytest.fixture
def embedder(monkeypatch: pytest.MonkeyPatch) -> RecordingEmbedder:
    """The provider ``manage.py reindex`` uses."""
    provider = RecordingEmbedder()
    monkeypatch.setattr(reindex, "default_provider", lambda: provider)
    return provider


def _ingest(tenant: Tenant, name: str, provider: RecordingEmbedder) -> Document:
    source = source_get_or_create(tenant=tenant, name="uploads")
    file_ingest(tenant=tenant, source=source, name=name, data=GUIDE.encode(), provider=provider)
    return Document.objects.for_tenant(tenant).get(file_name=name)


def _moved_without_reindex(document: Document, file_name: str, *, recorded: bool = True) -> None:
    """What ``documents_upsert`` did before session 20: the file changed, the chunks stayed; a document
    indexed before kinds were recorded holds no ``headings``."""
    settings = dict(document.index_settings)
    if not recorded:
        settings.pop("headings")
    Document.objects.filter(pk=document.pk).update(file_name=file_name, index_settings=settings)


def _reindex(tenant: Tenant, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    call_command("reindex", "--tenant", tenant.slug, *args)
    return capsys.readouterr().out


def _children(document: Document) -> list[tuple[int, str]]:
    rows = Chunk.objects.filter(document=document, level=ChunkLevel.CHILD).order_by("ordinal")
    return list(rows.values_list("pk", "embedded_text_sha256"))


def test_indexing_records_whether_headings_were_read(tenant: Tenant) -> None:
    provider = RecordingEmbedder()
    assert _ingest(tenant, "guide.md", provider).index_settings["headings"] is True
    assert _ingest(tenant, "notes.txt", provider).index_settings["headings"] is False


def test_a_plain_text_document_whose_file_now_reads_headings_is_resectioned_by_plain_reindex(
    tenant: Tenant, embedder: RecordingEmbedder, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a document indexed as plain text, whose file became Markdown without a re-index
    document = _ingest(tenant, "guide.txt", RecordingEmbedder())
    _moved_without_reindex(document, "guide.md")
    # when reindex runs, first dry
    dry = _reindex(tenant, capsys, "--dry-run")
    out = _reindex(tenant, capsys)
    # then it was reported for its file kind, and its children are embedded in their section now
    assert dry == f"to re-index: 1 document: {StaleReason.FILE_KIND}\ndry run: nothing changed\n"
    assert f"to re-index: 1 document: {StaleReason.FILE_KIND}\n" in out
    assert "re-indexed 1 document of alpha" in out
    assert any(_in_section(text) for text in embedder.seen)
    # the first child ("Guide", no section either way) kept its vector: only sectioned ones were embedded
    assert embedder.seen and all(_in_section(text) for text in embedder.seen)
    document.refresh_from_db()
    assert document.index_settings["headings"] is True
    assert "to re-index: nothing" in _reindex(tenant, capsys)


def test_a_markdown_document_whose_file_is_now_plain_text_loses_its_sections(
    tenant: Tenant, embedder: RecordingEmbedder, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a document indexed with its headings, whose file became plain text without a re-index
    indexed = RecordingEmbedder()
    document = _ingest(tenant, "guide.md", indexed)
    assert any(_in_section(text) for text in indexed.seen)
    _moved_without_reindex(document, "guide.txt")
    # then a plain reindex embeds its sectioned children again without their section
    out = _reindex(tenant, capsys)
    assert f"to re-index: 1 document: {StaleReason.FILE_KIND}\n" in out
    assert embedder.seen and not any(_in_section(text) for text in embedder.seen)
    document.refresh_from_db()
    assert document.index_settings["headings"] is False


def test_a_document_indexed_before_kinds_were_recorded_is_taken_once(
    tenant: Tenant, embedder: RecordingEmbedder, capsys: pytest.CaptureFixture[str]
) -> None:
    # given one document whose file changed kind and one that did not, neither with a record
    moved = _ingest(tenant, "guide.txt", RecordingEmbedder())
    _moved_without_reindex(moved, "guide.md", recorded=False)
    kept = _ingest(tenant, "kept.md", RecordingEmbedder())
    _moved_without_reindex(kept, "kept.md", recorded=False)
    kept_children = _children(kept)
    # when reindex runs
    out = _reindex(tenant, capsys)
    # then both are taken under the unrecorded reason; the moved one is sectioned, the other keeps every vector
    assert f"to re-index: 2 documents: {StaleReason.FILE_KIND_UNRECORDED}\n" in out
    assert embedder.seen and all(_in_section(text) for text in embedder.seen)
    assert [digest for _, digest in _children(kept)] == [digest for _, digest in kept_children]
    assert {document.index_settings["headings"] for document in Document.objects.for_tenant(tenant)} == {True}
    # and once only
    assert "to re-index: nothing" in _reindex(tenant, capsys)


def test_documents_read_as_their_files_are_not_stale(
    tenant: Tenant, embedder: RecordingEmbedder, capsys: pytest.CaptureFixture[str]
) -> None:
    markdown = _ingest(tenant, "guide.md", RecordingEmbedder())
    plain = _ingest(tenant, "guide.txt", RecordingEmbedder())
    # a move to a file of the same kind changes nothing either
    _moved_without_reindex(plain, "notes.csv")
    before = _children(markdown) + _children(plain)
    out = _reindex(tenant, capsys)
    assert "to re-index: nothing, every document matches the configuration\n" in out
    assert embedder.seen == []
    assert _children(markdown) + _children(plain) == before


def test_reindex_of_one_tenant_leaves_another_tenants_moved_document(
    tenant: Tenant, other_tenant: Tenant, embedder: RecordingEmbedder, capsys: pytest.CaptureFixture[str]
) -> None:
    # given both tenants hold a plain-text document whose file became Markdown
    ours = _ingest(tenant, "guide.txt", RecordingEmbedder())
    theirs = _ingest(other_tenant, "guide.txt", RecordingEmbedder())
    _moved_without_reindex(ours, "guide.md")
    _moved_without_reindex(theirs, "guide.md")
    their_children = _children(theirs)
    # when our tenant is re-indexed
    assert f"to re-index: 1 document: {StaleReason.FILE_KIND}\n" in _reindex(tenant, capsys, "--dry-run")
    assert "re-indexed 1 document of alpha" in _reindex(tenant, capsys)
    # then theirs keeps its chunks and its record, and is still stale
    assert _children(theirs) == their_children
    assert Document.objects.get(pk=theirs.pk).index_settings["headings"] is False
    counts = stale_counts(tenant=other_tenant, model=embedder.model, settings=conf.SETTINGS)
    assert counts == {StaleReason.FILE_KIND: 1}


@pytest.mark.parametrize(
    "name",
    [
        "",
        "a.txt",
        "A.TXT",
        "a.Md",
        "a.pdf",
        "a.jsonl",
        "corpus.JSONL",
        "rows.csv",
        ".txt",
        "..txt",
        "dir/.txt",
        "dir/a.txt",
        "dir.txt/a",
        "a.txt/",
        "a.txt//",
        "a.txt/.",
        "a.txt/./",
        "a.txt/..",
        "a.txt.",
        "a.txt.md",
        "a.md.txt",
        "a .txt",
        "a\n.txt",
        "a.txt\n",
        "é.txt",
        "a.c\u017fv",  # long s: Python keeps it lower-cased, so no ".csv"
        "a.tXt",
        "atxt",
        "a.text",
    ],
)
def test_the_database_reads_a_file_name_as_reads_headings_does(tenant: Tenant, name: str) -> None:
    # A disagreement would take a document at every plain reindex, or never.
    plain = Tenant.objects.filter(pk=tenant.pk).annotate(plain=plain_text_file(Value(name)))
    assert plain.values_list("plain", flat=True).get() is not reads_headings(name)
