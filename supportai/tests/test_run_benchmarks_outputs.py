"""run_benchmarks refuses an output it could not write before any benchmark runs."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from supportai.benchmarks import REGISTRY, BenchmarkResult


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Two cheap benchmarks, "first" and "second", registered in that order; the names of those run."""
    ran: list[str] = []

    def registered(name: str) -> None:
        def run() -> BenchmarkResult:
            ran.append(name)
            return {"rows": [{"benchmark": name}]}

        monkeypatch.setitem(REGISTRY, name, run)

    registered("first")
    registered("second")
    return ran


def test_an_output_file_that_is_a_folder_is_refused_before_any_benchmark_runs(tmp_path, runs):
    # given a results folder where the second benchmark's JSON would go is a folder
    (tmp_path / "second.json").mkdir()

    # when / then
    with pytest.raises(CommandError, match=r"^--out: .*second\.json is a folder; remove it or choose another --out$"):
        call_command("run_benchmarks", "--only", "first", "--only", "second", "--out", str(tmp_path))
    assert runs == []
    assert not (tmp_path / "first.json").exists()


def test_only_the_outputs_of_the_chosen_benchmarks_are_checked(tmp_path, runs):
    # given the output of a benchmark not chosen is a folder
    (tmp_path / "second.json").mkdir()

    # when
    call_command("run_benchmarks", "--only", "first", "--out", str(tmp_path), stdout=StringIO())

    # then the chosen one runs and writes its results
    assert runs == ["first"]
    assert json.loads((tmp_path / "first.json").read_text())["benchmark"] == "first"


def test_a_benchmarks_results_are_written_as_before(tmp_path, runs):
    call_command("run_benchmarks", "--only", "second", "--out", str(tmp_path), stdout=StringIO())

    assert runs == ["second"]
    assert json.loads((tmp_path / "second.json").read_text())["benchmark"] == "second"
