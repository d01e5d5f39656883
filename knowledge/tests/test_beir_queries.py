"""queries.jsonl lines are read as corpus.jsonl's are: numbers kept as written, non-JSON refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from knowledge.beir import BeirFormatError, load_beir


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    corpus = [
        {"_id": "d1", "title": "Parking", "text": "Free parking behind the studio."},
        {"_id": "d2", "title": "Gift cards", "text": "Gift cards never expire."},
    ]
    (tmp_path / "corpus.jsonl").write_text("\n".join(json.dumps(doc) for doc in corpus))
    (tmp_path / "qrels").mkdir()
    return tmp_path


def _labelled(folder: Path, queries: str, qrels: str) -> None:
    (folder / "queries.jsonl").write_text(queries)
    (folder / "qrels" / "test.tsv").write_text(f"query-id\tcorpus-id\tscore\n{qrels}")


def test_a_number_over_python_int_digit_limit_is_named_as_no_query(folder):
    # given a line that is a 5,000-digit number (Python's json refuses over 4,300 with a ValueError)
    _labelled(folder, "9" * 5_000 + "\n", "q1\td1\t1\n")

    # when / then one error naming the line, no traceback
    with pytest.raises(
        CommandError, match=r"queries\.jsonl line 1 is not a query .*it is a JSON number, not an object"
    ):
        call_command("evaluate_retrieval", "--beir", str(folder), "--modes", "bm25")


@pytest.mark.parametrize("written", ["1.10", "1e2", "0.10000000000000001", "1" * 5_000])
def test_a_numeric_query_id_is_its_text_as_written_and_matches_the_qrels(folder, written):
    # given a query whose id is a JSON number, judged under the same text
    _labelled(folder, f'{{"_id": {written}, "text": "where to park"}}\n', f"{written}\td1\t1\n")

    # when
    dataset = load_beir(folder)

    # then the query is asked under that id
    assert dataset.queries == {written: "where to park"}
    assert dataset.qrels == {written: {"d1": 1}}


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_or_infinity_is_refused_as_no_json_number(folder, constant):
    _labelled(folder, f'{{"_id": {constant}, "text": "where to park"}}\n', f"{constant}\td1\t1\n")

    with pytest.raises(
        BeirFormatError, match=rf'line 1 is not a query .*"_id" is {constant}, which is not a JSON number'
    ):
        load_beir(folder)


def test_a_numeric_query_text_is_asked_as_written(folder):
    _labelled(folder, '{"_id": "q1", "text": 1.50}\n', "q1\td1\t1\n")

    assert load_beir(folder).queries == {"q1": "1.50"}
