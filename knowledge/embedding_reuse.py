"""Embed only what the model has not read before: identical inputs reuse their stored vector.

Re-indexing a document whose one paragraph changed re-chunks all of it, but most of its children
come out with exactly the text the model embedded last time; a website sync meets the same
footer or notice on every page; help centres repeat answers. Each child row keeps the SHA-256 of
the exact text the model read (title + child text, ``Chunk.embedded_text_sha256``), so before a
batch is embedded its inputs are looked up among the tenant's children embedded by the same model,
and only unseen inputs, each once, go to the provider. The vector is the one that input produced,
so reuse changes no ranking; only another tenant's chunks are never looked at.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection

from knowledge.dense import vector_literal
from knowledge.providers.base import (
    EmbeddingProvider,
    ProviderError,
    ProviderErrorKind,
    sizes_check,
    values_check,
)
from supportai.models import Tenant

STORED_VECTORS_SQL = """
SELECT DISTINCT ON (embedded_text_sha256) embedded_text_sha256, embedding::text
  FROM knowledge_chunk
 WHERE tenant_id = %(tenant)s AND level = 'child' AND embedded_text_sha256 = ANY(%(hashes)s)
   AND embedding_model = %(model)s AND embedding IS NOT NULL
"""


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Embedded:
    """Vectors (pgvector literals, None when none was computed) and input hashes in the order of the
    texts given."""

    vectors: list[str | None]
    hashes: list[str]
    computed: int  # distinct inputs the provider embedded
    reused: int  # texts whose vector came from a stored child


def stored_vectors(*, tenant: Tenant, model: str, hashes: Sequence[str]) -> dict[str, str]:
    """Vector literals of ``tenant``'s children embedded by ``model`` from inputs with these hashes."""
    if not hashes:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(STORED_VECTORS_SQL, {"tenant": tenant.pk, "model": model, "hashes": list(set(hashes))})
        return dict(cursor.fetchall())


def embed_passages(
    *, tenant: Tenant, provider: EmbeddingProvider, texts: Sequence[str], reuse: bool = True
) -> Embedded:
    """Vectors for ``texts``: stored ones of the same model and tenant when ``reuse``, the provider's
    for the rest (each distinct text once). A provider that returns fewer vectors, or vectors of
    another size than it declares, or vectors cosine cannot compare (``values_check``), raises
    ``ProviderError`` (not retryable)."""
    hashes = [text_sha256(text) for text in texts]
    known = stored_vectors(tenant=tenant, model=provider.model, hashes=hashes) if reuse else {}
    missing = {digest: text for digest, text in zip(hashes, texts, strict=True) if digest not in known}
    vectors = provider.embed_documents(list(missing.values())) if missing else []
    if len(vectors) != len(missing):
        raise ProviderError(
            f"{provider.name} returned {len(vectors)} vectors for {len(missing)} texts",
            kind=ProviderErrorKind.MALFORMED,
        )
    sizes_check(provider, vectors)
    values_check(provider, vectors)
    known.update((digest, vector_literal(vector)) for digest, vector in zip(missing, vectors, strict=True))
    reused = sum(1 for digest in hashes if digest not in missing)
    return Embedded([known[digest] for digest in hashes], hashes, computed=len(missing), reused=reused)


def spread(embedded: Embedded, *, positions: Sequence[int], count: int) -> Embedded:
    """``embedded`` (the vectors of some of ``count`` texts) placed at its texts' ``positions``; the
    other texts, which were not to be embedded (encoded data), get no vector and an empty hash."""
    vectors: list[str | None] = [None] * count
    hashes = [""] * count
    for position, vector, digest in zip(positions, embedded.vectors, embedded.hashes, strict=True):
        vectors[position], hashes[position] = vector, digest
    return Embedded(vectors, hashes, computed=embedded.computed, reused=embedded.reused)


def no_vectors(count: int) -> Embedded:
    """``count`` children stored for keyword search alone: no vector (dense search leaves them out)
    and an empty input hash, which no later batch reuses."""
    return Embedded([None] * count, [""] * count, computed=0, reused=0)
