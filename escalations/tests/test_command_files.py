"""The escalation commands' files: bad input is a clear error, never a traceback, and an output
is only replaced once everything that goes in it has been read."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

PREVIOUS = "previous results\n"


@pytest.fixture
def previous(tmp_path: Path) -> Path:
    """An output file left by an earlier run."""
    path = tmp_path / "lines.jsonl"
    path.write_text(PREVIOUS)
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"a,b\n1,2\n", r"has no 'instruction' and 'intent' columns"),
        (b"instruction,intent\ncaf\xe9 complaint,complaint\n", r"bitext\.csv is not UTF-8 text"),  # latin-1
        (b"instruction,intent\n" + b"x" * 200_000 + b",y\n", r"bitext\.csv is not a readable CSV: field larger"),
    ],
)
def test_a_csv_that_cannot_be_read_is_a_clear_error_and_keeps_the_previous_output(
    tmp_path: Path, previous: Path, content: bytes, message: str
) -> None:
    # given a CSV that is not a readable Bitext CSV
    csv_path = tmp_path / "bitext.csv"
    csv_path.write_bytes(content)

    # when / then
    with pytest.raises(CommandError, match=message):
        call_command("bitext_escalation_jsonl", csv=str(csv_path), out=str(previous), stdout=StringIO())
    assert previous.read_text() == PREVIOUS


def test_a_row_without_an_intent_is_an_ordinary_line(tmp_path: Path) -> None:
    csv_path = tmp_path / "bitext.csv"
    csv_path.write_text("instruction,intent\nwhere is my order\nI want a human,contact_human_agent\n")
    out = tmp_path / "lines.jsonl"

    printed = StringIO()
    call_command("bitext_escalation_jsonl", csv=str(csv_path), out=str(out), stdout=printed)

    assert [json.loads(line)["escalate"] for line in out.read_text().splitlines()] == [False, True]
    assert "1 escalate, 1 ordinary" in printed.getvalue()


def test_an_output_in_a_missing_folder_is_written_there(tmp_path: Path) -> None:
    csv_path = tmp_path / "bitext.csv"
    csv_path.write_text("instruction,intent\nI want a human,contact_human_agent\n")
    out = tmp_path / "new" / "folder" / "lines.jsonl"

    call_command("bitext_escalation_jsonl", csv=str(csv_path), out=str(out), stdout=StringIO())

    assert json.loads(out.read_text())["reason"] == "human_request"


def test_an_output_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    csv_path = tmp_path / "bitext.csv"
    csv_path.write_text("instruction,intent\nI want a human,contact_human_agent\n")

    with pytest.raises(CommandError, match=rf"^--out: {tmp_path} is a folder; choose a file$"):
        call_command("bitext_escalation_jsonl", csv=str(csv_path), out=str(tmp_path), stdout=StringIO())


@pytest.fixture
def labelled(tmp_path: Path) -> Path:
    path = tmp_path / "labelled.jsonl"
    path.write_text('{"text": "I want to talk to a human", "escalate": true}\n{"text": "hello", "escalate": false}\n')
    return path


@pytest.mark.parametrize("threshold", ["nan", "NaN", "sNaN", "Infinity", "-inf", "-1", "abc"])
def test_a_threshold_that_is_not_a_finite_amount_is_refused(labelled: Path, threshold: str) -> None:
    with pytest.raises(CommandError, match=r"^--threshold must be a finite number >= 0$"):
        call_command("evaluate_escalation", jsonl=str(labelled), threshold=threshold, stdout=StringIO())


def test_a_zero_threshold_is_accepted(labelled: Path) -> None:
    printed = StringIO()
    call_command("evaluate_escalation", jsonl=str(labelled), threshold="0", stdout=printed)
    assert printed.getvalue().startswith("2 lines (1 escalate, 1 ordinary)")


def test_a_jsonl_that_is_not_utf8_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"text": "caf\xe9", "escalate": false}\n')

    with pytest.raises(CommandError, match=r"latin1\.jsonl is not UTF-8 text$"):
        call_command("evaluate_escalation", jsonl=str(path), stdout=StringIO())


@pytest.mark.parametrize(
    ("given", "message"),
    [("missing.jsonl", "{path} does not exist"), ("folder", "--jsonl: {path} is a folder; give the JSONL file")],
)
def test_a_jsonl_that_is_not_a_file_is_named_for_what_it_is(tmp_path: Path, given: str, message: str) -> None:
    path = tmp_path / given
    if given == "folder":
        path.mkdir()

    with pytest.raises(CommandError) as refused:
        call_command("evaluate_escalation", jsonl=str(path), stdout=StringIO())

    assert str(refused.value) == message.format(path=path)


def test_a_report_in_a_missing_folder_is_written_there(tmp_path: Path, labelled: Path) -> None:
    report = tmp_path / "new" / "report.json"

    call_command("evaluate_escalation", jsonl=str(labelled), json=str(report), stdout=StringIO())

    assert json.loads(report.read_text())["lines"] == 2


def test_a_report_that_is_a_folder_is_refused_before_evaluating(tmp_path: Path) -> None:
    # given lines the evaluation would refuse, and a report path that is a folder
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")

    # when / then the report path is refused first
    with pytest.raises(CommandError, match=rf"^--json: {tmp_path} is a folder; choose a file$"):
        call_command("evaluate_escalation", jsonl=str(bad), json=str(tmp_path), stdout=StringIO())
