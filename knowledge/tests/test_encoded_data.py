"""Encoded data in a document (an image inlined as base64) is stored and searched by keywords, but not
embedded: the model reads it as [UNK] or noise (knowledge/chunking.py ``opaque_runs``)."""

from __future__ import annotations

import base64
import random

import pytest

from knowledge.indexing import document_index
from knowledge.models import Chunk, ChunkLevel
from knowledge.parsed import ParsedDocument
from knowledge.selectors import retrieve
from knowledge.services import document_upsert, source_get_or_create
from knowledge.staleness import INDEX_RULES_VERSION
from knowledge.tests.embedders import RecordingEmbedder
from knowledge.tests.factories import add_document
from supportai.models import Tenant

pytestmark = pytest.mark.django_db

BLOB = base64.b64encode(random.Random(0).randbytes(3750)).decode()  # 5,000 characters
ARTICLE = f"Parking is free behind the studio.\n\n![map](data:image/png;base64,{BLOB})\n\nAsk at the desk for a permit."


def test_encoded_data_is_stored_and_keyword_searched_but_never_embedded(tenant: Tenant, other_tenant: Tenant) -> None:
    # given an article with an inlined image, and another tenant's copy of it
    theirs = add_document(other_tenant, "Parking map", ARTICLE)
    source = source_get_or_create(tenant=tenant, name="uploads")
    document, _ = document_upsert(
        tenant=tenant, source=source, parsed=ParsedDocument("map", "Parking map", ARTICLE), model="fake-hash-384"
    )
    embedder = RecordingEmbedder()
    # when it is indexed
    document_index(tenant=tenant, document=document, provider=embedder)
    # then the model read its words and none of the data
    assert embedder.seen and not any(BLOB[:40] in text or BLOB[-40:] in text for text in embedder.seen)
    children = Chunk.objects.filter(tenant=tenant, document=document, level=ChunkLevel.CHILD).order_by("ordinal")
    encoded = [child for child in children if BLOB[1000:1040] in child.text or child.text in BLOB]
    assert "".join(child.text for child in encoded) == BLOB
    # and its children hold no vector nor input hash (nothing to reuse), the others both
    assert all(child.embedding is None and child.embedded_text_sha256 == "" for child in encoded)
    assert all(child.embedding is not None and child.embedded_text_sha256 for child in children if child not in encoded)
    document.refresh_from_db()
    assert document.index_settings["rules"] == INDEX_RULES_VERSION >= 4
    # and search finds the article by its words, dense search never through the data's children
    encoded_ids = {child.pk for child in encoded}
    for mode in ("bm25", "dense", "hybrid"):
        passages = retrieve(tenant=tenant, query="where can I park for free", k=5, mode=mode)
        assert passages and passages[0].document_id == document.pk
        assert {passage.document_id for passage in passages} == {document.pk}  # never the other tenant's
        if mode == "dense":
            assert not any(encoded_ids & set(passage.matched_chunk_ids) for passage in passages)
    # and the other tenant's copy was indexed alike, for it alone
    assert Chunk.objects.filter(
        tenant=other_tenant, document=theirs, level=ChunkLevel.CHILD, embedding__isnull=True
    ).count() == len(encoded)
