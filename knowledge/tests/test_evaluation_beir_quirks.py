"""The quirks of the public BEIR sets (scifact, nfcorpus, arguana, quora, trec-covid...) scored as
BEIR's toolkit scores them (``beir.retrieval.evaluation.EvaluateRetrieval`` with pytrec_eval)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command


def _folder(folder: Path, corpus: list[dict[str, object]], queries: list[dict[str, object]], qrels: str) -> Path:
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text("".join(json.dumps(record) + "\n" for record in corpus))
    (folder / "queries.jsonl").write_text("".join(json.dumps(record) + "\n" for record in queries))
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


def _windows_file(path: Path, lines: list[str]) -> None:
    """Saved as a Windows editor may save it: a byte order mark, CRLF line ends, blank lines at the end."""
    path.write_bytes(b"\xef\xbb\xbf" + ("\r\n".join(lines) + "\r\n\r\n\r\n").encode())


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("header", ["query-id\tcorpus-id\tscore", None])
def test_a_folder_with_the_public_sets_quirks_is_scored_as_beir_scores_it(tmp_path, capsys, header):
    # given ids that look like numbers (scifact) or MED-n (nfcorpus), metadata, an empty title, a
    # title alone, a record with neither, HTML entities, a document of 30,000 words found by its
    # last ones, an _id given twice, graded judgements with a 0 (trec-covid, nfcorpus), every file
    # with a byte order mark, CRLF line ends and blank lines at the end
    records = [
        {"_id": "10", "title": "Statins", "text": "Statins lower cholesterol.", "metadata": {"pubmed_id": 7}},
        {"_id": "MED-10", "title": "", "text": "Vitamin D &amp; calcium keep bones &lt;strong&gt;."},
        {"_id": "MED-11", "title": "Zinc lozenges", "text": ""},
        {"_id": "MED-12", "title": "", "text": "", "metadata": {"url": "https://example.com/empty"}},
        {"_id": "long", "title": "Manual", "text": "filler " * 30_000 + "magnesium sleep"},
        {"_id": "dup", "title": "", "text": "An outdated record about vitamin D."},
        {"_id": "dup", "title": "", "text": "Iron supplements treat anaemia."},
    ]
    queries = ["statins cholesterol", "vitamin d calcium", "zinc lozenges", "magnesium sleep", "iron anaemia"]
    qrels = ["1\t10\t2", "1\tMED-10\t0", "2\tMED-10\t1", "3\tMED-11\t1", "4\tlong\t1", "5\tdup\t1", "5\tMED-12\t1"]
    (tmp_path / "qrels").mkdir()
    _windows_file(tmp_path / "corpus.jsonl", [json.dumps(record) for record in records])
    _windows_file(
        tmp_path / "queries.jsonl",
        [json.dumps({"_id": number, "text": text}) for number, text in enumerate(queries, start=1)],
    )
    _windows_file(tmp_path / "qrels" / "test.tsv", ([header] if header else []) + qrels)
    out = tmp_path / "result.json"
    # when
    call_command("evaluate_retrieval", "--beir", str(tmp_path), "--json", str(out))
    # then every query finds its relevant document first: the title alone is searched, the entity
    # does not hide "calcium", the later "dup" is the one kept and the long document is searched to
    # its end; the record with neither title nor text is never found (half of query 5's recall), and
    # the grade-0 document counts for nothing
    result = json.loads(out.read_text())
    assert (result["docs"], result["queries"]) == (6, 5)
    bm25 = result["modes"]["bm25"]
    ndcg_5 = 1 / (1 + 1 / math.log2(3))  # one of two grade-1 documents, at rank 1
    assert bm25["ndcg@10"] == pytest.approx((4 + ndcg_5) / 5, abs=1e-4)
    assert (bm25["recall@10"], bm25["recall@100"], bm25["mrr@10"]) == (0.9, 0.9, 1.0)
    # and the dense and hybrid modes ran on the same folder
    assert set(result["modes"]) == {"bm25", "dense", "hybrid"}
    assert capsys.readouterr().out.splitlines()[1] == "repeated, the later line wins: 1 document id"


def test_a_folder_of_beir_folders_is_named_as_such(tmp_path):
    # given, as cqadupstack unzips, a folder holding one BEIR folder per forum and no corpus of its own
    for forum in ("android", "english"):
        _folder(tmp_path / forum, [{"_id": "d1", "text": "Free parking."}], [{"_id": "q1", "text": "park"}], "")
    # when / then the error names the folders to evaluate one by one
    with pytest.raises(
        CommandError,
        match=rf"^{tmp_path} is not a BEIR folder: corpus\.jsonl is missing; it holds BEIR folders "
        r"android, english: evaluate each \(--beir .*android\)$",
    ):
        call_command("evaluate_retrieval", "--beir", str(tmp_path))


def test_a_beir_path_that_is_a_file_or_nothing_is_named_as_such(tmp_path):
    # given a BEIR folder, and the paths a user may give instead of it: its corpus file, a typo
    folder = _folder(tmp_path / "faq", [{"_id": "d1", "text": "Free parking."}], [{"_id": "q1", "text": "park"}], "")
    corpus, typo = folder / "corpus.jsonl", tmp_path / "fqa"
    # when / then each is told what it is, not that corpus.jsonl is missing
    with pytest.raises(
        CommandError,
        match=rf"^{corpus} is a file; --beir takes the BEIR folder that holds corpus\.jsonl, queries\.jsonl and "
        r"qrels/test\.tsv$",
    ):
        call_command("evaluate_retrieval", "--beir", str(corpus))
    with pytest.raises(CommandError, match=rf"^{typo} does not exist$"):
        call_command("evaluate_retrieval", "--beir", str(typo))
