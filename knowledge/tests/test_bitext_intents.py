"""The Bitext intent-retrieval set: one answer per intent, utterances of one half as queries."""

from __future__ import annotations

import csv
import dataclasses
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from knowledge.beir import load_beir
from knowledge.bitext_intents import BitextFormatError, bitext_intent_dataset
from supportai.datasets import BITEXT, split_of

HEADER = ["instruction", "intent", "category", "response"]
ROWS = [
    ("how can I cancel order 1234", "cancel_order", "ORDER", "Cancel it under Order details."),
    ("I want to cancel my purchase", "cancel_order", "ORDER", "A different wording of the cancel answer."),
    ("where is my invoice", "check_invoice", "INVOICE", "Invoices are under Order history."),
    ("show me the bill from May", "check_invoice", "INVOICE", "Invoices are under Order history."),
    ("", "track_order", "ORDER", "Track it under Order history."),
    ("talk to a person", "contact_human_agent", "CONTACT", ""),
]


@pytest.fixture
def bitext_csv(tmp_path: Path) -> Path:
    path = tmp_path / "bitext.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows((text, intent, category, answer) for text, intent, category, answer in ROWS)
    return path


def test_one_untitled_answer_per_intent_and_every_utterance_judged_by_its_intent(bitext_csv):
    dataset = bitext_intent_dataset(bitext_csv, split="all")
    # the first answer of an intent wins; rows without text or answer are skipped
    # answers are named a01, a02... in intent order: the intent's name would give BM25 the label
    assert [(d.external_id, d.title, d.text) for d in dataset.corpus] == [
        ("a01", "", "Cancel it under Order details."),
        ("a02", "", "Invoices are under Order history."),
    ]
    assert sorted(dataset.queries.values()) == sorted(text for text, *_ in ROWS[:4])
    answer_of = {"cancel_order": "a01", "check_invoice": "a02"}
    for query_id, text in dataset.queries.items():
        intent = next(row[1] for row in ROWS if row[0] == text)
        assert dataset.qrels[query_id] == {answer_of[intent]: 1}


def test_the_halves_split_the_utterances_by_their_stable_hash(bitext_csv):
    dev = bitext_intent_dataset(bitext_csv, split="dev")
    holdout = bitext_intent_dataset(bitext_csv, split="holdout")
    assert set(dev.queries.values()) | set(holdout.queries.values()) == {text for text, *_ in ROWS[:4]}
    assert not set(dev.queries.values()) & set(holdout.queries.values())
    assert all(split_of(text) == "holdout" for text in holdout.queries.values())
    assert dev.corpus == holdout.corpus  # every answer is searchable whichever half is asked


def test_bad_sources_get_a_clear_error(tmp_path):
    with pytest.raises(BitextFormatError, match="does not exist"):
        bitext_intent_dataset(tmp_path / "missing.csv")
    with pytest.raises(BitextFormatError, match="no CSV file"):
        bitext_intent_dataset(tmp_path)
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(BitextFormatError, match="is it the Bitext CSV"):
        bitext_intent_dataset(other)
    with pytest.raises(BitextFormatError, match="split must be one of"):
        bitext_intent_dataset(other, split="train")


def test_command_writes_a_beir_folder_that_the_evaluation_reads(bitext_csv, tmp_path):
    out = StringIO()
    call_command("bitext_retrieval_beir", csv=str(bitext_csv), out=str(tmp_path / "beir"), split="all", stdout=out)
    assert "2 answers, 4 queries" in out.getvalue()
    # the answers have no titles, in the benchmark as in the folder: the evaluation, as BEIR does,
    # searches a document without a title on its text alone, so both measure the same thing
    assert load_beir(tmp_path / "beir") == dataclasses.replace(
        bitext_intent_dataset(bitext_csv, split="all"), name="beir"
    )


def test_command_refuses_a_missing_csv(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("bitext_retrieval_beir", csv=str(tmp_path / "none.csv"), out=str(tmp_path / "beir"))


def test_command_names_a_csv_it_cannot_read(bitext_csv, tmp_path, monkeypatch):
    # given a CSV that cannot be read (chmod 000 does not stop root, who runs the tests)
    real_open = Path.open

    def open_(path, *args, **kwargs):
        if path == bitext_csv:
            raise OSError(5, "Input/output error")  # as a failing disk reports it: no file name
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_)
    with pytest.raises(CommandError) as refused:
        call_command("bitext_retrieval_beir", csv=str(bitext_csv), out=str(tmp_path / "beir"))
    assert str(refused.value) == f"--csv: {bitext_csv} could not be read: Input/output error"
    assert not (tmp_path / "beir").exists()


def test_command_names_an_output_it_cannot_write(bitext_csv, tmp_path):
    # given an output that is a file, and one whose qrels folder is a file
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "beir" / "qrels").parent.mkdir()
    (tmp_path / "beir" / "qrels").write_text("not a folder")
    # when / then each is named, and the file is left as it was
    with pytest.raises(CommandError) as refused:
        call_command("bitext_retrieval_beir", csv=str(bitext_csv), out=str(tmp_path / "notes.txt"))
    assert str(refused.value) == f"--out: {tmp_path / 'notes.txt'} is a file; give a folder"
    assert (tmp_path / "notes.txt").read_text() == "mine"
    with pytest.raises(CommandError) as refused:
        call_command("bitext_retrieval_beir", csv=str(bitext_csv), out=str(tmp_path / "beir"))
    assert str(refused.value) == f"--out: {tmp_path / 'beir'} could not be written: File exists"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"instruction,intent,category,response\nhow do I cancel,cancel_order\n", r"line 2 has 2 of the 4 columns"),
        (b'instruction,intent,category,response\n"where is,cancel_order,ORDER,Ok.\n', r"line 2 has 1 of the 4 columns"),
        (b"instruction,intent,category,response\ncaf\xe9,cancel_order,ORDER,Ok.\n", r"is not UTF-8"),
    ],
)
def test_command_refuses_a_malformed_csv_with_a_clear_error(tmp_path, data, message):
    path = tmp_path / "bitext.csv"
    path.write_bytes(data)

    with pytest.raises(CommandError, match=rf"bitext.csv.*{message}"):
        call_command("bitext_retrieval_beir", csv=str(path), out=str(tmp_path / "beir"), split="all")

    assert not (tmp_path / "beir").exists()


def test_the_shared_bitext_sample_gives_27_answers_and_half_its_utterances():
    dataset = bitext_intent_dataset(BITEXT, split="holdout")
    assert len(dataset.corpus) == 27
    assert 0.45 * 6480 < len(dataset.queries) < 0.55 * 6480
