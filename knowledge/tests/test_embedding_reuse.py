"""Re-indexing embeds only inputs the model has not read for the tenant; stored vectors are reused."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from knowledge.embedding_reuse import text_sha256
from knowledge.indexing import EMBEDDING_FAILED, documents_index, embedding_text
from knowledge.models import Chunk, ChunkLevel, Document
from knowledge.parsed import ParsedDocument
from knowledge.providers.base import PUBLIC_MESSAGES, ProviderError, ProviderErrorKind
from knowledge.providers.fake import FakeEmbeddingProvider
from knowledge.services import document_upsert, parsed_ingest, source_get_or_create, tenant_reindex
from knowledge.tests.embedders import RecordingEmbedder
from supportai.models import Tenant

# Paragraphs of ~100 tokens: one fits a child (up to 128 tokens), two do not.
PARAGRAPHS = [
    " ".join(f"{topic} sentence {n} about the {topic} policy of the studio." for n in range(9))
    for topic in ("parking", "refunds", "gift cards", "memberships")
]


class ShortEmbedder(FakeEmbeddingProvider):
    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return super().embed_documents(texts)[:-1]


def _ingest(tenant: Tenant, provider: FakeEmbeddingProvider, *documents: tuple[str, str, str]) -> None:
    source = source_get_or_create(tenant=tenant, name="help centre")
    parsed = [ParsedDocument(external_id, title, text) for external_id, title, text in documents]
    result = parsed_ingest(tenant=tenant, source=source, name="articles", parsed_documents=parsed, provider=provider)
    assert not result.error


def _children(tenant: Tenant, external_id: str) -> dict[str, tuple[str, list[float]]]:
    """Each child of the document by its text: (stored input hash, vector)."""
    rows = Chunk.objects.filter(tenant=tenant, document__external_id=external_id, level=ChunkLevel.CHILD)
    return {row.text: (row.embedded_text_sha256, [float(x) for x in row.embedding or []]) for row in rows}


def _inputs(tenant: Tenant, external_id: str, title: str) -> set[str]:
    """The texts the model read for the document's children."""
    return {embedding_text(title, text) for text in _children(tenant, external_id)}


@pytest.fixture
def recorder() -> RecordingEmbedder:
    return RecordingEmbedder()


def test_children_store_the_hash_of_the_exact_text_the_model_read(tenant, recorder):
    _ingest(tenant, recorder, ("a", "Parking", "\n\n".join(PARAGRAPHS)))
    children = _children(tenant, "a")
    assert len(children) >= len(PARAGRAPHS)
    assert {digest for digest, _ in children.values()} == {text_sha256(text) for text in recorder.seen}
    for text, (digest, _) in children.items():
        assert digest == text_sha256(embedding_text("Parking", text))


def test_editing_one_paragraph_embeds_only_the_changed_children_and_keeps_the_other_vectors(tenant, recorder):
    # given
    _ingest(tenant, recorder, ("a", "Policies", "\n\n".join(PARAGRAPHS)))
    before = _children(tenant, "a")
    before_inputs = _inputs(tenant, "a", "Policies")
    recorder.seen.clear()
    edited = [*PARAGRAPHS[:2], "Refunds are now issued within five days of a cancelled visit.", *PARAGRAPHS[3:]]
    # when
    _ingest(tenant, recorder, ("a", "Policies", "\n\n".join(edited)))
    # then
    after = _children(tenant, "a")
    new_inputs = _inputs(tenant, "a", "Policies") - before_inputs
    assert sorted(recorder.seen) == sorted(new_inputs)
    assert 1 <= len(new_inputs) < len(after)
    assert any("five days" in text for text in recorder.seen)
    kept = set(after) & set(before)
    assert kept and all(after[text] == before[text] for text in kept)
    fresh = next(text for text in after if "five days" in text)
    assert after[fresh][1] == pytest.approx(recorder.embed_documents([embedding_text("Policies", fresh)])[0])


def test_a_new_title_changes_every_input_so_everything_is_embedded_again(tenant, recorder):
    _ingest(tenant, recorder, ("a", "Policies", "\n\n".join(PARAGRAPHS)))
    recorder.seen.clear()
    _ingest(tenant, recorder, ("a", "Studio policies", "\n\n".join(PARAGRAPHS)))
    assert sorted(recorder.seen) == sorted(_inputs(tenant, "a", "Studio policies"))
    assert all(text.startswith("Studio policies\n") for text in recorder.seen)


def test_identical_inputs_in_one_batch_are_embedded_once_and_stored_for_each_document(tenant, recorder):
    _ingest(tenant, recorder, ("a", "FAQ", PARAGRAPHS[0]), ("b", "FAQ", PARAGRAPHS[0]), ("c", "FAQ", PARAGRAPHS[1]))
    assert sorted(recorder.seen) == sorted(embedding_text("FAQ", p) for p in PARAGRAPHS[:2])
    assert _children(tenant, "a") == _children(tenant, "b")
    assert Document.objects.get(tenant=tenant, external_id="b").chunk_count == 1


def test_a_document_reuses_vectors_of_other_documents_of_the_same_tenant(tenant, recorder):
    _ingest(tenant, recorder, ("a", "FAQ", PARAGRAPHS[0]))
    recorder.seen.clear()
    _ingest(tenant, recorder, ("b", "FAQ", f"{PARAGRAPHS[0]}\n\n{PARAGRAPHS[1]}"))
    assert recorder.seen == [embedding_text("FAQ", PARAGRAPHS[1])]
    assert _children(tenant, "b")[PARAGRAPHS[0]] == _children(tenant, "a")[PARAGRAPHS[0]]


def test_another_tenants_vectors_are_never_reused(tenant, other_tenant, recorder):
    _ingest(other_tenant, recorder, ("a", "FAQ", PARAGRAPHS[0]))
    recorder.seen.clear()
    _ingest(tenant, recorder, ("a", "FAQ", PARAGRAPHS[0]))
    assert recorder.seen == [embedding_text("FAQ", PARAGRAPHS[0])]


def test_vectors_of_another_model_are_not_reused(tenant, recorder):
    _ingest(tenant, recorder, ("a", "FAQ", "\n\n".join(PARAGRAPHS)))
    other_model = RecordingEmbedder(model="fake-hash-384-v2")
    reindexed = tenant_reindex(tenant=tenant, provider=other_model)
    assert reindexed == 1
    assert sorted(other_model.seen) == sorted(_inputs(tenant, "a", "FAQ"))
    children = Chunk.objects.filter(tenant=tenant, level=ChunkLevel.CHILD)
    assert set(children.values_list("embedding_model", flat=True)) == {"fake-hash-384-v2"}


def test_forced_reindex_embeds_every_child_again(tenant, recorder):
    _ingest(tenant, recorder, ("a", "FAQ", "\n\n".join(PARAGRAPHS)))
    recorder.seen.clear()
    assert tenant_reindex(tenant=tenant, provider=recorder, force=True) == 1
    assert sorted(recorder.seen) == sorted(_inputs(tenant, "a", "FAQ"))


def test_a_provider_returning_too_few_vectors_fails_the_batch_and_keeps_the_old_chunks(tenant, recorder):
    _ingest(tenant, recorder, ("a", "FAQ", PARAGRAPHS[0]))
    before = _children(tenant, "a")
    source = source_get_or_create(tenant=tenant, name="help centre")
    document, _ = document_upsert(
        tenant=tenant, source=source, parsed=ParsedDocument("a", "FAQ", PARAGRAPHS[1]), model="fake-hash-384"
    )
    with pytest.raises(ProviderError, match="returned 0 vectors for 1 texts"):
        documents_index(tenant=tenant, documents=[document], provider=ShortEmbedder())
    document.refresh_from_db()
    unreadable = EMBEDDING_FAILED.format(reason=PUBLIC_MESSAGES[ProviderErrorKind.MALFORMED])
    assert (document.status, document.error) == ("failed", unreadable)
    assert _children(tenant, "a") == before
