"""Bounded retries of hosted providers' document batches and queries in bulk runs
(knowledge/providers/bulk_retry.py), through each vendor's SDK against the local fake of its API."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
from celery import Task
from django.core.management import CommandError, call_command

from knowledge import services, sources, tasks
from knowledge.indexing import EMBEDDING_FAILED, document_index
from knowledge.management.commands import evaluate_retrieval, reindex, sync_sources, tune_retrieval
from knowledge.models import Document, DocumentStatus, RetrievalTuning
from knowledge.providers import bulk_retry
from knowledge.providers.base import PUBLIC_MESSAGES, ProviderError, ProviderErrorKind
from knowledge.providers.bulk_retry import ATTEMPTS, MAX_WAIT_S, bulk_retries
from knowledge.providers.remote import REMOTE_BATCH, TIMEOUT_S
from knowledge.selectors import retrieve_explained
from knowledge.source_config import LEASE_RENEWAL_S, SYNC_LEASE, url_source_create
from knowledge.tests.factories import add_document
from knowledge.tests.test_command_errors import _beir
from knowledge.tests.test_providers import RATE_LIMIT_ANSWERS, RATE_LIMITED, SLOW_VENDORS, _vector
from knowledge.tuning import MIN_QUERIES

pytestmark = pytest.mark.django_db

UNAVAILABLE = {"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}, "message": "overloaded"}
REFUSED_KEY = {"error": {"code": 401, "message": "bad key", "status": "UNAUTHENTICATED"}, "message": "bad key"}


def _texts(body: dict[str, Any]) -> list[Any]:
    """The texts (or Gemini's requests) of one request, whatever the vendor calls them."""
    return body.get("input") or body.get("texts") or body.get("requests") or []


def _vectors(vendor: str, body: dict[str, Any]) -> dict[str, Any]:
    """A successful answer of ``vendor``'s API to ``body``, in its documented shape."""
    vectors = [_vector(i) for i in range(len(_texts(body)))]
    if vendor == "cohere":
        floats = {"float": vectors}
        return {"id": "e", "embeddings": floats, "texts": body["texts"], "response_type": "embeddings_by_type"}
    if vendor == "gemini":
        return {"embeddings": [{"values": vector} for vector in vectors]}
    data = [{"object": "embedding", "index": i, "embedding": vector} for i, vector in enumerate(vectors)]
    return {"object": "list", "data": data, "model": "m", "usage": {"prompt_tokens": 1, "total_tokens": 1}}


def _answers(vendor: str, *failures: tuple[Any, ...]):
    """A handler answering with ``failures`` in turn, then with vectors."""
    queue = list(failures)
    return lambda body: queue.pop(0) if queue else (200, _vectors(vendor, body))


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits a retry took, instead of sleeping them."""
    taken: list[float] = []
    monkeypatch.setattr(bulk_retry, "pause", taken.append)
    return taken


@pytest.mark.parametrize("vendor", SLOW_VENDORS)
def test_a_rate_limited_batch_is_sent_again_after_the_wait_the_api_asks_for(fake_api, waits, vendor):
    # given: an API answering one 429 asking for 30 s (its vendor's way), then vectors
    _, path, build = SLOW_VENDORS[vendor]
    fake_api.route(path, _answers(vendor, RATE_LIMIT_ANSWERS[vendor]))
    lines: list[str] = []
    # when: a bulk run embeds two passages
    with bulk_retries(notify=lines.append):
        vectors = build(fake_api.url).embed_documents(["parking", "gift cards"])
    # then: the batch went twice, 30 s apart, the operator was told, and both vectors came back
    assert len(vectors) == 2 and len(fake_api.requests) == 2
    assert waits == [30]
    assert lines == [f"rate limited by {vendor}; retrying batch 1 in 30 s (attempt 2 of {ATTEMPTS})"]


@pytest.mark.parametrize("vendor", SLOW_VENDORS)
def test_an_api_that_stays_unavailable_is_tried_a_bounded_number_of_times(fake_api, waits, vendor):
    # given: an API answering 503 to every request
    _, path, build = SLOW_VENDORS[vendor]
    fake_api.route(path, lambda body: (503, UNAVAILABLE))
    lines: list[str] = []
    # when
    with bulk_retries(notify=lines.append), pytest.raises(ProviderError) as excinfo:
        build(fake_api.url).embed_documents(["parking"])
    # then: ATTEMPTS requests, a growing backoff with jitter between them, a line before each wait,
    # and an error of the outage's kind that says the run gave up
    assert len(fake_api.requests) == ATTEMPTS
    assert len(waits) == ATTEMPTS - 1
    assert all(2**n <= wait <= 2 ** (n + 1) for n, wait in enumerate(waits))  # 2, 4, 8, 16 s, upper halves
    assert [line.split(";")[0] for line in lines] == [f"{vendor} is unavailable"] * (ATTEMPTS - 1)
    assert lines[-1].endswith(f"(attempt {ATTEMPTS} of {ATTEMPTS})")
    error = excinfo.value
    assert error.kind == ProviderErrorKind.UNAVAILABLE and "HTTP 503" in str(error)
    assert f"batch 1: gave up after {ATTEMPTS} attempts" in str(error)


@pytest.mark.parametrize("vendor", SLOW_VENDORS)
def test_a_refused_key_is_never_retried(fake_api, waits, vendor):
    _, path, build = SLOW_VENDORS[vendor]
    fake_api.route(path, lambda body: (401, REFUSED_KEY))
    lines: list[str] = []

    with bulk_retries(notify=lines.append), pytest.raises(ProviderError) as excinfo:
        build(fake_api.url).embed_documents(["parking"])

    assert excinfo.value.kind == ProviderErrorKind.AUTH
    assert (len(fake_api.requests), waits, lines) == (1, [], [])


@pytest.mark.parametrize("vendor", SLOW_VENDORS)
def test_an_answer_that_could_not_be_read_is_retried_but_a_wrong_count_of_vectors_is_not(fake_api, waits, vendor):
    # given: a proxy's error page once, then vectors
    _, path, build = SLOW_VENDORS[vendor]
    fake_api.route(path, _answers(vendor, (200, b"<html><body>upstream connect error</body></html>")))
    lines: list[str] = []
    # when / then: sent again, as the table of provider errors says
    with bulk_retries(notify=lines.append):
        assert len(build(fake_api.url).embed_documents(["parking"])) == 1
    [line] = lines
    unread = f"{vendor} sent an answer that could not be read"
    assert re.fullmatch(rf"{unread}; retrying batch 1 in [12](\.[0-9])? s \(attempt 2 of {ATTEMPTS}\)", line)
    # given: an answer with one vector too few, which would shift vectors onto the wrong texts
    fake_api.requests.clear()
    fake_api.route(path, lambda body: (200, _vectors(vendor, {"input": ["one"], "texts": ["one"]})))
    # when / then: not retried
    with bulk_retries(notify=lines.append), pytest.raises(ProviderError, match="1 vectors for 2 texts"):
        build(fake_api.url).embed_documents(["parking", "gift cards"])
    assert len(fake_api.requests) == 1 and len(lines) == 1


@pytest.mark.parametrize("vendor", SLOW_VENDORS)
def test_a_query_in_a_bulk_run_is_sent_again_as_a_batch_is(fake_api, waits, vendor):
    # given: an API answering one 429 asking for 30 s, then vectors
    _, path, build = SLOW_VENDORS[vendor]
    fake_api.route(path, _answers(vendor, RATE_LIMIT_ANSWERS[vendor]))
    lines: list[str] = []
    # when: a bulk run (evaluate_retrieval, tune_retrieval) embeds a question
    with bulk_retries(notify=lines.append):
        vector = build(fake_api.url).embed_query("parking")
    # then: the query went twice, 30 s apart, with the line a batch's retry writes
    assert len(vector) == 384 and len(fake_api.requests) == 2
    assert waits == [30]
    assert lines == [f"rate limited by {vendor}; retrying batch 1 in 30 s (attempt 2 of {ATTEMPTS})"]


def test_serving_tries_a_query_once(tenant, other_tenant, fake_api, waits):
    # given: a rate-limited API; chat's retrieval has the turn's deadline, so its query is tried once
    _, path, build = SLOW_VENDORS["openai"]
    fake_api.route(path, _answers("openai", RATE_LIMIT_ANSWERS["openai"]))
    document = add_document(tenant, "Parking", "Free parking behind the studio.")
    add_document(other_tenant, "Parking", "Parking is free.")
    # when: a chat turn retrieves (hybrid, going on without the side that failed)
    explained = retrieve_explained(tenant=tenant, query="parking", provider=build(fake_api.url))
    # then: one request, no wait; the tenant's passage came from keyword search alone
    assert (len(fake_api.requests), waits) == (1, [])
    assert set(explained.went_without) == {"dense"}
    assert [passage.document_id for passage in explained.passages] == [document.pk]


def test_only_the_failed_batch_is_sent_again_and_the_ones_answered_are_kept(fake_api, waits):
    # given: passages filling two requests, the second answered once with a 429
    _, path, build = SLOW_VENDORS["openai"]
    answered: list[int] = []

    def embeddings(body):
        answered.append(len(body["input"]))
        if len(answered) == 2:
            return 429, RATE_LIMITED, {"Retry-After": "3"}
        return 200, _vectors("openai", body)

    fake_api.route(path, embeddings)
    lines: list[str] = []
    texts = [f"passage {n}" for n in range(REMOTE_BATCH + 4)]
    # when
    with bulk_retries(notify=lines.append):
        vectors = build(fake_api.url).embed_documents(texts)
    # then: the first request was not paid for twice; the second went again, and was counted as batch 2
    assert answered == [REMOTE_BATCH, 4, 4] and len(vectors) == len(texts)
    assert lines == [f"rate limited by openai; retrying batch 2 in 3 s (attempt 2 of {ATTEMPTS})"]


def test_a_wait_longer_than_a_batch_may_wait_ends_the_run_at_once(fake_api, waits):
    # given: an API asking for ten minutes, more than a batch waits
    _, path, build = SLOW_VENDORS["voyage"]
    fake_api.route(path, lambda body: (429, RATE_LIMITED, {"Retry-After": "600"}))
    # when
    with bulk_retries(notify=lambda line: None), pytest.raises(ProviderError) as excinfo:
        build(fake_api.url).embed_documents(["parking"])
    # then: no wait, one request, an error saying why
    assert (len(fake_api.requests), waits) == (1, [])
    assert excinfo.value.kind == ProviderErrorKind.RATE_LIMIT
    too_long = f"waiting 600 s more would pass the {MAX_WAIT_S:.0f} s a batch may wait"
    assert f"(batch 1: gave up at attempt 1: {too_long})" in str(excinfo.value)


def test_outside_a_bulk_run_a_batch_is_tried_once(fake_api, waits, tenant):
    # given: a rate-limited API, and indexing as a Celery task runs it (the task retries the document itself)
    _, path, build = SLOW_VENDORS["openai"]
    fake_api.route(path, _answers("openai", RATE_LIMIT_ANSWERS["openai"]))
    document = add_document(tenant, "Parking", "Free parking behind the studio.")
    # when
    with pytest.raises(ProviderError):
        document_index(tenant=tenant, document=document, provider=build(fake_api.url))
    # then: one request, no wait; the document failed for the task to retry
    assert (len(fake_api.requests), waits) == (1, [])
    document.refresh_from_db()
    assert document.status == DocumentStatus.FAILED


@pytest.fixture
def rate_limited_once(fake_api, waits, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Call it to make every command's provider OpenAI's, whose API answers its first request with a
    429 (Retry-After: 30): documents a test adds before are indexed by the fake embedder."""
    _, path, build = SLOW_VENDORS["openai"]
    fake_api.route(path, _answers("openai", RATE_LIMIT_ANSWERS["openai"]))

    def use_openai() -> None:
        # each command holds services' default_provider under its own name (imported before any test by
        # the root conftest, so these patches are undone after the test)
        for module in (services, sources, reindex, evaluate_retrieval, sync_sources):
            monkeypatch.setattr(module, "default_provider", lambda: build(fake_api.url))

    return use_openai


WAITED = f"rate limited by openai; retrying batch 1 in 30 s (attempt 2 of {ATTEMPTS})"


def test_reindex_waits_out_a_rate_limit_on_stderr_and_finishes(tenant, other_tenant, rate_limited_once, capsys):
    # given
    document = add_document(tenant, "Parking", "Free parking behind the studio.")
    theirs = add_document(other_tenant, "Parking", "Parking is free.")
    rate_limited_once()
    # when
    call_command("reindex", "--tenant", tenant.slug, "--force", "--no-progress")
    # then: the operator read why the run paused, and the run finished; the other tenant was not touched
    captured = capsys.readouterr()
    assert WAITED in captured.err.splitlines()
    assert f"re-indexed 1 document of {tenant.slug} with openai:text-embedding-3-small" in captured.out
    document.refresh_from_db()
    theirs.refresh_from_db()
    assert (document.status, document.embedding_model) == (DocumentStatus.READY, "text-embedding-3-small")
    assert theirs.embedding_model != "text-embedding-3-small"


def test_ingest_waits_out_a_rate_limit_on_stderr_and_indexes_the_file(tenant, tmp_path, rate_limited_once, capsys):
    (tmp_path / "parking.md").write_text("# Parking\n\nFree parking behind the studio.")
    rate_limited_once()

    call_command("ingest", str(tmp_path), "--tenant", tenant.slug, "--no-progress")

    assert WAITED in capsys.readouterr().err.splitlines()
    assert Document.objects.get(tenant=tenant).status == DocumentStatus.READY


def test_evaluate_retrieval_waits_out_a_rate_limit_while_indexing_its_corpus(tmp_path, rate_limited_once, capsys):
    rate_limited_once()

    # dense: a keyword-only evaluation embeds no corpus
    call_command("evaluate_retrieval", "--beir", str(_beir(tmp_path)), "--modes", "dense", "--no-progress")

    captured = capsys.readouterr()
    assert WAITED in captured.err.splitlines()
    assert "2 docs, 2 queries" in captured.out


def _rate_limited_once_on(question: str):
    """An OpenAI API answering the first request that embeds ``question`` with a 429 (Retry-After:
    30), and every other with vectors."""
    limited: list[str] = []

    def embeddings(body: dict[str, Any]) -> tuple[Any, ...]:
        if question in body["input"] and not limited:
            limited.append(question)
            return RATE_LIMIT_ANSWERS["openai"]
        return 200, _vectors("openai", body)

    return embeddings


def test_evaluate_retrieval_waits_out_a_rate_limit_on_a_question(tmp_path, fake_api, waits, monkeypatch, capsys):
    # given: an API that rate-limits the first question once its corpus is embedded
    _, path, build = SLOW_VENDORS["openai"]
    fake_api.route(path, _rate_limited_once_on("where to park"))
    monkeypatch.setattr(evaluate_retrieval, "default_provider", lambda: build(fake_api.url))
    # when
    call_command("evaluate_retrieval", "--beir", str(_beir(tmp_path)), "--modes", "dense", "--no-progress")
    # then: it waited, said so (the corpus was batch 1, the untimed warm-up query batch 2), and measured
    captured = capsys.readouterr()
    assert waits == [30]
    assert f"rate limited by openai; retrying batch 3 in 30 s (attempt 2 of {ATTEMPTS})" in captured.err.splitlines()
    assert "2 docs, 2 queries" in captured.out


def test_tune_retrieval_waits_out_a_rate_limit_on_a_question(
    tenant, other_tenant, tmp_path, fake_api, waits, monkeypatch, capsys
):
    # given: the tenant's labelled questions, and an API that rate-limits the first of them once
    add_document(tenant, "Parking", "Free parking behind the studio.", external_id="parking.md")
    add_document(other_tenant, "Parking", "Parking is free.", external_id="parking.md")
    (tmp_path / "q.jsonl").write_text(
        "".join(json.dumps({"_id": f"q{n}", "text": f"where to park {n}"}) + "\n" for n in range(MIN_QUERIES))
    )
    (tmp_path / "qrels.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"q{n}\tparking.md\t1\n" for n in range(MIN_QUERIES))
    )
    _, path, build = SLOW_VENDORS["openai"]
    fake_api.route(path, _rate_limited_once_on("where to park 0"))
    monkeypatch.setattr(tune_retrieval, "default_provider", lambda: build(fake_api.url))
    # when
    call_command(
        "tune_retrieval",
        "--no-progress",
        "--apply",
        tenant=tenant.slug,
        queries=str(tmp_path / "q.jsonl"),
        qrels=str(tmp_path / "qrels.tsv"),
    )
    # then: it waited, said so, and stored the tenant's scale; the other tenant has none
    captured = capsys.readouterr()
    assert waits == [30] and WAITED in captured.err.splitlines()
    assert f"{MIN_QUERIES} labelled questions of {tenant.slug}" in captured.out
    assert list(RetrievalTuning.objects.values_list("tenant", flat=True)) == [tenant.pk]


@pytest.mark.usefixtures("local_crawl")
def test_sync_sources_waits_out_a_rate_limit_on_stderr_and_stores_the_pages(tenant, site, rate_limited_once, capsys):
    site.article("/", "Parking", "Free parking behind the studio.")
    url_source_create(tenant=tenant, name="Website", config={"start_url": f"{site.url}/"}, sync_now=False)
    rate_limited_once()

    call_command("sync_sources", "--tenant", tenant.slug)

    captured = capsys.readouterr()
    assert WAITED in captured.err.splitlines()
    assert "1 created, 0 updated, 0 unchanged, 0 failed" in captured.out


def test_a_command_that_runs_out_of_attempts_says_so_and_marks_the_batch_failed(tenant, fake_api, waits, monkeypatch):
    # given: an API down for good
    _, path, build = SLOW_VENDORS["openai"]
    fake_api.route(path, lambda body: (503, UNAVAILABLE))
    monkeypatch.setattr(reindex, "default_provider", lambda: build(fake_api.url))
    document = add_document(tenant, "Parking", "Free parking behind the studio.")
    # when / then: one error line naming the batch and the attempts
    with pytest.raises(CommandError, match=rf"HTTP 503.*batch 1: gave up after {ATTEMPTS} attempts"):
        call_command("reindex", "--tenant", tenant.slug, "--force", "--no-progress")
    assert len(fake_api.requests) == ATTEMPTS
    document.refresh_from_db()
    assert document.status == DocumentStatus.FAILED


def _on_a_worker(task: Task, *args: object) -> Any:
    """The task body as a Celery worker runs it (not eagerly, inside a request)."""
    worker_task: Any = task  # celery-stubs type push_request's keywords as the task's own
    worker_task.push_request(id="worker-run", args=list(args), kwargs={}, retries=0, is_eager=False)
    worker_task.request.called_directly = False
    try:
        return worker_task.run(*args)
    finally:
        worker_task.pop_request()


def _queued_for_reindex(tenant) -> Document:
    """A document of ``tenant`` indexed by the fake embedder, then queued for a re-index."""
    document = add_document(tenant, "Parking", "Free parking behind the studio.")
    Document.objects.filter(pk=document.pk).update(status=DocumentStatus.PENDING, reembed=True)
    return document


def _waits_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == tasks.logger.name and r.levelno == logging.WARNING]


def test_a_reindex_task_on_a_worker_waits_out_a_rate_limit_and_logs_the_wait(
    tenant, other_tenant, rate_limited_once, waits, caplog
):
    # given: a document queued for a re-index, and another tenant's pending one named in the same task
    document = _queued_for_reindex(tenant)
    theirs = _queued_for_reindex(other_tenant)
    rate_limited_once()
    # when: a worker runs the task
    with caplog.at_level(logging.WARNING, logger=tasks.logger.name):
        indexed = _on_a_worker(tasks.reindex_documents, tenant.pk, [document.pk, theirs.pk])
    # then: it waited what the API asked for, said so in the log, and finished
    assert (indexed, waits) == (1, [30])
    assert _waits_logged(caplog) == [f"re-index of documents [{document.pk}] of tenant {tenant.pk}: {WAITED}"]
    document.refresh_from_db()
    theirs.refresh_from_db()
    assert (document.status, document.embedding_model) == (DocumentStatus.READY, "text-embedding-3-small")
    assert theirs.status == DocumentStatus.PENDING and theirs.embedding_model != "text-embedding-3-small"


def test_a_reindex_task_on_a_worker_gives_up_on_an_api_that_stays_unavailable(tenant, fake_api, waits, monkeypatch):
    # given: an API down for good
    _, path, build = SLOW_VENDORS["openai"]
    fake_api.route(path, lambda body: (503, UNAVAILABLE))
    document = _queued_for_reindex(tenant)
    monkeypatch.setattr(services, "default_provider", lambda: build(fake_api.url))
    # when
    indexed = _on_a_worker(tasks.reindex_documents, tenant.pk, [document.pk])
    # then: tried ATTEMPTS times, then the document failed with the outage's message
    assert (indexed, len(fake_api.requests), len(waits)) == (0, ATTEMPTS, ATTEMPTS - 1)
    document.refresh_from_db()
    outage = EMBEDDING_FAILED.format(reason=PUBLIC_MESSAGES[ProviderErrorKind.UNAVAILABLE])
    assert (document.status, document.error) == (DocumentStatus.FAILED, outage)


def test_a_reindex_task_on_a_worker_does_not_wait_past_its_time_limit(
    tenant, rate_limited_once, waits, settings, caplog
):
    # given: a task time limit shorter than the 30 s the API asks to wait
    settings.CELERY_TASK_SOFT_TIME_LIMIT = 20
    document = _queued_for_reindex(tenant)
    rate_limited_once()
    # when
    with caplog.at_level(logging.WARNING):
        assert _on_a_worker(tasks.reindex_documents, tenant.pk, [document.pk]) == 0
    # then: no wait; the document failed, and the log says why the run gave up
    assert waits == []
    document.refresh_from_db()
    assert document.status == DocumentStatus.FAILED
    assert "waiting 30 s more would pass the 20 s time limit of the run" in caplog.text


def test_a_reindex_task_run_eagerly_never_waits(tenant, rate_limited_once, waits):
    # given: Celery runs tasks eagerly (no REDIS_URL), so the task runs inside the console's request
    document = _queued_for_reindex(tenant)
    rate_limited_once()
    # when
    assert tasks.reindex_documents.apply(args=(tenant.pk, [document.pk])).get() == 0
    # then: no wait; the document failed, to be re-indexed from the console
    assert waits == []
    document.refresh_from_db()
    assert document.status == DocumentStatus.FAILED


@pytest.fixture
def website(tenant, site) -> int:
    """A URL source of ``tenant`` with one page, not synced yet; returns its id."""
    site.article("/", "Parking", "Free parking behind the studio.")
    source = url_source_create(tenant=tenant, name="Website", config={"start_url": f"{site.url}/"}, sync_now=False)
    return source.pk


@pytest.mark.usefixtures("local_crawl")
def test_a_sync_task_on_a_worker_waits_out_a_rate_limit_and_logs_the_wait(
    tenant, other_tenant, website, rate_limited_once, waits, caplog
):
    rate_limited_once()

    with caplog.at_level(logging.WARNING, logger=tasks.logger.name):
        summary = _on_a_worker(tasks.sync_source, website)

    assert waits == [30] and "1 created, 0 updated, 0 unchanged, 0 failed" in summary
    assert _waits_logged(caplog) == [f"sync of URL source {website} of tenant {tenant.pk}: {WAITED}"]
    assert Document.objects.get(tenant=tenant).status == DocumentStatus.READY
    assert not Document.objects.filter(tenant=other_tenant).exists()


@pytest.mark.usefixtures("local_crawl")
def test_a_sync_task_on_a_worker_gives_up_on_an_api_that_stays_unavailable(
    tenant, website, fake_api, waits, monkeypatch
):
    _, path, build = SLOW_VENDORS["openai"]
    fake_api.route(path, lambda body: (503, UNAVAILABLE))
    monkeypatch.setattr(sources, "default_provider", lambda: build(fake_api.url))

    summary = _on_a_worker(tasks.sync_source, website)

    assert (len(fake_api.requests), len(waits)) == (ATTEMPTS, ATTEMPTS - 1)
    assert summary == sources.PAGES_FAILED.format(failed=1, total=1, codes="1 embedding")
    outage = EMBEDDING_FAILED.format(reason=PUBLIC_MESSAGES[ProviderErrorKind.UNAVAILABLE])
    assert Document.objects.get(tenant=tenant).error == outage


@pytest.mark.usefixtures("local_crawl")
def test_a_sync_task_run_eagerly_never_waits(tenant, website, rate_limited_once, waits):
    rate_limited_once()

    summary = tasks.sync_source.apply(args=(website,)).get()

    assert waits == [] and summary == sources.PAGES_FAILED.format(failed=1, total=1, codes="1 embedding")


def test_a_document_batch_waits_less_than_a_sync_holds_its_claim_between_renewals():
    # A sync renews its claim on the source before each batch, at most LEASE_RENEWAL_S after the last
    # renewal; the batch's requests (each within TIMEOUT_S) and waits must end before SYNC_LEASE.
    assert SYNC_LEASE.total_seconds() > LEASE_RENEWAL_S + ATTEMPTS * TIMEOUT_S + MAX_WAIT_S
