"""A record that is only its title (a BEIR record with an empty text, a Markdown file of one heading)
is embedded and searched with its title once, as a record with a title and a text is: the title is
not prefixed to a text that is itself the title."""

from __future__ import annotations

import pytest
from django.db import connection

from knowledge import conf, staleness
from knowledge.embedding_reuse import text_sha256
from knowledge.models import Chunk, ChunkLevel, Document
from knowledge.services import file_ingest, source_get_or_create, tenant_reindex
from knowledge.tests.embedders import RecordingEmbedder
from supportai.models import Tenant

pytestmark = pytest.mark.django_db

CORPUS = (
    b'{"_id": "only", "title": "Refund policy", "text": ""}\n'
    b'{"_id": "both", "title": "Refund policy", "text": "Ask at the desk."}\n'
)


def _ingest(tenant: Tenant, name: str, data: bytes, embedder: RecordingEmbedder) -> None:
    source = source_get_or_create(tenant=tenant, name="uploads")
    result = file_ingest(tenant=tenant, source=source, name=name, data=data, provider=embedder)
    assert not result.error


def _refund_counts(tenant: Tenant) -> dict[str, int]:
    """How many times the lexeme "refund" counts in each document's child, by external id."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT d.external_id, array_length(u.positions, 1) FROM knowledge_chunk c "
            "JOIN knowledge_document d ON d.id = c.document_id, unnest(c.search_vector) u "
            "WHERE c.tenant_id = %s AND c.level = 'child' AND u.lexeme = 'refund'",
            [tenant.pk],
        )
        return dict(cursor.fetchall())


def test_a_beir_record_without_text_is_embedded_and_counted_with_its_title_once(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    # given a corpus with a record of a title alone and one of the same title with a text
    embedder = RecordingEmbedder()
    # when it is ingested
    _ingest(tenant, "corpus.jsonl", CORPUS, embedder)
    # then the model read the title once for the record without text
    assert sorted(embedder.seen) == ["Refund policy", "Refund policy\nAsk at the desk."]
    # and its title counts as the other record's does, at the title weight, not once more
    assert _refund_counts(tenant) == {"only": conf.SETTINGS.title_weight, "both": conf.SETTINGS.title_weight}
    assert _refund_counts(other_tenant) == {}


def test_a_markdown_file_of_its_heading_alone_is_embedded_and_counted_with_its_title_once(tenant: Tenant) -> None:
    embedder = RecordingEmbedder()
    _ingest(tenant, "refunds.md", b"# Refund policy\n", embedder)
    assert embedder.seen == ["# Refund policy"]
    assert _refund_counts(tenant) == {"refunds.md": conf.SETTINGS.title_weight}


def test_reindex_after_the_rules_change_embeds_only_the_records_that_are_their_title(tenant: Tenant) -> None:
    # given the corpus indexed by the rules before, which embedded the title before itself
    embedder = RecordingEmbedder()
    _ingest(tenant, "corpus.jsonl", CORPUS, embedder)
    for document in Document.objects.filter(tenant=tenant):
        rules_before = document.index_settings | {"rules": staleness.INDEX_RULES_VERSION - 1}
        Document.objects.filter(pk=document.pk).update(index_settings=rules_before)
    Chunk.objects.filter(tenant=tenant, document__external_id="only", level=ChunkLevel.CHILD).update(
        embedded_text_sha256=text_sha256("Refund policy\nRefund policy")
    )
    embedder.seen.clear()
    # when a plain re-index runs
    reindexed = tenant_reindex(tenant=tenant, provider=embedder)
    # then both documents are re-indexed for the rules, and only the record of its title is embedded again
    assert reindexed == 2
    assert embedder.seen == ["Refund policy"]
    rules = {document.index_settings["rules"] for document in Document.objects.filter(tenant=tenant)}
    assert rules == {staleness.INDEX_RULES_VERSION}
