"""The sections shown for a document's children (the console's chunk view) and those the benchmark
reference embeds are the ones its chunks were indexed with: its index record says whether its file's
Markdown headings were read (``index_settings["headings"]``), whatever kind of file it has now; a
document indexed before the record held the kind is read by its file name."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from knowledge.embedding_reuse import text_sha256
from knowledge.models import Chunk, ChunkLevel, Document
from knowledge.references import child_texts
from knowledge.services import file_ingest, source_get_or_create
from knowledge.tests.embedders import RecordingEmbedder
from supportai.models import Tenant

pytestmark = pytest.mark.django_db

# The refunds section is longer than a child (128 tokens): its later children sit under "## Refunds"
# when the headings are read ("# Guide" is then the title heading, left out of the path).
REFUNDS = " ".join(f"Refund rule {n}: money goes back to the card within five days." for n in range(30))
GUIDE = f"# Guide\n\n## Refunds\n\n{REFUNDS}"


def _ingest(tenant: Tenant, name: str) -> Document:
    source = source_get_or_create(tenant=tenant, name="uploads")
    file_ingest(tenant=tenant, source=source, name=name, data=GUIDE.encode(), provider=RecordingEmbedder())
    return Document.objects.for_tenant(tenant).get(file_name=name)


def _renamed_without_reindex(document: Document, file_name: str, *, recorded: bool = True) -> None:
    """The document's file changed kind and its chunks were not indexed again (a re-index waits for
    ``manage.py reindex``); without ``recorded``, it was indexed before the record held the kind."""
    settings = dict(document.index_settings)
    if not recorded:
        settings.pop("headings")
    Document.objects.filter(pk=document.pk).update(file_name=file_name, index_settings=settings)


def _sections_shown(client: Client, document: Document) -> list[str]:
    """The section each child of the document's console page says it is in, in order ("" for none)."""
    body = client.get(f"/console/knowledge/documents/{document.pk}/").content.decode()
    items = re.findall(r'<li id="chunk-\d+">(.*?)</li>', body, flags=re.DOTALL)
    found = [re.search(r'<p class="meta section">Section <bdi>(.*?)</bdi></p>', item) for item in items]
    return [match.group(1) if match else "" for match in found]


def test_a_plain_text_document_renamed_to_markdown_shows_the_plain_text_sections_it_was_indexed_with(
    client: Client, agent: User, tenant: Tenant
) -> None:
    # given a document indexed as plain text, whose file is Markdown now, not yet re-indexed
    document = _ingest(tenant, "guide.txt")
    _renamed_without_reindex(document, "guide.md")
    client.force_login(agent)
    # when
    shown = _sections_shown(client, document)
    # then no child is given a section: its chunks were indexed without headings
    assert len(shown) > 2 and set(shown) == {""}


def test_a_markdown_document_renamed_to_plain_text_shows_the_sections_it_was_indexed_with(
    client: Client, agent: User, tenant: Tenant
) -> None:
    # given a document indexed with its headings, whose file is plain text now, not yet re-indexed
    document = _ingest(tenant, "guide.md")
    _renamed_without_reindex(document, "guide.txt")
    client.force_login(agent)
    # when
    shown = _sections_shown(client, document)
    # then its later children still say the section they were embedded under
    assert shown[0] == "" and set(shown[1:]) == {"Refunds"}


def test_a_document_indexed_before_kinds_were_recorded_is_sectioned_by_its_file_name(
    client: Client, agent: User, tenant: Tenant
) -> None:
    # given documents whose record holds no kind: one a Markdown file now, one a plain-text file
    markdown = _ingest(tenant, "guide.txt")
    _renamed_without_reindex(markdown, "guide.md", recorded=False)
    plain = _ingest(tenant, "notes.md")
    _renamed_without_reindex(plain, "notes.txt", recorded=False)
    client.force_login(agent)
    # then each is read by its file name
    assert set(_sections_shown(client, markdown)[1:]) == {"Refunds"}
    assert set(_sections_shown(client, plain)) == {""}


def test_another_tenants_member_sees_no_sections_of_the_document(
    client: Client, outsider: User, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given a tenant's document indexed as plain text and renamed, and the outsider's own document
    document = _ingest(tenant, "guide.md")
    _renamed_without_reindex(document, "guide.txt")
    theirs = _ingest(other_tenant, "guide.md")
    client.force_login(outsider)
    # when the outsider opens the tenant's document
    response = client.get(f"/console/knowledge/documents/{document.pk}/")
    # then it is not found for them, and their own document shows their sections (positive control)
    assert response.status_code == 404 and "Refund rule" not in response.content.decode()
    assert set(_sections_shown(client, theirs)[1:]) == {"Refunds"}


@pytest.mark.parametrize(("indexed_as", "now"), [("guide.txt", "guide.md"), ("guide.md", "guide.txt")])
def test_the_benchmark_reference_embeds_what_the_indexer_embedded_after_a_change_of_kind(
    tenant: Tenant, other_tenant: Tenant, indexed_as: str, now: str
) -> None:
    # given a document whose file changed kind since it was indexed, and another tenant's
    document = _ingest(tenant, indexed_as)
    _renamed_without_reindex(document, now)
    _ingest(other_tenant, now)
    # when
    texts = child_texts(tenant=tenant)
    # then the reference's texts are the ones embedded for the tenant's children, no other tenant's
    children = Chunk.objects.for_tenant(tenant).filter(level=ChunkLevel.CHILD)
    stored = dict(children.values_list("pk", "embedded_text_sha256"))
    assert len(stored) > 2
    assert {unit.chunk_id: text_sha256(text) for unit, text in texts.items()} == stored
