"""The files our commands write are replaced whole or not at all: a Ctrl-C or a full disk in the
middle of writing one leaves the previous file as it was (not a truncated one that looks valid)
and no temporary file beside it."""

from __future__ import annotations

import errno
import io
import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.management import CommandError, call_command

from supportai.benchmarks import REGISTRY, BenchmarkResult
from supportai.management.output import replaced

PREVIOUS = '{"previous": "results"}\n'
FULL_DISK = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class _CutShort:
    """A file opened for writing that takes half of the first text written to it, then fails with ``error``."""

    def __init__(self, file: Any, error: BaseException) -> None:
        self._file, self._error = file, error

    def write(self, text: str) -> int:
        self._file.write(text[: len(text) // 2])
        self._file.flush()
        raise self._error

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __enter__(self) -> _CutShort:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._file.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


def _cut_short(folder: Path, error: BaseException) -> Any:
    """Every file opened for writing under ``folder`` (by path or by descriptor) fails half-way through."""
    real_open = io.open

    def open_(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        opened = real_open(file, mode, *args, **kwargs)
        name = os.readlink(f"/proc/self/fd/{file}") if isinstance(file, int) else os.fspath(file)
        writing = any(flag in mode for flag in "wax+")
        return _CutShort(opened, error) if writing and Path(name).is_relative_to(folder) else opened

    return mock.patch("io.open", open_)


def _files(folder: Path) -> dict[str, str]:
    return {str(path.relative_to(folder)): path.read_text() for path in sorted(folder.rglob("*")) if path.is_file()}


def _write_half(path: Path, error: BaseException) -> None:
    with replaced(path) as out:
        out.write('{"new": ')
        raise error


# --- the helper -------------------------------------------------------------------------------


@pytest.mark.parametrize("error", [KeyboardInterrupt(), FULL_DISK], ids=["ctrl-c", "full-disk"])
def test_an_interrupted_write_keeps_the_previous_file_and_leaves_no_temporary_file(
    tmp_path: Path, error: BaseException
) -> None:
    # given a previous file
    path = tmp_path / "report.json"
    path.write_text(PREVIOUS)
    # when a write of the new content stops in the middle
    with pytest.raises(type(error)):
        _write_half(path, error)
    # then the previous file is as it was and it is alone
    assert _files(tmp_path) == {"report.json": PREVIOUS}


def test_a_finished_write_replaces_the_file_and_keeps_its_permissions(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text(PREVIOUS)
    path.chmod(0o640)
    with replaced(path) as out:
        out.write("café\n")
    assert _files(tmp_path) == {"report.json": "café\n"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_new_file_gets_the_permissions_the_umask_gives(tmp_path: Path) -> None:
    umask = os.umask(0o027)
    try:
        with replaced(tmp_path / "new.json") as out:
            out.write("{}\n")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o640


# --- every command that writes a file ---------------------------------------------------------

BITEXT = (
    "instruction,intent,category,response\n"
    "I want a human,contact_human_agent,CONTACT,One moment.\n"
    "where is my order,track_order,ORDER,Track it under Order history.\n"
    "track my parcel,track_order,ORDER,Track it under Order history.\n"
)
LABELLED = '{"text": "I want to talk to a human", "escalate": true}\n{"text": "hello", "escalate": false}\n'
CORPUS = '{"_id": "d1", "title": "Parking", "text": "Free parking behind the studio."}\n'
QUERIES = '{"_id": "q1", "text": "where to park"}\n'
QRELS = "query-id\tcorpus-id\tscore\nq1\td1\t1\n"


def _bitext_escalation_jsonl(inputs: Path, out: Path) -> None:
    call_command("bitext_escalation_jsonl", csv=str(inputs / "bitext.csv"), out=str(out / "lines.jsonl"))


def _evaluate_escalation(inputs: Path, out: Path) -> None:
    call_command("evaluate_escalation", jsonl=str(inputs / "labelled.jsonl"), json=str(out / "report.json"))


def _evaluate_retrieval(inputs: Path, out: Path) -> None:
    call_command("evaluate_retrieval", "--beir", str(inputs / "beir"), "--modes", "bm25", "--json", str(out / "r.json"))


def _bitext_retrieval_beir(inputs: Path, out: Path) -> None:
    call_command("bitext_retrieval_beir", csv=str(inputs / "bitext.csv"), out=str(out), split="all")


def _run_benchmarks(inputs: Path, out: Path) -> None:
    def cheap() -> BenchmarkResult:
        return {"rows": [{"benchmark": "cheap"}]}

    # Only this entry is added and taken back: the command registers every app's benchmarks as it
    # imports them, once per process, and restoring the whole registry would drop those for later tests.
    REGISTRY["cheap"] = cheap
    try:
        call_command("run_benchmarks", "--only", "cheap", "--out", str(out))
    finally:
        del REGISTRY["cheap"]


COMMANDS: dict[str, tuple[Callable[[Path, Path], None], list[str]]] = {
    "bitext_escalation_jsonl": (_bitext_escalation_jsonl, ["lines.jsonl"]),
    "evaluate_escalation": (_evaluate_escalation, ["report.json"]),
    "evaluate_retrieval": (_evaluate_retrieval, ["r.json"]),
    "bitext_retrieval_beir": (_bitext_retrieval_beir, ["corpus.jsonl", "queries.jsonl", "qrels/test.tsv"]),
    "run_benchmarks": (_run_benchmarks, ["cheap.json"]),
}


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "inputs"
    (folder / "beir" / "qrels").mkdir(parents=True)
    (folder / "bitext.csv").write_text(BITEXT)
    (folder / "labelled.jsonl").write_text(LABELLED)
    (folder / "beir" / "corpus.jsonl").write_text(CORPUS)
    (folder / "beir" / "queries.jsonl").write_text(QUERIES)
    (folder / "beir" / "qrels" / "test.tsv").write_text(QRELS)
    return folder


@pytest.mark.django_db
@pytest.mark.parametrize("error", [KeyboardInterrupt(), FULL_DISK], ids=["ctrl-c", "full-disk"])
@pytest.mark.parametrize("command", COMMANDS)
def test_a_command_stopped_while_writing_its_output_keeps_the_previous_one(
    command: str, error: BaseException, inputs: Path, tmp_path: Path
) -> None:
    run, outputs = COMMANDS[command]
    out = tmp_path / "out"
    # given the outputs of an earlier run
    for name in outputs:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(PREVIOUS)
    # when the command is stopped (Ctrl-C) or the disk fills while it writes them
    with _cut_short(out, error), pytest.raises((KeyboardInterrupt, CommandError)):
        run(inputs, out)
    # then each is the earlier run's, whole, and no partial file is left beside them
    assert _files(out) == dict.fromkeys(outputs, PREVIOUS)
    # and a run that is not stopped replaces them
    run(inputs, out)
    assert sorted(_files(out)) == sorted(outputs)
    assert PREVIOUS not in _files(out).values()
