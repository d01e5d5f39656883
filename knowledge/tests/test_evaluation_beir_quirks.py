"""The quirks of the public BEIR sets (scifact, nfcorpus, arguana, quora, trec-covid...) scored as
BEIR's toolkit scores them (``beir.retrieval.evaluation.EvaluateRetrieval`` with pytrec_eval)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command


def _folder(folder: Path, corpus: list[dict[str, object]], queries: list[dict[str, object]], qrels: str) -> Path:
    (folder / "corpus.jsonl").write_text("".join(json.dumps(record) + "\n" for record in corpus))
    (folder / "queries.jsonl").write_text("".join(json.dumps(record) + "\n" for record in queries))
    (folder / "qrels").mkdir()
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + qrels)
    return folder


@pytest.fixture
def arguana_like(tmp_path: Path) -> Path:
    """As in arguana and quora, each query is also a document under the same id: an argument and
    the counter-argument judged relevant to it."""
    argument = "Gift cards should never expire, so buy one today."
    return _folder(
        tmp_path,
        [
            {"_id": "arg1", "title": "", "text": argument},
            {"_id": "arg2", "title": "", "text": "Gift cards should expire: an unused card is a debt to the shop."},
            {"_id": "arg3", "title": "", "text": "Parking behind the studio is free."},
        ],
        [{"_id": "arg1", "text": argument}],
        "arg1\targ2\t1\n",
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_a_querys_own_id_is_left_out_of_its_ranking_as_beir_leaves_it_out(arguana_like, tmp_path, capsys, mode):
    # given a query whose own text, under its own id, is the document that matches it best
    out = tmp_path / "result.json"
    # when
    call_command("evaluate_retrieval", "--beir", str(arguana_like), "--modes", mode, "--json", str(out))
    # then that document is not ranked (BEIR's retrievers and evaluate(ignore_identical_ids=True)
    # drop it): the counter-argument is first, not second
    result = json.loads(out.read_text())
    assert result["modes"][mode]["mrr@10"] == 1.0 and result["modes"][mode]["ndcg@10"] == 1.0
    # and the JSON and the output say so
    assert result["ignore_identical_ids"] is True
    assert capsys.readouterr().out.splitlines()[1] == (
        "1 query id is also a document id: that document is left out of its ranking, as in BEIR"
    )


@pytest.mark.django_db(transaction=True)
def test_queries_the_split_does_not_judge_are_skipped_and_counted(tmp_path, capsys):
    # given, as in scifact or nfcorpus, a queries.jsonl holding every split's queries, of which
    # qrels/test.tsv judges one
    folder = _folder(
        tmp_path,
        [
            {"_id": "d1", "title": "Parking", "text": "Free parking behind the studio."},
            {"_id": "d2", "title": "Gift cards", "text": "Gift cards never expire."},
        ],
        [
            {"_id": "1", "text": "where to park"},
            {"_id": "2", "text": "gift card expiry"},
            {"_id": "3", "text": "do gift cards expire"},
        ],
        "1\td1\t1\n",
    )
    out = tmp_path / "result.json"
    # when
    call_command("evaluate_retrieval", "--beir", str(folder), "--modes", "bm25", "--json", str(out))
    # then only the judged query is asked and averaged over, and the others are counted
    result = json.loads(out.read_text())
    assert result["queries"] == 1 and result["modes"]["bm25"]["mrr@10"] == 1.0
    assert capsys.readouterr().out.splitlines()[1] == "skipped: 2 queries without judgements in qrels/test.tsv"


@pytest.mark.django_db(transaction=True)
def test_ids_with_spaces_or_unicode_match_across_the_three_files(tmp_path):
    # given ids with inner spaces, accents, CJK and emoji, and ids padded with spaces in all three
    # files, as BEIR's loader reads them (its csv reader keeps a field's spaces)
    folder = _folder(
        tmp_path,
        [
            {"_id": "doc one", "title": "Parking", "text": "Free parking behind the studio."},
            {"_id": "café", "title": "Coffee", "text": "Our cafe serves espresso."},
            {"_id": "文档 🐝", "title": "Bees", "text": "Honey from our own bees."},
            {"_id": " padded ", "title": "Gift cards", "text": "Gift cards never expire."},
        ],
        [
            {"_id": "q one", "text": "where to park"},
            {"_id": "kaffé", "text": "espresso"},
            {"_id": "问题", "text": "honey bees"},
            {"_id": " q4", "text": "gift card expiry"},
        ],
        "q one\tdoc one\t1\nkaffé\tcafé\t1\n问题\t文档 🐝\t1\n q4\t padded \t1\n",
    )
    out = tmp_path / "result.json"
    # when
    call_command("evaluate_retrieval", "--beir", str(folder), "--modes", "bm25", "--json", str(out))
    # then every query finds its judged document first
    result = json.loads(out.read_text())
    assert result["queries"] == 4
    assert result["modes"]["bm25"]["mrr@10"] == 1.0 and result["modes"]["bm25"]["recall@10"] == 1.0
