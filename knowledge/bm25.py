"""Okapi BM25 computed inside PostgreSQL from text-search lexemes, with per-tenant statistics.

``ts_rank`` has no inverse document frequency, so we keep our own: ``CorpusStats`` (number of child
chunks and total lexeme occurrences per tenant) and ``TermStats`` (document frequency per lexeme),
updated in the same transaction as every chunk insert or delete. Scoring, per unique query lexeme
t present in chunk d::

    idf(t)   = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))
    score    = sum_t idf(t) * tf(t,d) * (k1 + 1) / (tf(t,d) + k1 * (1 - b + b * |d| / avgdl))

with tf the number of positions of the lexeme in the chunk's tsvector and |d| the chunk's total
lexeme occurrences. Query terms are ORed, as in any bag-of-words ranker. The (lexeme, tf, |d|)
triples are also written to ``knowledge_posting``, an inverted index the search reads with one
index-only scan per query lexeme. Each hit also carries ``matched_idf``, sum_t idf(t) over the query
lexemes the chunk holds, and the search the tenant's N, for hybrid fusion's ``match_surprise``.

Each document's lexemes come from the text-search configuration of its language
(knowledge/languages.py), and a query's lexemes from every configuration the tenant's chunks use
(``SearchConfigStats``): one query vocabulary whatever the mix of languages, scored as above.

Queries with a very common lexeme (in ~all chunks: near-zero idf, yet all its postings would be
read, grouped and scored) are answered with MaxScore and stay exact. A term's contribution is below
idf(t) * (k1 + 1), so the most common terms, whose summed bounds are small, are "non-essential":
pass 1 scores only chunks holding an essential (rarer) term, with every query term (the
non-essential terms' tf read from those chunks' own tsvectors). A chunk outside that set scores
below the non-essential bound, so when the k-th pass-1 score is above it the top k are those of
full scoring; otherwise full scoring runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

from knowledge.languages import FALLBACK_CONFIG
from supportai.models import Tenant

# The query's lexemes under every text-search configuration of the tenant's chunks. ``simple``
# (languages without a stemmer) keeps stop words; beside stemmed configurations its lexemes that
# one of them drops as a stop word are left out, or "how do I get a refund" would rank a Japanese
# page holding "how", "do", "I" and "a" above the refunds article.
QUERY_LEXEMES = """SELECT DISTINCT q.lexeme
      FROM knowledge_searchconfigstats s
     CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector(s.config::regconfig, %(query)s))) AS q(lexeme)
     WHERE s.tenant_id = %(tenant)s
       AND NOT (s.config = 'simple' AND EXISTS (
           SELECT 1 FROM knowledge_searchconfigstats o
            WHERE o.tenant_id = s.tenant_id AND o.config <> 'simple' AND o.chunk_count > 0
              AND length(to_tsvector(o.config::regconfig, q.lexeme)) = 0))"""

# A score rounded to ``SCORE_DECIMALS`` (``%(scale)s`` is 10 ** SCORE_DECIMALS), as ``ranked_hits``
# rounds it: the chunks that make the ``LIMIT`` are chosen on the scores the ranking reports.
ROUNDED = "round(({}) * %(scale)s::float8) / %(scale)s::float8"
FULL_SUM = "sum(terms.idf * p.tf * (%(k1)s + 1) / (p.tf + %(k1)s * (1 - %(b)s + %(b)s * p.doc_len / stats.avgdl)))"

# Full scoring of every posting of every query lexeme, best ``limit`` first: the body of a CTE
# over ``stats`` and ``terms`` (SEARCH_SQL, and MAXSCORE_SQL's fallback). ``matched_idf`` is the idf
# mass of the distinct query lexemes the chunk holds (one posting per chunk and lexeme).
FULL_SCORING = f"""    SELECT p.chunk_id, {ROUNDED.format(FULL_SUM)} AS score, sum(terms.idf) AS matched_idf
      FROM terms
     CROSS JOIN LATERAL (
           -- OFFSET 0 keeps this a per-lexeme index-only scan: for a tenant holding most rows the
           -- planner would otherwise hash-join the whole posting table.
           SELECT chunk_id, tf, doc_len FROM knowledge_posting
            WHERE tenant_id = %(tenant)s AND lexeme = terms.lexeme OFFSET 0
     ) AS p
     CROSS JOIN stats
     GROUP BY p.chunk_id
     ORDER BY score DESC, p.chunk_id
     LIMIT %(limit)s
"""

SEARCH_SQL = f"""
WITH stats AS (
    SELECT chunk_count::float8 AS n, greatest(total_terms::float8 / greatest(chunk_count, 1), 1e-9) AS avgdl
      FROM knowledge_corpusstats WHERE tenant_id = %(tenant)s
), terms AS (
    SELECT t.lexeme, ln(1 + (stats.n - t.df + 0.5) / (t.df + 0.5)) AS idf
      FROM knowledge_termstats t CROSS JOIN stats
     WHERE t.tenant_id = %(tenant)s
       AND t.lexeme = ANY(ARRAY({QUERY_LEXEMES}))
), scored AS (
{FULL_SCORING})
SELECT c.id, c.parent_id, c.document_id, scored.score, scored.matched_idf
  FROM scored JOIN knowledge_chunk c ON c.id = scored.chunk_id
 ORDER BY scored.score DESC, c.id
"""


# MaxScore in one statement (see the module docstring). ``walk`` orders the query terms from the
# most common; the longest prefix whose summed bounds stay below ``margin`` x the next term's idf,
# while the rest can still yield ``limit`` candidates (sum of their df), is non-essential. Pass 1
# reads only the essential terms' postings; candidates whose essential score plus that bound cannot
# reach the limit-th essential score are dropped before the non-essential tf is read from the
# chunk's own tsvector (by primary key: the posting index is keyed by lexeme, so a per-chunk lookup
# there would scan the whole list). ``verdict`` accepts pass 1 only when the limit-th score is above
# the bound; otherwise the full scoring of ``SEARCH_SQL`` runs (behind a one-time filter, so it is
# not executed at all when pass 1 is accepted).
MAXSCORE_SQL = f"""
WITH stats AS (
    SELECT chunk_count::float8 AS n, greatest(total_terms::float8 / greatest(chunk_count, 1), 1e-9) AS avgdl
      FROM knowledge_corpusstats WHERE tenant_id = %(tenant)s
), terms AS (
    SELECT t.lexeme, t.df, ln(1 + (stats.n - t.df + 0.5) / (t.df + 0.5)) AS idf
      FROM knowledge_termstats t CROSS JOIN stats
     WHERE t.tenant_id = %(tenant)s
       AND t.lexeme = ANY(ARRAY({QUERY_LEXEMES}))
), walk AS (
    SELECT lexeme, idf, row_number() OVER w AS position, sum(idf * (%(k1)s + 1)) OVER w AS bound,
           lead(idf) OVER w AS next_idf, sum(df) OVER () - sum(df) OVER w AS rest_df
      FROM terms WINDOW w AS (ORDER BY idf, lexeme)
), cut AS (
    SELECT coalesce(max(position), 0) AS position, coalesce(max(bound), 0) AS bound FROM walk
     WHERE next_idf IS NOT NULL AND rest_df >= %(limit)s AND bound < %(margin)s * next_idf
), essential AS (
    SELECT walk.lexeme, walk.idf FROM walk CROSS JOIN cut WHERE cut.position > 0 AND walk.position > cut.position
), others AS (
    SELECT walk.lexeme, walk.idf FROM walk CROSS JOIN cut WHERE walk.position <= cut.position
), candidates AS (
    SELECT p.chunk_id, p.doc_len,
           sum(essential.idf * p.tf * (%(k1)s + 1)
               / (p.tf + %(k1)s * (1 - %(b)s + %(b)s * p.doc_len / stats.avgdl))) AS score,
           sum(essential.idf) AS matched_idf
      FROM essential
     CROSS JOIN LATERAL (
           SELECT chunk_id, tf, doc_len FROM knowledge_posting
            WHERE tenant_id = %(tenant)s AND lexeme = essential.lexeme OFFSET 0
     ) AS p
     CROSS JOIN stats
     GROUP BY p.chunk_id, p.doc_len
), survivors AS (
    SELECT candidates.* FROM candidates CROSS JOIN cut
     WHERE candidates.score + cut.bound + %(slack)s >= coalesce(
           (SELECT score FROM candidates ORDER BY score DESC OFFSET %(limit)s - 1 LIMIT 1), '-infinity')
), pass1 AS (
    SELECT s.chunk_id, {ROUNDED.format("s.score + coalesce(extra.score, 0)")} AS score,
           s.matched_idf + coalesce(extra.matched_idf, 0) AS matched_idf
      FROM survivors s
     CROSS JOIN stats
      LEFT JOIN LATERAL (
           SELECT sum(others.idf * u.tf * (%(k1)s + 1)
                      / (u.tf + %(k1)s * (1 - %(b)s + %(b)s * s.doc_len / stats.avgdl))) AS score,
                  sum(others.idf) AS matched_idf
             FROM knowledge_chunk c
            CROSS JOIN LATERAL (
                  SELECT v.lexeme, array_length(v.positions, 1) AS tf FROM unnest(c.search_vector) AS v
            ) AS u
             JOIN others ON others.lexeme = u.lexeme
            WHERE c.id = s.chunk_id AND c.tenant_id = %(tenant)s
      ) AS extra ON true
     ORDER BY score DESC, s.chunk_id
     LIMIT %(limit)s
), verdict AS (
    SELECT cut.position > 0 AS tried,
           cut.position > 0 AND count(pass1.chunk_id) >= %(limit)s
           AND coalesce(min(pass1.score), 0) > cut.bound + %(slack)s AS proven
      FROM cut LEFT JOIN pass1 ON true GROUP BY cut.position, cut.bound
), full_scoring AS (
{FULL_SCORING}), chosen AS (
    SELECT chunk_id, score, matched_idf, 'maxscore' AS path FROM pass1 WHERE (SELECT proven FROM verdict)
    UNION ALL
    SELECT chunk_id, score, matched_idf, CASE WHEN (SELECT tried FROM verdict) THEN 'fallback' ELSE 'full' END
      FROM full_scoring WHERE NOT (SELECT proven FROM verdict)
)
SELECT c.id, c.parent_id, c.document_id, chosen.score, chosen.matched_idf, chosen.path, (SELECT n FROM stats)
  FROM chosen JOIN knowledge_chunk c ON c.id = chosen.chunk_id
 ORDER BY chosen.score DESC, c.id
"""

# A term may be non-essential while the bounds of the non-essential terms stay below this share of
# the rarest remaining term's idf (a chunk holding that term once scores about its idf).
SPLIT_MARGIN = 0.5
# Absolute tolerance on the bound comparisons: far above float rounding (scores are O(1..100)) and
# above the rounding of two compared scores to SCORE_DECIMALS (half a unit each), so rounding can
# neither prune a top-k chunk (nor an older one tied with it) nor pass a proof that does not hold.
SLACK = 2e-9
# Scores are reported, and the ``LIMIT`` chosen, to this many decimals. Identical chunks (a help
# centre's duplicated answers, a notice on every page) score the same sum, but PostgreSQL may add
# its terms in another order (heap order of the statistics rows from one ingest to the next, an
# unstable sort of the postings by chunk within one query), which moves the last bits and flips
# them; rounded, they tie exactly and the older chunk comes first, so rankings repeat.
SCORE_DECIMALS = 9


@dataclass(frozen=True)
class Hit:
    """A child chunk found by one retriever, with that retriever's raw score (higher is better)."""

    chunk_id: int
    parent_id: int | None
    document_id: int
    score: float
    # BM25: the idf mass of the distinct query lexemes the chunk holds (``match_surprise``); 0 for dense.
    matched_idf: float = 0.0


def query_lexemes(*, tenant: Tenant, query: str) -> list[str]:
    """The lexemes PostgreSQL derives from ``query`` (stemmed, stop words removed) with each
    text-search configuration of ``tenant``'s chunks, sorted."""
    with connection.cursor() as cursor:
        cursor.execute(f"{QUERY_LEXEMES} ORDER BY 1", {"tenant": tenant.pk, "query": query})
        return [row[0] for row in cursor.fetchall()]


def text_lexemes(text: str, *, configs: Sequence[str]) -> list[str]:
    """The lexemes of ``text`` under each of the text-search ``configs``, sorted."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT q.lexeme FROM unnest(%s::text[]) AS s(config) "
            "CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector(s.config::regconfig, %s))) AS q(lexeme) "
            "ORDER BY 1",
            [list(configs), text],
        )
        return [row[0] for row in cursor.fetchall()]


# Known share per configuration, and the best of them: a German question to a tenant with English
# and German chunks is judged by its German lexemes, not diluted by what the English stemmer makes
# of the same words. ``simple`` keeps stop words, whose lexemes every tenant has, so it counts only
# in a tenant with no other configuration.
KEYWORD_EVIDENCE_SQL = f"""
SELECT coalesce(max(shares.share) FILTER (WHERE shares.config <> '{FALLBACK_CONFIG}'), max(shares.share)),
       (SELECT keyword_scale FROM knowledge_retrievaltuning WHERE tenant_id = %(tenant)s)
  FROM (
    SELECT s.config, count(t.lexeme)::float8 / count(*) AS share
      FROM knowledge_searchconfigstats s
     CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector(s.config::regconfig, %(query)s))) AS q(lexeme)
      LEFT JOIN knowledge_termstats t ON t.tenant_id = %(tenant)s AND t.lexeme = q.lexeme AND t.df > 0
     WHERE s.tenant_id = %(tenant)s
     GROUP BY s.config
  ) AS shares
"""


@dataclass(frozen=True)
class KeywordEvidence:
    """How far keywords can be trusted for one query of one tenant (knowledge/fusion.py)."""

    # Of the query's lexemes, those found in the tenant's chunks; 1.0 when the query has no lexemes
    # or the tenant no chunks (nothing for keywords to be wrong about).
    known_share: float
    tenant_scale: float  # the tenant's tuned keyword weight multiplier (RetrievalTuning), else 1.0
    # Whether keyword search has any lexeme of the query to look up (False: the query is only stop
    # words, emoji or punctuation, or the tenant has no chunks), so known_share's 1.0 is no finding.
    has_lexemes: bool = True


def keyword_evidence(*, tenant: Tenant, query: str) -> KeywordEvidence:
    """One round trip: the share of ``query``'s lexemes in ``tenant``'s chunks and its tuned scale."""
    with connection.cursor() as cursor:
        cursor.execute(KEYWORD_EVIDENCE_SQL, {"tenant": tenant.pk, "query": query})
        row = cursor.fetchone()
    share, scale = row if row else (None, None)
    return KeywordEvidence(
        1.0 if share is None else float(share), 1.0 if scale is None else float(scale), has_lexemes=share is not None
    )


def bm25_search(*, tenant: Tenant, query: str, limit: int, k1: float = 1.2, b: float = 0.75) -> list[Hit]:
    """Child chunks of ``tenant`` ranked by Okapi BM25 for ``query``, best first: the top ``limit``
    of full scoring, found with MaxScore when the query has very common terms."""
    return bm25_search_traced(tenant=tenant, query=query, limit=limit, k1=k1, b=b).hits


def match_surprise(*, matched_idf: float, chunk_count: int) -> float:
    """How unlikely a child's keyword match is by chance, in nats: e^(-idf) is about the share of the
    ``chunk_count`` children holding a lexeme, so (words taken as independent) N x e^(-m) children
    would hold all the lexemes of idf mass m; the surprise is minus the log of that, m - ln(N + 1)
    (0: one chance match expected; 5: one in 150). docs/retrieval.md "Session 28"."""
    return matched_idf - math.log(chunk_count + 1)


@dataclass(frozen=True)
class TracedSearch:
    hits: list[Hit]
    path: str  # "maxscore" (pass 1 proved the top k), "fallback" (it could not), "full" (not tried)
    chunk_count: int = 0  # N, the tenant's child chunks (0 when nothing was found)

    @property
    def surprise(self) -> float | None:
        """``match_surprise`` of the best (first) hit; None without hits."""
        if not self.hits:
            return None
        return match_surprise(matched_idf=self.hits[0].matched_idf, chunk_count=self.chunk_count)


def bm25_search_traced(
    *, tenant: Tenant, query: str, limit: int, k1: float = 1.2, b: float = 0.75, margin: float = SPLIT_MARGIN
) -> TracedSearch:
    """``bm25_search`` and which way it went (one statement)."""
    if not query.strip() or limit <= 0:
        return TracedSearch([], "full")
    params: dict[str, Any] = {
        "tenant": tenant.pk,
        "query": query,
        "limit": limit,
        "k1": k1,
        "b": b,
        "margin": margin,
        "slack": SLACK,
        "scale": 10**SCORE_DECIMALS,
    }
    with connection.cursor() as cursor:
        cursor.execute(MAXSCORE_SQL, params)
        rows = cursor.fetchall()
    if not rows:
        return TracedSearch([], "full")
    return TracedSearch(ranked_hits([row[:5] for row in rows]), rows[0][5], int(rows[0][6]))


def ranked_hits(rows: Sequence[Sequence[Any]]) -> list[Hit]:
    """Hits from ``(chunk_id, parent_id, document_id, score, matched_idf)`` rows, scores rounded to
    ``SCORE_DECIMALS``, best first and, on a tie, oldest chunk first."""
    hits = [
        Hit(chunk_id, parent_id, document_id, round(float(score), SCORE_DECIMALS), float(matched_idf))
        for chunk_id, parent_id, document_id, score, matched_idf in rows
    ]
    return sorted(hits, key=lambda hit: (-hit.score, hit.chunk_id))


def bm25_search_exhaustive(*, tenant: Tenant, query: str, limit: int, k1: float = 1.2, b: float = 0.75) -> list[Hit]:
    """Full scoring of every posting of every query lexeme: the plain SQL that tests hold the
    MaxScore search (``bm25_search``) to, hit for hit."""
    if not query.strip():
        return []
    with connection.cursor() as cursor:
        params = {"tenant": tenant.pk, "query": query, "limit": limit, "k1": k1, "b": b, "scale": 10**SCORE_DECIMALS}
        cursor.execute(SEARCH_SQL, params)
        rows = cursor.fetchall()
    return ranked_hits(rows)


RARE_DF = 5

# Whether any lexeme of any of the texts (under each configuration of the tenant's chunks) is rare:
# one statement for all of them, so a query holding hundreds of codes costs one round trip.
RARE_LEXEME_SQL = """
SELECT EXISTS (
    SELECT 1 FROM knowledge_termstats t
     WHERE t.tenant_id = %(tenant)s AND t.df <= %(rare)s
       AND t.lexeme = ANY(ARRAY(
           SELECT q.lexeme
             FROM knowledge_searchconfigstats s
            CROSS JOIN unnest(%(texts)s::text[]) AS x(text)
            CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector(s.config::regconfig, x.text))) AS q(lexeme)
            WHERE s.tenant_id = %(tenant)s))
)
"""


def has_rare_lexeme(*, tenant: Tenant, texts: list[str]) -> bool:
    """Whether any of ``texts`` yields a lexeme found in at most ``RARE_DF`` of the tenant's chunks."""
    if not texts:
        return False
    with connection.cursor() as cursor:
        cursor.execute(RARE_LEXEME_SQL, {"tenant": tenant.pk, "rare": RARE_DF, "texts": texts})
        row = cursor.fetchone()
    return bool(row and row[0])
