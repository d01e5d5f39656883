from __future__ import annotations

import math

import numpy as np
import pytest
from django.db import connection

from knowledge import dense
from knowledge.dense import PLAIN_SQL, dense_search, vector_literal
from knowledge.models import Chunk, ChunkLevel
from knowledge.selectors import retrieve
from knowledge.tests.factories import add_document
from supportai.tests.factories import TenantFactory


def _random_chunks(tenant, count: int, rng: np.random.Generator) -> list[int]:
    document = add_document(tenant, f"Bulk {tenant.slug}", "seed")
    parent = Chunk.objects.get(document=document, level=ChunkLevel.PARENT)
    vectors = rng.normal(size=(count, 384))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    rows = Chunk.objects.bulk_create(
        Chunk(
            tenant=tenant,
            document=document,
            parent=parent,
            level=ChunkLevel.CHILD,
            ordinal=n + 1,
            text=f"c{n}",
            token_count=1,
            char_start=0,
            char_end=1,
            embedding=vector.tolist(),
        )
        for n, vector in enumerate(vectors)
    )
    return [row.pk for row in rows]


def _force_hnsw() -> None:
    """Make the planner walk the HNSW index even for a small tenant (where it would rather sort)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_seqscan = off")


def _without_exact_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dense search answered by the HNSW walk alone: the exact search for a short walk never runs,
    so a walk that stops at ef_search candidates shows as fewer than k rows."""
    short = "count(*) < %(limit)s AS short"
    assert short in dense.DENSE_SQL
    monkeypatch.setattr(dense, "DENSE_SQL", dense.DENSE_SQL.replace(short, f"false AND {short}"))


def test_dense_returns_k_rows_for_small_tenants_next_to_a_big_one(db, monkeypatch):
    # given: tenants of very different sizes in the same index: 2,000, 101 and 9 chunks (incl. the seed)
    rng = np.random.default_rng(7)
    big, medium, small = TenantFactory.create(), TenantFactory.create(), TenantFactory.create()
    _random_chunks(big, 2000, rng)
    own = {medium: set(_random_chunks(medium, 100, rng)), small: set(_random_chunks(small, 8, rng))}
    raw = rng.normal(size=384)
    query = (raw / np.linalg.norm(raw)).tolist()
    _force_hnsw()
    _without_exact_fallback(monkeypatch)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + dense.DENSE_SQL, {"tenant": small.pk, "vector": vector_literal(query), "limit": 8})
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "chunk_embedding_hnsw" in plan
    for tenant, k in ((small, 8), (medium, 20)):
        # when: without iterative scans the filter throws away most of the ef_search candidates
        plain = dense_search(tenant=tenant, vector=query, limit=k, iterative_scan=False)
        iterative = dense_search(tenant=tenant, vector=query, limit=k)
        # then: the iterative walk alone keeps going until k of the tenant's rows are found
        assert len(plain) < k, tenant
        assert len(iterative) == k, tenant
        assert len({hit.chunk_id for hit in iterative} & own[tenant]) >= k - 1  # one may be the seed document's
        assert {Chunk.objects.get(pk=hit.chunk_id).tenant_id for hit in iterative} == {tenant.pk}
        assert [hit.score for hit in iterative] == sorted((hit.score for hit in iterative), reverse=True)


def test_dense_scores_are_cosine_similarities(tenant, fake_embeddings):
    add_document(tenant, "Parking", "free parking")
    vector = fake_embeddings.embed_query("Parking\nfree parking")
    [hit] = dense_search(tenant=tenant, vector=vector, limit=5)
    assert hit.score == pytest.approx(1.0, abs=1e-5)


def test_dense_never_returns_another_tenants_chunks(tenant, other_tenant, fake_embeddings):
    add_document(other_tenant, "Parking", "free parking")
    assert dense_search(tenant=tenant, vector=fake_embeddings.embed_query("parking"), limit=5) == []


def test_a_stored_vector_without_direction_is_left_to_keywords(tenant, fake_embeddings):
    # given: children stored with an all-zero vector (before providers' vectors were checked), which
    # is at a NaN distance from any query
    parking = add_document(tenant, "Parking", "free parking")
    yoga = add_document(tenant, "Yoga", "yoga mornings")
    Chunk.objects.filter(document=yoga, level=ChunkLevel.CHILD).update(embedding=[0.0] * 384)
    # when / then: dense search does not return them (a NaN score, which no ranking or JSON holds)
    hits = dense_search(tenant=tenant, vector=fake_embeddings.embed_query("yoga"), limit=5)
    assert [Chunk.objects.get(pk=hit.chunk_id).document_id for hit in hits] == [parking.pk]
    assert all(math.isfinite(hit.score) for hit in hits)
    # and hybrid search finds them by keywords, as children whose vector is missing (it crashed on NaN)
    passages = retrieve(tenant=tenant, query="yoga mornings", k=2)
    assert {p.title: dict(p.ranks) for p in passages}["Yoga"] == {"bm25": 1, "dense": None}
    assert all(math.isfinite(p.score) for p in passages)


def test_a_walk_that_gives_up_before_k_rows_pass_the_filter_is_answered_exactly(db):
    # given: a small tenant beside a big one, and a walk bounded far below the big one's rows (as
    # hnsw.max_scan_tuples, 20,000, bounds it beside a tenant of millions)
    rng = np.random.default_rng(11)
    big, small = TenantFactory.create(), TenantFactory.create()
    _random_chunks(big, 2000, rng)
    _random_chunks(small, 8, rng)
    raw = rng.normal(size=384)
    query = (raw / np.linalg.norm(raw)).tolist()
    _force_hnsw()
    with connection.cursor() as cursor:
        # pgvector's bound is approximate (the walk's batches are not cut at it): 60 still let the walk reach all
        # 8 rows on a Zen 4 host's graph; 1 stops it after its first batch of ef_search candidates.
        cursor.execute("SET LOCAL hnsw.max_scan_tuples = 1")
        cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        cursor.execute(PLAIN_SQL, {"tenant": small.pk, "vector": vector_literal(query), "limit": 8})
        assert len(cursor.fetchall()) < 8  # the bounded walk alone comes back short
    # when
    hits = dense_search(tenant=small, vector=query, limit=8)
    # then: the 8 nearest of the small tenant's 9 children, as an exact search ranks them
    children = Chunk.objects.filter(tenant=small, level=ChunkLevel.CHILD).exclude(embedding=None)
    cosine = {c.pk: float(np.dot(np.asarray(c.embedding), query)) for c in children}
    exact = sorted(cosine, key=lambda pk: (-cosine[pk], pk))[:8]
    assert [hit.chunk_id for hit in hits] == exact
    assert [hit.score for hit in hits] == pytest.approx([cosine[pk] for pk in exact], abs=1e-6)


def test_dense_ranks_only_its_tenants_chunks_when_another_tenant_is_nearer(tenant, other_tenant, fake_embeddings):
    # given: more chunks than the limit, and another tenant's chunk exactly at the query
    ours = {add_document(tenant, f"Room {n}", f"Room {n} has fresh towels and parking nearby.").pk for n in range(7)}
    add_document(other_tenant, "Parking", "free parking")
    # when
    hits = dense_search(tenant=tenant, vector=fake_embeddings.embed_query("Parking\nfree parking"), limit=5)
    # then: the limit is filled from the tenant's own chunks
    assert len(hits) == 5
    assert {hit.document_id for hit in hits} <= ours
