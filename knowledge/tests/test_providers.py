"""Hosted embedding/rerank adapters through their official SDKs against a local fake of each API."""

from __future__ import annotations

import email.utils
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from knowledge.indexing import document_index
from knowledge.providers import cohere_provider, gemini, openai_embeddings, voyage
from knowledge.providers.base import (
    EMBEDDING_PROVIDERS,
    LOCAL_MODEL_NAME,
    PUBLIC_MESSAGES,
    RERANK_PROVIDERS,
    EmbeddingProvider,
    ProviderError,
    ProviderErrorKind,
    embedding_provider,
    rerank_provider,
)
from knowledge.providers.cohere_provider import CohereEmbeddingProvider, CohereRerankProvider
from knowledge.providers.gemini import GeminiEmbeddingProvider
from knowledge.providers.openai_embeddings import OpenAIEmbeddingProvider
from knowledge.providers.remote import MAX_RETRY_AFTER_S
from knowledge.providers.voyage import VoyageEmbeddingProvider
from knowledge.selectors import retrieve
from knowledge.tests.factories import add_document


def _vector(seed: int, dims: int = 384) -> list[float]:
    return [float((seed * 7 + i) % 11) - 5.0 for i in range(dims)]  # deliberately not unit length


def _is_unit(vector: list[float]) -> bool:
    return math.isclose(math.sqrt(sum(v * v for v in vector)), 1.0, rel_tol=1e-6)


def test_openai_embeddings_wire_format(fake_api):
    def embeddings(body):
        data = [{"object": "embedding", "index": i, "embedding": _vector(i)} for i in range(len(body["input"]))]
        usage = {"prompt_tokens": 5, "total_tokens": 5}
        return 200, {"object": "list", "data": list(reversed(data)), "model": body["model"], "usage": usage}

    fake_api.route("/v1/embeddings", embeddings)
    provider = OpenAIEmbeddingProvider(api_key="sk-test", base_url=f"{fake_api.url}/v1")
    vectors = provider.embed_documents(["a", "b"])
    [request] = fake_api.requests
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.body == {
        "model": "text-embedding-3-small",
        "input": ["a", "b"],
        "dimensions": 384,
        "encoding_format": "float",
    }
    assert len(vectors) == 2 and all(_is_unit(v) for v in vectors)
    assert vectors[0] != vectors[1]  # ordered by index, not by response order
    assert vectors[0][0] == pytest.approx(_vector(0)[0] / math.sqrt(sum(x * x for x in _vector(0))))


def test_openai_rate_limit_is_a_retryable_provider_error(fake_api):
    error = {
        "error": {"message": "Rate limit reached", "type": "requests", "param": None, "code": "rate_limit_exceeded"}
    }
    fake_api.route("/v1/embeddings", lambda body: (429, error))
    provider = OpenAIEmbeddingProvider(api_key="sk-test", base_url=f"{fake_api.url}/v1")
    with pytest.raises(ProviderError, match="429") as excinfo:
        provider.embed_query("hello")
    assert excinfo.value.retryable


def test_cohere_embed_wire_format_and_input_types(fake_api):
    def embed(body):
        floats = [_vector(i) for i in range(len(body["texts"]))]
        meta = {"api_version": {"version": "2"}, "billed_units": {"input_tokens": 3}}
        return 200, {
            "id": "e1",
            "embeddings": {"float": floats},
            "texts": body["texts"],
            "meta": meta,
            "response_type": "embeddings_by_type",
        }

    fake_api.route("/v2/embed", embed)
    provider = CohereEmbeddingProvider(api_key="co-test", base_url=fake_api.url)
    assert all(_is_unit(v) for v in provider.embed_documents(["a", "b", "c"]))
    assert _is_unit(provider.embed_query("q"))
    first, second = (request.body for request in fake_api.requests)
    assert (first["model"], first["input_type"], first["embedding_types"]) == (
        "embed-english-light-v3.0",
        "search_document",
        ["float"],
    )
    assert second["input_type"] == "search_query"
    assert fake_api.requests[0].headers["authorization"] == "Bearer co-test"


def test_cohere_error_is_provider_error(fake_api):
    fake_api.route("/v2/embed", lambda body: (400, {"message": "invalid request: texts must not be empty"}))
    with pytest.raises(ProviderError, match="400") as excinfo:
        CohereEmbeddingProvider(api_key="co-test", base_url=fake_api.url).embed_query("x")
    assert not excinfo.value.retryable


def test_cohere_rerank_wire_format(fake_api):
    results = [{"index": 2, "relevance_score": 0.91}, {"index": 0, "relevance_score": 0.35}]
    fake_api.route("/v2/rerank", lambda body: (200, {"id": "r1", "results": results, "meta": {}}))
    reranker = CohereRerankProvider(api_key="co-test", base_url=fake_api.url)
    ranked = reranker.rerank(query="parking", documents=["a", "b", "c"], top_n=2)
    assert [(r.index, r.score) for r in ranked] == [(2, 0.91), (0, 0.35)]
    body = fake_api.requests[0].body
    assert body == {"model": "rerank-v3.5", "query": "parking", "documents": ["a", "b", "c"], "top_n": 2}


def test_cohere_rerank_of_fewer_candidates_than_asked_for_asks_for_them_all(fake_api, tenant):
    # given: the API, which refuses a top_n over the number of documents, and a tenant of two documents
    def rerank(body):
        if body["top_n"] > len(body["documents"]):
            return 400, {"id": "r", "message": "top_n must be less than or equal to the number of documents"}
        order = sorted(range(len(body["documents"])), key=lambda i: "gift" not in body["documents"][i].lower())
        return 200, {"id": "r", "results": [{"index": i, "relevance_score": 1.0 - i / 10} for i in order], "meta": {}}

    fake_api.route("/v2/rerank", rerank)
    add_document(tenant, "Parking", "Free parking behind the studio.")
    add_document(tenant, "Gift cards", "Gift cards never expire.")
    reranker = CohereRerankProvider(api_key="co-test", base_url=fake_api.url)
    # when: five passages are asked for
    passages = retrieve(tenant=tenant, query="parking", k=5, reranker=reranker)
    # then: the reranker was asked for the two there are, and its order is the answer's
    assert [request.body["top_n"] for request in fake_api.requests] == [2]
    assert [p.title for p in passages] == ["Gift cards", "Parking"]


def test_cohere_rerank_timeout_falls_back_to_fused_order(fake_api, tenant, caplog):
    # given: a reranker whose API answers too late, reversing the fused order
    def slow(body):
        time.sleep(1.0)
        reversed_order = reversed(range(len(body["documents"])))
        return 200, {"id": "r", "results": [{"index": i, "relevance_score": 0.9} for i in reversed_order], "meta": {}}

    fake_api.route("/v2/rerank", slow)
    add_document(tenant, "Parking", "Free parking behind the studio.")
    add_document(tenant, "Gift cards", "Gift cards never expire.")
    fused = [p.title for p in retrieve(tenant=tenant, query="parking", k=2)]
    reranker = CohereRerankProvider(api_key="co-test", base_url=fake_api.url, timeout=0.3)
    # when
    passages = retrieve(tenant=tenant, query="parking", k=2, reranker=reranker)
    # then: the fused order, not the late answer's, after the reranker gave up on its timeout
    assert fused == ["Parking", "Gift cards"]
    assert [p.title for p in passages] == fused
    assert f"reranking for tenant {tenant.pk} failed (unavailable), keeping fused order" in caplog.text


def test_cohere_rerank_server_error_falls_back(fake_api, tenant, caplog):
    fake_api.route("/v2/rerank", lambda body: (503, {"message": "service unavailable"}))
    add_document(tenant, "Parking", "Free parking behind the studio.")
    reranker = CohereRerankProvider(api_key="co-test", base_url=fake_api.url)
    assert [p.title for p in retrieve(tenant=tenant, query="parking", k=1, reranker=reranker)] == ["Parking"]
    # the operators read whose search it was, what kind of failure, and the vendor's words
    assert f"reranking for tenant {tenant.pk} failed (unavailable), keeping fused order" in caplog.text
    assert "HTTP 503" in caplog.text and "service unavailable" in caplog.text


def test_cohere_rerank_naming_missing_or_repeated_candidates_keeps_the_rest_in_fused_order(fake_api, tenant):
    # given: an API answering with indices past either end (99, -1), one candidate twice, and fewer than asked
    results = [
        {"index": 99, "relevance_score": 0.99},
        {"index": 1, "relevance_score": 0.9},
        {"index": -1, "relevance_score": 0.8},
        {"index": 1, "relevance_score": 0.7},
    ]
    fake_api.route("/v2/rerank", lambda body: (200, {"id": "r", "results": results, "meta": {}}))
    for title, text in [("Parking", "Free parking behind the studio."), ("Valet", "Valet parking at the door.")]:
        add_document(tenant, title, text)
    add_document(tenant, "Bikes", "Bike parking racks by the entrance.")
    fused = retrieve(tenant=tenant, query="parking", k=3)
    # when
    reranked = retrieve(
        tenant=tenant, query="parking", k=3, reranker=CohereRerankProvider(api_key="co-test", base_url=fake_api.url)
    )
    # then: the one real candidate first, once; the others follow in fused order, none invented
    assert [p.chunk_id for p in reranked] == [fused[1].chunk_id, fused[0].chunk_id, fused[2].chunk_id]
    assert [p.ranks.get("rerank") for p in reranked] == [1, None, None]


MALFORMED_RERANKS = {
    "no results": {"id": "r1", "meta": {}},
    "results not a list": {"id": "r1", "results": "none"},
    "index not a number": {"id": "r1", "results": [{"index": "first", "relevance_score": 0.9}]},
    "no score": {"id": "r1", "results": [{"index": 0}]},
    # JSON's NaN and Infinity, which Python reads: the passage's score, which no JSON answer can carry
    "score NaN": {"id": "r1", "results": [{"index": 0, "relevance_score": math.nan}]},
    "score infinite": {"id": "r1", "results": [{"index": 0, "relevance_score": math.inf}]},
    "a JSON string": "reranked",
    "an HTML page": b"<html><body>upstream connect error</body></html>",
}


@pytest.mark.parametrize("answer", MALFORMED_RERANKS.values(), ids=MALFORMED_RERANKS)
def test_cohere_rerank_malformed_answer_falls_back_to_fused_order(fake_api, tenant, answer):
    # given: a reranker whose API answers 200 with something that is not a rerank response
    fake_api.route("/v2/rerank", lambda body: (200, answer))
    add_document(tenant, "Parking", "Free parking behind the studio.")
    add_document(tenant, "Gift cards", "Gift cards never expire.")
    reranker = CohereRerankProvider(api_key="co-test", base_url=fake_api.url)
    # when / then: the adapter reports it as a provider error, and retrieval keeps the fused order
    with pytest.raises(ProviderError, match="Cohere rerank"):
        reranker.rerank(query="parking", documents=["a", "b"], top_n=2)
    passages = retrieve(tenant=tenant, query="parking", k=2, reranker=reranker)
    assert [p.title for p in passages] == [p.title for p in retrieve(tenant=tenant, query="parking", k=2)]


def test_gemini_embeddings_wire_format(fake_api):
    def batch(body):
        return 200, {"embeddings": [{"values": _vector(i)} for i in range(len(body["requests"]))]}

    fake_api.route("/v1/models/gemini-embedding-001:batchEmbedContents", batch)
    provider = GeminiEmbeddingProvider(api_key="g-test", base_url=fake_api.url)
    vectors = provider.embed_documents(["a", "b"])
    assert len(vectors) == 2 and all(_is_unit(v) for v in vectors)
    [request] = fake_api.requests
    assert request.headers["x-goog-api-key"] == "g-test"
    first = request.body["requests"][0]
    assert first["content"] == {"parts": [{"text": "a"}], "role": "user"}  # as the SDK sends a string
    assert first["taskType"] == "RETRIEVAL_DOCUMENT" and first["outputDimensionality"] == 384


def test_gemini_multimodal_embedding_model_embeds_each_text_on_its_own(fake_api):
    # given: a multimodal model, for which the SDK merges a list of strings into one content
    def batch(body):
        return 200, {"embeddings": [{"values": _vector(i)} for i in range(len(body["requests"]))]}

    fake_api.route("/v1/models/gemini-embedding-2:batchEmbedContents", batch)
    provider = GeminiEmbeddingProvider("gemini-embedding-2", api_key="g-test", base_url=fake_api.url)
    # when
    vectors = provider.embed_documents(["a", "b"])
    # then: one request per text, one vector for each
    [request] = fake_api.requests
    assert [r["content"]["parts"] for r in request.body["requests"]] == [[{"text": "a"}], [{"text": "b"}]]
    assert len(vectors) == 2 and vectors[0] != vectors[1]


def test_gemini_error_is_provider_error(fake_api):
    error = {"error": {"code": 429, "message": "Resource has been exhausted", "status": "RESOURCE_EXHAUSTED"}}
    fake_api.route("/v1/models/gemini-embedding-001:batchEmbedContents", lambda body: (429, error))
    with pytest.raises(ProviderError, match="429") as excinfo:
        GeminiEmbeddingProvider(api_key="g-test", base_url=fake_api.url).embed_documents(["a"])
    assert excinfo.value.retryable


def test_gemini_refusing_the_key_with_a_400_is_an_auth_error(fake_api):
    # given: Google's answer to a key it does not know, a 400 whose reason says so
    error = {
        "error": {
            "code": 400,
            "message": "API key not valid. Please pass a valid API key.",
            "status": "INVALID_ARGUMENT",
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}],
        }
    }
    fake_api.route("/v1/models/gemini-embedding-001:batchEmbedContents", lambda body: (400, error))
    # when / then: a refused credential, not a refused request; the log still reads the 400
    with pytest.raises(ProviderError, match="HTTP 400: API key not valid") as excinfo:
        GeminiEmbeddingProvider(api_key="g-test", base_url=fake_api.url).embed_documents(["a"])
    assert (excinfo.value.kind, excinfo.value.retryable) == (ProviderErrorKind.AUTH, False)


def test_voyage_embeddings_rest_shape_and_dimension_guard(fake_api, tenant):
    def embeddings(body):
        dims = body["output_dimension"]
        data = [{"object": "embedding", "embedding": _vector(i, dims), "index": i} for i in range(len(body["input"]))]
        return 200, {"object": "list", "data": data, "model": body["model"], "usage": {"total_tokens": 4}}

    fake_api.route("/v1/embeddings", embeddings)
    provider = VoyageEmbeddingProvider(api_key="pa-test", url=f"{fake_api.url}/v1/embeddings")
    [vector] = provider.embed_documents(["a"])
    assert len(vector) == 512 and _is_unit(vector)
    body = fake_api.requests[0].body
    assert (body["model"], body["input_type"], body["output_dimension"]) == ("voyage-3.5-lite", "document", 512)
    # a 512-d provider cannot fill the 384-d column: indexing says so instead of failing in SQL
    document = add_document(tenant, "Parking", "Free parking.")
    with pytest.raises(ProviderError, match="512 dimensions") as excinfo:
        document_index(tenant=tenant, document=document, provider=provider)
    assert excinfo.value.kind == ProviderErrorKind.MISCONFIGURED


def test_a_query_vector_the_column_cannot_hold_is_a_misconfiguration_hybrid_searches_without(fake_api, tenant):
    # given documents indexed by the 384-d fake, and Voyage's 512-d vectors for queries
    def embeddings(body):
        dims = body["output_dimension"]
        data = [{"object": "embedding", "embedding": _vector(i, dims), "index": i} for i in range(len(body["input"]))]
        return 200, {"object": "list", "data": data, "model": body["model"], "usage": {"total_tokens": 4}}

    fake_api.route("/v1/embeddings", embeddings)
    add_document(tenant, "Parking", "Free parking is available behind the studio.")
    voyage_provider = VoyageEmbeddingProvider(api_key="pa-test", url=f"{fake_api.url}/v1/embeddings")
    # when hybrid search runs, it goes on with BM25 alone
    [top] = retrieve(tenant=tenant, query="is parking free", k=1, provider=voyage_provider)
    assert top.ranks == {"bm25": 1}
    # and dense search says the model does not fit the index, rather than failing in SQL
    with pytest.raises(ProviderError, match="512 dimensions") as excinfo:
        retrieve(tenant=tenant, query="is parking free", k=1, mode="dense", provider=voyage_provider)
    assert excinfo.value.kind == ProviderErrorKind.MISCONFIGURED


def test_voyage_error(fake_api):
    fake_api.route("/v1/embeddings", lambda body: (401, {"detail": "Provided API key is invalid."}))
    with pytest.raises(ProviderError, match="invalid") as excinfo:
        VoyageEmbeddingProvider(api_key="bad", url=f"{fake_api.url}/v1/embeddings").embed_query("x")
    assert not excinfo.value.retryable


def test_voyage_error_without_a_json_detail_is_a_provider_error(fake_api):
    # given: a gateway in front of Voyage answering 502 with its own HTML page, then a JSON list
    provider = VoyageEmbeddingProvider(api_key="pa-test", url=f"{fake_api.url}/v1/embeddings")
    fake_api.route("/v1/embeddings", lambda body: (502, b"<html><body>Bad Gateway</body></html>"))
    # when / then: the status and the page, retryable like any 5xx
    with pytest.raises(ProviderError, match="HTTP 502: <html><body>Bad Gateway") as excinfo:
        provider.embed_query("x")
    assert excinfo.value.retryable
    fake_api.route("/v1/embeddings", lambda body: (500, ["overloaded"]))
    with pytest.raises(ProviderError, match="HTTP 500") as excinfo:
        provider.embed_query("x")
    assert excinfo.value.retryable


def test_registry_knows_every_provider_and_rejects_unknown_names():
    for name in EMBEDDING_PROVIDERS:
        provider = embedding_provider(name)
        assert provider.name == name and provider.model and provider.dimensions > 0
    for name in RERANK_PROVIDERS:
        reranker = rerank_provider(name)
        assert reranker is not None and reranker.name == name
    assert rerank_provider("") is None
    with pytest.raises(ValueError, match="Unknown provider"):
        embedding_provider("nope")
    with pytest.raises(ValueError, match="Unknown provider"):
        rerank_provider("nope")


def test_the_local_provider_refuses_a_model_it_does_not_run():
    # given: KNOWLEDGE_EMBEDDING_MODEL naming another model with the offline provider, which only
    # ever runs the packaged all-MiniLM-L6-v2 (its chunks would be labelled with a model never run)
    # when / then
    with pytest.raises(ValueError, match="sentence-transformers/all-MiniLM-L6-v2"):
        embedding_provider("local", "BAAI/bge-small-en-v1.5")
    assert embedding_provider("local", "sentence-transformers/all-MiniLM-L6-v2").model == LOCAL_MODEL_NAME


SLOW_VENDORS: dict[str, tuple[ModuleType, str, Callable[[str], EmbeddingProvider]]] = {
    "openai": (
        openai_embeddings,
        "/v1/embeddings",
        lambda url: OpenAIEmbeddingProvider(api_key="k", base_url=f"{url}/v1"),
    ),
    "cohere": (cohere_provider, "/v2/embed", lambda url: CohereEmbeddingProvider(api_key="k", base_url=url)),
    "gemini": (
        gemini,
        "/v1/models/gemini-embedding-001:batchEmbedContents",
        lambda url: GeminiEmbeddingProvider(api_key="k", base_url=url),
    ),
    "voyage": (voyage, "/v1/embeddings", lambda url: VoyageEmbeddingProvider(api_key="k", url=f"{url}/v1/embeddings")),
}


@pytest.mark.parametrize("vendor", SLOW_VENDORS)
def test_an_embedding_api_that_answers_too_late_is_a_retryable_provider_error(fake_api, monkeypatch, vendor):
    module, path, build = SLOW_VENDORS[vendor]
    answer_after_s = 10.0  # far past the adapter's 0.3 s timeout, so a loaded machine cannot blur the two
    answered = threading.Event()  # set once the adapter is done: no answer is left to wait out

    def slow(body):
        answered.wait(answer_after_s)
        return 200, {}

    fake_api.route(path, slow)
    monkeypatch.setattr(module, "TIMEOUT_S", 0.3)
    provider = build(fake_api.url)

    started = time.monotonic()
    try:
        with pytest.raises(ProviderError) as excinfo:
            provider.embed_documents(["Free parking behind the studio."])
        took = time.monotonic() - started
    finally:
        answered.set()

    assert excinfo.value.retryable and excinfo.value.kind == ProviderErrorKind.UNAVAILABLE
    assert took < answer_after_s and len(fake_api.requests) == 1  # it gave up at its timeout, not at the answer


@pytest.mark.parametrize("vendor", SLOW_VENDORS)
def test_a_query_gives_up_at_the_short_query_timeout_and_documents_at_the_long_one(fake_api, monkeypatch, vendor):
    # given an API that answers late (an empty body, once it answers), and a query timeout shorter than that
    module, path, build = SLOW_VENDORS[vendor]
    delays = iter([1.5, 0.6])

    def slow(body):
        time.sleep(next(delays))
        return 200, {}

    fake_api.route(path, slow)
    monkeypatch.setattr(module, "QUERY_TIMEOUT_S", 0.3)
    provider = build(fake_api.url)
    # when a query is embedded, the adapter stops waiting at the query timeout
    with pytest.raises(ProviderError) as query:
        provider.embed_query("is parking free")
    assert query.value.kind == ProviderErrorKind.UNAVAILABLE and query.value.retryable
    # and documents (ingest) wait longer: the late answer arrives, and is read
    with pytest.raises(ProviderError) as documents:
        provider.embed_documents(["Free parking behind the studio."])
    assert documents.value.kind == ProviderErrorKind.MALFORMED


RATE_LIMITED = {
    "error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED", "type": "requests"},
    "message": "slow down",
    "detail": "slow down",
}


def _google_rate_limited(retry_delay: str) -> dict[str, object]:
    """Google's 429: the wait in a ``RetryInfo`` detail of the body (a Duration), no Retry-After header."""
    details = [
        {
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [{"quotaMetric": "generativelanguage.googleapis.com/embed_content_requests"}],
        },
        {"@type": "type.googleapis.com/google.rpc.Help", "links": [{"url": "https://ai.google.dev/gemini-api"}]},
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay},
    ]
    message = f"You exceeded your current quota. Please retry in {retry_delay}."
    return {"error": {"code": 429, "message": message, "status": "RESOURCE_EXHAUSTED", "details": details}}


# Each vendor's 429 asking for a 30 s wait, the way that vendor asks for it.
RATE_LIMIT_ANSWERS: dict[str, tuple[int, object, dict[str, str]]] = {
    vendor: (429, RATE_LIMITED, {"Retry-After": "30"}) for vendor in SLOW_VENDORS
} | {"gemini": (429, _google_rate_limited("30s"), {})}


@pytest.mark.parametrize("vendor", SLOW_VENDORS)
def test_a_rate_limit_carries_the_wait_the_api_asks_for(fake_api, vendor):
    # given: an API answering 429 asking for 30 s (Retry-After: 30, or Google's RetryInfo 30s)
    _, path, build = SLOW_VENDORS[vendor]
    fake_api.route(path, lambda body: RATE_LIMIT_ANSWERS[vendor])
    # when
    with pytest.raises(ProviderError, match="429") as excinfo:
        build(fake_api.url).embed_documents(["parking"])
    # then: retryable, not before 30 s
    assert excinfo.value.retryable and excinfo.value.retry_after == 30
    assert excinfo.value.kind == ProviderErrorKind.RATE_LIMIT


@pytest.mark.parametrize("vendor", [vendor for vendor in SLOW_VENDORS if vendor != "gemini"])
def test_a_rate_limit_asking_for_a_day_by_http_date_waits_the_longest_a_document_waits(fake_api, vendor):
    # given: an API answering 429 with a Retry-After that is an HTTP date a day ahead (read by
    # supportai/retry_after.py, whose cases it tests)
    _, path, build = SLOW_VENDORS[vendor]
    a_day_ahead = email.utils.formatdate(time.time() + 86_400, usegmt=True)
    fake_api.route(path, lambda body: (429, RATE_LIMITED, {"Retry-After": a_day_ahead}))
    # when
    with pytest.raises(ProviderError, match="429") as excinfo:
        build(fake_api.url).embed_documents(["parking"])
    # then: retryable, after the longest wait a document is left pending for
    assert excinfo.value.retryable and excinfo.value.retry_after == MAX_RETRY_AFTER_S


@pytest.mark.parametrize(
    ("retry_delay", "wait"), [("37.5s", 37.5), ("86400s", MAX_RETRY_AFTER_S), ("soon", None), ("37", None)]
)
def test_gemini_rate_limit_waits_what_retry_info_asks_for_capped(fake_api, retry_delay, wait):
    # given: Google's 429 with a fractional, a day-long or an unreadable RetryInfo delay
    path = "/v1/models/gemini-embedding-001:batchEmbedContents"
    fake_api.route(path, lambda body: (429, _google_rate_limited(retry_delay)))
    # when
    with pytest.raises(ProviderError, match="429") as excinfo:
        GeminiEmbeddingProvider(api_key="g-test", base_url=fake_api.url).embed_documents(["parking"])
    # then: the wait as asked, no longer than any Retry-After is waited; none when it is not a duration
    assert excinfo.value.retry_after == wait and excinfo.value.kind == ProviderErrorKind.RATE_LIMIT


# An error answer by status, as each vendor words it; what the status says decides the kind.
STATUS_KINDS = {
    401: ProviderErrorKind.AUTH,
    403: ProviderErrorKind.AUTH,
    429: ProviderErrorKind.RATE_LIMIT,
    400: ProviderErrorKind.REFUSED,
    404: ProviderErrorKind.REFUSED,
    500: ProviderErrorKind.UNAVAILABLE,
    503: ProviderErrorKind.UNAVAILABLE,
}
VENDOR_SECRET = "Incorrect API key provided: sk-proj-****abcd (org-7Hq2, request req_91b)"


@pytest.mark.parametrize("status", STATUS_KINDS)
@pytest.mark.parametrize("vendor", SLOW_VENDORS)
def test_an_error_answer_has_a_kind_by_status_and_a_public_message_without_the_vendors_words(fake_api, vendor, status):
    # given: an API answering ``status`` with the vendor's words about the operator's account
    _, path, build = SLOW_VENDORS[vendor]
    body = {
        "error": {"code": status, "message": VENDOR_SECRET, "status": "FAILED", "type": "requests"},
        "message": VENDOR_SECRET,
        "detail": VENDOR_SECRET,
    }
    fake_api.route(path, lambda _: (status, body))
    # when
    with pytest.raises(ProviderError) as excinfo:
        build(fake_api.url).embed_documents(["parking"])
    # then: the detail (for the log) has the status and the vendor's words, the public message neither
    error = excinfo.value
    assert error.kind == STATUS_KINDS[status]
    assert f"HTTP {status}" in str(error) and "sk-proj-****abcd" in str(error)
    assert error.public_message == PUBLIC_MESSAGES[error.kind]
    assert "sk-proj" not in error.public_message and str(status) not in error.public_message


NO_VECTORS: dict[str, object] = {
    "openai": {"object": "list", "data": [], "model": "m", "usage": {"prompt_tokens": 1, "total_tokens": 1}},
    "cohere": {"id": "e", "embeddings": {"float": []}, "texts": [], "response_type": "embeddings_by_type"},
    "gemini": {"embeddings": []},
    "voyage": {"object": "list", "data": [], "model": "m", "usage": {"total_tokens": 1}},
}


@pytest.mark.parametrize("vendor", SLOW_VENDORS)
def test_an_embedding_api_that_returns_fewer_vectors_than_texts_is_a_provider_error(fake_api, vendor):
    _, path, build = SLOW_VENDORS[vendor]
    fake_api.route(path, lambda body: (200, NO_VECTORS[vendor]))
    provider = build(fake_api.url)

    with pytest.raises(ProviderError, match="0 vectors for 1 texts") as excinfo:
        provider.embed_query("parking")
    assert excinfo.value.kind == ProviderErrorKind.MALFORMED
    with pytest.raises(ProviderError, match="0 vectors for 2 texts"):
        provider.embed_documents(["parking", "gift cards"])


MALFORMED_EMBEDDINGS = {
    "no vectors at all": {"object": "list", "id": "e"},
    "a JSON string": "embedded",
    "an HTML page": b"<html><body>upstream connect error</body></html>",
}


@pytest.mark.parametrize("answer", MALFORMED_EMBEDDINGS.values(), ids=MALFORMED_EMBEDDINGS)
@pytest.mark.parametrize("vendor", SLOW_VENDORS)
def test_an_embedding_api_that_answers_malformed_json_is_a_provider_error(fake_api, tenant, vendor, answer):
    # given: a vendor (or a proxy before it) answering 200 with something that is not embeddings
    _, path, build = SLOW_VENDORS[vendor]
    fake_api.route(path, lambda body: (200, answer))
    provider = build(fake_api.url)
    add_document(tenant, "Parking", "Free parking behind the studio.")
    # when / then: a provider error, so indexing fails the document with it and serving falls back to keywords
    with pytest.raises(ProviderError) as excinfo:
        provider.embed_documents(["parking"])
    assert excinfo.value.kind == ProviderErrorKind.MALFORMED
    [passage] = retrieve(tenant=tenant, query="parking", k=1, provider=provider)
    assert passage.title == "Parking" and set(passage.ranks) == {"bm25"}


def test_cached_providers_are_released_by_the_exit_hooks_before_shutdown():
    # given a process that built the OpenAI and Cohere clients through the registry
    script = (
        "import atexit, django; django.setup()\n"
        "from knowledge.providers.base import embedding_provider, rerank_provider\n"
        "embedding_provider('openai'); rerank_provider('cohere')\n"
        "before = embedding_provider.cache_info().currsize + rerank_provider.cache_info().currsize\n"
        # when the interpreter runs its exit hooks (as it does before tearing modules down)
        "atexit._run_exitfuncs()\n"
        "after = embedding_provider.cache_info().currsize + rerank_provider.cache_info().currsize\n"
        "print(before, after)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "supportai.settings"}
    project = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=project, timeout=120
    )

    # then the hooks dropped both, and nothing was printed about a client closed too late
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2", "0"]
    assert "Exception ignored" not in result.stderr


def test_openai_vectors_under_a_repeated_index_are_a_provider_error(fake_api):
    # given an answer with one vector per text, but two of them for the first text and none for the second
    def embeddings(body):
        data = [{"object": "embedding", "index": 0, "embedding": _vector(i)} for i in range(len(body["input"]))]
        return 200, {"object": "list", "data": data, "model": "m", "usage": {"prompt_tokens": 2, "total_tokens": 2}}

    fake_api.route("/v1/embeddings", embeddings)
    provider = OpenAIEmbeddingProvider(api_key="sk-test", base_url=f"{fake_api.url}/v1")
    # when / then: no vector lands on the wrong text
    with pytest.raises(ProviderError, match=r"vector indexes \[0, 0\] for 2 texts") as excinfo:
        provider.embed_documents(["parking", "gift cards"])
    assert excinfo.value.retryable


def test_a_gemini_embedding_without_values_is_a_malformed_answer_not_a_wrong_size(fake_api):
    fake_api.route(
        "/v1/models/gemini-embedding-001:batchEmbedContents",
        lambda body: (200, {"embeddings": [{"values": _vector(0)}, {}]}),
    )
    with pytest.raises(ProviderError, match=r"documented response.*without values") as excinfo:
        GeminiEmbeddingProvider(api_key="g-test", base_url=fake_api.url).embed_documents(["a", "b"])
    assert excinfo.value.retryable
