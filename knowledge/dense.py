"""Dense retrieval: cosine distance over the HNSW index, always filtered by tenant.

A filtered HNSW scan visits the graph's nearest neighbours first and drops other tenants' rows, so
a small tenant next to a big one could get fewer than ``limit`` rows. pgvector 0.8's iterative
index scan keeps walking the graph until enough rows pass the filter; ``relaxed_order`` lets it
return slightly out-of-order rows, which the outer ``ORDER BY`` puts right. The walk gives up after
``hnsw.max_scan_tuples`` rows; a search that comes back short is answered exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

from knowledge.bm25 import Hit
from knowledge.timeouts import bounded
from supportai.models import Tenant

EF_SEARCH = 100

# The tenant's ``limit`` nearest children through the HNSW index.
NEAREST = """
nearest AS MATERIALIZED (
    SELECT id, parent_id, document_id, embedding <=> %(vector)s::vector AS distance
      FROM knowledge_chunk
     WHERE tenant_id = %(tenant)s AND level = 'child' AND embedding IS NOT NULL
     ORDER BY embedding <=> %(vector)s::vector
     LIMIT %(limit)s
)"""
# A stored vector without direction (all zeros) is at a NaN distance, which sorts after every other
# and which no ranking (nor JSON) can hold: it is left out, as a missing one is, and keywords still
# find its chunk. The HNSW index holds no such vector, so it never takes a place the walk needed.
FOUND = "distance <> 'NaN'"
PLAIN_SQL = f"""WITH {NEAREST}
SELECT id, parent_id, document_id, distance FROM nearest WHERE {FOUND} ORDER BY distance, id"""
# ... and when the walk came back short (the tenant has fewer rows, or the walk gave up after
# ``hnsw.max_scan_tuples`` before enough rows passed the filter: a tenant holding a sliver of a very
# large index), found exactly in the same round trip: ``+ 0`` keeps the planner off the HNSW index,
# so it reads the tenant's rows through the tenant index and sorts them; the count is a one-time
# filter, so that scan runs only when needed.
DENSE_SQL = f"""
WITH {NEAREST}, short AS (SELECT count(*) < %(limit)s AS short FROM nearest),
exact AS MATERIALIZED (
    SELECT id, parent_id, document_id, embedding <=> %(vector)s::vector AS distance
      FROM knowledge_chunk
     WHERE tenant_id = %(tenant)s AND level = 'child' AND embedding IS NOT NULL
       AND (SELECT short FROM short)
     ORDER BY (embedding <=> %(vector)s::vector) + 0
     LIMIT %(limit)s
)
SELECT id, parent_id, document_id, distance
  FROM (SELECT * FROM nearest WHERE NOT (SELECT short FROM short) UNION ALL SELECT * FROM exact) AS found
 WHERE {FOUND}
 ORDER BY distance, id
"""


def vector_literal(vector: Sequence[float]) -> str:
    return "[" + ",".join(f"{value:.7g}" for value in vector) + "]"


def dense_search(
    *, tenant: Tenant, vector: Sequence[float], limit: int, iterative_scan: bool = True, timeout_ms: int = 0
) -> list[Hit]:
    """Child chunks of ``tenant`` nearest to ``vector`` (cosine); score = cosine similarity. The
    search is cancelled after ``timeout_ms`` (0: no limit) with ``RetrievalTimedOut``."""
    # The settings are set in one round trip with the time limit, local to the search's transaction.
    # No parallel workers: the exact search, planned for a big tenant as a parallel scan, would
    # start them (~5 ms) even when its one-time filter then skips it.
    settings = {
        "hnsw.iterative_scan": "relaxed_order" if iterative_scan else "off",
        "hnsw.ef_search": str(min(1000, max(EF_SEARCH, limit))),
        "max_parallel_workers_per_gather": "0",
    }
    with bounded(timeout_ms, settings) as cursor:
        params: dict[str, int | str] = {"tenant": tenant.pk, "vector": vector_literal(vector), "limit": limit}
        cursor.execute(DENSE_SQL if iterative_scan else PLAIN_SQL, params)
        rows = cursor.fetchall()
    return [
        Hit(chunk_id, parent_id, document_id, 1.0 - float(distance))
        for chunk_id, parent_id, document_id, distance in rows
    ]
