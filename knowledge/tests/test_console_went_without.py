"""The test retrieval box says which retriever a hybrid search went without, and never hides it."""

from __future__ import annotations

import re

import pytest

from knowledge import retrieval
from knowledge.providers.base import PUBLIC_MESSAGES, ProviderError, ProviderErrorKind
from knowledge.providers.fake import FakeEmbeddingProvider
from knowledge.tests.factories import add_document
from knowledge.tests.locks import keyword_worker_timed_out

SEARCH = "/console/knowledge/search/"


def _embedding_down(monkeypatch: pytest.MonkeyPatch) -> None:
    def outage(self: FakeEmbeddingProvider, text: str) -> list[float]:
        raise ProviderError("connection refused to 10.0.3.7:8443", kind=ProviderErrorKind.UNAVAILABLE)

    monkeypatch.setattr(FakeEmbeddingProvider, "embed_query", outage)


def _text(body: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def test_search_page_says_hybrid_went_without_dense(client, agent, tenant, other_tenant, monkeypatch):
    # given an embedding service that is down
    _embedding_down(monkeypatch)
    add_document(tenant, "Parking", "Free parking behind the studio.")
    add_document(other_tenant, "Other parking", "Valet parking only.")
    client.force_login(agent)
    # when
    response = client.get(SEARCH, {"q": "parking", "mode": "hybrid", "k": 5})
    # then the keyword results are shown, said to be only that, with the public reason (not the vendor's words)
    body = response.content.decode()
    assert response.context["went_without"] == {"dense": PUBLIC_MESSAGES[ProviderErrorKind.UNAVAILABLE]}
    assert re.search(r'role="alert"[^>]*>\s*Dense search was unavailable: ', body)
    reason = PUBLIC_MESSAGES[ProviderErrorKind.UNAVAILABLE]
    notice = f"Dense search was unavailable: {reason} These are keyword results only."
    assert notice in _text(body)
    assert "[1] Parking" in _text(body) and "bm25 rank 1" in body
    assert "10.0.3.7" not in body and "Other parking" not in body


def test_search_page_does_not_say_nothing_matched_when_dense_did_not_run(client, agent, tenant, monkeypatch):
    # given an embedding service that is down, and a paraphrase sharing no word with the knowledge
    _embedding_down(monkeypatch)
    add_document(tenant, "Parking", "Free parking behind the studio.")
    client.force_login(agent)
    # when
    body = _text(client.get(SEARCH, {"q": "where do I leave my car", "mode": "hybrid", "k": 5}).content.decode())
    # then the page does not conclude that the knowledge does not cover it
    assert "No passages matched." not in body
    assert "Keyword search found no passage; dense search, which finds paraphrases, was unavailable." in body
    assert "Dense search was unavailable" in body


@pytest.mark.django_db(transaction=True)
def test_search_page_says_hybrid_went_without_keywords(client, agent, tenant, monkeypatch):
    # given keyword search that times out
    add_document(tenant, "Parking", "Free parking behind the studio.")
    client.force_login(agent)
    # when
    with keyword_worker_timed_out(monkeypatch):
        response = client.get(SEARCH, {"q": "parking", "mode": "hybrid", "k": 5})
    # then
    body = _text(response.content.decode())
    assert f"Keyword search was unavailable: {retrieval.TIMED_OUT_REASON} These are dense results only." in body
    assert "[1] Parking" in body and "dense rank 1" in body


@pytest.mark.django_db(transaction=True)
def test_search_page_does_not_claim_keyword_search_works_when_both_failed(client, agent, tenant, monkeypatch):
    # given an embedding service that is down and keyword search that times out
    _embedding_down(monkeypatch)
    add_document(tenant, "Parking", "Free parking behind the studio.")
    client.force_login(agent)
    # when
    with keyword_worker_timed_out(monkeypatch):
        body = _text(client.get(SEARCH, {"q": "parking", "mode": "hybrid", "k": 5}).content.decode())
    # then
    assert "still work" not in body
    assert "Neither keyword nor dense search could answer" in body
    assert "No passages matched." not in body


def test_search_page_with_both_retrievers_running_says_nothing_of_a_failure(client, agent, tenant):
    add_document(tenant, "Parking", "Free parking behind the studio.")
    client.force_login(agent)
    response = client.get(SEARCH, {"q": "zebra", "mode": "hybrid", "k": 5})
    body = _text(response.content.decode())
    assert response.context["went_without"] == {}
    assert "was unavailable" not in body
