"""Retrieval statements are cancelled after KNOWLEDGE_RETRIEVAL_TIMEOUT_MS: serving's hybrid search
answers from the retriever that finished, everything else says the search timed out. Slow
statements are real: a table locked by another connection, or a search that sleeps in PostgreSQL."""

from __future__ import annotations

import dataclasses
import logging
import threading

import pytest
from django.db import connection

from knowledge import conf, retrieval
from knowledge.models import Document
from knowledge.providers.base import ProviderErrorKind
from knowledge.providers.fake import FakeEmbeddingProvider
from knowledge.selectors import retrieve
from knowledge.tests.factories import add_document
from knowledge.tests.locks import table_locked
from knowledge.timeouts import RETRIEVAL_TIMED_OUT, RetrievalTimedOut, bounded
from supportai.tests.factories import api_client

QUERY = "is parking free behind the studio"


@pytest.fixture
def timeout_ms(monkeypatch):
    """Serving's limit, short enough for a test and long enough for an unhindered search."""

    def limit(ms: int) -> int:
        monkeypatch.setattr(conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, retrieval_timeout_ms=ms))
        return ms

    return limit


@pytest.fixture
def studio(tenant):
    add_document(tenant, "Parking", "Free parking is available behind the studio. Street parking is metered.")
    add_document(tenant, "Gift cards", "Gift cards can be bought online or at the front desk and never expire.")
    return tenant


class StalledEmbedder(FakeEmbeddingProvider):
    """An embedding service that does not answer a query until the test lets it (at most ``stall_s``)."""

    hosted = True

    def __init__(self, stall_s: float) -> None:
        super().__init__()
        self.stall_s = stall_s
        self.release = threading.Event()
        self.answered = threading.Event()

    def embed_query(self, text: str) -> list[float]:
        self.release.wait(self.stall_s)
        self.answered.set()
        return super().embed_query(text)


@pytest.fixture
def stalled():
    """A query embedder stalled for up to 10 s; let go when the test ends, freeing the pool's worker."""
    embedder = StalledEmbedder(stall_s=10)
    yield embedder
    embedder.release.set()


def _setting(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s)", [name])
        return str(cursor.fetchone()[0])


def test_hybrid_answers_from_keywords_when_dense_search_times_out(studio, timeout_ms, slow_dense, caplog):
    timeout_ms(200)
    # when
    with caplog.at_level(logging.WARNING, logger="knowledge.retrieval"):
        [top, *_] = retrieve(tenant=studio, query=QUERY, k=2)
    # then BM25's ranking alone, the passage saying so, and a warning
    assert (top.title, top.ranks) == ("Parking", {"bm25": 1})
    assert "dense search failed" in caplog.text and "statement timeout" in caplog.text
    # dense mode has nothing to fall back on
    with pytest.raises(RetrievalTimedOut):
        retrieve(tenant=studio, query=QUERY, k=2, mode="dense")


def test_a_time_limit_never_outlives_the_search_in_the_callers_transaction(studio, timeout_ms, slow_dense):
    # given the test's own transaction around the search, and a dense search that timed out
    timeout_ms(200)
    assert connection.in_atomic_block
    retrieve(tenant=studio, query=QUERY, k=2)
    # then the limit and the index settings ended with the search; the transaction goes on unharmed
    assert _setting("statement_timeout") == "0"
    assert _setting("hnsw.ef_search") == "40"
    assert Document.objects.filter(tenant=studio).count() == 2


def test_no_limit_lets_a_slow_statement_finish(db):
    with bounded(0) as cursor:
        cursor.execute("SELECT pg_sleep(0.3), current_setting('statement_timeout')")
        assert cursor.fetchone()[1] == "0"
    with pytest.raises(RetrievalTimedOut), bounded(100) as cursor:
        cursor.execute("SELECT pg_sleep(0.3)")


def test_measurements_stop_at_a_timeout_instead_of_ranking_with_one_retriever(studio, slow_dense, fake_embeddings):
    # given a measurement (no fallback) under a time limit: it raises rather than report BM25 as hybrid
    with pytest.raises(RetrievalTimedOut):
        retrieval.rank_parents(
            tenant=studio, query=QUERY, mode="hybrid", depth=3, provider=fake_embeddings, timeout_ms=200
        )


@pytest.mark.django_db(transaction=True)
def test_hybrid_answers_from_dense_while_the_postings_are_locked(studio, other_tenant, timeout_ms):
    # given another tenant's matching page, and the keyword index locked by another connection
    add_document(other_tenant, "Parking", "Parking behind the studio of the other spa is free.")
    timeout_ms(500)
    with table_locked("knowledge_posting"):
        # when
        passages = retrieve(tenant=studio, query=QUERY, k=2)
        # then dense's ranking alone, of this tenant's documents only
        assert passages[0].title == "Parking" and all(set(p.ranks) == {"dense"} for p in passages)
        ours = set(Document.objects.filter(tenant=studio).values_list("pk", flat=True))
        assert {p.document_id for p in passages} <= ours
        # and BM25 mode says it timed out
        with pytest.raises(RetrievalTimedOut):
            retrieve(tenant=studio, query=QUERY, k=2, mode="bm25")
    assert set(retrieve(tenant=studio, query=QUERY, k=2)[0].ranks) == {"bm25", "dense"}


@pytest.mark.django_db(transaction=True)
def test_retrieval_times_out_when_no_retriever_can_answer(studio, other_tenant, timeout_ms):
    add_document(other_tenant, "Valet parking", "Valet parking is free in front of the spa.")
    timeout_ms(100)
    client = api_client(studio)
    with table_locked("knowledge_chunk"):
        with pytest.raises(RetrievalTimedOut):
            retrieve(tenant=studio, query=QUERY, k=2)
        response = client.post("/api/v1/knowledge/search/", {"query": QUERY}, format="json")
    assert response.status_code == 503
    assert response.json() == {"detail": RETRIEVAL_TIMED_OUT}
    # once the table is free, another tenant's key finds its own passage, not the studio's
    other = api_client(other_tenant).post("/api/v1/knowledge/search/", {"query": QUERY}, format="json")
    assert other.status_code == 200
    assert [passage["title"] for passage in other.json()] == ["Valet parking"]


@pytest.mark.django_db(transaction=True)
def test_console_says_the_search_timed_out(client, agent, studio, timeout_ms):
    timeout_ms(100)
    client.force_login(agent)
    with table_locked("knowledge_chunk"):
        body = client.get("/console/knowledge/search/", {"q": QUERY, "mode": "hybrid", "k": 5}).content.decode()
    assert "The knowledge search took too long and was stopped" in body and 'data-testid="passages"' not in body


@pytest.mark.django_db(transaction=True)
def test_keyword_worker_times_out_in_its_own_transaction_and_stays_usable(studio, timeout_ms, monkeypatch):
    # given the keyword worker's own connection in use (a database other than a test one)
    monkeypatch.setattr(retrieval, "_can_search_in_parallel", lambda: True)
    threads: list[str] = []
    side = retrieval.keyword_side

    def spy(**kwargs):
        threads.append(threading.current_thread().name)
        return side(**kwargs)

    monkeypatch.setattr(retrieval, "keyword_side", spy)
    timeout_ms(500)
    try:
        # when the postings are locked, the worker's BM25 search is cancelled; dense answers alone
        with table_locked("knowledge_posting"):
            [top, *_] = retrieve(tenant=studio, query=QUERY, k=2)
        assert (top.title, set(top.ranks)) == ("Parking", {"dense"})
        # then the same worker connection searches again, with no limit left on its session
        [top, *_] = retrieve(tenant=studio, query=QUERY, k=2)
        assert set(top.ranks) == {"bm25", "dense"}
        session = retrieval._KEYWORD_WORKER.submit(_setting, "statement_timeout").result()
    finally:
        retrieval.close_search_connection()
    assert threads and all(name.startswith("bm25-search") for name in threads)
    assert session == "0"


def test_hybrid_answers_from_keywords_when_the_query_vector_is_late(studio, timeout_ms, stalled, caplog):
    # given an embedding service that stalls, and serving's limit
    timeout_ms(200)
    # when
    with caplog.at_level(logging.WARNING, logger="knowledge.retrieval"):
        [top, *_] = retrieve(tenant=studio, query=QUERY, k=2, provider=stalled)
    # then BM25's ranking alone, given before the embedding service answered, and a warning
    assert not stalled.answered.is_set()
    assert (top.title, top.ranks) == ("Parking", {"bm25": 1})
    assert f"query embedding ({ProviderErrorKind.UNAVAILABLE}) failed" in caplog.text
    assert "no query vector within 200 ms" in caplog.text


class SlowModel(StalledEmbedder):
    """A model in this process still loading: slow, but no service that could withhold the vector."""

    hosted = False


def test_hybrid_waits_for_a_query_vector_computed_in_this_process(studio, timeout_ms):
    # given a local model slower than serving's limit (still loading after a start, say)
    timeout_ms(100)
    slow = SlowModel(stall_s=0.5)
    # when
    [top, *_] = retrieve(tenant=studio, query=QUERY, k=2, provider=slow)
    # then the search waited for its vector and ranked with both retrievers
    assert slow.answered.is_set() and set(top.ranks) == {"bm25", "dense"}


def test_measurements_wait_for_a_late_query_vector(studio, fake_embeddings):
    # given an embedding service slower than the limit its measurement's statements run under
    slow = StalledEmbedder(stall_s=0.5)
    # when a measurement (no fallback) searches
    found = retrieval.search_candidates(
        tenant=studio, query=QUERY, mode="hybrid", depth=2, provider=slow, timeout_ms=100
    )
    # then it waited for the vector and ranked with both retrievers
    assert slow.answered.is_set() and set(found.lists) == {"bm25", "dense"}
