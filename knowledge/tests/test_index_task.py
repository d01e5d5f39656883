"""The Celery indexing task: provider errors mark the document failed; only passing ones are retried."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from celery.exceptions import Reject, Retry, SoftTimeLimitExceeded
from django.core.files.uploadedfile import SimpleUploadedFile
from kombu.exceptions import OperationalError

from knowledge import indexing, services, tasks, uploads
from knowledge.indexing import EMBEDDING_FAILED
from knowledge.models import Chunk, Document, DocumentStatus
from knowledge.parsed import ParsedDocument
from knowledge.providers.base import PUBLIC_MESSAGES, ProviderError, ProviderErrorKind
from knowledge.providers.cohere_provider import CohereEmbeddingProvider
from knowledge.providers.fake import FakeEmbeddingProvider
from knowledge.services import document_upsert, source_get_or_create
from knowledge.tests.embedders import RecordingEmbedder
from knowledge.uploads import files_upload
from supportai.models import Tenant

ARTICLE = ParsedDocument("parking.md", "Parking", "Free parking is behind the studio on Pearl Street.")
# What a document says after an outage, and after a model too wide for the vector column.
OUTAGE = EMBEDDING_FAILED.format(reason=PUBLIC_MESSAGES[ProviderErrorKind.UNAVAILABLE])
WRONG_MODEL = EMBEDDING_FAILED.format(reason=PUBLIC_MESSAGES[ProviderErrorKind.MISCONFIGURED])


class FlakyEmbedder(FakeEmbeddingProvider):
    """Fails with a passing error ``failures`` times (asking to wait ``retry_after``), then embeds."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.calls = 0
        self.retry_after: float | None = None

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        if self.calls <= self.failures:
            raise ProviderError(
                "503 from the embedding service",
                kind=ProviderErrorKind.UNAVAILABLE,
                retryable=True,
                retry_after=self.retry_after,
            )
        return super().embed_documents(texts)


class WideEmbedder(FakeEmbeddingProvider):
    """A provider whose vectors the vector(384) column cannot hold."""

    dimensions = 1024

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        return super().embed_documents(texts)


def _pending(tenant: Tenant) -> Document:
    source = source_get_or_create(tenant=tenant, name="uploads")
    document, _ = document_upsert(tenant=tenant, source=source, parsed=ARTICLE, model="fake-hash-384")
    return document


def _run_task(document: Document) -> int:
    result: int = tasks.index_document.apply(args=(document.pk,)).get()
    return result


@pytest.fixture
def use_provider(monkeypatch: pytest.MonkeyPatch):
    def install(provider: FakeEmbeddingProvider) -> FakeEmbeddingProvider:
        monkeypatch.setattr(indexing, "default_provider", lambda: provider)
        return provider

    return install


def _run_on_a_worker(document: Document, *, retries: int = 0) -> int:
    """The task body as a worker runs it (not eager): a retry is queued, which raises ``Retry``."""
    task: Any = tasks.index_document  # celery-stubs type push_request's keywords as the task's own
    task.push_request(id="worker-run", args=[document.pk], kwargs={}, retries=retries, is_eager=False)
    task.request.called_directly = False
    try:
        result: int = task.run(document.pk)
    finally:
        task.pop_request()
    return result


@pytest.mark.django_db
def test_on_a_worker_a_passing_provider_error_is_retried(tenant, use_provider):
    use_provider(FlakyEmbedder(failures=1))
    document = _pending(tenant)

    # The test settings run the queued retry at once (eagerly), and it indexes the document.
    with pytest.raises(Retry):
        _run_on_a_worker(document)

    document.refresh_from_db()
    assert document.status == DocumentStatus.READY
    assert Chunk.objects.filter(document=document, level="child").count() == 1


class WatchedFlakyEmbedder(FlakyEmbedder):
    """A ``FlakyEmbedder`` that notes, at each call, the status and error a client reads meanwhile."""

    def __init__(self, failures: int) -> None:
        super().__init__(failures)
        self.seen: list[tuple[str, str]] = []

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        self.seen.append(Document.objects.values_list("status", "error").get())
        return super().embed_documents(texts)


@pytest.mark.django_db
def test_on_a_worker_a_document_waiting_for_its_retry_shows_pending_not_failed(tenant, use_provider):
    # given an embedding service that fails once with a passing error
    provider = use_provider(WatchedFlakyEmbedder(failures=1))
    document = _pending(tenant)
    # when a worker runs the task (the test settings run the queued retry at once)
    with pytest.raises(Retry):
        _run_on_a_worker(document)
    # then until the retry ran the document was still pending, saying why it waits, and the retry indexed it
    outage = PUBLIC_MESSAGES[ProviderErrorKind.UNAVAILABLE]
    note = tasks.INDEX_RETRYING.format(reason=outage, attempt=1, retries=3, seconds=2)
    assert provider.seen == [(DocumentStatus.PENDING, ""), (DocumentStatus.PENDING, note)]
    document.refresh_from_db()
    assert (document.status, document.error) == (DocumentStatus.READY, "")


@pytest.mark.django_db
def test_on_a_worker_a_retry_that_cannot_be_queued_leaves_the_document_failed(tenant, use_provider, monkeypatch):
    # given an embedding service that fails with a passing error, and a task queue that refuses work
    use_provider(FlakyEmbedder(failures=1))
    document = _pending(tenant)

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.index_document, "apply_async", broker_down)
    # when a worker runs the task, then Celery drops the message
    with pytest.raises(Reject):
        _run_on_a_worker(document)
    # and the document says it failed instead of waiting for a retry that never comes
    document.refresh_from_db()
    assert (document.status, document.error) == (DocumentStatus.FAILED, OUTAGE)


@pytest.mark.django_db
def test_on_a_worker_a_rate_limit_is_retried_no_sooner_than_its_retry_after(tenant, use_provider):
    # given: a provider rate-limited for 30 s, longer than the first backoff
    provider = use_provider(FlakyEmbedder(failures=1))
    provider.retry_after = 30
    document = _pending(tenant)
    # when / then: the retry is queued 30 s out
    with pytest.raises(Retry) as excinfo:
        _run_on_a_worker(document)
    assert excinfo.value.when == 30 > tasks.RETRY_BACKOFF_S


@pytest.mark.django_db
def test_on_a_worker_the_last_retry_leaves_the_document_failed_with_its_error(tenant, use_provider):
    provider = use_provider(FlakyEmbedder(failures=100))
    document = _pending(tenant)

    assert _run_on_a_worker(document, retries=tasks.MAX_RETRIES) == 0

    document.refresh_from_db()
    assert provider.calls == 1
    assert (document.status, document.error) == (DocumentStatus.FAILED, OUTAGE)


@pytest.mark.django_db
def test_run_eagerly_a_provider_error_fails_the_document_without_raising(tenant, use_provider):
    provider = use_provider(FlakyEmbedder(failures=1))
    document = _pending(tenant)

    assert _run_task(document) == 0

    document.refresh_from_db()
    assert provider.calls == 1
    assert (document.status, document.error) == (DocumentStatus.FAILED, OUTAGE)


@pytest.mark.django_db
def test_an_upload_survives_an_embedding_outage(tenant, use_provider, django_capture_on_commit_callbacks):
    use_provider(FlakyEmbedder(failures=100))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        (result,) = files_upload(
            tenant=tenant, files=[SimpleUploadedFile("parking.md", b"# Parking\n\nFree parking behind the studio.")]
        )

    assert len(callbacks) == 1
    assert result.file.error == ""
    document = Document.objects.get(tenant=tenant, pk=result.documents[0].id)
    assert (document.status, document.error) == (DocumentStatus.FAILED, OUTAGE)


@pytest.mark.django_db
def test_a_wrong_vector_dimension_fails_the_document_once_without_calling_the_provider(tenant, use_provider, caplog):
    provider = use_provider(WideEmbedder())
    document = _pending(tenant)

    # Even on a worker: retrying cannot make the column wider.
    assert _run_on_a_worker(document) == 0

    document.refresh_from_db()
    assert provider.calls == 0
    # the tenant cannot choose the model: they are told it is the platform's, the operators the sizes
    assert (document.status, document.error) == (DocumentStatus.FAILED, WRONG_MODEL)
    assert "returns 1024 dimensions but the vector column holds 384" in caplog.text
    assert not Chunk.objects.filter(document=document).exists()


@pytest.mark.django_db
def test_a_wrong_dimension_is_reported_as_failed_by_the_ingest_service(tenant):
    from knowledge.services import Outcome, parsed_ingest

    source = source_get_or_create(tenant=tenant, name="uploads")
    result = parsed_ingest(
        tenant=tenant, source=source, name="parking.md", parsed_documents=[ARTICLE], provider=WideEmbedder()
    )

    assert result.outcomes == {Outcome.FAILED: 1}
    document = Document.objects.get(tenant=tenant, external_id="parking.md")
    assert document.status == DocumentStatus.FAILED


@pytest.mark.django_db
def test_indexing_one_tenants_document_leaves_another_tenants_pending_one_alone(tenant, other_tenant, use_provider):
    use_provider(FlakyEmbedder(failures=0))
    mine, theirs = _pending(tenant), _pending(other_tenant)

    assert _run_task(mine) == 1

    theirs.refresh_from_db()
    assert theirs.status == DocumentStatus.PENDING
    assert not Chunk.objects.filter(tenant=other_tenant).exists()
    assert Chunk.objects.filter(tenant=tenant, level="child").count() == 1


SECOND = ParsedDocument("gifts.md", "Gift cards", "Gift cards can be bought online and never expire.")


def _indexed(tenant: Tenant, parsed: ParsedDocument = ARTICLE) -> Document:
    source = source_get_or_create(tenant=tenant, name="uploads")
    document, _ = document_upsert(tenant=tenant, source=source, parsed=parsed, model="fake-hash-384")
    indexing.document_index(tenant=tenant, document=document, provider=FakeEmbeddingProvider())
    document.refresh_from_db()
    return document


def _run_reindex(tenant: Tenant, document_ids: list[int]) -> int:
    result: int = tasks.reindex_documents.apply(args=(tenant.pk, document_ids)).get()
    return result


def test_reindex_task_embeds_every_child_again(tenant, monkeypatch):
    # given an indexed document whose children's vectors could be reused
    document = _indexed(tenant)
    Document.objects.filter(pk=document.pk).update(status=DocumentStatus.PENDING)
    provider = RecordingEmbedder()
    monkeypatch.setattr(services, "default_provider", lambda: provider)
    # when the re-index task runs
    assert _run_reindex(tenant, [document.pk]) == 1
    # then every child went through the model and the document is ready again
    document.refresh_from_db()
    children = Chunk.objects.filter(document=document, level="child").count()
    assert children and len(provider.seen) == children
    assert (document.status, document.error) == (DocumentStatus.READY, "")


def test_reindex_task_leaves_no_document_pending_when_the_provider_fails(tenant, monkeypatch):
    # given two indexed documents re-indexed one per batch, and a provider that is down
    first, second = _indexed(tenant), _indexed(tenant, SECOND)
    Document.objects.filter(pk__in=[first.pk, second.pk]).update(status=DocumentStatus.PENDING)
    monkeypatch.setattr(services, "INDEX_BATCH", 1)
    monkeypatch.setattr(services, "default_provider", lambda: FlakyEmbedder(failures=99))
    # when the task runs
    assert _run_reindex(tenant, [first.pk, second.pk]) == 0
    # then the batch that met the error has it, the one never reached says the run stopped
    first.refresh_from_db()
    second.refresh_from_db()
    stopped = tasks.REINDEX_STOPPED.format(reason=PUBLIC_MESSAGES[ProviderErrorKind.UNAVAILABLE])
    assert (first.status, first.error) == (DocumentStatus.FAILED, OUTAGE)
    assert (second.status, second.error) == (DocumentStatus.FAILED, stopped)
    assert Chunk.objects.filter(document=second).exists()  # the old chunks still serve


def test_reindex_task_fails_pending_documents_on_an_internal_error_and_raises(tenant, monkeypatch):
    document = _indexed(tenant)
    Document.objects.filter(pk=document.pk).update(status=DocumentStatus.PENDING)

    def broken(**kwargs):
        raise RuntimeError("deadlock detected")

    monkeypatch.setattr(tasks, "tenant_reindex", broken)

    with pytest.raises(RuntimeError, match="deadlock detected"):
        _run_reindex(tenant, [document.pk])

    document.refresh_from_db()
    assert (document.status, document.error) == (DocumentStatus.FAILED, tasks.REINDEX_INTERNAL_ERROR)


class TimedOutEmbedder(FakeEmbeddingProvider):
    """Embeds until Celery's soft time limit strikes during its call."""

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        raise SoftTimeLimitExceeded()


def test_a_reindex_stopped_by_the_soft_time_limit_fails_its_documents_naming_the_limit(
    tenant, other_tenant, monkeypatch, settings
):
    # given a pending re-index, another tenant's pending document whose id is passed along, and a
    # model that is still embedding when the task's soft time limit strikes
    settings.CELERY_TASK_SOFT_TIME_LIMIT = 900
    document = _indexed(tenant)
    Document.objects.filter(pk=document.pk).update(status=DocumentStatus.PENDING)
    theirs = _pending(other_tenant)
    monkeypatch.setattr(services, "default_provider", lambda: TimedOutEmbedder())
    # when the task runs, it is stopped (and Celery logs it)
    with pytest.raises(SoftTimeLimitExceeded):
        _run_reindex(tenant, [document.pk, theirs.pk])
    # then the document says the time limit stopped it, naming the setting, not an internal error
    document.refresh_from_db()
    assert (document.status, document.error) == (DocumentStatus.FAILED, tasks.REINDEX_TIME_LIMIT.format(seconds=900))
    assert "CELERY_TASK_SOFT_TIME_LIMIT_S" in document.error and "900 s" in document.error
    # and the other tenant's document is left as it was
    theirs.refresh_from_db()
    assert (theirs.status, theirs.error) == (DocumentStatus.PENDING, "")


def test_a_reindex_that_cannot_be_queued_fails_the_documents(tenant, monkeypatch, django_capture_on_commit_callbacks):
    # given an indexed document and a task queue that refuses work
    document = _indexed(tenant)

    def broker_down(*args):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.reindex_documents, "delay", broker_down)
    # when a re-index is queued
    with django_capture_on_commit_callbacks(execute=True):
        assert services.documents_reindex_enqueue(tenant=tenant, document_ids=[document.pk]) == 1
    # then the document does not stay pending: it says what happened
    document.refresh_from_db()
    assert (document.status, document.error) == (DocumentStatus.FAILED, services.REINDEX_NOT_QUEUED)


def test_reindex_task_touches_only_the_named_tenants_documents(tenant, other_tenant, monkeypatch):
    # given another tenant's pending document whose id is passed with this tenant
    theirs = _pending(other_tenant)
    provider = RecordingEmbedder()
    monkeypatch.setattr(services, "default_provider", lambda: provider)
    # when the task runs for this tenant
    assert _run_reindex(tenant, [theirs.pk]) == 0
    # then nothing was embedded and their document is as it was
    theirs.refresh_from_db()
    assert len(provider.seen) == 0 and theirs.status == DocumentStatus.PENDING
    assert not Chunk.objects.filter(document=theirs).exists()


def test_queueing_a_reindex_ignores_another_tenants_documents(tenant, other_tenant, monkeypatch):
    theirs = _indexed(other_tenant)
    queued: list[tuple[int, list[int]]] = []
    monkeypatch.setattr(tasks.reindex_documents, "delay", lambda *args: queued.append(args))

    assert services.documents_reindex_enqueue(tenant=tenant, document_ids=[theirs.pk]) == 0

    theirs.refresh_from_db()
    assert theirs.status == DocumentStatus.READY and queued == []


def test_vectors_of_another_size_than_declared_fail_the_document_with_a_clear_error(
    tenant, use_provider, fake_api, caplog
):
    # given Cohere set to a model whose vectors have 1024 dimensions (the adapter declares 384)
    def embed(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        floats = [[0.5] * 1024 for _ in body["texts"]]
        return 200, {"id": "e1", "embeddings": {"float": floats}, "texts": body["texts"], "meta": {}}

    fake_api.route("/v2/embed", embed)
    use_provider(CohereEmbeddingProvider(model="embed-english-v3.0", api_key="co-test", base_url=fake_api.url))
    document = _pending(tenant)
    # when a worker runs the task: retrying cannot make the column wider
    assert _run_on_a_worker(document) == 0
    # then the document is failed, not left pending by a database error, and the log names the sizes
    document.refresh_from_db()
    assert (document.status, document.error) == (DocumentStatus.FAILED, WRONG_MODEL)
    assert "1024 dimensions from the model 'embed-english-v3.0', not the 384" in caplog.text
    assert not Chunk.objects.filter(document=document).exists()


def test_an_upload_whose_indexing_cannot_be_queued_fails_its_documents(
    tenant, monkeypatch, django_capture_on_commit_callbacks
):
    # given a task queue that refuses work
    def broker_down(*args):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.index_document, "delay", broker_down)
    # when a file is uploaded
    with django_capture_on_commit_callbacks(execute=True):
        (result,) = files_upload(
            tenant=tenant, files=[SimpleUploadedFile("parking.md", b"# Parking\n\nFree parking behind the studio.")]
        )
    # then the file is stored, and its document says it was not indexed instead of staying pending
    assert result.file.error == "" and len(result.documents) == 1
    document = Document.objects.get(tenant=tenant, pk=result.documents[0].id)
    assert (document.status, document.error) == (DocumentStatus.FAILED, uploads.INDEX_NOT_QUEUED)


class OutpacedEmbedder(FakeEmbeddingProvider):
    """While it embeds, the document changes and another run indexes the new version; then it fails."""

    def __init__(self, tenant: Tenant) -> None:
        super().__init__()
        self.tenant = tenant

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        source = source_get_or_create(tenant=self.tenant, name="uploads")
        newer = ParsedDocument("parking.md", "Parking", "Parking moved to the garage on Oak Street.")
        document, _ = document_upsert(tenant=self.tenant, source=source, parsed=newer, model=self.model)
        indexing.document_index(tenant=self.tenant, document=document, provider=FakeEmbeddingProvider())
        raise ProviderError("timed out", retryable=True)


def test_a_run_that_fails_on_an_outdated_version_leaves_the_indexed_newer_one_ready(tenant, use_provider):
    # given a pending document whose run is overtaken by a run for its next version, and then fails
    use_provider(OutpacedEmbedder(tenant))
    document = _pending(tenant)
    # when the outdated run gives up
    assert _run_task(document) == 0
    # then the newer version, indexed meanwhile, stays ready without the outdated run's error
    document.refresh_from_db()
    assert (document.status, document.error) == (DocumentStatus.READY, "")
    assert "garage" in Chunk.objects.get(document=document, level="child").text


def test_on_a_worker_an_internal_error_fails_the_document_and_raises(tenant, monkeypatch):
    # given a pending document and an indexing run that breaks on something other than the provider
    document = _pending(tenant)

    def broken(**kwargs):
        raise RuntimeError("server closed the connection unexpectedly")

    monkeypatch.setattr(tasks, "document_index", broken)
    # when a worker runs the task, then the error reaches Celery's log
    with pytest.raises(RuntimeError, match="server closed the connection"):
        _run_on_a_worker(document)
    # and the document says so instead of staying pending for good
    document.refresh_from_db()
    assert (document.status, document.error) == (DocumentStatus.FAILED, tasks.INDEX_INTERNAL_ERROR)


def test_a_document_of_a_tenant_deactivated_before_its_indexing_ran_is_failed_not_embedded(
    tenant, other_tenant, use_provider
):
    # given a pending upload of each tenant, and the first tenant deactivated before the task runs
    provider = use_provider(RecordingEmbedder())
    mine, theirs = _pending(tenant), _pending(other_tenant)
    Tenant.objects.filter(pk=tenant.pk).update(is_active=False)
    # when the indexing task runs
    assert _run_task(mine) == 0
    # then nothing was embedded for it, and the document says why rather than staying pending
    mine.refresh_from_db()
    assert len(provider.seen) == 0 and not Chunk.objects.filter(document=mine).exists()
    assert (mine.status, mine.error) == (DocumentStatus.FAILED, tasks.TENANT_INACTIVE)
    # and the active tenant's document is indexed as usual
    assert _run_task(theirs) == 1
    theirs.refresh_from_db()
    assert theirs.status == DocumentStatus.READY


def test_a_reindex_of_a_tenant_deactivated_before_it_ran_embeds_nothing_and_fails_the_documents(tenant, monkeypatch):
    # given a re-index queued, then the tenant deactivated
    document = _indexed(tenant)
    Document.objects.filter(pk=document.pk).update(status=DocumentStatus.PENDING)
    provider = RecordingEmbedder()
    monkeypatch.setattr(services, "default_provider", lambda: provider)
    Tenant.objects.filter(pk=tenant.pk).update(is_active=False)
    # when the task runs
    assert _run_reindex(tenant, [document.pk]) == 0
    # then nothing was embedded, the old chunks still serve, and the document says why
    document.refresh_from_db()
    assert len(provider.seen) == 0 and Chunk.objects.filter(document=document).exists()
    assert (document.status, document.error) == (DocumentStatus.FAILED, tasks.TENANT_INACTIVE)


def test_run_eagerly_an_internal_error_on_one_document_leaves_the_uploads_others_indexed(
    tenant, monkeypatch, use_provider, django_capture_on_commit_callbacks
):
    # given Celery eager (no REDIS_URL: the task runs inside the upload) and indexing that breaks on one row
    use_provider(FakeEmbeddingProvider())
    real_document_index = tasks.document_index

    def breaks_on_wifi(*, tenant: Tenant, document: Document) -> int:
        if document.title == "Is there wifi?":
            raise RuntimeError("index bug")
        return real_document_index(tenant=tenant, document=document)

    monkeypatch.setattr(tasks, "document_index", breaks_on_wifi)
    faq = b"question,answer\nIs there wifi?,Yes.\nDo you sell gift cards?,Yes.\nIs there parking?,Behind us.\n"
    # when a CSV FAQ of three rows is uploaded
    with django_capture_on_commit_callbacks(execute=True):
        (result,) = files_upload(tenant=tenant, files=[SimpleUploadedFile("faq.csv", faq)])
    # then the row that broke says so, and the rows after it were indexed, not failed as "not queued"
    states = dict(Document.objects.for_tenant(tenant).values_list("title", "status"))
    errors = dict(Document.objects.for_tenant(tenant).values_list("title", "error"))
    assert len(result.documents) == 3
    assert (states["Is there wifi?"], errors["Is there wifi?"]) == (DocumentStatus.FAILED, tasks.INDEX_INTERNAL_ERROR)
    assert states["Do you sell gift cards?"] == states["Is there parking?"] == DocumentStatus.READY
