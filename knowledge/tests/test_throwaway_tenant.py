"""The throwaway tenant of an evaluation or a benchmark is deleted when SIGTERM or SIGHUP ends the run."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from knowledge import evaluation
from knowledge.evaluation import evaluate_beir, throwaway_tenant
from knowledge.models import Chunk, Document, Posting
from knowledge.tests.factories import add_document
from supportai.management.console import terminating_signals_exit
from supportai.models import Tenant


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "corpus.jsonl").write_text(json.dumps({"_id": "d1", "title": "Parking", "text": "Free parking."}))
    (tmp_path / "queries.jsonl").write_text('{"_id": "q1", "text": "where to park"}\n')
    (tmp_path / "qrels").mkdir()
    (tmp_path / "qrels" / "test.tsv").write_text("q1\td1\t1\n")
    return tmp_path


@pytest.fixture
def received() -> Any:
    """A handler of SIGTERM and SIGHUP that only records them (pytest would die of SIGTERM without
    one), the one a run's own handlers must leave in place afterwards."""
    signals: list[int] = []

    def record(signum: int, frame: FrameType | None) -> None:
        signals.append(signum)

    previous = {number: signal.signal(number, record) for number in (signal.SIGTERM, signal.SIGHUP)}
    yield record, signals
    for number, handler in previous.items():
        signal.signal(number, handler)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_during_an_evaluation_deletes_its_tenant(db, folder, monkeypatch, received, fake_embeddings, signum):
    # given an evaluation that receives the signal while it runs its queries (as `timeout` sends it)
    record, signals = received
    tenants_before = set(Tenant.objects.values_list("pk", flat=True))
    seen: list[int] = []

    def signalled(*, tenant: Tenant, **kwargs: Any) -> Any:
        seen.append(Document.objects.for_tenant(tenant).count())
        os.kill(os.getpid(), signum)
        return {}

    monkeypatch.setattr(evaluation, "run_modes", signalled)

    # when / then the run ends as an exit with the signal's status, not carrying on
    with pytest.raises(SystemExit) as stopped:
        evaluate_beir(folder, modes=["bm25"], provider=fake_embeddings)
    assert stopped.value.code == 128 + signum
    # and the tenant that held the corpus is gone, and the handler before the run is back
    assert seen == [1]
    assert set(Tenant.objects.values_list("pk", flat=True)) == tenants_before
    assert not Document.objects.exists()
    assert signals == []
    assert signal.getsignal(signum) is record


def test_a_tenant_that_ends_normally_is_deleted_and_the_handlers_restored(db, received):
    record, _ = received

    with throwaway_tenant(name="Throwaway", slug="throwaway") as tenant:
        assert signal.getsignal(signal.SIGTERM) is not record

    assert not Tenant.objects.filter(pk=tenant.pk).exists()
    assert signal.getsignal(signal.SIGTERM) is signal.getsignal(signal.SIGHUP) is record


def test_outside_the_main_thread_the_handlers_are_left_alone(received):
    record, _ = received
    seen: list[object] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with terminating_signals_exit():
                seen.append(signal.getsignal(signal.SIGTERM))
        except BaseException as exc:  # signal.signal raises ValueError off the main thread
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()

    assert errors == []
    assert seen == [record]


def test_a_signal_the_process_ignores_stays_ignored(db, received):
    # given SIGHUP ignored, as under nohup
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    # when it arrives during the block
    with throwaway_tenant(name="Throwaway", slug="throwaway") as tenant:
        os.kill(os.getpid(), signal.SIGHUP)
        # then the run goes on
        assert Tenant.objects.filter(pk=tenant.pk).exists()
    assert not Tenant.objects.filter(pk=tenant.pk).exists()
    assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN


def test_a_second_signal_during_the_clean_up_does_not_stop_it(db, monkeypatch, received):
    # given a clean-up that receives another signal as it starts (a closed session sends SIGHUP twice)
    record, signals = received
    drop = evaluation.drop_tenants

    def signalled_drop(ids: list[int]) -> None:
        os.kill(os.getpid(), signal.SIGHUP)
        drop(ids)

    monkeypatch.setattr(evaluation, "drop_tenants", signalled_drop)
    # when the first signal ends the run
    with pytest.raises(SystemExit), throwaway_tenant(name="Throwaway", slug="throwaway") as tenant:
        os.kill(os.getpid(), signal.SIGTERM)
    # then the tenant is gone all the same, and the handlers before the run are back
    assert not Tenant.objects.filter(pk=tenant.pk).exists()
    assert signals == [] and signal.getsignal(signal.SIGHUP) is record


@pytest.mark.parametrize("second", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_the_clean_up_after_ctrl_c_is_delivered_once_the_tenant_is_gone(
    db, received, second: signal.Signals
) -> None:
    # given a clean-up that receives a signal as its first delete starts: Ctrl-C pressed again while
    # a large corpus is being deleted, or a terminal closed meanwhile
    record, signals = received
    sent: list[int] = []

    def signalled_delete(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.startswith("DELETE") and not sent:
            sent.append(second)
            os.kill(os.getpid(), second)
        return execute(sql, params, many, context)

    # when Ctrl-C ends the run
    with (
        connection.execute_wrapper(signalled_delete),
        pytest.raises((KeyboardInterrupt, SystemExit)) as stopped,
        throwaway_tenant(name="Throwaway", slug="throwaway") as tenant,
    ):
        raise KeyboardInterrupt
    # then the tenant is gone all the same, and the signal ended the run once it was
    assert sent == [second]
    assert not Tenant.objects.filter(pk=tenant.pk).exists()
    assert stopped.type is (KeyboardInterrupt if second == signal.SIGINT else SystemExit)
    assert signals == [] and signal.getsignal(signal.SIGTERM) is record


@pytest.mark.django_db(transaction=True)
def test_ctrl_c_during_an_evaluation_deletes_its_committed_corpus(folder, monkeypatch, other_tenant):
    # given another tenant's document, and an evaluation whose corpus is committed when Ctrl-C comes
    add_document(other_tenant, "Their parking", "Valet parking.")
    tenants_before = set(Tenant.objects.values_list("pk", flat=True))
    seen: list[int] = []

    def interrupted(*, tenant: Tenant, **kwargs: Any) -> Any:
        seen.append(Chunk.objects.for_tenant(tenant).count())
        raise KeyboardInterrupt

    monkeypatch.setattr(evaluation, "run_modes", interrupted)
    # when / then Ctrl-C ends the command
    with pytest.raises(KeyboardInterrupt):
        call_command("evaluate_retrieval", "--beir", str(folder), "--modes", "bm25")
    # and the throwaway tenant is gone with everything indexed for it, the other tenant's untouched
    assert seen and seen[0] > 0
    assert set(Tenant.objects.values_list("pk", flat=True)) == tenants_before
    assert Document.objects.get().tenant_id == other_tenant.pk
    assert set(Chunk.objects.values_list("tenant_id", flat=True)) == {other_tenant.pk}
    assert set(Posting.objects.values_list("tenant_id", flat=True)) == {other_tenant.pk}
