"""Retrieval commands turn bad files, provider failures and searches the database cancelled into one
clear error line, never a traceback."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from knowledge import services
from knowledge.indexing import EMBEDDING_FAILED
from knowledge.management.commands import evaluate_retrieval, reindex
from knowledge.management.options import RETRIEVAL_STOPPED
from knowledge.models import Chunk, Document, DocumentStatus, RetrievalTuning
from knowledge.providers.base import PUBLIC_MESSAGES, ProviderError, ProviderErrorKind
from knowledge.providers.fake import FakeEmbeddingProvider
from knowledge.tests.factories import add_document
from knowledge.tests.locks import table_locked
from knowledge.tuning import MIN_QUERIES
from supportai.models import Tenant

pytestmark = pytest.mark.django_db

CORPUS = [
    {"_id": "d1", "title": "Parking", "text": "Free parking behind the studio."},
    {"_id": "d2", "title": "Gift cards", "text": "Gift cards never expire."},
]
QUERIES = '{"_id": "q1", "text": "where to park"}\n{"_id": "q2", "text": "gift card expiry"}\n'
QRELS = "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n"


class DownEmbedder(FakeEmbeddingProvider):
    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        raise ProviderError("401 invalid API key", kind=ProviderErrorKind.AUTH)


def _beir(folder: Path, *, corpus: str | None = None, queries: str = QUERIES, qrels: str = QRELS) -> Path:
    (folder / "corpus.jsonl").write_text(corpus if corpus is not None else "\n".join(json.dumps(doc) for doc in CORPUS))
    (folder / "queries.jsonl").write_text(queries)
    (folder / "qrels").mkdir()
    (folder / "qrels" / "test.tsv").write_text(qrels)
    return folder


def _evaluate(folder: Path) -> None:
    call_command("evaluate_retrieval", "--beir", str(folder), "--modes", "bm25")


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"queries": '{"_id": "q1", "text": "park"}\n{"_id": "q2"}\n'}, r"queries.jsonl line 2 is not a query"),
        ({"queries": '["q1", "park"]\n'}, r"queries.jsonl line 1 is not a query"),
        ({"queries": "not json\n"}, r"queries.jsonl line 1 is not a query"),
        ({"queries": '{"_id": "q1", "text": null}\n'}, r'queries.jsonl line 1 is not a query.*"text" must be a'),
        ({"queries": '{"_id": ["q1"], "text": "park"}\n'}, r'queries.jsonl line 1 is not a query.*"_id" must be a'),
        ({"qrels": "query-id\tcorpus-id\tscore\nq1\td1\tvery\n"}, r"test.tsv line 2 is not query-id"),
        ({"qrels": "query-id\tcorpus-id\tscore\nq1 d1 1\n"}, r"test.tsv line 2 is not query-id"),
        ({"qrels": "query-id\tcorpus-id\tscore\nq9\td1\t1\n"}, r"no query in queries.jsonl has a judgement"),
        ({"corpus": '{"_id": "d1", "text": "ok"}\n{"text": "no id"}\n'}, r"corpus.jsonl: .*Line 2"),
        ({"corpus": "\n\n"}, r"corpus.jsonl holds no documents"),
        ({"corpus": '{"_id": "d1", "title": "", "text": " "}\n'}, r"corpus.jsonl holds no documents"),
    ],
)
def test_evaluate_retrieval_names_the_bad_file_and_line(tmp_path, files, message):
    tenants = Tenant.objects.count()

    with pytest.raises(CommandError, match=message):
        _evaluate(_beir(tmp_path, **files))

    assert Tenant.objects.count() == tenants


def test_evaluate_retrieval_reads_queries_holding_unicode_line_separators(tmp_path, capsys):
    # JSON allows U+2028 and U+0085 raw inside strings (json.dumps(ensure_ascii=False) writes them
    # so), and str.splitlines cuts at both; only \n ends a JSON Lines record.
    queries = [{"_id": "q1", "text": "where to\u2028park"}, {"_id": "q2", "text": "gift card\x85expiry"}]
    lines = "".join(json.dumps(query, ensure_ascii=False) + "\r\n" for query in queries)

    _evaluate(_beir(tmp_path, queries=lines))

    assert "2 docs, 2 queries" in capsys.readouterr().out


def test_evaluate_retrieval_reports_an_unreadable_file(tmp_path):
    folder = _beir(tmp_path)
    (folder / "queries.jsonl").write_bytes(b'{"_id": "q1", "text": "caf\xe9"}\n')

    with pytest.raises(CommandError, match=r"queries.jsonl: 'utf-8' codec can't decode"):
        _evaluate(folder)


def test_evaluate_retrieval_reports_a_provider_failure_and_removes_its_tenant(tmp_path, monkeypatch):
    monkeypatch.setattr(evaluate_retrieval, "default_provider", DownEmbedder)
    tenants = Tenant.objects.count()

    # (dense: a keyword-only run embeds nothing)
    with pytest.raises(CommandError, match="embedding failed: 401 invalid API key"):
        call_command("evaluate_retrieval", "--beir", str(_beir(tmp_path)), "--modes", "bm25,dense")

    assert Tenant.objects.count() == tenants


def test_evaluate_retrieval_refuses_a_json_output_it_could_not_write_before_running(tmp_path, monkeypatch):
    # given an output that is a folder, and one below a file
    (tmp_path / "set").mkdir()
    folder = _beir(tmp_path / "set")
    (tmp_path / "notes.txt").write_text("not a folder")
    runs: list[Path] = []
    monkeypatch.setattr(evaluate_retrieval, "evaluate_beir", lambda path, **kwargs: runs.append(path))
    tenants = Tenant.objects.count()
    # when / then each is refused before the evaluation starts
    with pytest.raises(CommandError, match=rf"--json: {tmp_path} is a folder; give a file name such as"):
        call_command("evaluate_retrieval", "--beir", str(folder), "--json", str(tmp_path))
    with pytest.raises(CommandError, match=r"--json: the folder .*notes.txt could not be created"):
        call_command("evaluate_retrieval", "--beir", str(folder), "--json", str(tmp_path / "notes.txt" / "out.json"))
    assert runs == [] and Tenant.objects.count() == tenants


def test_evaluate_retrieval_writes_its_json_into_folders_it_creates(tmp_path, capsys):
    out = tmp_path / "results" / "nested" / "covid.json"

    call_command("evaluate_retrieval", "--beir", str(_beir(tmp_path)), "--modes", "bm25", "--json", str(out))

    assert json.loads(out.read_text())["modes"]["bm25"]["ndcg@10"] > 0
    assert f"wrote {out}" in capsys.readouterr().out


def test_reindex_reports_a_provider_failure_and_marks_the_documents_failed(tenant, monkeypatch):
    document = add_document(tenant, "Parking", "Free parking behind the studio.")
    monkeypatch.setattr(reindex, "default_provider", DownEmbedder)

    # the operator running the command reads the provider's words; the tenant, on the document, ours
    with pytest.raises(CommandError, match=r"embedding failed.*401 invalid API key"):
        call_command("reindex", "--tenant", tenant.slug, "--force")

    document.refresh_from_db()
    refused = EMBEDDING_FAILED.format(reason=PUBLIC_MESSAGES[ProviderErrorKind.AUTH])
    assert (document.status, document.error) == (DocumentStatus.FAILED, refused)


def test_reindex_touches_only_its_own_tenant(tenant, other_tenant, capsys):
    add_document(tenant, "Parking", "Free parking behind the studio.")
    theirs = add_document(other_tenant, "Parking", "Parking in the garage on Main Street.")
    their_chunks = set(Chunk.objects.filter(tenant=other_tenant).values_list("pk", flat=True))

    call_command("reindex", "--tenant", tenant.slug, "--force")

    assert "re-indexed 1 document of" in capsys.readouterr().out
    assert set(Chunk.objects.filter(tenant=other_tenant).values_list("pk", flat=True)) == their_chunks
    assert Document.objects.get(pk=theirs.pk).updated_at == theirs.updated_at


class QueryOutage(FakeEmbeddingProvider):
    def embed_query(self, text: str) -> list[float]:
        raise ProviderError("timed out")


def test_evaluate_retrieval_never_reports_keywords_alone_as_hybrid(tmp_path, monkeypatch):
    # Serving answers from BM25 while queries cannot be embedded; a measurement must stop instead.
    monkeypatch.setattr(evaluate_retrieval, "default_provider", QueryOutage)

    with pytest.raises(CommandError, match="embedding failed: timed out"):
        call_command("evaluate_retrieval", "--beir", str(_beir(tmp_path)), "--modes", "hybrid")


@pytest.mark.parametrize("k", ["0", "101"])
def test_evaluate_retrieval_refuses_a_cut_off_beyond_the_depth_it_ranks_to(tmp_path: Path, k: str) -> None:
    with pytest.raises(CommandError, match=f"--k must be from 1 to 100, the depth each mode ranks to; got {k}"):
        call_command("evaluate_retrieval", "--beir", str(_beir(tmp_path)), "--modes", "bm25", "--k", k)


def test_ingest_reports_documents_the_provider_could_not_embed_and_ends_with_status_1(
    tenant, tmp_path, monkeypatch, capsys, caplog
):
    (tmp_path / "parking.md").write_text("# Parking\n\nFree parking behind the studio.")
    monkeypatch.setattr(services, "default_provider", DownEmbedder)

    with pytest.raises(CommandError, match=r"^1 document could not be indexed \(listed above\); run ingest again"):
        call_command("ingest", str(tmp_path), "--tenant", tenant.slug, "--no-progress")

    captured = capsys.readouterr()
    assert "1 failed" in captured.out
    # each document with the error its tenant sees; the provider's own words in the log (stderr too)
    refused = EMBEDDING_FAILED.format(reason=PUBLIC_MESSAGES[ProviderErrorKind.AUTH])
    assert f"parking.md: Parking: {refused}" in captured.err
    assert f"of tenant {tenant.pk} failed (auth): 401 invalid API key" in caplog.text
    assert Document.objects.get(tenant=tenant).status == DocumentStatus.FAILED


# Each bulk command with its required arguments (a tenant that does not exist: nothing would run).
BULK_COMMANDS = {
    "ingest": [".", "--tenant", "nobody"],
    "reindex": ["--tenant", "nobody"],
    "evaluate_retrieval": ["--beir", "."],
    "sync_sources": ["--tenant", "nobody"],
    "tune_retrieval": ["--tenant", "nobody", "--queries", "q.jsonl", "--qrels", "qrels.tsv"],
}


@pytest.mark.parametrize("command", BULK_COMMANDS)
@pytest.mark.parametrize("threads", ["0", "-2", "many"])
def test_knowledge_commands_refuse_a_thread_count_that_is_no_positive_number(command: str, threads: str) -> None:
    # given a thread count the model cannot run with
    arguments = [*BULK_COMMANDS[command], "--threads", threads]
    # when a bulk command gets it, then it is refused before any work, naming the option
    with pytest.raises(CommandError, match="--threads"):
        call_command(command, *arguments)


@pytest.fixture
def role_statement_timeout() -> Iterator[Callable[[int], None]]:
    """A ``statement_timeout`` on the command's database session, as an operator sets one for the
    role it connects as (``ALTER ROLE ... SET statement_timeout``): PostgreSQL cancels any statement
    that runs longer, whatever the command asked for. Reset afterwards."""

    def limit(ms: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', %s, false)", [f"{ms}ms"])

    yield limit
    with connection.cursor() as cursor:
        cursor.execute("RESET statement_timeout")


@pytest.mark.django_db(transaction=True)  # the commands run in autocommit, as from a shell
def test_evaluate_retrieval_stops_with_a_clear_error_when_the_database_cancels_a_search(
    tmp_path, slow_dense, role_statement_timeout
):
    # given a dense search slower than the database lets any statement run
    role_statement_timeout(1000)
    tenants = Tenant.objects.count()
    # when
    with pytest.raises(CommandError) as stopped:
        call_command("evaluate_retrieval", "--beir", str(_beir(tmp_path)), "--modes", "dense")
    # then one line says what happened, and the throwaway tenant is gone
    assert str(stopped.value) == RETRIEVAL_STOPPED.format(
        reason="canceling statement due to statement timeout", consequence="nothing was measured"
    )
    assert Tenant.objects.count() == tenants


@pytest.mark.django_db(transaction=True)
def test_tune_retrieval_stops_with_a_clear_error_when_the_database_cancels_a_search(
    tenant, tmp_path, role_statement_timeout
):
    # given a tenant's labelled questions, and its keyword index locked by another connection (a
    # migration, a VACUUM FULL) longer than the database lets a statement wait
    add_document(tenant, "Parking", "Free parking behind the studio.", external_id="parking.md")
    (tmp_path / "q.jsonl").write_text(
        "".join(json.dumps({"_id": f"q{n}", "text": "where to park"}) + "\n" for n in range(MIN_QUERIES))
    )
    (tmp_path / "qrels.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"q{n}\tparking.md\t1\n" for n in range(MIN_QUERIES))
    )
    role_statement_timeout(1000)
    # when
    with table_locked("knowledge_posting"), pytest.raises(CommandError) as stopped:
        call_command(
            "tune_retrieval",
            tenant=tenant.slug,
            queries=str(tmp_path / "q.jsonl"),
            qrels=str(tmp_path / "qrels.tsv"),
            apply=True,
        )
    # then one line says what happened, and no scale is stored
    assert str(stopped.value) == RETRIEVAL_STOPPED.format(
        reason="canceling statement due to statement timeout", consequence="nothing was measured or stored"
    )
    assert not RetrievalTuning.objects.exists()
