"""An unchanged re-upload keeps a document's chunks only when they were sectioned as its file reads
now: the kind its index record holds (``staleness.indexed_with_headings``) is compared with the
uploaded file's, not the kind of the file name stored before, which may have changed kind since the
chunks were indexed (a rename ``manage.py reindex`` has not reached yet)."""

from __future__ import annotations

import pytest

from knowledge.models import Chunk, Document
from knowledge.services import Outcome, file_ingest, source_get_or_create
from knowledge.tests.embedders import RecordingEmbedder
from supportai.models import Tenant

pytestmark = pytest.mark.django_db

# The refunds section is longer than a child (128 tokens): its later children sit under "## Refunds"
# when the headings are read. The title is "guide" read either way (the file's stem, its title
# heading), so guide.txt and guide.md give the same content hash.
REFUNDS = " ".join(f"Refund rule {n}: money goes back to the card within five days." for n in range(30))
GUIDE = f"# guide\n\n## Refunds\n\n{REFUNDS}"


def _ingest(tenant: Tenant, name: str, provider: RecordingEmbedder) -> dict[Outcome, int]:
    source = source_get_or_create(tenant=tenant, name="uploads")
    return file_ingest(tenant=tenant, source=source, name=name, data=GUIDE.encode(), provider=provider).outcomes


def _renamed_without_reindex(tenant: Tenant, indexed_as: str, now: str) -> Document:
    """The tenant's document from ``indexed_as`` is now the one of the file ``now`` (another kind; a
    file's document is known by its name), its chunks and index record left as they were indexed."""
    Document.objects.for_tenant(tenant).filter(file_name=indexed_as).update(external_id=now, file_name=now)
    return Document.objects.for_tenant(tenant).get(file_name=now)


def _sectioned(texts: list[str]) -> bool:
    """Whether some child was embedded under the section "Refunds" (its context line names it)."""
    assert texts
    return any(text.split("\n", 1)[0].endswith("Refunds") for text in texts)


@pytest.mark.parametrize(
    ("indexed_as", "now", "headings"), [("guide.txt", "guide.md", True), ("guide.md", "guide.txt", False)]
)
def test_an_unchanged_reupload_of_a_file_that_changed_kind_is_indexed_again_as_it_reads_now(
    tenant: Tenant, indexed_as: str, now: str, headings: bool
) -> None:
    # given a document indexed from ``indexed_as``, whose file is named ``now`` since, not re-indexed
    provider = RecordingEmbedder()
    _ingest(tenant, indexed_as, provider)
    assert _sectioned(provider.seen) is not headings
    document = _renamed_without_reindex(tenant, indexed_as, now)
    assert document.index_settings["headings"] is not headings
    embedded = len(provider.seen)
    # when the same file is uploaded again under that name, with the same content
    outcomes = _ingest(tenant, now, provider)
    # then its chunks are cut and embedded again, sectioned as that file reads, and recorded so
    assert outcomes == {Outcome.UPDATED: 1}
    assert _sectioned(provider.seen[embedded:]) is headings
    document.refresh_from_db()
    assert document.index_settings["headings"] is headings and document.file_name == now


def test_an_unchanged_reupload_of_a_file_indexed_as_it_reads_keeps_its_chunks(tenant: Tenant) -> None:
    # given a document indexed from a Markdown file that is still one
    provider = RecordingEmbedder()
    _ingest(tenant, "guide.md", provider)
    embedded = len(provider.seen)
    # when it is uploaded again unchanged
    outcomes = _ingest(tenant, "guide.md", provider)
    # then nothing is embedded again
    assert outcomes == {Outcome.UNCHANGED: 1}
    assert len(provider.seen) == embedded


def test_another_tenants_document_of_that_name_indexed_another_way_neither_decides_nor_changes(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    # given another tenant's guide.md indexed as plain text (a .txt file before), not re-indexed,
    # and the tenant's own guide.md indexed with its headings
    provider = RecordingEmbedder()
    _ingest(other_tenant, "guide.txt", provider)
    theirs = _renamed_without_reindex(other_tenant, "guide.txt", "guide.md")
    their_chunks = dict(Chunk.objects.for_tenant(other_tenant).values_list("pk", "embedded_text_sha256"))
    _ingest(tenant, "guide.md", provider)
    embedded = len(provider.seen)
    # when the tenant uploads its guide.md again unchanged
    outcomes = _ingest(tenant, "guide.md", provider)
    # then the tenant's document keeps its chunks, and the other tenant's is left as it was
    assert outcomes == {Outcome.UNCHANGED: 1}
    assert len(provider.seen) == embedded
    stored = Document.objects.for_tenant(other_tenant).get()
    assert (stored.pk, stored.index_settings, stored.indexed_at) == (
        theirs.pk,
        theirs.index_settings,
        theirs.indexed_at,
    )
    assert dict(Chunk.objects.for_tenant(other_tenant).values_list("pk", "embedded_text_sha256")) == their_chunks
