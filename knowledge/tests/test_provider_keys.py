"""A hosted embedding provider without its API key is a configuration error: refused at once, with no
request sent, through each vendor's SDK against the local fake of its API."""

from __future__ import annotations

import dataclasses
import io
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.checks import Warning
from django.core.management import CommandError, call_command

from knowledge import checks, conf
from knowledge.models import Document, DocumentStatus, KnowledgeSource
from knowledge.providers import bulk_retry
from knowledge.providers.base import (
    EMBEDDING_KEYS,
    PUBLIC_MESSAGES,
    EmbeddingProvider,
    ProviderError,
    ProviderErrorKind,
    embedding_provider,
)
from knowledge.providers.bulk_retry import bulk_retries
from knowledge.providers.cohere_provider import CohereEmbeddingProvider, CohereRerankProvider
from knowledge.providers.gemini import GeminiEmbeddingProvider
from knowledge.providers.openai_embeddings import OpenAIEmbeddingProvider
from knowledge.providers.voyage import VoyageEmbeddingProvider
from knowledge.selectors import retrieve_explained
from knowledge.source_config import url_source_create
from knowledge.tests.factories import add_document
from knowledge.tests.http_fake import FakeApi
from knowledge.tests.test_command_errors import _beir
from supportai.models import Tenant

pytestmark = pytest.mark.django_db

KEYLESS: dict[str, Callable[[str], EmbeddingProvider]] = {
    "openai": lambda url: OpenAIEmbeddingProvider(base_url=f"{url}/v1"),
    "cohere": lambda url: CohereEmbeddingProvider(base_url=url),
    "gemini": lambda url: GeminiEmbeddingProvider(base_url=url),
    # 384 dimensions, so that the key, and not the size, is what is missing
    "voyage": lambda url: VoyageEmbeddingProvider(dimensions=384, url=f"{url}/v1/embeddings"),
}


@pytest.fixture
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in EMBEDDING_KEYS.values():
        monkeypatch.delenv(variable, raising=False)


@pytest.mark.parametrize("vendor", KEYLESS)
def test_a_hosted_provider_without_its_key_refuses_at_once_and_sends_nothing(
    fake_api: FakeApi, no_keys: None, vendor: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the vendor's adapter built with no key given and none in the environment
    provider = KEYLESS[vendor](fake_api.url)
    variable = EMBEDDING_KEYS[vendor]
    # what could keep a refusal from coming at once: a wait before a retry, or a look for a key or a name
    # anywhere on the network (a cloud metadata server, a name server)
    waits: list[str] = []
    monkeypatch.setattr(bulk_retry, "pause", lambda seconds: waits.append(f"pause {seconds} s"))
    monkeypatch.setattr(socket.socket, "connect", lambda sock, address: waits.append(f"connect {address}"))
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *args, **kwargs: waits.append(f"look up {host}"))
    # when documents and a query are embedded, even in a bulk run that retries passing errors
    with bulk_retries(notify=waits.append):
        with pytest.raises(ProviderError) as documents:
            provider.embed_documents(["Free parking behind the studio."])
        with pytest.raises(ProviderError) as query:
            provider.embed_query("is parking free")
    # then both are refused as a configuration error naming the variable to set, with nothing sent
    for error in (documents.value, query.value):
        assert error.kind == ProviderErrorKind.UNCONFIGURED and not error.retryable and error.needs_operator
        assert f"KNOWLEDGE_EMBEDDING_PROVIDER={vendor} needs an API key, and {variable} is not set" in str(error)
        assert variable not in error.public_message  # tenants read no operator configuration
    # and nothing was waited for: no retry, no connection, no name looked up
    assert fake_api.requests == [] and waits == []


def test_the_cohere_reranker_without_its_key_sends_nothing(fake_api: FakeApi, no_keys: None) -> None:
    with pytest.raises(ProviderError, match=r"KNOWLEDGE_RERANK_PROVIDER=cohere needs an API key.*leave") as excinfo:
        CohereRerankProvider(base_url=fake_api.url).rerank(query="parking", documents=["Free parking."], top_n=1)
    assert excinfo.value.kind == ProviderErrorKind.UNCONFIGURED
    assert fake_api.requests == []


@pytest.fixture
def switch_to_keyless_openai(
    monkeypatch: pytest.MonkeyPatch, fake_api: FakeApi, no_keys: None
) -> Iterator[Callable[[], None]]:
    """Switches the configuration to OpenAI, whose SDK is pointed at the fake API, with no key set."""

    def switch() -> None:
        monkeypatch.setenv("OPENAI_BASE_URL", f"{fake_api.url}/v1")
        monkeypatch.setattr(conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, embedding_provider="openai"))
        embedding_provider.cache_clear()

    yield switch
    embedding_provider.cache_clear()


@pytest.fixture
def keyless_openai(switch_to_keyless_openai: Callable[[], None]) -> None:
    switch_to_keyless_openai()


NO_KEY = r"KNOWLEDGE_EMBEDDING_PROVIDER=openai needs an API key, and OPENAI_API_KEY is not set: set it"


def test_ingest_without_the_key_refuses_at_once_and_stores_nothing(
    tenant: Tenant, keyless_openai: None, fake_api: FakeApi, tmp_path: Path
) -> None:
    (tmp_path / "parking.md").write_text("# Parking\n\nFree parking behind the studio.")
    with pytest.raises(CommandError, match=rf"^{NO_KEY}.*; nothing was ingested\.$"):
        call_command("ingest", str(tmp_path), "--tenant", tenant.slug, "--no-progress", stdout=io.StringIO())
    assert not KnowledgeSource.objects.exists() and not Document.objects.exists()
    assert fake_api.requests == []


def test_reindex_without_the_key_refuses_at_once_and_changes_nothing(
    tenant: Tenant, other_tenant: Tenant, switch_to_keyless_openai: Callable[[], None], fake_api: FakeApi
) -> None:
    # given documents embedded by another model (the fake's), ours and another tenant's
    ours = add_document(tenant, "Parking", "Free parking behind the studio.")
    theirs = add_document(other_tenant, "Theirs", "Their parking.")
    switch_to_keyless_openai()
    # when ours are re-indexed for OpenAI without its key, then the run stops before anything
    with pytest.raises(CommandError, match=rf"^{NO_KEY}.*; nothing was re-indexed\.$"):
        call_command("reindex", "--tenant", tenant.slug, "--no-progress", stdout=io.StringIO())
    assert fake_api.requests == []
    for document in (ours, theirs):
        assert Document.objects.get(pk=document.pk).status == DocumentStatus.READY
        assert Document.objects.get(pk=document.pk).indexed_at == document.indexed_at
    # and a dry run, which embeds nothing, still counts
    out = io.StringIO()
    call_command("reindex", "--tenant", tenant.slug, "--dry-run", stdout=out)
    assert out.getvalue().startswith("to re-index: 1 document: another embedding model\n")


def test_evaluate_retrieval_without_the_key_refuses_what_needs_vectors(
    keyless_openai: None, fake_api: FakeApi, tmp_path: Path
) -> None:
    folder = _beir(tmp_path)
    with pytest.raises(CommandError, match=rf"^{NO_KEY}.*; nothing was measured\.$"):
        call_command("evaluate_retrieval", "--beir", str(folder), "--no-progress", stdout=io.StringIO())
    assert fake_api.requests == []
    # keywords alone need no embedding, and run
    out = io.StringIO()
    call_command("evaluate_retrieval", "--beir", str(folder), "--modes", "bm25", "--no-progress", stdout=out)
    assert "bm25" in out.getvalue()
    assert not Document.objects.exists()


def test_serving_without_the_key_answers_with_keywords_and_says_why(
    tenant: Tenant, other_tenant: Tenant, switch_to_keyless_openai: Callable[[], None], fake_api: FakeApi
) -> None:
    # given documents indexed before the switch, ours and another tenant's
    add_document(tenant, "Parking", "Free parking is available behind the studio.")
    add_document(other_tenant, "Their parking", "Parking is free at their place.")
    switch_to_keyless_openai()
    # when a question is asked in hybrid mode
    result = retrieve_explained(tenant=tenant, query="is parking free", k=5)
    # then keywords answer alone, with the reason in tenants' words, and nothing was sent
    assert [passage.title for passage in result.passages] == ["Parking"]
    assert [passage.ranks for passage in result.passages] == [{"bm25": 1}]
    assert result.went_without == {"dense": PUBLIC_MESSAGES[ProviderErrorKind.UNCONFIGURED]}
    # and dense mode says so as an error
    with pytest.raises(ProviderError) as excinfo:
        retrieve_explained(tenant=tenant, query="is parking free", k=5, mode="dense")
    assert excinfo.value.kind == ProviderErrorKind.UNCONFIGURED
    assert fake_api.requests == []


def test_the_system_check_warns_of_a_configured_provider_without_its_key(
    monkeypatch: pytest.MonkeyPatch, no_keys: None
) -> None:
    # given OpenAI embeddings and the Cohere reranker configured, neither key set
    monkeypatch.setattr(
        conf,
        "SETTINGS",
        dataclasses.replace(conf.SETTINGS, embedding_provider="openai", rerank_provider="cohere"),
    )
    # then the check names each variable to set
    warnings = checks.check_provider_keys(None)
    assert [(warning.id, type(warning)) for warning in warnings] == [
        ("knowledge.W001", Warning),
        ("knowledge.W002", Warning),
    ]
    assert "OPENAI_API_KEY is not set" in warnings[0].msg and "COHERE_API_KEY is not set" in warnings[1].msg
    # and with the keys set, or the local model, it is quiet
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("COHERE_API_KEY", "co-test")
    assert checks.check_provider_keys(None) == []
    monkeypatch.setattr(conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, embedding_provider="local"))
    monkeypatch.delenv("OPENAI_API_KEY")
    assert checks.check_provider_keys(None) == []


def test_tune_retrieval_and_sync_sources_without_the_key_refuse_at_once(
    tenant: Tenant, local_crawl: None, keyless_openai: None, fake_api: FakeApi, tmp_path: Path
) -> None:
    folder = _beir(tmp_path)
    with pytest.raises(CommandError, match=rf"^{NO_KEY}.*; nothing was measured or stored\.$"):
        call_command(
            "tune_retrieval",
            "--tenant",
            tenant.slug,
            "--queries",
            str(folder / "queries.jsonl"),
            "--qrels",
            str(folder / "qrels" / "test.tsv"),
            "--no-progress",
            stdout=io.StringIO(),
        )
    url_source_create(tenant=tenant, name="Help", config={"sitemap_url": f"{fake_api.url}/sitemap.xml"}, sync_now=False)
    with pytest.raises(CommandError, match=rf"^{NO_KEY}.*; nothing was synced\.$"):
        call_command("sync_sources", "--tenant", tenant.slug, stdout=io.StringIO())
    assert fake_api.requests == []
