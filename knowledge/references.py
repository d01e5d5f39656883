"""Reference rankings for the retrieval benchmark: textbook Okapi BM25 and the embedding model used
directly, computed in Python next to (not through) our SQL retrievers.

Two pairs of references:

* **same chunks** isolate our implementation: they score the very child chunks stored for the
  tenant (BM25 reads each child's stored lexemes, title weighting and section included; dense embeds
  the text our indexer embeds for each child), so "ours / reference" should be ~1.0 and any gap is ours
  (statistics kept in step, MaxScore, candidate cut, HNSW, the traced encoder, vector rounding);
* **whole documents** are the baselines a reader would compute without our chunking (title and
  content of each document, no title weight, no truncation to children).

Every reference yields hits and goes through the mapping of our evaluation: hits become parents
(a parent ranks where its best child ranks), parents become documents (first occurrence wins) until
``DEPTH`` documents. A whole document is its own parent.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from django.db import connection
from django.db.models import Q

from knowledge import conf
from knowledge.bm25 import Hit, query_lexemes, ranked_hits
from knowledge.evaluation import DEPTH
from knowledge.indexing import embedding_text, repeats_title
from knowledge.languages import LEXEME_INVISIBLES, LEXEME_SPACES, searchable_sql, searchable_text
from knowledge.models import Chunk, ChunkLevel, Document
from knowledge.providers.local import load_model
from knowledge.retrieval import lift_to_parents
from knowledge.sections import SectionIndex, markdown_headings
from knowledge.staleness import indexed_with_headings
from supportai.models import Tenant

# Query id -> document external ids, best first (the run ``evaluation.compute_metrics`` takes).
Run = dict[str, list[str]]

BM25_SAME_CHUNKS = "bm25_reference_same_chunks"
DENSE_SAME_CHUNKS = "dense_direct_same_chunks"
BM25_WHOLE_DOCUMENTS = "bm25_reference_whole_docs"
DENSE_WHOLE_DOCUMENTS = "dense_direct_whole_docs"


@dataclass(frozen=True)
class Unit:
    """What a reference scores: a child chunk, or a whole document (its own parent)."""

    chunk_id: int
    parent_id: int | None
    document_id: int


class Searcher(Protocol):
    def search(self, query: str) -> list[Hit]: ...


class Encoder(Protocol):
    """The part of ``SentenceTransformer`` the dense references use."""

    def encode(self, sentences: list[str], *, normalize_embeddings: bool, show_progress_bar: bool) -> Any: ...


def child_lexemes(*, tenant: Tenant) -> dict[Unit, Counter[str]]:
    """Each child chunk of ``tenant`` with the lexemes stored in its ``search_vector`` (title
    repeated ``title_weight`` times, its section's headings, then the text) and their tf. A child
    without lexemes is kept: it still counts in N."""
    bags: dict[Unit, Counter[str]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.id, c.parent_id, c.document_id, u.lexeme, array_length(u.positions, 1) "
            "FROM knowledge_chunk c LEFT JOIN LATERAL unnest(c.search_vector) u ON true "
            "WHERE c.tenant_id = %s AND c.level = %s",
            [tenant.pk, ChunkLevel.CHILD.value],
        )
        for chunk_id, parent_id, document_id, lexeme, tf in cursor.fetchall():
            bag = bags.setdefault(Unit(chunk_id, parent_id, document_id), Counter())
            if lexeme is not None:
                bag[lexeme] += tf
    return bags


def _title_alone(*, tenant: Tenant) -> list[int]:
    """The ids of ``tenant``'s documents whose content is their title (``indexing.repeats_title``)."""
    rows = Document.objects.for_tenant(tenant).values_list("pk", "title", "content")
    return [pk for pk, title, content in rows if repeats_title(title, content)]


def document_lexemes(*, tenant: Tenant) -> dict[Unit, Counter[str]]:
    """Each document of ``tenant`` with the lexemes of its title and content (no title weight; its
    content alone when that is its title, as BEIR reads a record without text), in its own text-search
    configuration, invisible characters and ligatures read as the index reads them."""
    bags: dict[Unit, Counter[str]] = {}
    whole = "CASE WHEN d.id = ANY(%s::bigint[]) THEN '' ELSE d.title || ' ' END || d.content"
    searchable = searchable_sql(whole, invisible="%s", spaces="%s")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT d.id, u.lexeme, array_length(u.positions, 1) FROM knowledge_document d "
            f"LEFT JOIN LATERAL unnest(to_tsvector(d.search_config::regconfig, {searchable})) u ON true "
            "WHERE d.tenant_id = %s",
            [_title_alone(tenant=tenant), LEXEME_INVISIBLES, LEXEME_SPACES, tenant.pk],
        )
        for document_id, lexeme, tf in cursor.fetchall():
            bag = bags.setdefault(Unit(document_id, None, document_id), Counter())
            if lexeme is not None:
                bag[lexeme] += tf
    return bags


def child_texts(*, tenant: Tenant) -> dict[Unit, str]:
    """Each child chunk of ``tenant`` with the text our indexer embeds for it (title, section, text);
    not those of encoded data, which it stores without a vector in a document it embedded."""
    documents = Document.objects.for_tenant(tenant).values_list("pk", "title", "content", "file_name", "index_settings")
    sections = {
        pk: SectionIndex(
            markdown_headings(content) if indexed_with_headings(index_settings=record, file_name=name) else [],
            title=title,
        )
        for pk, title, content, name, record in documents
    }
    rows = (
        Chunk.objects.for_tenant(tenant)
        .filter(level=ChunkLevel.CHILD)
        .filter(Q(embedding__isnull=False) | Q(document__embedding_model=""))
        .order_by("pk")
        .values_list("pk", "parent_id", "document_id", "document__title", "text", "char_start")
    )
    return {
        Unit(pk, parent, document): embedding_text(title, text, sections[document].above(start))
        for pk, parent, document, title, text, start in rows
    }


def document_texts(*, tenant: Tenant) -> dict[Unit, str]:
    """Each document of ``tenant`` as one text: title and content, or its content alone when that is
    its title (``indexing.repeats_title``), as BEIR reads a record without text."""
    rows = Document.objects.for_tenant(tenant).order_by("pk").values_list("pk", "title", "content")
    return {
        Unit(pk, None, pk): content if repeats_title(title, content) else f"{title} {content}"
        for pk, title, content in rows
    }


class OkapiBM25:
    """Textbook Okapi BM25 over bags of lexemes, with the idf of ``knowledge.bm25``::

        idf(t) = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))
        score  = sum over unique query lexemes t of
                 idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * |d| / avgdl))

    N, df, |d| (sum of tf) and avgdl come from the bags themselves, not from our statistics tables;
    a query's lexemes are the ones our keyword search looks up for ``tenant`` (``bm25.query_lexemes``:
    under each text-search configuration of its chunks, less the words ``simple`` keeps that a
    stemmed configuration beside it drops as stop words), so both score the same terms.
    """

    def __init__(self, bags: Mapping[Unit, Counter[str]], *, k1: float, b: float, tenant: Tenant) -> None:
        self.bags = bags
        self.tenant = tenant
        self.k1 = k1
        self.b = b
        self.lengths = {unit: sum(bag.values()) for unit, bag in bags.items()}
        self.avgdl = max(sum(self.lengths.values()) / max(len(bags), 1), 1e-9)
        self.df: Counter[str] = Counter(term for bag in bags.values() for term in bag)

    def idf(self, term: str) -> float:
        n, df = len(self.bags), self.df[term]
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def scores(self, terms: Sequence[str]) -> dict[Unit, float]:
        """Score of every bag holding at least one of ``terms`` (ORed)."""
        idf = {term: self.idf(term) for term in set(terms)}
        scores: dict[Unit, float] = {}
        for unit, bag in self.bags.items():
            norm = self.k1 * (1 - self.b + self.b * self.lengths[unit] / self.avgdl)
            score = sum(idf[t] * bag[t] * (self.k1 + 1) / (bag[t] + norm) for t in idf if bag[t])
            if score:
                scores[unit] = score
        return scores

    def search(self, query: str) -> list[Hit]:
        """Every matching unit, best first; the query's lexemes as PostgreSQL derives them from what
        keyword search reads (``searchable_text``)."""
        return _hits(self.scores(query_lexemes(tenant=self.tenant, query=searchable_text(query))))


class DirectCosine:
    """Exact (brute-force) cosine between the query and every unit, with the model used directly."""

    def __init__(self, texts: Mapping[Unit, str], *, encoder: Encoder) -> None:
        self.encoder = encoder
        self.units = list(texts)
        self.vectors = self._encode(list(texts.values())) if texts else np.empty((0, 0))

    def _encode(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.encoder.encode(texts, normalize_embeddings=True, show_progress_bar=False))

    def search(self, query: str) -> list[Hit]:
        """Every unit, most similar first; the query embedded alone, as our retrieval does."""
        if not self.units:
            return []
        similarities = self.vectors @ self._encode([query])[0]
        return _hits(dict(zip(self.units, similarities.tolist(), strict=True)))


def _hits(scores: Mapping[Unit, float]) -> list[Hit]:
    # Rounded and tie-broken (oldest chunk first) exactly as our retrievers' hits are; the references
    # check rankings and scores, not BM25's matched idf mass (0, as dense hits carry).
    rows = [(unit.chunk_id, unit.parent_id, unit.document_id, score, 0.0) for unit, score in scores.items()]
    return ranked_hits(rows)


def document_run(hits: Sequence[Hit], external_ids: Mapping[int, str], *, depth: int = DEPTH) -> list[str]:
    """Documents of ``hits`` (best first) the way our evaluation ranks them: a parent where its best
    child ranks, then the parents' documents, first occurrence wins, until ``depth`` documents."""
    parents = lift_to_parents(hits)
    documents: dict[str, None] = {}
    for parent, _ in parents.scored:
        documents.setdefault(external_ids[parents.documents[parent]])
        if len(documents) == depth:
            break
    return list(documents)


def reference_run(searcher: Searcher, *, queries: Mapping[str, str], external_ids: Mapping[int, str]) -> Run:
    return {query_id: document_run(searcher.search(text), external_ids) for query_id, text in queries.items()}


def reference_runs(*, tenant: Tenant, queries: Mapping[str, str], encoder: Encoder | None = None) -> dict[str, Run]:
    """The four reference runs over ``tenant``'s indexed corpus (k1 and b from the settings; the
    local model unless ``encoder`` is given)."""
    settings = conf.SETTINGS
    encoder = encoder or load_model()
    external_ids = dict(Document.objects.for_tenant(tenant).values_list("pk", "external_id"))
    k1, b = settings.bm25_k1, settings.bm25_b
    searchers: dict[str, Searcher] = {
        BM25_SAME_CHUNKS: OkapiBM25(child_lexemes(tenant=tenant), k1=k1, b=b, tenant=tenant),
        DENSE_SAME_CHUNKS: DirectCosine(child_texts(tenant=tenant), encoder=encoder),
        BM25_WHOLE_DOCUMENTS: OkapiBM25(document_lexemes(tenant=tenant), k1=k1, b=b, tenant=tenant),
        DENSE_WHOLE_DOCUMENTS: DirectCosine(document_texts(tenant=tenant), encoder=encoder),
    }
    return {name: reference_run(s, queries=queries, external_ids=external_ids) for name, s in searchers.items()}
