"""Knowledge settings are checked when the process starts: a typo stops it with the variable's name."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from knowledge import conf


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("KNOWLEDGE_EMBEDDING_PROVIDER", "openia", r"KNOWLEDGE_EMBEDDING_PROVIDER must be one of cohere, fake, gemini"),
        ("KNOWLEDGE_RERANK_PROVIDER", "cohere-v3", r'KNOWLEDGE_RERANK_PROVIDER must be one of "" \(off\), cohere;'),
        ("KNOWLEDGE_FUSION", "max", r"KNOWLEDGE_FUSION must be one of convex, rrf; got 'max'"),
        ("KNOWLEDGE_LOCAL_PASSAGE_PRECISION", "int8", r"must be one of auto, bf16, fp32; got 'int8'"),
    ],
)
def test_an_unknown_choice_stops_the_process_with_its_variable(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)

    with pytest.raises(ImproperlyConfigured, match=message):
        conf.load()


def test_every_registered_provider_is_accepted(monkeypatch):
    monkeypatch.setenv("KNOWLEDGE_EMBEDDING_PROVIDER", "gemini")
    monkeypatch.setenv("KNOWLEDGE_RERANK_PROVIDER", "cohere")

    settings = conf.load()

    assert (settings.embedding_provider, settings.rerank_provider) == ("gemini", "cohere")


def test_reranking_is_off_unless_asked_for(monkeypatch):
    monkeypatch.delenv("KNOWLEDGE_RERANK_PROVIDER", raising=False)

    assert conf.load().rerank_provider == ""


def test_a_model_the_local_provider_cannot_run_stops_the_process_and_says_what_to_change(monkeypatch):
    monkeypatch.setenv("KNOWLEDGE_EMBEDDING_PROVIDER", "local")
    monkeypatch.setenv("KNOWLEDGE_EMBEDDING_MODEL", "BAAI/bge-small-en-v1.5")
    with pytest.raises(ImproperlyConfigured, match=r"runs only .*all-MiniLM-L6-v2.*not 'BAAI/bge-small-en-v1.5'"):
        conf.load()
    # the packaged model by name, or a hosted provider's model, is accepted
    monkeypatch.setenv("KNOWLEDGE_EMBEDDING_MODEL", "sentence-transformers/all-MiniLM-L6-v2")
    assert conf.load().embedding_model == "sentence-transformers/all-MiniLM-L6-v2"
    monkeypatch.setenv("KNOWLEDGE_EMBEDDING_PROVIDER", "openai")
    monkeypatch.setenv("KNOWLEDGE_EMBEDDING_MODEL", "text-embedding-3-large")
    assert conf.load().embedding_model == "text-embedding-3-large"


def test_the_retrieval_time_limit_defaults_to_two_seconds_and_zero_turns_it_off(monkeypatch):
    monkeypatch.delenv("KNOWLEDGE_RETRIEVAL_TIMEOUT_MS", raising=False)
    assert conf.load().retrieval_timeout_ms == 2000
    monkeypatch.setenv("KNOWLEDGE_RETRIEVAL_TIMEOUT_MS", "0")
    assert conf.load().retrieval_timeout_ms == 0
    monkeypatch.setenv("KNOWLEDGE_RETRIEVAL_TIMEOUT_MS", "-1")
    with pytest.raises(ImproperlyConfigured, match="KNOWLEDGE_RETRIEVAL_TIMEOUT_MS"):
        conf.load()


def test_the_url_sync_interval_is_at_most_what_a_source_may_hold(monkeypatch):
    monkeypatch.setenv("KNOWLEDGE_URL_SYNC_INTERVAL_MINUTES", "525600")
    assert conf.load().url_sync_interval_minutes == 525_600
    monkeypatch.setenv("KNOWLEDGE_URL_SYNC_INTERVAL_MINUTES", "1000000")
    with pytest.raises(ImproperlyConfigured, match="KNOWLEDGE_URL_SYNC_INTERVAL_MINUTES"):
        conf.load()


def test_an_upload_request_takes_100_mib_by_default_and_at_least_one_file_of_the_largest_size(monkeypatch):
    monkeypatch.delenv("KNOWLEDGE_MAX_UPLOAD_BYTES", raising=False)
    monkeypatch.delenv("KNOWLEDGE_MAX_UPLOAD_REQUEST_BYTES", raising=False)
    assert conf.load().max_upload_request_bytes == 100 * 1024 * 1024
    # a file's limit over it raises the default with it
    monkeypatch.setenv("KNOWLEDGE_MAX_UPLOAD_BYTES", str(200 * 1024 * 1024))
    assert conf.load().max_upload_request_bytes == 200 * 1024 * 1024 + 262_144
    # and a request limit that would refuse a file of the largest size stops the process
    monkeypatch.setenv("KNOWLEDGE_MAX_UPLOAD_BYTES", "1048576")
    monkeypatch.setenv("KNOWLEDGE_MAX_UPLOAD_REQUEST_BYTES", "1048576")
    with pytest.raises(ImproperlyConfigured, match=r"REQUEST_BYTES must be at least .* \(1310720\), .*; got 1048576"):
        conf.load()
    monkeypatch.setenv("KNOWLEDGE_MAX_UPLOAD_REQUEST_BYTES", "40mb")
    with pytest.raises(ImproperlyConfigured, match=r"KNOWLEDGE_MAX_UPLOAD_REQUEST_BYTES must be an integer"):
        conf.load()
    monkeypatch.setenv("KNOWLEDGE_MAX_UPLOAD_REQUEST_BYTES", "1310720")
    assert conf.load().max_upload_request_bytes == 1_310_720
