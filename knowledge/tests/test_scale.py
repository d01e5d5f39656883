"""The scale benchmark's synthetic tenants load through the real schema and are searchable."""

from __future__ import annotations

import pytest

from knowledge.bm25 import bm25_search
from knowledge.evaluation import drop_tenants
from knowledge.models import Chunk, ChunkLevel, CorpusStats, Document, Posting, SearchConfigStats, TermStats
from knowledge.providers.fake import FakeEmbeddingProvider
from knowledge.retrieval import rank_parents
from knowledge.scale import create_synthetic_tenants, sample_queries
from knowledge.tests.factories import add_document
from supportai.models import Tenant

TENANT_TABLES = (Document, Chunk, Posting, TermStats, CorpusStats, SearchConfigStats)


def _row_counts(tenant: Tenant) -> dict[str, int]:
    return {model.__name__: model.objects.filter(tenant=tenant).count() for model in TENANT_TABLES}


@pytest.mark.django_db(transaction=True)
def test_synthetic_tenants_load_search_and_drop(tenant):
    # given a real tenant holding a document
    kept = add_document(tenant, "Parking", "Guests park behind the studio on Maple Street.")
    before = _row_counts(tenant)
    assert all(before.values()), before
    # and two synthetic tenants beside it
    small, large = create_synthetic_tenants([("tiny", 12), ("bigger", 60)])
    try:
        # then their chunks, statistics and HNSW index are in place
        for synthetic in (small, large):
            children = Chunk.objects.filter(tenant=synthetic.tenant, level=ChunkLevel.CHILD)
            assert children.count() == synthetic.children > 0
            assert not children.filter(embedding__isnull=True).exists()
            assert set(
                Chunk.objects.filter(tenant=synthetic.tenant).values_list("embedded_text_sha256", flat=True)
            ) == {""}
            assert CorpusStats.objects.get(tenant=synthetic.tenant).chunk_count == synthetic.children
            configs = SearchConfigStats.objects.filter(tenant=synthetic.tenant).values_list("config", "chunk_count")
            assert dict(configs) == {"english": synthetic.children}
        query = sample_queries(count=1, seed=3)[0]
        for mode in ("bm25", "dense", "hybrid"):
            found = rank_parents(
                tenant=small.tenant, query=query, mode=mode, depth=5, provider=FakeEmbeddingProvider()
            ).parents
            assert found and {Chunk.objects.get(pk=p.parent_id).tenant_id for p in found} == {small.tenant.pk}
    finally:
        drop_tenants([small.tenant.pk, large.tenant.pk])
    # and dropping removes them without touching the other tenant
    assert not Tenant.objects.filter(pk__in=[small.tenant.pk, large.tenant.pk]).exists()
    assert Tenant.objects.filter(pk=tenant.pk).exists()
    assert _row_counts(tenant) == before
    assert {hit.document_id for hit in bm25_search(tenant=tenant, query="park behind the studio", limit=5)} == {kept.pk}
