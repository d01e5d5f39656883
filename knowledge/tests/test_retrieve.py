from __future__ import annotations

import dataclasses
import math
import threading

import pytest

from knowledge import conf, retrieval
from knowledge.fusion import (
    DENSE_MARGIN_SCALE,
    KNOWN_SHARE_POWER,
    SURPRISE_SPAN,
    SURPRISE_START,
    TIE_BOOST,
    WEIGHTS,
    QueryType,
    query_weights,
)
from knowledge.indexing import document_index
from knowledge.models import Chunk, ChunkLevel, Document
from knowledge.providers.base import ProviderError, ProviderErrorKind, RerankResult
from knowledge.providers.fake import FakeEmbeddingProvider
from knowledge.providers.openai_embeddings import OpenAIEmbeddingProvider
from knowledge.retrieval import RERANK_CANDIDATES
from knowledge.selectors import MAX_K, document_get, document_list, retrieve, source_list
from knowledge.services import document_delete
from knowledge.tests.factories import add_document
from knowledge.types import Passage

ARTICLES = [
    ("Cancellation policy", "Cancel at least 24 hours before your appointment to avoid a late cancellation fee."),
    ("Gift cards", "Gift cards can be bought online or at the front desk and never expire."),
    ("Parking", "Free parking is available behind the studio. Street parking is metered."),
    ("Payment errors", "Error code JS-PAY-402 means your card was declined by the bank."),
    ("Yoga classes", "Yoga classes run every morning; bring your own mat."),
]


@pytest.fixture
def studio(tenant):
    for title, text in ARTICLES:
        add_document(tenant, title, text, url=f"https://help.example/{title.lower().replace(' ', '-')}")
    return tenant


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_retrieve_returns_passages_of_the_contract(studio, mode):
    passages = retrieve(tenant=studio, query="where can I park my car, is parking free", k=3, mode=mode)
    assert passages and all(isinstance(p, Passage) for p in passages)
    top = passages[0]
    assert top.title == "Parking" and top.url == "https://help.example/parking"
    assert [p.index for p in passages] == list(range(1, len(passages) + 1))
    parent = Chunk.objects.get(pk=top.chunk_id)
    assert parent.level == ChunkLevel.PARENT and parent.document_id == top.document_id and top.text == parent.text
    assert all(Chunk.objects.get(pk=c).parent_id == top.chunk_id for c in top.matched_chunk_ids)
    assert top.ranks[mode if mode != "hybrid" else "bm25"] == 1


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_retrieve_never_returns_another_tenants_passages(studio, other_tenant, mode):
    add_document(other_tenant, "Secret parking", "Parking for staff of the other spa only.")
    theirs = retrieve(tenant=other_tenant, query="gift cards parking", k=5, mode=mode)
    assert [p.title for p in theirs] == ["Secret parking"]
    ours = retrieve(tenant=studio, query="parking", k=10, mode=mode)
    assert ours and all(p.title != "Secret parking" for p in ours)


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_retrieve_never_returns_another_tenants_passages_when_it_holds_more_than_the_candidates(
    studio, other_tenant, mode
):
    # given: the studio holds more matching child chunks than a search takes candidates (so dense
    # search is answered by its nearest rows, not by the exact search for a short answer), and
    # another tenant holds a passage that matches the query better than most of them
    rooms = "\n\n".join(
        f"Treatment room {n} has a heated table, fresh towels and parking close by." for n in range(300)
    )
    add_document(studio, "Treatment rooms", rooms)
    assert Chunk.objects.filter(tenant=studio, level=ChunkLevel.CHILD).count() > retrieval.MIN_CANDIDATES
    add_document(other_tenant, "Secret parking", "Parking for staff of the other spa only.")
    # when
    ours = retrieve(tenant=studio, query="parking", k=5, mode=mode)
    # then: k of the studio's own passages (another tenant's, found by a search, would be dropped
    # when the passages are read, leaving fewer than k)
    assert len(ours) == 5
    assert {Chunk.objects.get(pk=p.chunk_id).tenant_id for p in ours} == {studio.pk}
    assert all(p.title != "Secret parking" for p in ours)


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_search_candidates_hold_only_the_tenants_documents(studio, other_tenant, mode):
    # given: the studio holds more matching child chunks than the search takes candidates (so the
    # SQL's LIMIT, not the tenant's size, ends the lists), and another tenant holds passages that
    # match the query better than any of them
    rooms = "\n\n".join(
        f"Treatment room {n} has a heated table, fresh towels and parking close by." for n in range(300)
    )
    add_document(studio, "Treatment rooms", rooms)
    assert Chunk.objects.filter(tenant=studio, level=ChunkLevel.CHILD).count() > retrieval.MIN_CANDIDATES
    for n in range(3):
        add_document(other_tenant, f"Secret parking {n}", "Parking. Parking for staff only, parking.")
    # when: the retrievers' own lists, before any passage is read back through the tenant's chunks
    found = retrieval.search_candidates(
        tenant=studio, query="parking", mode=mode, depth=2, provider=FakeEmbeddingProvider()
    )
    # then: every list is full and every parent in it is of one of the studio's documents
    assert set(found.lists) == ({"bm25", "dense"} if mode == "hybrid" else {mode})
    for parents in found.lists.values():
        assert len(parents.scored) >= 2
        documents = set(parents.documents.values())
        assert set(Document.objects.filter(pk__in=documents).values_list("tenant_id", flat=True)) == {studio.pk}


def test_hybrid_ranks_carry_each_retriever(studio):
    [top, *_] = retrieve(tenant=studio, query="gift cards never expire", k=3)
    assert set(top.ranks) == {"bm25", "dense"} and top.ranks["bm25"] == 1


def test_exact_identifier_is_found_by_keyword_even_when_dense_disagrees(studio, monkeypatch):
    # given: a dense side that ranks the identifier's article last
    from knowledge import retrieval

    real = retrieval.dense_search

    def hostile_dense(**kwargs):
        hits = real(**kwargs)
        return sorted(hits, key=lambda hit: Chunk.objects.get(pk=hit.chunk_id).document.title == "Payment errors")

    monkeypatch.setattr(retrieval, "dense_search", hostile_dense)
    # when
    [top, *_] = retrieve(tenant=studio, query="what is JS-PAY-402", k=3)
    # then
    assert top.title == "Payment errors"
    assert top.ranks["bm25"] == 1 and top.ranks["dense"] != 1


def test_small_to_big_deduplicates_parents(tenant):
    long_text = "\n\n".join(f"Massage tip {n}: relax your shoulders and breathe slowly." for n in range(12))
    add_document(tenant, "Massage tips", long_text)
    passages = retrieve(tenant=tenant, query="massage shoulders breathe", k=5, mode="bm25")
    assert len({p.chunk_id for p in passages}) == len(passages)
    assert any(len(p.matched_chunk_ids) > 1 for p in passages)


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_k_passages_come_back_when_parents_hold_many_children(tenant, monkeypatch, mode):
    # given long parents of short children (KNOWLEDGE_PARENT_TOKENS=2000, KNOWLEDGE_CHILD_TOKENS=64,
    # both allowed): twelve matching parents of ~20 children each
    long_parents = dataclasses.replace(conf.SETTINGS, parent_tokens=2000, parent_overlap=0)
    monkeypatch.setattr(conf, "SETTINGS", dataclasses.replace(long_parents, child_tokens=64, child_overlap=20))
    for d in range(12):
        add_document(tenant, f"Guide {d}", " ".join(f"Rule {d}-{n}: park cars in bay {n}." for n in range(60)))
    assert Chunk.objects.filter(tenant=tenant, level=ChunkLevel.CHILD).count() >= 12 * 15
    # when ten passages are asked for
    passages = retrieve(tenant=tenant, query="park cars in bay", k=10, mode=mode)
    # then ten different parents come back (the candidate children used to run out at 3 or 6 parents)
    assert len({p.chunk_id for p in passages}) == 10


def test_retrieve_edge_inputs(studio):
    assert retrieve(tenant=studio, query="   ", k=5) == []
    assert retrieve(tenant=studio, query="parking", k=0) == []
    assert len(retrieve(tenant=studio, query="parking", k=MAX_K)) == len(ARTICLES)
    with pytest.raises(ValueError, match=f"k must be at most {MAX_K}"):
        retrieve(tenant=studio, query="parking", k=10**20)  # was an SQL error: bigint out of range
    with pytest.raises(ValueError, match="mode"):
        retrieve(tenant=studio, query="parking", mode="magic")  # type: ignore[arg-type]


@pytest.mark.parametrize("k", [2.5, 5.0, "5", True, None])
def test_retrieve_refuses_a_k_that_is_not_a_whole_number(studio, k):
    # was a slicing TypeError deep in ranking (2.5), a comparison error ("5"), or one passage (True)
    with pytest.raises(TypeError, match=f"k must be a whole number; got {k!r}"):
        retrieve(tenant=studio, query="parking", k=k)


@pytest.mark.parametrize(("query", "k"), [("", 5), ("   ", 5), ("parking", 0), ("parking", -1)])
def test_retrieve_refuses_an_unknown_mode_even_when_it_would_find_nothing(studio, query, k):
    with pytest.raises(ValueError, match="mode must be one of bm25, dense, hybrid; got 'magic'"):
        retrieve(tenant=studio, query=query, k=k, mode="magic")  # type: ignore[arg-type]


class ScriptedReranker:
    name = "scripted"

    def __init__(self, fail: bool = False):
        self.fail = fail

    def rerank(self, *, query, documents, top_n):
        if self.fail:
            raise ProviderError("timeout", retryable=True)
        order = sorted(range(len(documents)), key=lambda i: "Yoga" not in documents[i] and "mat" not in documents[i])
        return [RerankResult(index=i, score=1.0 - n / 10) for n, i in enumerate(order[:top_n])]


def test_reranker_reorders_and_failure_keeps_fused_order(studio):
    fused = retrieve(tenant=studio, query="parking behind the studio", k=3)
    reranked = retrieve(tenant=studio, query="parking behind the studio", k=3, reranker=ScriptedReranker())
    assert reranked[0].title == "Yoga classes" and reranked[0].ranks["rerank"] == 1
    degraded = retrieve(tenant=studio, query="parking behind the studio", k=3, reranker=ScriptedReranker(fail=True))
    assert [p.chunk_id for p in degraded] == [p.chunk_id for p in fused]


def test_reranking_skips_a_passage_deleted_while_the_query_ran(studio, monkeypatch):
    # given a document deleted (a re-index or a sync swapped its chunks) right after the search
    from knowledge import selectors

    parking = Document.objects.get(tenant=studio, title="Parking")
    search = selectors.rank_parents

    def search_then_delete(**kwargs):
        ranking = search(**kwargs)
        document_delete(tenant=studio, document=parking)
        return ranking

    monkeypatch.setattr(selectors, "rank_parents", search_then_delete)
    # when the reranker orders what was found
    passages = retrieve(tenant=studio, query="parking behind the studio", k=3, reranker=ScriptedReranker())
    # then the others are reranked as usual, without the deleted one
    assert passages[0].title == "Yoga classes" and passages[0].ranks["rerank"] == 1
    assert "Parking" not in {passage.title for passage in passages}


def test_the_passage_read_shows_only_the_tenants_own_text_whatever_the_ranking_names(studio, other_tenant, monkeypatch):
    # given a ranking that names another tenant's parent (as a bug or a race in the search could)
    from knowledge import selectors

    theirs = add_document(other_tenant, "Their parking", "Staff parking code 4411 of the other spa.")
    their_parent = Chunk.objects.get(document=theirs, level=ChunkLevel.PARENT)
    search = selectors.rank_parents

    def with_their_parent(**kwargs):
        ranking = search(**kwargs)
        foreign = retrieval.RankedParent(their_parent.pk, theirs.pk, 99.0, [], {"bm25": 1})
        return retrieval.Ranking([foreign, *ranking.parents], ranking.weighing)

    monkeypatch.setattr(selectors, "rank_parents", with_their_parent)
    # when, with and without a reranker
    plain = retrieve(tenant=studio, query="parking behind the studio", k=3)
    reranked = retrieve(tenant=studio, query="parking behind the studio", k=3, reranker=ScriptedReranker())
    # then their text is in neither, and the tenant's own passages are numbered from 1
    for passages in (plain, reranked):
        assert passages and all("4411" not in p.text and p.document_id != theirs.pk for p in passages)
        assert [p.index for p in passages] == list(range(1, len(passages) + 1))


def test_reranking_fewer_candidates_than_k_keeps_the_others_in_fused_order(tenant):
    # given: more matching articles than the reranker is shown, and k above that number
    for n in range(RERANK_CANDIDATES + 5):
        add_document(tenant, f"Parking zone {n}", f"Parking zone {n} is behind studio {n}.")
    k = RERANK_CANDIDATES + 5
    fused = retrieve(tenant=tenant, query="parking zone", k=k)
    # when
    reranked = retrieve(tenant=tenant, query="parking zone", k=k, reranker=ScriptedReranker())
    # then: k passages, the reranked candidates first, then the others in fused order
    assert len(fused) == len(reranked) == k
    assert [p.ranks.get("rerank") for p in reranked[:RERANK_CANDIDATES]] == list(range(1, RERANK_CANDIDATES + 1))
    assert [p.chunk_id for p in reranked[RERANK_CANDIDATES:]] == [p.chunk_id for p in fused[RERANK_CANDIDATES:]]


def test_a_reranker_that_names_a_candidate_twice_returns_it_once(studio):
    # given: a reranker answering with the same index twice
    class Repeating:
        name = "repeating"

        def rerank(self, *, query, documents, top_n):
            return [RerankResult(index=0, score=0.9), RerankResult(index=0, score=0.8), RerankResult(1, 0.7)]

    # when
    passages = retrieve(tenant=studio, query="parking behind the studio", k=3, reranker=Repeating())
    # then: three different passages, each ranked once
    assert len({p.chunk_id for p in passages}) == len(passages) == 3
    assert [p.ranks.get("rerank") for p in passages] == [1, 2, None]


def test_list_selectors_are_tenant_scoped(studio, other_tenant):
    add_document(other_tenant, "Theirs", "Other spa text.")
    assert {d.title for d in document_list(tenant=studio)} == {title for title, _ in ARTICLES}
    assert [s.name for s in source_list(tenant=other_tenant)] == ["test uploads"]
    theirs = document_list(tenant=other_tenant).get()
    from django.http import Http404

    with pytest.raises(Http404):
        document_get(tenant=studio, pk=theirs.pk)


def test_hybrid_retrieve_query_count_does_not_grow_with_results(studio, django_assert_max_num_queries):
    # Each step in a savepoint with its time limit, rolled back (knowledge.timeouts): savepoint,
    # settings, ..., rollback, release around bm25 + vocabulary share (6), the dense search (5) and
    # the passages (5).
    with django_assert_max_num_queries(16):
        passages = retrieve(tenant=studio, query="gift cards parking yoga cancellation", k=5)
    assert len(passages) == 5


@pytest.mark.django_db(transaction=True)
def test_hybrid_runs_bm25_on_its_own_connection_outside_transactions(tenant, other_tenant, monkeypatch):
    # given committed documents of two tenants, and a database the keyword worker may use
    for title, text in ARTICLES:
        add_document(tenant, title, text)
    add_document(other_tenant, "Parking", "Parking parking code JS-PAY-402 for the other tenant.")
    monkeypatch.setattr(retrieval, "_can_search_in_parallel", lambda: True)
    workers = []
    search = retrieval.bm25_search_traced

    def spy(**kwargs):
        workers.append(threading.current_thread().name)
        return search(**kwargs)

    monkeypatch.setattr(retrieval, "bm25_search_traced", spy)
    try:
        # when
        passages = retrieve(tenant=tenant, query="Error code JS-PAY-402", k=3)
    finally:
        retrieval.close_search_connection()
    # then the keyword search ran on the worker, the exact identifier still ranks first, nothing leaks
    assert workers and workers[0].startswith("bm25-search")
    assert passages[0].title == "Payment errors" and passages[0].ranks["bm25"] == 1
    ours = set(Document.objects.filter(tenant=tenant).values_list("pk", flat=True))
    assert passages and {p.document_id for p in passages} <= ours


def test_hybrid_weighs_keywords_by_the_known_words_and_by_how_close_dense_is(studio, fake_embeddings):
    def weighed(query):
        found = retrieval.rank_parents(tenant=studio, query=query, mode="hybrid", depth=3, provider=fake_embeddings)
        dense = retrieval.rank_parents(tenant=studio, query=query, mode="dense", depth=3, provider=fake_embeddings)
        assert found.weighing is not None
        return found.weighing, dense.parents[0].score - dense.parents[1].score

    known, known_margin = weighed("is parking free")
    partly, partly_margin = weighed("is parking gratis hereabouts")  # two of three lexemes unknown

    assert known.dense_margin == pytest.approx(known_margin) and partly.dense_margin == pytest.approx(partly_margin)
    assert known.evidence.known_share == 1 and partly.evidence.known_share == pytest.approx(1 / 3)
    assert known.query_type == partly.query_type == QueryType.CONCEPTUAL
    keywords = WEIGHTS[QueryType.CONCEPTUAL]["bm25"]
    tie = TIE_BOOST * math.exp(-known_margin / DENSE_MARGIN_SCALE)
    assert known.weights == pytest.approx({"bm25": keywords * tie, "dense": 1 - keywords * tie})
    tie = TIE_BOOST * math.exp(-partly_margin / DENSE_MARGIN_SCALE)
    assert partly.weights["bm25"] == pytest.approx(keywords * (1 / 3) ** KNOWN_SHARE_POWER * tie)


def test_hybrid_answers_from_keywords_while_the_query_cannot_be_embedded(studio, monkeypatch):
    def outage(self, text):
        raise ProviderError("embedding service unavailable", retryable=True)

    monkeypatch.setattr(FakeEmbeddingProvider, "embed_query", outage)

    [top, *_] = retrieve(tenant=studio, query="is parking free behind the studio", k=3)

    assert top.title == "Parking"
    assert top.ranks == {"bm25": 1}
    with pytest.raises(ProviderError, match="embedding service unavailable"):
        retrieve(tenant=studio, query="is parking free behind the studio", k=3, mode="dense")


def test_a_query_vector_of_another_size_is_a_provider_error_not_a_database_one(studio, monkeypatch):
    # given a model that answers queries with 1024 numbers beside 384-dimension passages
    monkeypatch.setattr(FakeEmbeddingProvider, "embed_query", lambda self, text: [0.5] * 1024)
    # when searched: hybrid answers from keywords, dense says what is wrong
    [top, *_] = retrieve(tenant=studio, query="is parking free behind the studio", k=3)
    assert (top.title, top.ranks) == ("Parking", {"bm25": 1})
    with pytest.raises(ProviderError, match=r"returned vectors of 1024 dimensions .* not the 384 it declares"):
        retrieve(tenant=studio, query="is parking free behind the studio", k=3, mode="dense")


# Vectors cosine cannot compare: pgvector refuses NaN (an SQL error), and a zero vector (also what
# normalising an overflowing one gives) has a NaN distance to everything, which fusion cannot rank.
UNUSABLE_VECTORS = {"all zeros": [0.0] * 384, "NaN": [math.nan] * 384, "overflowing": [1e308] * 384}


def _openai_answering(fake_api, vector):
    """An OpenAI embeddings provider whose (fake) server answers every text with ``vector``."""

    def embeddings(body):
        data = [{"object": "embedding", "index": i, "embedding": vector} for i in range(len(body["input"]))]
        usage = {"prompt_tokens": 1, "total_tokens": 1}
        return 200, {"object": "list", "data": data, "model": body["model"], "usage": usage}

    fake_api.route("/v1/embeddings", embeddings)
    return OpenAIEmbeddingProvider(api_key="sk-test", base_url=f"{fake_api.url}/v1")


@pytest.mark.parametrize("vector", UNUSABLE_VECTORS.values(), ids=UNUSABLE_VECTORS)
def test_a_query_vector_cosine_cannot_compare_is_a_provider_error(fake_api, studio, vector):
    # given an OpenAI-compatible server that answers the query with a vector no distance can be taken to
    provider = _openai_answering(fake_api, vector)
    # when searched: hybrid answers from keywords alone, dense says the answer could not be read
    [top, *_] = retrieve(tenant=studio, query="is parking free behind the studio", k=3, provider=provider)
    assert (top.title, top.ranks) == ("Parking", {"bm25": 1})
    with pytest.raises(ProviderError, match="cosine") as excinfo:
        retrieve(tenant=studio, query="is parking free behind the studio", k=3, mode="dense", provider=provider)
    assert excinfo.value.kind == ProviderErrorKind.MALFORMED


@pytest.mark.parametrize("vector", UNUSABLE_VECTORS.values(), ids=UNUSABLE_VECTORS)
def test_a_passage_vector_cosine_cannot_compare_is_not_stored(fake_api, studio, vector):
    # given an OpenAI-compatible server that answers a passage with a vector no distance can be taken to
    provider = _openai_answering(fake_api, vector)
    document = add_document(studio, "Valet", "Valet parking at the front door.")
    # when it is indexed with that provider: refused as an answer that could not be read
    with pytest.raises(ProviderError, match="cosine") as excinfo:
        document_index(tenant=studio, document=document, provider=provider)
    assert excinfo.value.kind == ProviderErrorKind.MALFORMED
    # then the vectors the document had stay, and hybrid search still ranks the tenant's passages
    assert [p.title for p in retrieve(tenant=studio, query="valet parking", k=2)] == ["Valet", "Parking"]


def test_hybrid_with_rank_fusion_fuses_both_retrievers(studio, fake_embeddings):
    ranking = retrieval.rank_parents(
        tenant=studio, query="gift cards never expire", mode="hybrid", depth=3, provider=fake_embeddings, fusion="rrf"
    )

    top = ranking.parents[0]
    assert top.ranks == {"bm25": 1, "dense": 1}
    # Both lists rank it first: its fused score is the sum of the weights over 60 + 1.
    assert ranking.weighing is not None
    assert top.score == pytest.approx(sum(ranking.weighing.weights.values()) / 61)
    assert [parent.score for parent in ranking.parents] == sorted((p.score for p in ranking.parents), reverse=True)


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
@pytest.mark.parametrize("query", ["park\x00ing behind the studio", "\ud800 parking behind the studio"])
def test_a_query_with_a_nul_or_a_lone_surrogate_is_searched_as_stored_text_is(studio, mode, query):
    [top, *_] = retrieve(tenant=studio, query=query, k=3, mode=mode)

    assert top.title == "Parking"


@pytest.mark.parametrize("query", ["x" * 100_000, "the " * 5_000, "!!! && || :* '' <-> (", "\x00\x00"])
def test_odd_queries_return_passages_or_nothing_never_an_error(studio, query):
    passages = retrieve(tenant=studio, query=query, k=3)

    assert all(isinstance(passage, Passage) for passage in passages)


# A verbatim sentence of one document, of words no other document uses (the man-option case of
# docs/retrieval.md "Session 28"), amid a long page of everyday notes; and notes of its stop words
# alone, which the fake embeddings (a bag of words) place nearest to it, while keyword search
# cannot see them.
VERBATIM = "The ferryman polishes his brass lanterns with walnut oil and beeswax on the third Thursday"
LANTERNS = (
    "Harbour crafts. Visitors can watch the rope makers in the old shed every afternoon, buy fresh "
    "bread from the bakery cart near the pier, rent bicycles at the kiosk, follow the coastal path "
    "to the lighthouse, or sit at the cafe terrace while fishing boats unload their morning catch. "
    f"{VERBATIM}. The museum shop sells postcards, maps, tide tables, umbrellas and warm scarves."
)


@pytest.fixture
def harbour(tenant):
    # given: a tenant of 40 everyday notes, the harbour page and eight notes of stop words
    for n in range(40):
        add_document(tenant, f"Note {n}", f"Opening hours for room {n}: the desk is staffed on weekdays and the cafe.")
    add_document(tenant, "Harbour crafts", LANTERNS)
    for n in range(8):
        add_document(tenant, f"Stop words {n}", "The his with and on the. " + "The with his and on. " * (n % 3 + 1))
    return tenant


def _surprise(tenant) -> float:
    found = retrieval.rank_parents(
        tenant=tenant, query=VERBATIM, mode="hybrid", depth=5, provider=FakeEmbeddingProvider()
    )
    assert found.weighing is not None and found.weighing.keyword_surprise is not None
    return found.weighing.keyword_surprise


def test_hybrid_follows_keywords_when_a_query_is_a_verbatim_sentence_of_rare_words(harbour, fake_embeddings):
    # given dense retrieval prefers the notes of stop words
    dense = retrieve(tenant=harbour, query=VERBATIM, k=3, mode="dense")
    assert all(passage.title.startswith("Stop words") for passage in dense)
    bm25 = retrieve(tenant=harbour, query=VERBATIM, k=3, mode="bm25")
    assert bm25[0].title == "Harbour crafts"
    # when
    passages = retrieve(tenant=harbour, query=VERBATIM, k=3, mode="hybrid")
    # then keywords' match could hardly be chance: they carry all the weight and rank the page first
    assert passages[0].title == "Harbour crafts"
    found = retrieval.search_candidates(
        tenant=harbour, query=VERBATIM, mode="hybrid", depth=3, provider=fake_embeddings
    )
    assert found.keyword_surprise is not None and found.keyword_surprise > SURPRISE_START + SURPRISE_SPAN
    weighing = retrieval.fusion_weights(
        tenant=harbour,
        query=VERBATIM,
        evidence=found.evidence,
        dense_margin=found.dense_margin,
        query_type=found.query_type,
        keyword_surprise=found.keyword_surprise,
    )
    assert weighing.keyword_surprise == found.keyword_surprise
    assert weighing.weights == {"bm25": 1.0, "dense": 0.0}
    # and the same query weighed without the surprise would have ranked one of dense's notes first
    assert found.query_type is not None
    today = query_weights(found.query_type, known_share=found.evidence.known_share, dense_margin=found.dense_margin)
    [(first, _), *_] = retrieval.fuse(found.lists, method=conf.SETTINGS.fusion, weights=today)
    assert Chunk.objects.get(pk=first).document.title.startswith("Stop words")


def test_hybrid_keyword_surprise_counts_only_the_tenants_own_children(harbour, other_tenant, fake_embeddings):
    # given the surprise of the verbatim sentence in the tenant's knowledge
    before = _surprise(harbour)
    # when another tenant holds the same sentence many times, among few children
    for n in range(12):
        add_document(other_tenant, f"Copy {n}", LANTERNS)
    # then the tenant's N and document frequencies, so its surprise, are unchanged
    assert _surprise(harbour) == before
    assert _surprise(other_tenant) < before
    passages = retrieve(tenant=harbour, query=VERBATIM, k=3, mode="hybrid")
    assert passages[0].title == "Harbour crafts"
    ours = set(Document.objects.filter(tenant=harbour).values_list("pk", flat=True))
    assert {p.document_id for p in passages} <= ours


@pytest.mark.parametrize("mode", ["bm25", "dense"])
def test_single_retriever_modes_do_not_weigh_by_keyword_surprise(harbour, fake_embeddings, mode):
    found = retrieval.search_candidates(tenant=harbour, query=VERBATIM, mode=mode, depth=3, provider=fake_embeddings)
    assert found.keyword_surprise is None
    assert (
        retrieval.rank_parents(tenant=harbour, query=VERBATIM, mode=mode, depth=3, provider=fake_embeddings).weighing
        is None
    )
