"""run_benchmarks refuses an output it could not write before running, and a benchmark whose
dataset is missing is one line, not a traceback that stops the benchmarks after it."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from escalations import benchmarks as escalation_benchmarks
from knowledge import benchmarks as knowledge_benchmarks
from supportai.benchmarks import REGISTRY, BenchmarkDataMissing, BenchmarkResult


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


def test_a_missing_dataset_is_one_line_and_the_other_benchmarks_run(tmp_path, runs, monkeypatch):
    # given a benchmark before the others whose dataset is missing
    def no_data() -> BenchmarkResult:
        raise BenchmarkDataMissing("/data/covid-faq/corpus.jsonl: No such file or directory")

    monkeypatch.setitem(REGISTRY, "first", no_data)
    out, err = StringIO(), StringIO()

    # when
    with pytest.raises(CommandError, match=r"^not run for want of their datasets: first$"):
        call_command(
            "run_benchmarks", "--only", "first", "--only", "second", "--out", str(tmp_path), stdout=out, stderr=err
        )

    # then it says why in one line, and the benchmark after it ran and wrote its results
    assert err.getvalue() == (
        "   not run, its dataset cannot be read: /data/covid-faq/corpus.jsonl: No such file or directory\n"
    )
    assert runs == ["second"]
    assert json.loads((tmp_path / "second.json").read_text())["rows"] == [{"benchmark": "second"}]
    assert not (tmp_path / "first.json").exists()


@pytest.mark.parametrize(
    ("name", "module", "setting"),
    [
        ("knowledge-covid-faq", knowledge_benchmarks, "COVID_FAQ"),
        ("knowledge-bitext-intents", knowledge_benchmarks, "BITEXT"),
        ("escalation_bitext", escalation_benchmarks, "BITEXT_CSV"),
    ],
)
def test_the_dataset_benchmarks_name_a_missing_shared_dataset(tmp_path, monkeypatch, name, module, setting):
    # given the shared data folder is not beside the checkout
    monkeypatch.setattr(module, setting, tmp_path / "missing")
    err = StringIO()

    # when / then
    with pytest.raises(CommandError, match=rf"^not run for want of their datasets: {name}$"):
        call_command("run_benchmarks", "--only", name, "--out", str(tmp_path / "out"), stdout=StringIO(), stderr=err)
    assert err.getvalue().startswith(f"   not run, its dataset cannot be read: {tmp_path / 'missing'}")


# no Bitext columns; not UTF-8
@pytest.mark.parametrize("content", [b"a,b\n1,2\n", b"instruction,intent\n\xff\xfe,x\n"])
def test_the_escalation_benchmark_names_an_unreadable_bitext_csv(tmp_path, monkeypatch, content):
    csv_path = tmp_path / "bitext.csv"
    csv_path.write_bytes(content)
    monkeypatch.setattr(escalation_benchmarks, "BITEXT_CSV", csv_path)
    err, out = StringIO(), str(tmp_path / "out")

    with pytest.raises(CommandError, match=r"^not run for want of their datasets: escalation_bitext$"):
        call_command("run_benchmarks", "--only", "escalation_bitext", "--out", out, stdout=StringIO(), stderr=err)
    assert err.getvalue().startswith(f"   not run, its dataset cannot be read: {csv_path}: ")


def test_a_benchmarks_results_are_written_as_before(tmp_path, runs):
    call_command("run_benchmarks", "--only", "second", "--out", str(tmp_path), stdout=StringIO())

    assert runs == ["second"]
    assert json.loads((tmp_path / "second.json").read_text())["benchmark"] == "second"


def test_results_that_cannot_be_written_after_a_run_are_one_line_and_the_others_run(tmp_path, runs, monkeypatch):
    # given a benchmark during whose run its output became a folder (the disk filled, the folder was
    # remounted read-only: the check before the run passed)
    def run() -> BenchmarkResult:
        (tmp_path / "first.json").mkdir()
        return {"rows": [{"benchmark": "first"}]}

    monkeypatch.setitem(REGISTRY, "first", run)
    err, both = StringIO(), ["--only", "first", "--only", "second"]
    # when
    with pytest.raises(CommandError, match=r"^results not written: first$"):
        call_command("run_benchmarks", *both, "--out", str(tmp_path), stdout=StringIO(), stderr=err)
    # then it says why in one line, and the benchmark after it ran and wrote its results
    assert err.getvalue() == f"   its results could not be written to {tmp_path / 'first.json'}: Is a directory\n"
    assert json.loads((tmp_path / "second.json").read_text())["rows"] == [{"benchmark": "second"}]
