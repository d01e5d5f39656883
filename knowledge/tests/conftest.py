"""Knowledge tests run on the deterministic fake embedder unless a test asks for the real model."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from pytest_django import DjangoDbBlocker

from knowledge import conf, dense, services
from knowledge.providers.base import EmbeddingProvider, embedding_provider
from knowledge.providers.fake import FakeEmbeddingProvider
from knowledge.tests import migration_state
from knowledge.tests.embedders import RecordingEmbedder
from knowledge.tests.http_fake import fake_api  # noqa: F401  (fixture for provider tests)
from knowledge.tests.site_fake import site  # noqa: F401  (fixture for URL source tests)


@pytest.fixture(autouse=True)
def fake_embeddings(monkeypatch: pytest.MonkeyPatch) -> FakeEmbeddingProvider:
    monkeypatch.setattr(
        conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, embedding_provider="fake", rerank_provider="")
    )
    provider = embedding_provider("fake")
    assert isinstance(provider, FakeEmbeddingProvider)
    return provider


@pytest.fixture(autouse=True)
def latest_knowledge_schema(django_db_blocker: DjangoDbBlocker) -> Iterator[None]:
    """A migration test leaves knowledge at the migration it tested; the tests after it need every
    column of the latest one, so it is migrated back when the test that moved it ends."""
    yield
    if migration_state.MOVED:
        with django_db_blocker.unblock():
            migration_state.migrate_knowledge_to_latest()


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> RecordingEmbedder:
    """The fake embedder of every ingest run, counting the texts it embeds."""
    embedder = RecordingEmbedder()
    monkeypatch.setattr(services, "default_provider", lambda: embedder)
    return embedder


@pytest.fixture(scope="session")
def local_model() -> EmbeddingProvider:
    """The real all-MiniLM-L6-v2, loaded once for the whole session."""
    return embedding_provider("local")


@pytest.fixture
def local_crawl(monkeypatch: pytest.MonkeyPatch, fake_embeddings: FakeEmbeddingProvider) -> None:
    """Let the crawler reach the test site on 127.0.0.1 (refused by default), with a short timeout."""
    monkeypatch.setattr(
        conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, crawl_allow_private=True, crawl_timeout_s=1)
    )


@pytest.fixture
def slow_dense(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dense search that sleeps in PostgreSQL before answering (a statement a time limit cancels)."""
    monkeypatch.setattr(dense, "DENSE_SQL", f"SELECT found.* FROM ({dense.DENSE_SQL}) AS found, pg_sleep(30)")
