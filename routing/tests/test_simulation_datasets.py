"""The routing benchmarks read their questions from the shared Bitext CSV and covid-faq queries: one
that is missing or unreadable is one line from ``run_benchmarks``, and the benchmarks after it run."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from routing import simulation
from supportai.benchmarks import REGISTRY, BenchmarkResult

GOOD_CSV = b"instruction,intent\nwhere is my order,track_order\ncancel my order,cancel_order\n"
GOOD_QUERIES = b'{"_id": "q1", "text": "What is a new coronavirus?"}\n'


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A Bitext folder and a covid-faq folder with good files, which the routing simulation reads."""
    bitext, covid = tmp_path / "bitext", tmp_path / "covid"
    bitext.mkdir()
    covid.mkdir()
    (bitext / "bitext_sample.csv").write_bytes(GOOD_CSV)
    (covid / "queries.jsonl").write_bytes(GOOD_QUERIES)
    monkeypatch.setattr(simulation, "BITEXT", bitext)
    monkeypatch.setattr(simulation, "COVID_FAQ", covid)
    return bitext / "bitext_sample.csv", covid / "queries.jsonl"


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A cheap benchmark "later", registered after the routing ones; records that it ran."""
    ran: list[str] = []

    def run() -> BenchmarkResult:
        ran.append("later")
        return {"rows": [{"benchmark": "later"}]}

    monkeypatch.setitem(REGISTRY, "later", run)
    return ran


def _run(tmp_path: Path, *names: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    only = [arg for name in names for arg in ("--only", name)]
    call_command("run_benchmarks", *only, "--out", str(tmp_path / "out"), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.parametrize("name", ["routing_simulation", "routing_fault_injection"])
def test_a_missing_bitext_folder_is_one_line_and_the_later_benchmark_runs(tmp_path, data, later, monkeypatch, name):
    # given the shared Bitext folder is not there
    monkeypatch.setattr(simulation, "BITEXT", tmp_path / "missing")
    err = StringIO()

    # when / then the command exits non-zero naming the benchmark
    with pytest.raises(CommandError, match=rf"^not run for want of their datasets: {name}$"):
        call_command(
            "run_benchmarks", "--only", name, "--only", "later", "--out", str(tmp_path / "out"),
            stdout=StringIO(), stderr=err,
        )  # fmt: skip

    # and says which file in one line, and the benchmark after it ran and wrote its results
    lines = err.getvalue().splitlines()
    assert len(lines) == 1
    missing = tmp_path / "missing" / "bitext_sample.csv"
    assert lines[0].startswith(f"   not run, its dataset cannot be read: {missing}: No such file or directory")
    assert later == ["later"]
    assert json.loads((tmp_path / "out" / "later.json").read_text())["rows"] == [{"benchmark": "later"}]
    assert not (tmp_path / "out" / f"{name}.json").exists()


@pytest.mark.parametrize(
    ("which", "content", "reason"),
    [
        ("csv", b"instruction,intent\ncaf\xe9,x\n", "not UTF-8"),  # latin-1
        ("csv", b"a,b\n1,2\n", "has no 'instruction' column"),
        ("queries", b"not json\n", "line 1: not JSON"),
        ("queries", b'{"_id": "q1"}\n', "line 1: needs a string 'text'"),
        ("queries", b"[1]\n", "line 1: needs a string 'text'"),
    ],
)
def test_an_unreadable_file_is_named_with_why_and_the_later_one_runs(tmp_path, data, later, which, content, reason):
    # given one of the two files cannot be read as questions
    path = data[0] if which == "csv" else data[1]
    path.write_bytes(content)
    err = StringIO()

    # when / then
    with pytest.raises(CommandError, match=r"^not run for want of their datasets: routing_simulation$"):
        call_command(
            "run_benchmarks", "--only", "routing_simulation", "--only", "later", "--out", str(tmp_path / "out"),
            stdout=StringIO(), stderr=err,
        )  # fmt: skip
    assert err.getvalue().startswith(f"   not run, its dataset cannot be read: {path}: ")
    assert reason in err.getvalue()
    assert later == ["later"]


def test_no_questions_at_all_is_named_not_a_division_by_zero(data):
    data[0].write_bytes(b"instruction,intent\n")
    data[1].write_bytes(b"")

    with pytest.raises(simulation.BenchmarkDataMissing, match="no questions"):
        simulation.questions()


def test_good_files_are_simulated_and_a_byte_order_mark_is_read(tmp_path, data):
    # given the Bitext CSV was saved by Excel with a byte order mark, and the queries end in a blank line
    data[0].write_bytes(b"\xef\xbb\xbf" + GOOD_CSV)
    data[1].write_bytes(GOOD_QUERIES + b"\n")

    # when
    _run(tmp_path, "routing_simulation")

    # then every question of both files was one turn
    assert simulation.questions() == ["where is my order", "cancel my order", "What is a new coronavirus?"]
    row = json.loads((tmp_path / "out" / "routing_simulation.json").read_text())["rows"][0]
    assert row["turns"] == 3
