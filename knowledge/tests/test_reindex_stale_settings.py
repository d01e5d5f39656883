"""A plain ``reindex`` takes every document whose index no longer matches the configuration (chunk
sizes, title weight, indexing rules), embedding only children whose text changed; ``--dry-run`` says
how many and why, and changes nothing."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from knowledge import conf, staleness
from knowledge.management.commands import reindex
from knowledge.models import Chunk, ChunkLevel, Document, DocumentStatus
from knowledge.providers.fake import FakeEmbeddingProvider
from knowledge.staleness import INDEX_RULES_VERSION, StaleReason, stale_counts
from knowledge.tests.embedders import RecordingEmbedder
from knowledge.tests.factories import add_document
from knowledge.tests.migration_state import migrate_knowledge_to
from supportai.models import Tenant

# Paragraphs of ~100 tokens: one fits a default child (128 tokens), not one of 64.
ARTICLE = "\n\n".join(
    " ".join(f"{topic} sentence {n} about the {topic} policy of the studio." for n in range(9))
    for topic in ("parking", "refunds", "memberships")
)


@pytest.fixture
def embedder(monkeypatch: pytest.MonkeyPatch) -> RecordingEmbedder:
    """The provider ``manage.py reindex`` uses."""
    provider = RecordingEmbedder()
    monkeypatch.setattr(reindex, "default_provider", lambda: provider)
    return provider


def _configure(monkeypatch: pytest.MonkeyPatch, **changes: Any) -> None:
    monkeypatch.setattr(conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, **changes))


def _reindex(tenant: Tenant, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    call_command("reindex", "--tenant", tenant.slug, *args)
    return capsys.readouterr().out


def _children(document: Document) -> list[Chunk]:
    return list(Chunk.objects.filter(document=document, level=ChunkLevel.CHILD).order_by("ordinal"))


def _title_lexeme_count(document: Document, lexeme: str) -> int:
    """How many times ``lexeme`` counts in the document's first child's tsvector."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT array_length(u.positions, 1) FROM knowledge_chunk c, unnest(c.search_vector) u "
            "WHERE c.document_id = %s AND c.level = 'child' AND c.ordinal = 0 AND u.lexeme = %s",
            [document.pk, lexeme],
        )
        row = cursor.fetchone()
    return row[0] if row else 0


def test_indexing_records_the_settings_it_used(tenant: Tenant) -> None:
    document = add_document(tenant, "Parking", ARTICLE)
    assert document.index_settings == {
        "parent_tokens": conf.SETTINGS.parent_tokens,
        "parent_overlap": conf.SETTINGS.parent_overlap,
        "child_tokens": conf.SETTINGS.child_tokens,
        "child_overlap": conf.SETTINGS.child_overlap,
        "title_weight": conf.SETTINGS.title_weight,
        "rules": INDEX_RULES_VERSION,
        "headings": True,
    }


def test_a_new_child_size_makes_documents_stale_and_plain_reindex_rechunks_them(
    tenant: Tenant, embedder: RecordingEmbedder, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a document indexed with 128-token children
    document = add_document(tenant, "Studio policies", ARTICLE)
    before = _children(document)
    assert max(child.token_count for child in before) > 64
    # when the child size changes and a plain reindex runs
    _configure(monkeypatch, child_tokens=64, child_overlap=10)
    out = _reindex(tenant, capsys)
    # then the document was stale for its chunk sizes, and is chunked with the new ones
    assert "to re-index: 1 document: chunk sizes changed\n" in out
    assert "re-indexed 1 document of" in out
    document.refresh_from_db()
    after = _children(document)
    assert len(after) > len(before)
    assert max(child.token_count for child in after) <= 64
    assert document.chunk_count == len(after)
    assert (document.index_settings["child_tokens"], document.index_settings["child_overlap"]) == (64, 10)
    assert len(embedder.seen) > 0
    # and a second run finds nothing left to do
    assert "to re-index: nothing" in _reindex(tenant, capsys)
    assert stale_counts(tenant=tenant, model=embedder.model, settings=conf.SETTINGS) == {}


def test_a_new_title_weight_reindexes_lexemes_without_embedding_anything(
    tenant: Tenant, embedder: RecordingEmbedder, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a document whose title counts 3 times in each child
    document = add_document(tenant, "Parking", "Free lot behind the studio.")
    assert _title_lexeme_count(document, "park") == 3
    vectors = [list(child.embedding or []) for child in _children(document)]
    assert vectors and all(vectors)
    # when the title weight changes and a plain reindex runs
    _configure(monkeypatch, title_weight=1)
    out = _reindex(tenant, capsys)
    # then the lexemes follow the new weight, and every vector was reused: no embedding call
    assert "to re-index: 1 document: title weight changed\n" in out
    assert _title_lexeme_count(document, "park") == 1
    assert len(embedder.seen) == 0
    assert [list(child.embedding or []) for child in _children(document)] == vectors
    document.refresh_from_db()
    assert document.index_settings["title_weight"] == 1


def test_a_lexeme_rules_bump_reindexes_without_embedding_anything(
    tenant: Tenant, embedder: RecordingEmbedder, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a document indexed under the current rules
    document = add_document(tenant, "Parking", ARTICLE)
    indexed_at = document.indexed_at
    # when code bumps the rules version
    monkeypatch.setattr(staleness, "INDEX_RULES_VERSION", INDEX_RULES_VERSION + 1)
    out = _reindex(tenant, capsys)
    # then the document is indexed again, with no embedding call
    assert "to re-index: 1 document: indexing rules changed\n" in out
    document.refresh_from_db()
    assert document.index_settings["rules"] == INDEX_RULES_VERSION + 1
    assert document.indexed_at is not None and indexed_at is not None and document.indexed_at > indexed_at
    assert len(embedder.seen) == 0


def test_unchanged_settings_reindex_nothing(
    tenant: Tenant, embedder: RecordingEmbedder, capsys: pytest.CaptureFixture[str]
) -> None:
    document = add_document(tenant, "Parking", ARTICLE)
    out = _reindex(tenant, capsys)
    assert out == "to re-index: nothing, every document matches the configuration\n"
    assert len(embedder.seen) == 0
    assert Document.objects.get(pk=document.pk).indexed_at == document.indexed_at


def test_reindex_of_one_tenant_leaves_another_tenants_stale_documents(
    tenant: Tenant,
    other_tenant: Tenant,
    embedder: RecordingEmbedder,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given both tenants' documents stale for a new child size
    ours = add_document(tenant, "Ours", ARTICLE)
    theirs = add_document(other_tenant, "Theirs", ARTICLE)
    their_children = [child.pk for child in _children(theirs)]
    _configure(monkeypatch, child_tokens=64, child_overlap=10)
    # when our tenant is re-indexed (and looked at with --dry-run)
    assert "to re-index: 1 document: chunk sizes changed\n" in _reindex(tenant, capsys, "--dry-run")
    out = _reindex(tenant, capsys)
    # then only ours was counted and re-indexed; theirs keeps its chunks and stays stale
    assert "re-indexed 1 document of alpha" in out
    assert Document.objects.get(pk=ours.pk).index_settings["child_tokens"] == 64
    assert Document.objects.get(pk=theirs.pk).index_settings == theirs.index_settings
    assert [child.pk for child in _children(theirs)] == their_children
    counts = stale_counts(tenant=other_tenant, model=embedder.model, settings=conf.SETTINGS)
    assert counts == {StaleReason.CHUNK_SIZES: 1}


def test_dry_run_counts_per_reason_and_changes_nothing(
    tenant: Tenant, embedder: RecordingEmbedder, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given two documents indexed before records existed, one of another model, one current
    legacy = [add_document(tenant, title, ARTICLE) for title in ("Alpha", "Beta")]
    Document.objects.filter(pk__in=[d.pk for d in legacy]).update(index_settings={"rules": 0})
    other_model = add_document(tenant, "Gamma", ARTICLE)
    Document.objects.filter(pk=other_model.pk).update(embedding_model="old-model")
    add_document(tenant, "Delta", ARTICLE)
    before = list(Document.objects.for_tenant(tenant).order_by("pk").values())
    chunks = sorted(Chunk.objects.filter(tenant=tenant).values_list("pk", flat=True))
    # when
    out = _reindex(tenant, capsys, "--dry-run")
    # then it lists the counts, most first, and changes nothing
    assert out == (
        "to re-index: 2 documents: indexing rules changed; 1: another embedding model\ndry run: nothing changed\n"
    )
    assert list(Document.objects.for_tenant(tenant).order_by("pk").values()) == before
    assert sorted(Chunk.objects.filter(tenant=tenant).values_list("pk", flat=True)) == chunks
    assert len(embedder.seen) == 0


def test_a_document_counts_under_its_costliest_reason(
    tenant: Tenant, embedder: RecordingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = add_document(tenant, "Parking", ARTICLE)
    _configure(monkeypatch, child_tokens=64, title_weight=1)
    settings = conf.SETTINGS
    assert stale_counts(tenant=tenant, model=embedder.model, settings=settings) == {StaleReason.CHUNK_SIZES: 1}
    assert stale_counts(tenant=tenant, model="another", settings=settings) == {StaleReason.ANOTHER_MODEL: 1}
    Document.objects.filter(pk=document.pk).update(status=DocumentStatus.FAILED)
    assert stale_counts(tenant=tenant, model=embedder.model, settings=settings) == {StaleReason.NOT_READY: 1}
    assert stale_counts(tenant=tenant, model=embedder.model, settings=settings, force=True) == {
        StaleReason.NOT_READY: 1
    }


@pytest.mark.django_db(transaction=True)
def test_migration_marks_documents_indexed_before_it_stale_for_the_lexeme_rules() -> None:
    # given documents stored before index settings were recorded, one ready and one pending
    old = migrate_knowledge_to("0016_document_canonical_languages")
    uploads = old.source.objects.create(tenant=old.tenant, name="Uploads", kind="upload")
    model = FakeEmbeddingProvider().model
    for title, status in [("ready", "ready"), ("pending", "pending")]:
        old.document.objects.create(
            tenant=old.tenant,
            source=uploads,
            external_id=title,
            title=title,
            content="Text.",
            content_hash=title,
            status=status,
            embedding_model=model,
            search_config="english",
        )
    # when the migration runs
    migrated = migrate_knowledge_to("0017_document_index_settings")
    # then each holds the empty record (the legacy rules version), and reindex takes the ready one for
    # the indexing rules
    assert dict(migrated.document.objects.values_list("title", "index_settings")) == {"ready": {}, "pending": {}}
    tenant = Tenant.objects.get(pk=old.tenant.pk)
    counts = stale_counts(tenant=tenant, model=model, settings=conf.SETTINGS)
    assert counts == {StaleReason.INDEX_RULES: 1, StaleReason.NOT_READY: 1}


OLD_CODE_INSERT = """
INSERT INTO knowledge_document (tenant_id, source_id, external_id, file_name, title, url, language, search_config,
       content, content_hash, status, error, chunk_count, embedding_model, created_at, updated_at, http_etag,
       http_last_modified, links, aliases)
VALUES (%s, %s, 'old', '', 'Old', '', 'en', 'english', 'Text.', 'old', 'ready', '', 0, %s, now(), now(), '', '',
        '[]', '[]')
"""


def test_a_document_stored_by_code_older_than_the_record_is_stale_for_the_lexeme_rules(
    tenant: Tenant, embedder: RecordingEmbedder
) -> None:
    # given a document inserted, while a deploy rolls out, by code that does not know the column
    source = add_document(tenant, "Current", ARTICLE).source
    with connection.cursor() as cursor:
        cursor.execute(OLD_CODE_INSERT, [tenant.pk, source.pk, embedder.model])
    # then it records nothing, and reindex takes it for the indexing rules
    assert Document.objects.get(tenant=tenant, external_id="old").index_settings == {}
    counts = stale_counts(tenant=tenant, model=embedder.model, settings=conf.SETTINGS)
    assert counts == {StaleReason.INDEX_RULES: 1}
