from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence

import numpy as np
import pytest

from knowledge import conf
from knowledge.bm25 import Hit, bm25_search
from knowledge.evaluation import DEPTH, documents_to_depth, external_ids_of
from knowledge.models import Chunk, ChunkLevel, Document
from knowledge.providers.fake import FakeEmbeddingProvider
from knowledge.references import (
    BM25_SAME_CHUNKS,
    DENSE_SAME_CHUNKS,
    DirectCosine,
    OkapiBM25,
    child_lexemes,
    child_texts,
    document_lexemes,
    document_run,
    document_texts,
    reference_run,
    reference_runs,
)
from knowledge.retrieval import lift_to_parents, rank_parents
from knowledge.tests.factories import add_document
from knowledge.types import RetrievalMode
from supportai.models import Tenant

# Three one-child documents whose lexemes are easy to count by hand (title x3, then the text).
HAND_DOCS = [
    ("d1", "Parking", "Parking is free behind the studio."),
    ("d2", "Refunds", "Refunds take five working days."),
    ("d3", "Gift cards", "Gift cards never expire and include parking."),
]
LONG_ANSWER = (
    "Massage bookings open two weeks ahead. A deep tissue massage lasts sixty minutes and a hot stone "
    "massage ninety. Cancel a massage at least a day before, or half the price is charged. Couples can "
    "book side by side in the large room. Bring loose clothing; towels and oils are provided. Parking "
    "behind the studio is free for massage guests. Gift cards cover every massage on the menu. Refunds "
    "for unused massage packages take five working days. Late arrivals shorten the massage, not the price."
)
AGREEMENT_DOCS = [
    *HAND_DOCS,
    ("d4", "Yoga classes", "Yoga classes run every morning. Bring your own mat or borrow one at the desk."),
    ("d5", "Massage menu", LONG_ANSWER),
    ("d6", "Cancellation policy", "Cancel at least 24 hours before your massage. Late cancellation costs half."),
]
QUERIES = {
    "q1": "parking refund",
    "q2": "massage cancellation fee",
    "q3": "gift cards for a hot stone massage",
    "q4": "yoga mat",
    "q5": "how long do refunds take",
}


@pytest.fixture(autouse=True)
def small_chunks(fake_embeddings: FakeEmbeddingProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pinned BM25 knobs (the hand computation uses them) and small chunks, so a long answer has
    several parents and children."""
    settings = dataclasses.replace(
        conf.SETTINGS,
        title_weight=3,
        bm25_k1=1.2,
        bm25_b=0.75,
        parent_tokens=64,
        parent_overlap=8,
        child_tokens=32,
        child_overlap=4,
    )
    monkeypatch.setattr(conf, "SETTINGS", settings)


class FakeEncoder:
    """The fake embedder behind ``SentenceTransformer.encode``'s signature (its vectors are unit length)."""

    def __init__(self, provider: FakeEmbeddingProvider) -> None:
        self.provider = provider

    def encode(self, sentences: list[str], *, normalize_embeddings: bool, show_progress_bar: bool) -> np.ndarray:
        return np.asarray(self.provider.embed_documents(sentences))


def _ingest(tenant: Tenant, docs: Sequence[tuple[str, str, str]]) -> dict[int, str]:
    for external_id, title, text in docs:
        add_document(tenant, title, text, external_id=external_id)
    return dict(Document.objects.for_tenant(tenant).values_list("pk", "external_id"))


def _our_run(tenant: Tenant, query: str, mode: RetrievalMode, provider: FakeEmbeddingProvider) -> list[str]:
    """Our retrieval's documents for ``query``, mapped as ``evaluation.run_modes`` maps them."""
    search = functools.partial(rank_parents, tenant=tenant, query=query, mode=mode, provider=provider)
    return documents_to_depth(search(depth=DEPTH).parents, external_ids=external_ids_of(tenant), search=search)


OTHER_TENANT_DOCS = [(f"other-{n}", "Parking refund", "Parking refund parking refund. " * 3) for n in range(4)]


@pytest.mark.parametrize("other_tenant_has_documents", [False, True])
def test_bm25_reference_scores_and_ranks_as_computed_by_hand(tenant, other_tenant, other_tenant_has_documents):
    # given: when the other tenant has documents, they must not change N, avgdl or df
    if other_tenant_has_documents:
        _ingest(other_tenant, OTHER_TENANT_DOCS)
    external_ids = _ingest(tenant, HAND_DOCS)
    # when
    index = OkapiBM25(child_lexemes(tenant=tenant), k1=1.2, b=0.75, tenant=tenant)
    scores = {external_ids[unit.document_id]: score for unit, score in index.scores(["park", "refund"]).items()}
    run = reference_run(index, queries={"q": "parking refund"}, external_ids=external_ids)
    # then: the stored lexemes, title counted three times ...
    bags = {external_ids[unit.document_id]: dict(bag) for unit, bag in index.bags.items()}
    assert bags == {
        "d1": {"park": 4, "free": 1, "behind": 1, "studio": 1},
        "d2": {"refund": 4, "take": 1, "five": 1, "work": 1, "day": 1},
        "d3": {"gift": 4, "card": 4, "never": 1, "expir": 1, "includ": 1, "park": 1},
    }
    # ... N = 3, avgdl = (7 + 8 + 12) / 3 = 9, df(park) = 2, df(refund) = 1
    idf_park, idf_refund = math.log(1 + 1.5 / 2.5), math.log(1 + 2.5 / 1.5)
    assert scores == pytest.approx(
        {
            "d1": idf_park * 4 * 2.2 / (4 + 1.2 * (0.25 + 0.75 * 7 / 9)),  # 0.827
            "d2": idf_refund * 4 * 2.2 / (4 + 1.2 * (0.25 + 0.75 * 8 / 9)),  # 1.692
            "d3": idf_park * 1 * 2.2 / (1 + 1.2 * (0.25 + 0.75 * 12 / 9)),  # 0.414
        },
        rel=1e-9,
    )
    assert run == {"q": ["d2", "d1", "d3"]}


def test_bm25_reference_agrees_with_our_sql_bm25(tenant, fake_embeddings):
    # given: short answers and one long answer split into several parents and children
    external_ids = _ingest(tenant, AGREEMENT_DOCS)
    long_answer = Document.objects.get(tenant=tenant, external_id="d5")
    assert Chunk.objects.filter(document=long_answer, level=ChunkLevel.PARENT).count() > 1
    index = OkapiBM25(child_lexemes(tenant=tenant), k1=1.2, b=0.75, tenant=tenant)
    for query in QUERIES.values():
        # when
        parents = rank_parents(tenant=tenant, query=query, mode="bm25", depth=DEPTH, provider=fake_embeddings).parents
        reference = lift_to_parents(index.search(query))
        # then: same parents in the same order with the same scores, hence the same documents
        assert [p.parent_id for p in parents] == [parent for parent, _ in reference.scored], query
        assert [p.score for p in parents] == pytest.approx([score for _, score in reference.scored], rel=1e-9)
        assert document_run(index.search(query), external_ids) == _our_run(tenant, query, "bm25", fake_embeddings)


def test_bm25_references_read_invisible_characters_and_ligatures_as_our_index_does(tenant, fake_embeddings):
    # given a soft hyphen inside "valet", a right-to-left mark after "parking" in text and query, and a
    # ligature in "refills"
    external_ids = _ingest(
        tenant, [("d1", "Valet", "Our val\u00adet parks\u200f cars and re\ufb01lls."), ("d2", "Hours", "Open daily.")]
    )
    query = "valet parking\u200f refill"
    # when both references search as our SQL BM25 does
    by_chunk = OkapiBM25(child_lexemes(tenant=tenant), k1=1.2, b=0.75, tenant=tenant)
    by_document = OkapiBM25(document_lexemes(tenant=tenant), k1=1.2, b=0.75, tenant=tenant)
    # then they find the same document, on the same words
    ours = _our_run(tenant, query, "bm25", fake_embeddings)
    assert ours == ["d1"]
    assert document_run(by_chunk.search(query), external_ids) == ours
    assert document_run(by_document.search(query), external_ids) == ours
    valet_bag = next(bag for unit, bag in by_document.bags.items() if external_ids[unit.document_id] == "d1")
    assert {"valet", "park", "refil"} <= set(valet_bag)


def test_bm25_reference_leaves_out_the_stop_words_our_search_leaves_out(tenant, other_tenant, fake_embeddings):
    # given English articles and a Japanese (unstemmed) page quoting English questions, here and alone
    contact = ("お問い合わせ", "お問い合わせはこちら。 How do I ask a question? Do write to us.")
    add_document(tenant, "Refunds", "To get a refund, reply to your receipt; refunds reach the card in five days.")
    add_document(tenant, "Parking", "Parking is free behind the studio.")
    add_document(tenant, *contact, language="ja")
    add_document(other_tenant, *contact, language="ja")
    query = "how do I get a refund"
    for searched in (tenant, other_tenant):
        reference = OkapiBM25(child_lexemes(tenant=searched), k1=1.2, b=0.75, tenant=searched)
        # when both search
        ours = {hit.chunk_id: hit.score for hit in bm25_search(tenant=searched, query=query, limit=10)}
        theirs = {hit.chunk_id: hit.score for hit in reference.search(query)}
        # then they score the same chunks the same: beside English, "how", "do", "I" and "a" are not
        # searched for on the Japanese page; alone, it is found on them
        found = Chunk.objects.filter(pk__in=theirs).values_list("document__title", flat=True)
        assert sorted(found) == (["Refunds"] if searched == tenant else [contact[0]])
        assert theirs == pytest.approx(ours, rel=1e-9)


def test_dense_reference_agrees_with_our_dense_search(tenant, fake_embeddings):
    # given
    external_ids = _ingest(tenant, AGREEMENT_DOCS)
    # when
    direct = DirectCosine(child_texts(tenant=tenant), encoder=FakeEncoder(fake_embeddings))
    run = reference_run(direct, queries=QUERIES, external_ids=external_ids)
    # then
    assert run == {qid: _our_run(tenant, query, "dense", fake_embeddings) for qid, query in QUERIES.items()}
    assert len(run["q1"]) == len(AGREEMENT_DOCS)


def test_document_run_keeps_each_documents_first_occurrence():
    # given: best first; parent 1 (document 100) has two children, parent 3 is document 100 again
    hits = [
        Hit(chunk_id=11, parent_id=1, document_id=100, score=3.0),
        Hit(chunk_id=21, parent_id=2, document_id=200, score=2.5),
        Hit(chunk_id=12, parent_id=1, document_id=100, score=2.0),
        Hit(chunk_id=31, parent_id=3, document_id=100, score=1.5),
        Hit(chunk_id=41, parent_id=4, document_id=300, score=1.0),
    ]
    external_ids = {100: "A", 200: "B", 300: "C"}
    # when / then: the depth counts documents, as in our evaluation (3 parents name only A and B)
    assert document_run(hits, external_ids) == ["A", "B", "C"]
    assert document_run(hits, external_ids, depth=3) == ["A", "B", "C"]
    assert document_run(hits, external_ids, depth=2) == ["A", "B"]
    assert document_run(hits[1:], external_ids) == ["B", "A", "C"]


def test_references_never_see_another_tenants_chunks(tenant, other_tenant, fake_embeddings):
    # given: the other tenant's documents match every query better than ours
    external_ids = _ingest(tenant, HAND_DOCS)
    _ingest(other_tenant, OTHER_TENANT_DOCS)
    # when
    runs = reference_runs(tenant=tenant, queries=QUERIES, encoder=FakeEncoder(fake_embeddings))
    # then
    ours = set(external_ids.values())
    assert set(runs) == {BM25_SAME_CHUNKS, DENSE_SAME_CHUNKS, "bm25_reference_whole_docs", "dense_direct_whole_docs"}
    for name, run in runs.items():
        assert all(set(documents) <= ours for documents in run.values()), name
    assert runs[BM25_SAME_CHUNKS]["q1"] == ["d2", "d1", "d3"]
    assert {unit.document_id for unit in child_lexemes(tenant=tenant)} == set(external_ids)
    assert {unit.document_id for unit in child_texts(tenant=tenant)} == set(external_ids)


def test_whole_document_references_read_a_record_of_its_title_alone_once(tenant, other_tenant):
    # given a record whose text is its title (a BEIR record without text is stored so) and one with a text
    external_ids = _ingest(tenant, [("only", "Refund policy", "Refund policy"), ("both", "Refund policy", "Ask us.")])
    add_document(other_tenant, "Refund policy", "Refund policy")
    # when the whole-document references read them, as BEIR's title + " " + text
    texts = {external_ids[unit.document_id]: text for unit, text in document_texts(tenant=tenant).items()}
    bags = {external_ids[unit.document_id]: bag for unit, bag in document_lexemes(tenant=tenant).items()}
    # then the record of its title alone holds the title once, the other its title and text
    assert texts == {"only": "Refund policy", "both": "Refund policy Ask us."}
    assert (bags["only"]["refund"], bags["both"]["refund"]) == (1, 1)
    # and nothing of the other tenant's copy
    assert len(bags) == len(texts) == 2
