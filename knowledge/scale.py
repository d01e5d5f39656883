"""Synthetic tenants for the scale benchmark: deterministic text and unit vectors, bulk-loaded with COPY.

Text is drawn from a Zipf-distributed made-up vocabulary (so BM25 sees realistic document
frequencies); embeddings are random unit vectors (the HNSW index does not care where they come
from). Rows go in through binary COPY and the BM25 statistics are built with set-based SQL, which
gives the same numbers as ingesting document by document.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import connection, transaction
from pgvector.psycopg import register_vector

from knowledge import conf
from knowledge.models import Document, DocumentStatus, KnowledgeSource
from supportai.models import Tenant

SYLLABLES = ("ka", "lo", "mi", "ne", "su", "ra", "ti", "vo", "pe", "zu", "da", "fi", "go", "hu", "ja", "be")
VOCABULARY_SIZE = 20_000
WORDS_PER_CHILD = 60
CHILDREN_PER_PARENT = 3
PARENTS_PER_DOCUMENT = 2
DIMENSIONS = 384


def vocabulary(size: int = VOCABULARY_SIZE) -> list[str]:
    rng = np.random.default_rng(1234)
    words: set[str] = set()
    while len(words) < size:
        length = int(rng.integers(2, 5))
        words.add("".join(SYLLABLES[int(i)] for i in rng.integers(0, len(SYLLABLES), size=length)))
    return sorted(words)


@dataclass(frozen=True)
class SyntheticTenant:
    tenant: Tenant
    children: int


def _texts(rng: np.random.Generator, words: list[str], count: int) -> list[str]:
    ranks = np.arange(1, len(words) + 1)
    probabilities = 1.0 / ranks**1.07
    probabilities /= probabilities.sum()
    picks = rng.choice(len(words), size=(count, WORDS_PER_CHILD), p=probabilities)
    return [" ".join(words[i] for i in row) + "." for row in picks]


def _unit_vectors(rng: np.random.Generator, count: int) -> np.ndarray:
    vectors = rng.standard_normal((count, DIMENSIONS), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


HNSW_INDEX = "chunk_embedding_hnsw"
HNSW_DEFINITION = (
    f"CREATE INDEX {HNSW_INDEX} ON knowledge_chunk USING hnsw (embedding vector_cosine_ops) "
    "WITH (m = 16, ef_construction = 64)"
)

CHILD_INSERT = f"""
INSERT INTO knowledge_chunk (tenant_id, document_id, parent_id, level, ordinal, text, token_count, char_start,
                             char_end, embedding, embedding_model, search_vector, term_count)
SELECT %(t)s, b.document_id, b.parent_id, 'child', b.ordinal, b.text, {WORDS_PER_CHILD}, 0, length(b.text),
       b.embedding, 'random-unit-384', x.sv, (SELECT coalesce(sum(array_length(u.positions, 1)), 0) FROM unnest(x.sv) u)
  FROM bench_children b
  JOIN knowledge_document d ON d.id = b.document_id
 CROSS JOIN LATERAL (
       SELECT to_tsvector(d.search_config::regconfig, repeat(d.title || ' . ', %(w)s))
              || to_tsvector(d.search_config::regconfig, b.text) AS sv
 ) x
"""


def _load_tenant(cursor: Any, *, label: str, children: int, seed: int) -> SyntheticTenant:
    rng = np.random.default_rng(seed)
    words = vocabulary()
    per_document = CHILDREN_PER_PARENT * PARENTS_PER_DOCUMENT
    document_count = max(1, children // per_document)
    tenant = Tenant.objects.create(name=f"Benchmark {label}", slug=f"bench-{label}-{secrets.token_hex(4)}")
    source = KnowledgeSource.objects.create(tenant=tenant, name="synthetic")
    titles = _texts(rng, words, document_count)
    Document.objects.bulk_create(
        (
            Document(
                tenant=tenant,
                source=source,
                external_id=f"doc-{n}",
                title=" ".join(titles[n].split()[:6]),
                status=DocumentStatus.READY,
                chunk_count=per_document,
                embedding_model="random-unit-384",
            )
            for n in range(document_count)
        ),
        batch_size=5000,
    )
    document_ids = list(Document.objects.filter(tenant=tenant).order_by("pk").values_list("pk", flat=True))
    total = len(document_ids) * per_document
    texts = _texts(rng, words, total)
    vectors = _unit_vectors(rng, total)
    with cursor.copy(
        "COPY knowledge_chunk (tenant_id, document_id, level, ordinal, text, token_count, char_start, char_end, "
        "embedding_model, term_count) FROM STDIN"
    ) as copy:
        for number, document_id in enumerate(document_ids):
            for ordinal in range(PARENTS_PER_DOCUMENT):
                first = number * per_document + ordinal * CHILDREN_PER_PARENT
                text = " ".join(texts[first : first + CHILDREN_PER_PARENT])
                copy.write_row((tenant.pk, document_id, "parent", ordinal, text, 0, 0, len(text), "", 0))
    cursor.execute(
        "SELECT document_id, ordinal, id FROM knowledge_chunk WHERE tenant_id = %s AND level = 'parent'",
        [tenant.pk],
    )
    parents = {(document_id, ordinal): pk for document_id, ordinal, pk in cursor.fetchall()}
    cursor.execute(
        "CREATE TEMP TABLE bench_children (document_id bigint, parent_id bigint, ordinal int, text text, "
        "embedding vector(384)) ON COMMIT DROP"
    )
    with cursor.copy("COPY bench_children FROM STDIN WITH (FORMAT BINARY)") as copy:
        copy.set_types(["int8", "int8", "int4", "text", "vector"])
        row = 0
        for document_id in document_ids:
            for ordinal in range(per_document):
                parent = parents[(document_id, ordinal // CHILDREN_PER_PARENT)]
                copy.write_row((document_id, parent, ordinal, texts[row], vectors[row]))
                row += 1
    cursor.execute(CHILD_INSERT, {"t": tenant.pk, "w": conf.SETTINGS.title_weight})
    cursor.execute("DROP TABLE bench_children")
    build_statistics(cursor, tenant_id=tenant.pk)
    return SyntheticTenant(tenant, total)


@transaction.atomic
def create_synthetic_tenants(specs: list[tuple[str, int]]) -> list[SyntheticTenant]:
    """Tenants with about the given numbers of child chunks, in one transaction.

    The HNSW index is dropped and rebuilt once at the end (same definition as the migration): a
    bulk build is several times faster than 100k incremental inserts, and the transaction keeps
    the schema intact if anything fails.
    """
    raw = connection.connection
    register_vector(raw)
    with raw.cursor() as cursor:
        cursor.execute(f"DROP INDEX {HNSW_INDEX}")
        created = [
            _load_tenant(cursor, label=label, children=size, seed=seed) for seed, (label, size) in enumerate(specs)
        ]
        # Django's foreign keys are deferred; their checks must run before the index can be built.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cursor.execute(HNSW_DEFINITION)
    return created


def build_statistics(cursor: Any, *, tenant_id: int) -> None:
    """Set-based equivalent of adding every document's terms one by one."""
    statements = [
        "INSERT INTO knowledge_posting (tenant_id, document_id, chunk_id, lexeme, tf, doc_len) "
        "SELECT c.tenant_id, c.document_id, c.id, u.lexeme, array_length(u.positions, 1), c.term_count "
        "FROM knowledge_chunk c CROSS JOIN LATERAL unnest(c.search_vector) AS u "
        "WHERE c.tenant_id = %(t)s AND c.level = 'child'",
        "INSERT INTO knowledge_termstats (tenant_id, lexeme, df) SELECT %(t)s, u.lexeme, count(*) "
        "FROM knowledge_chunk c CROSS JOIN LATERAL unnest(c.search_vector) AS u "
        "WHERE c.tenant_id = %(t)s AND c.level = 'child' GROUP BY u.lexeme",
        "INSERT INTO knowledge_corpusstats (tenant_id, chunk_count, total_terms) SELECT %(t)s, count(*), "
        "coalesce(sum(term_count), 0) FROM knowledge_chunk WHERE tenant_id = %(t)s AND level = 'child'",
        "INSERT INTO knowledge_searchconfigstats (tenant_id, config, chunk_count) SELECT %(t)s, d.search_config, "
        "count(*) FROM knowledge_chunk c JOIN knowledge_document d ON d.id = c.document_id "
        "WHERE c.tenant_id = %(t)s AND c.level = 'child' GROUP BY d.search_config",
    ]
    for statement in statements:
        cursor.execute(statement, {"t": tenant_id})


def sample_queries(*, count: int, seed: int) -> list[str]:
    """Two to four vocabulary words, mixing frequent and rare ones, like real keyword queries."""
    rng = np.random.default_rng(seed)
    words = vocabulary()
    queries = []
    for _ in range(count):
        length = int(rng.integers(2, 5))
        picks = [words[int(rng.integers(0, 200))]] + [
            words[int(rng.integers(0, len(words)))] for _ in range(length - 1)
        ]
        queries.append(" ".join(picks))
    return queries
