"""Keeping the BM25 index (``knowledge.bm25``) with the chunks: each child's lexemes and postings written
with it, and the tenant's statistics (``CorpusStats``, ``TermStats``, ``SearchConfigStats``) added to and
subtracted from in the same transaction as every chunk insert or delete, under the tenant's index lock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection

from knowledge.languages import LEXEME_INVISIBLES, LEXEME_SPACES, searchable_sql
from supportai.models import Tenant

# Children are inserted with their lexemes in one statement: updating them afterwards would write
# every row (and its HNSW entry) again. The title is repeated ``title_weight`` times so its lexemes
# get that many positions (tf), a BM25F-style field weight; the child's section headings (those above
# it that it does not hold, knowledge/sections.py) follow once, as words of its context, then its text,
# unless the text is only the title (a record of a title alone), which the title already counts. One
# statement takes the children of a whole batch of documents (a row per child, its document's title
# and its section alongside); the lexemes come from
# the text-search configuration the document records, without the invisible characters that would
# hide a word and with ligatures spelt out (``languages.searchable_sql``).
_SEARCHABLE = {"invisible": "%(invisible)s", "spaces": "%(spaces)s"}
CHILD_INSERT_SQL = f"""
INSERT INTO knowledge_chunk (tenant_id, document_id, parent_id, level, ordinal, text, token_count, char_start,
                             char_end, embedding, embedding_model, embedded_text_sha256, search_vector, term_count)
SELECT %(tenant)s, x.document_id, x.parent_id, 'child', x.ordinal, x.text, x.tokens, x.char_start, x.char_end,
       x.embedding::vector, %(model)s, x.embedded_text_sha256, x.sv,
       (SELECT coalesce(sum(array_length(u.positions, 1)), 0) FROM unnest(x.sv) u)
  FROM (
    SELECT c.*,
           to_tsvector(d.search_config::regconfig,
                       repeat({searchable_sql("c.title", **_SEARCHABLE)} || ' . ', %(weight)s))
           || to_tsvector(d.search_config::regconfig, {searchable_sql("c.section", **_SEARCHABLE)})
           || CASE WHEN c.repeats_title THEN ''::tsvector
                   ELSE to_tsvector(d.search_config::regconfig, {searchable_sql("c.text", **_SEARCHABLE)}) END AS sv
      FROM unnest(%(documents)s::bigint[], %(titles)s::text[], %(parents)s::bigint[], %(ordinals)s::int[],
                  %(texts)s::text[], %(sections)s::text[], %(tokens)s::int[], %(starts)s::int[], %(ends)s::int[],
                  %(embeddings)s::text[], %(hashes)s::text[], %(repeats_title)s::bool[])
           AS c(document_id, title, parent_id, ordinal, text, section, tokens, char_start, char_end, embedding,
                embedded_text_sha256, repeats_title)
      JOIN knowledge_document d ON d.id = c.document_id AND d.tenant_id = %(tenant)s
  ) AS x
"""


@dataclass(frozen=True)
class ChildRow:
    document_id: int
    title: str
    parent_id: int
    ordinal: int
    text: str
    section: str  # the headings above the child, for its lexemes ("" when it has none)
    tokens: int
    start: int
    end: int
    embedding: str | None  # pgvector text literal, "[0.1,0.2,...]"; None for keyword search alone
    embedded_text_sha256: str  # of the text the model read (knowledge/embedding_reuse.py); "" when none
    # The text is the title (``indexing.repeats_title``): its lexemes are the title's alone, at the title weight.
    repeats_title: bool


# Adding (+1) or removing (-1) some documents' child chunks from the tenant's statistics: one
# set-based statement per batch of documents, whatever its size.
TERM_STATS_SQL = """
INSERT INTO knowledge_termstats (tenant_id, lexeme, df)
SELECT %(tenant)s, u.lexeme, %(sign)s * count(*)
  FROM knowledge_chunk c CROSS JOIN LATERAL unnest(c.search_vector) AS u
 WHERE c.tenant_id = %(tenant)s AND c.document_id = ANY(%(documents)s) AND c.level = 'child'
 GROUP BY u.lexeme
ON CONFLICT (tenant_id, lexeme) DO UPDATE SET df = knowledge_termstats.df + EXCLUDED.df
"""

CORPUS_STATS_SQL = """
INSERT INTO knowledge_corpusstats (tenant_id, chunk_count, total_terms)
SELECT %(tenant)s, %(sign)s * count(*), %(sign)s * coalesce(sum(term_count), 0)
  FROM knowledge_chunk WHERE tenant_id = %(tenant)s AND document_id = ANY(%(documents)s) AND level = 'child'
ON CONFLICT (tenant_id) DO UPDATE
   SET chunk_count = knowledge_corpusstats.chunk_count + EXCLUDED.chunk_count,
       total_terms = knowledge_corpusstats.total_terms + EXCLUDED.total_terms
"""

SEARCH_CONFIG_STATS_SQL = """
INSERT INTO knowledge_searchconfigstats (tenant_id, config, chunk_count)
SELECT %(tenant)s, d.search_config, %(sign)s * count(*)
  FROM knowledge_chunk c JOIN knowledge_document d ON d.id = c.document_id
 WHERE c.tenant_id = %(tenant)s AND c.document_id = ANY(%(documents)s) AND c.level = 'child'
 GROUP BY d.search_config
ON CONFLICT (tenant_id, config) DO UPDATE
   SET chunk_count = knowledge_searchconfigstats.chunk_count + EXCLUDED.chunk_count
"""

POSTINGS_INSERT_SQL = """
INSERT INTO knowledge_posting (tenant_id, document_id, chunk_id, lexeme, tf, doc_len)
SELECT c.tenant_id, c.document_id, c.id, u.lexeme, array_length(u.positions, 1), c.term_count
  FROM knowledge_chunk c CROSS JOIN LATERAL unnest(c.search_vector) AS u
 WHERE c.tenant_id = %(tenant)s AND c.document_id = ANY(%(documents)s) AND c.level = 'child'
"""


def insert_children(*, tenant: Tenant, title_weight: int, model: str, rows: list[ChildRow]) -> None:
    """Insert child chunks (of any number of documents) with their lexemes and postings, and add
    them to the tenant's statistics: five statements in all. Lexemes and ``SearchConfigStats``
    both follow each document's recorded ``search_config``, so set it first."""
    if not rows:
        return
    documents = sorted({r.document_id for r in rows})
    with connection.cursor() as cursor:
        cursor.execute(
            CHILD_INSERT_SQL,
            {
                "tenant": tenant.pk,
                "model": model,
                "weight": title_weight,
                "documents": [r.document_id for r in rows],
                "titles": [r.title for r in rows],
                "parents": [r.parent_id for r in rows],
                "ordinals": [r.ordinal for r in rows],
                "texts": [r.text for r in rows],
                "sections": [r.section for r in rows],
                "tokens": [r.tokens for r in rows],
                "starts": [r.start for r in rows],
                "ends": [r.end for r in rows],
                "embeddings": [r.embedding for r in rows],
                "hashes": [r.embedded_text_sha256 for r in rows],
                "repeats_title": [r.repeats_title for r in rows],
                "invisible": LEXEME_INVISIBLES,
                "spaces": LEXEME_SPACES,
            },
        )
        params: dict[str, Any] = {"tenant": tenant.pk, "documents": documents, "sign": 1}
        cursor.execute(POSTINGS_INSERT_SQL, params)
        cursor.execute(TERM_STATS_SQL, params)
        cursor.execute(CORPUS_STATS_SQL, params)
        cursor.execute(SEARCH_CONFIG_STATS_SQL, params)


# First key of the transaction-level advisory lock that serialises one tenant's index writers.
INDEX_LOCK_NAMESPACE = 0x4B42  # "KB"


def lock_tenant_index(*, tenant: Tenant) -> None:
    """Serialise, until the transaction ends, every writer of ``tenant``'s chunks and BM25
    statistics. Each writer takes this lock before it locks any document row, so writers of one
    tenant never deadlock (document rows, TermStats and CorpusStats rows were otherwise locked in
    different orders) and a delete never counts chunks that a concurrent indexing run is
    replacing. Embedding happens before the transaction, so only the short writes queue; other
    tenants never wait."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [INDEX_LOCK_NAMESPACE, tenant.pk % 2**31])


def unindex_documents_terms(*, tenant: Tenant, document_ids: list[int]) -> None:
    """Subtract the documents' child chunks from the statistics and drop their postings (call
    before deleting the chunks, inside the same transaction)."""
    if not document_ids:
        return
    with connection.cursor() as cursor:
        params: dict[str, Any] = {"tenant": tenant.pk, "documents": document_ids, "sign": -1}
        cursor.execute(TERM_STATS_SQL, params)
        cursor.execute(CORPUS_STATS_SQL, params)
        cursor.execute(SEARCH_CONFIG_STATS_SQL, params)
        cursor.execute("DELETE FROM knowledge_termstats WHERE tenant_id = %s AND df <= 0", [tenant.pk])
        cursor.execute("DELETE FROM knowledge_searchconfigstats WHERE tenant_id = %s AND chunk_count <= 0", [tenant.pk])
        cursor.execute(
            "DELETE FROM knowledge_posting WHERE tenant_id = %s AND document_id = ANY(%s)", [tenant.pk, document_ids]
        )
