from __future__ import annotations

import dataclasses
import gzip
import io
import json
import math
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from tqdm import tqdm

from knowledge import conf, evaluation
from knowledge.beir import BeirFormatError, load_beir, read_qrels
from knowledge.evaluation import ModeRun, compare_hybrid, compute_metrics, ingest_corpus
from knowledge.indexing import embedding_text
from knowledge.management import options
from knowledge.models import Chunk, ChunkLevel, CorpusStats, Posting
from knowledge.parsed import ParsedDocument
from knowledge.retrieval import rank_parents
from knowledge.tests.embedders import RecordingEmbedder
from supportai.models import Tenant


def test_metrics_on_hand_computed_examples():
    qrels = {"q1": {"d1": 1}, "q2": {"d3": 1, "d4": 1}, "q3": {"d9": 1}}
    run = {"q1": ["d2", "d1"], "q2": ["d3", "d5"]}  # q3 retrieved nothing: counts as 0
    metrics = compute_metrics(qrels, run, k=10)
    ndcg_q1 = 1 / 1.5849625007211562  # relevant at rank 2: 1/log2(3), ideal 1
    ndcg_q2 = 1 / (1 + 1 / 1.5849625007211562)  # one of two relevant at rank 1
    assert metrics["ndcg@10"] == pytest.approx((ndcg_q1 + ndcg_q2) / 3)
    assert metrics["recall@10"] == pytest.approx((1 + 0.5) / 3)
    assert metrics["mrr@10"] == pytest.approx((0.5 + 1) / 3)
    assert metrics["recall@100"] == pytest.approx((1 + 0.5) / 3)


def test_mrr_is_cut_at_k():
    qrels = {"q": {"rel": 1}}
    run = {"q": [f"d{n}" for n in range(10)] + ["rel"]}
    assert compute_metrics(qrels, run, k=10)["mrr@10"] == 0
    assert compute_metrics(qrels, run, k=10)["recall@100"] == 1


@pytest.fixture
def mini_beir(tmp_path):
    corpus = [
        {"_id": "d1", "title": "Parking", "text": "Free parking behind the studio.", "metadata": {"url": "u1"}},
        {"_id": "d2", "title": "Gift cards", "text": "Gift cards never expire."},
        {"_id": "d3", "title": "Yoga", "text": "Morning yoga classes with mats."},
    ]
    (tmp_path / "corpus.jsonl").write_text("\n".join(json.dumps(doc) for doc in corpus))
    (tmp_path / "queries.jsonl").write_text(
        '{"_id": "q1", "text": "where to park"}\n{"_id": "q2", "text": "gift card expiry"}\n'
    )
    (tmp_path / "qrels").mkdir()
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n")
    return tmp_path


@pytest.mark.django_db(transaction=True)
def test_evaluate_retrieval_command_writes_the_product_json_and_cleans_up(mini_beir, tmp_path, capsys):
    out = tmp_path / "result.json"
    tenants_before = set(Tenant.objects.values_list("slug", flat=True))
    call_command("evaluate_retrieval", "--beir", str(mini_beir), "--json", str(out))
    result = json.loads(out.read_text())
    assert set(result) == {"dataset", "docs", "queries", "ignore_identical_ids", "modes"}
    assert (result["docs"], result["queries"]) == (3, 2)
    assert set(result["modes"]) == {"bm25", "dense", "hybrid"}
    for metrics in result["modes"].values():
        assert set(metrics) == {"ndcg@10", "recall@10", "recall@100", "mrr@10", "latency_ms_p50", "latency_ms_p95"}
    assert result["modes"]["bm25"]["recall@10"] == 1.0
    assert set(Tenant.objects.values_list("slug", flat=True)) == tenants_before
    assert not Chunk.objects.exists() and not Posting.objects.exists() and not CorpusStats.objects.exists()
    printed = capsys.readouterr().out
    assert "hybrid" in printed
    # both questions find their document first in every mode here: no difference to measure
    assert "per query: +0.0000 nDCG@10, 95 % interval [+0.0000, +0.0000], 0 better, 0 worse: within noise" in printed


@pytest.mark.django_db(transaction=True)
def test_evaluate_retrieval_averages_over_the_queries_it_asked(mini_beir, tmp_path):
    # given qrels that also judge a question queries.jsonl does not hold (another split's, say)
    qrels = mini_beir / "qrels" / "test.tsv"
    qrels.write_text(qrels.read_text() + "q9\td3\t1\n")
    out = tmp_path / "result.json"
    # when
    call_command("evaluate_retrieval", "--beir", str(mini_beir), "--modes", "bm25", "--json", str(out))
    # then the metrics are the means over the two questions asked, each answered first
    result = json.loads(out.read_text())
    assert result["queries"] == 2
    assert result["modes"]["bm25"]["ndcg@10"] == result["modes"]["bm25"]["recall@10"] == 1.0


def test_evaluate_retrieval_rejects_bad_arguments(tmp_path, mini_beir):
    with pytest.raises(CommandError, match=r"nope does not exist"):
        call_command("evaluate_retrieval", "--beir", str(tmp_path / "nope"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CommandError, match=r"corpus\.jsonl"):
        call_command("evaluate_retrieval", "--beir", str(empty))
    with pytest.raises(CommandError, match="Unknown mode"):
        call_command("evaluate_retrieval", "--beir", str(mini_beir), "--modes", "bm25,magic")


@pytest.mark.django_db(transaction=True)
def test_evaluate_retrieval_runs_a_mode_named_twice_once(mini_beir, tmp_path, monkeypatch):
    # given every search the evaluation makes recorded by mode
    searched: list[str] = []

    def recorded(**kwargs):
        searched.append(kwargs["mode"])
        return rank_parents(**kwargs)

    monkeypatch.setattr(evaluation, "rank_parents", recorded)
    out = tmp_path / "result.json"
    # when a mode is named twice
    call_command("evaluate_retrieval", "--beir", str(mini_beir), "--modes", "bm25,hybrid,bm25", "--json", str(out))
    # then each of its two questions is asked once per mode, in the order first named
    assert searched == ["bm25", "bm25", "hybrid", "hybrid"]
    assert list(json.loads(out.read_text())["modes"]) == ["bm25", "hybrid"]


@pytest.mark.parametrize("given", [".", "../{name}/.", "{name}/sub/.."])
def test_the_dataset_is_named_by_its_folder_however_the_folder_is_written(mini_beir, monkeypatch, given):
    # given the folder written relative to where the command runs, as "." inside it, say
    (mini_beir / "sub").mkdir()
    monkeypatch.chdir(mini_beir if given != "{name}/sub/.." else mini_beir.parent)

    dataset = load_beir(Path(given.format(name=mini_beir.name)))

    assert dataset.name == mini_beir.name


class _EveryStep(tqdm):
    """A bar redrawn after every step, as a slow run's would be."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, mininterval=0, miniters=1, **kwargs)


@pytest.mark.django_db(transaction=True)
def test_evaluate_retrieval_shows_its_progress_on_stderr_unless_told_not_to(mini_beir, monkeypatch):
    # given bars redrawn after every document batch and every question
    monkeypatch.setattr(options, "tqdm", _EveryStep)
    stdout, stderr = io.StringIO(), io.StringIO()
    # when the command ingests the corpus and asks the questions in two modes
    call_command("evaluate_retrieval", "--beir", str(mini_beir), "--modes", "bm25,dense", stdout=stdout, stderr=stderr)
    # then each step has its bar, drawn on one line of stderr and ended there, the table alone on stdout
    lines = stderr.getvalue().split("\n")
    finals = [line.split("\r")[-1] for line in lines[:-1]]
    assert [final.split(":")[0] for final in finals] == ["corpus", "bm25", "dense"]
    assert [final.split("|")[2].split()[0] for final in finals] == ["3/3", "2/2", "2/2"]
    assert lines[-1] == "" and "\r" not in stdout.getvalue()
    # and with --no-progress nothing is drawn
    quiet = io.StringIO()
    call_command("evaluate_retrieval", "--beir", str(mini_beir), "--modes", "bm25", "--no-progress", stderr=quiet)
    assert quiet.getvalue() == ""


def _runs(**runs: dict[str, list[str]]) -> dict[str, ModeRun]:
    return {mode: ModeRun(run, [1.0] * len(run)) for mode, run in runs.items()}


def test_hybrid_is_compared_with_the_better_of_its_parts_per_query():
    qrels = {f"q{n}": {f"d{n}": 1} for n in range(30)}
    first = {f"q{n}": [f"d{n}", "x"] for n in range(30)}
    second = {f"q{n}": ["x", f"d{n}"] for n in range(30)}
    # dense finds 20 of 30 first, bm25 10, hybrid 25: dense is the better part
    dense = {q: first[q] if n < 20 else second[q] for n, q in enumerate(qrels)}
    bm25 = {q: first[q] if n >= 20 else second[q] for n, q in enumerate(qrels)}
    hybrid = {q: first[q] if n < 25 else second[q] for n, q in enumerate(qrels)}
    result = compare_hybrid(qrels, _runs(bm25=bm25, dense=dense, hybrid=hybrid))
    assert result is not None and result.best_part == "dense"
    rank_2 = 1 / 1.5849625007211562
    assert result.paired.mean_difference == pytest.approx(5 * (1 - rank_2) / 30)
    assert (result.paired.queries_better, result.paired.queries_worse) == (5, 0)
    assert result.paired.low > 0


def test_no_comparison_without_hybrid_or_without_a_part():
    qrels = {"q1": {"d1": 1}}
    assert compare_hybrid(qrels, _runs(bm25={"q1": ["d1"]}, dense={"q1": ["d1"]})) is None
    assert compare_hybrid(qrels, _runs(hybrid={"q1": ["d1"]})) is None
    only_bm25 = compare_hybrid(qrels, _runs(bm25={"q1": ["d2", "d1"]}, hybrid={"q1": ["d1"]}))
    assert only_bm25 is not None and only_bm25.best_part == "bm25" and only_bm25.paired.queries_better == 1


@pytest.mark.parametrize(
    ("low", "high", "verdict"),
    [(0.01, 0.04, "a measured gain"), (-0.04, -0.01, "a measured loss"), (-0.01, 0.02, "within noise on this set")],
)
def test_the_command_says_whether_hybrids_difference_is_measured(low, high, verdict):
    from knowledge.evaluation import HybridComparison
    from knowledge.management.commands.evaluate_retrieval import _hybrid_line
    from knowledge.significance import PairedComparison

    paired = PairedComparison((low + high) / 2, low, high, 7, 3, 0.95, 2000)
    line = _hybrid_line(HybridComparison("dense", paired), k=10)
    assert line.startswith("hybrid - dense per query: ") and line.endswith(f"7 better, 3 worse: {verdict}")


def _qrels_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "test.tsv"
    path.write_text(text)
    return path


@pytest.mark.parametrize("header", ["query-id\tcorpus-id\tscore\n", ""])
def test_qrels_are_read_with_or_without_their_header_line(tmp_path: Path, header: str) -> None:
    path = _qrels_file(tmp_path, header + "q1\td1\t1\nq1\td2\t2\nq2\td3\t0\n")

    assert read_qrels(path) == {"q1": {"d1": 1, "d2": 2}, "q2": {"d3": 0}}


def test_qrels_fields_may_carry_extra_whitespace(tmp_path: Path) -> None:
    path = _qrels_file(tmp_path, "query-id\tcorpus-id\tscore\r\n q1 \t d1\t 1 \r\nq2\t\td2\t1\t\r\n")

    assert read_qrels(path) == {"q1": {"d1": 1}, "q2": {"d2": 1}}


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("q1 d1 1\n", "line 1"),
        ("query-id\tcorpus-id\tscore\nq1\td1\t1.5\n", "line 2"),
        ("query-id\tcorpus-id\tscore\nq1\t\t1\n", "line 2"),
        # trec_eval keeps a grade in a C integer: a larger one would end in a SystemError or wrap around
        ("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t2147483648\n", "line 3"),
        ("q1\td1\t-99999999999999999999999\n", "line 1"),
    ],
)
def test_a_malformed_qrels_line_is_named(tmp_path: Path, text: str, line: str) -> None:
    path = _qrels_file(tmp_path, text)

    with pytest.raises(BeirFormatError, match=rf"test\.tsv {line} is not query-id<TAB>corpus-id<TAB>score"):
        read_qrels(path)


def test_graded_judgements_reach_ndcg_as_grades():
    # given q judges d1 at grade 2 and d2 at grade 1; the run ranks d2 above d1
    qrels = {"q": {"d1": 2, "d2": 1}}
    run = {"q": ["d2", "d1"]}
    # then nDCG uses the grades as gains (trec_eval: gain = grade, discount log2(rank + 1))
    log2_3 = 1.5849625007211562
    dcg, ideal = 1 + 2 / log2_3, 2 + 1 / log2_3
    assert compute_metrics(qrels, run)["ndcg@10"] == pytest.approx(dcg / ideal)
    # and the same judgements at grade 1 each would make this run perfect
    assert compute_metrics({"q": {"d1": 1, "d2": 1}}, run)["ndcg@10"] == pytest.approx(1.0)


def test_a_grade_0_judgement_is_not_relevant():
    # given q judges d1 non-relevant (0) and d2 relevant; the run ranks d1 first
    qrels = {"q": {"d1": 0, "d2": 1}, "judged-only-non-relevant": {"d1": 0}}
    run = {"q": ["d1", "d2"], "judged-only-non-relevant": ["d1"]}
    # when
    metrics = compute_metrics(qrels, run)
    # then d1 neither raises recall nor gives MRR 1; the query with no relevant document scores 0,
    # and still counts in the mean, as trec_eval and BEIR count it
    assert metrics["recall@10"] == pytest.approx((1 + 0) / 2)
    assert metrics["mrr@10"] == pytest.approx((0.5 + 0) / 2)
    assert metrics["ndcg@10"] == pytest.approx((1 / 1.5849625007211562 + 0) / 2)


@pytest.mark.django_db(transaction=True)
def test_evaluate_retrieval_reads_the_split_it_is_given(mini_beir, tmp_path):
    # given judgements in qrels/dev.tsv only: q1's alone
    (mini_beir / "qrels" / "test.tsv").rename(mini_beir / "qrels" / "dev.tsv")
    (mini_beir / "qrels" / "dev.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    out = tmp_path / "result.json"
    # when
    call_command("evaluate_retrieval", "--beir", str(mini_beir), "--split", "dev", "--modes", "bm25", "--json", out)
    # then
    result = json.loads(out.read_text())
    assert result["queries"] == 1 and result["modes"]["bm25"]["recall@10"] == 1.0


def test_evaluate_retrieval_names_the_splits_a_folder_has(mini_beir):
    (mini_beir / "qrels" / "test.tsv").rename(mini_beir / "qrels" / "dev.tsv")

    with pytest.raises(CommandError, match=r"qrels/test\.tsv is missing; qrels/ holds dev\.tsv: try --split dev$"):
        call_command("evaluate_retrieval", "--beir", str(mini_beir))
    with pytest.raises(CommandError, match="invalid choice: 'holdout'"):
        call_command("evaluate_retrieval", "--beir", str(mini_beir), "--split", "holdout")


@pytest.mark.django_db(transaction=True)
def test_evaluate_retrieval_counts_what_it_left_out_or_could_not_match(mini_beir, tmp_path, capsys):
    # given an integer query id, a query with empty text, a query id given twice (the later text
    # is the one that finds d2), a pair judged twice, and judgements of a query and a document the
    # folder does not hold
    (mini_beir / "queries.jsonl").write_text(
        '{"_id": 1, "text": "where to park"}\n'
        '{"_id": "q2", "text": "yoga mats"}\n'
        '{"_id": "q2", "text": "gift card expiry", "metadata": {}}\n'
        '{"_id": "q3", "text": "  "}\n'
    )
    (mini_beir / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n1\td1\t0\n1\td1\t1\nq2\td2\t1\nq2\td9\t1\nq3\td3\t1\nq8\td1\t1\nq9\td3\t1\n"
    )
    out = tmp_path / "result.json"
    # when
    call_command("evaluate_retrieval", "--beir", str(mini_beir), "--modes", "bm25", "--json", str(out))
    # then queries 1 and q2 are asked, q2 with its later text; d9 is a judgement no run can find
    result = json.loads(out.read_text())
    assert result["queries"] == 2
    assert result["modes"]["bm25"]["recall@10"] == pytest.approx((1 + 0.5) / 2)
    assert result["modes"]["bm25"]["mrr@10"] == 1.0
    printed = capsys.readouterr().out.splitlines()
    assert printed[1] == (
        "skipped: 1 query with empty text, 2 judged queries not in queries.jsonl; "
        "1 judgement names a document not in corpus.jsonl (never found); "
        "repeated, the later line wins: 1 query id, 1 judgement"
    )


@pytest.mark.django_db(transaction=True)
def test_evaluate_retrieval_prints_no_such_line_for_a_clean_folder(mini_beir, capsys):
    call_command("evaluate_retrieval", "--beir", str(mini_beir), "--modes", "bm25")

    assert "skipped" not in capsys.readouterr().out


def _corpus(folder: Path, *records: dict[str, object]) -> None:
    (folder / "corpus.jsonl").write_text("".join(json.dumps(record) + "\n" for record in records))


def test_corpus_records_are_read_as_beir_writes_them(mini_beir):
    # given an integer _id, a missing and an empty title, metadata objects and extra fields
    _corpus(
        mini_beir,
        {"_id": 7, "text": "Free parking behind the studio.", "metadata": {"pubmed_id": 31, "authors": ["A. B."]}},
        {"_id": "d2", "title": "", "text": "Gift cards never expire.", "metadata": {"url": "https://example.com/g"}},
        {"_id": "d3", "title": "Yoga", "text": "Morning yoga.", "metadata": {}, "category": "classes", "year": 2020},
    )
    # when
    dataset = load_beir(mini_beir)
    # then a record without a title has none: BEIR's models read title and text, an empty title adds nothing
    assert [(d.external_id, d.title, d.text, d.url) for d in dataset.corpus] == [
        ("7", "", "Free parking behind the studio.", ""),
        ("d2", "", "Gift cards never expire.", "https://example.com/g"),
        ("d3", "Yoga", "Morning yoga.", ""),
    ]


@pytest.mark.django_db(transaction=True)
def test_a_document_without_a_title_is_not_found_by_its_id(mini_beir, tmp_path):
    # given a document whose id is a word its text does not hold
    _corpus(mini_beir, {"_id": "zebra", "text": "Gift cards never expire."}, {"_id": "d1", "text": "Free parking."})
    (mini_beir / "queries.jsonl").write_text('{"_id": "q1", "text": "zebra"}\n')
    (mini_beir / "qrels" / "test.tsv").write_text("q1\tzebra\t1\n")
    out = tmp_path / "result.json"
    # when
    call_command("evaluate_retrieval", "--beir", str(mini_beir), "--modes", "bm25", "--json", out)
    # then keywords do not find it: its id is no part of what is searched
    assert json.loads(out.read_text())["modes"]["bm25"]["recall@10"] == 0


@pytest.mark.django_db(transaction=True)
def test_of_a_document_id_given_twice_the_later_line_wins(mini_beir, tmp_path, capsys):
    # given d2 twice: first about yoga, then about gift cards
    _corpus(
        mini_beir,
        {"_id": "d1", "title": "Parking", "text": "Free parking behind the studio."},
        {"_id": "d2", "title": "Yoga", "text": "Morning yoga classes with mats."},
        {"_id": "d2", "title": "Gift cards", "text": "Gift cards never expire."},
    )
    out = tmp_path / "result.json"
    # when
    call_command("evaluate_retrieval", "--beir", str(mini_beir), "--modes", "bm25", "--json", out)
    # then d2 is the gift cards document, which "gift card expiry" finds first
    result = json.loads(out.read_text())
    assert result["docs"] == 2 and result["modes"]["bm25"]["mrr@10"] == 1.0
    assert capsys.readouterr().out.splitlines()[1] == "repeated, the later line wins: 1 document id"


def test_a_gzipped_file_is_refused_by_name(mini_beir):
    # BEIR's loader opens corpus.jsonl as plain text and refuses any other name: so do we, saying why
    corpus = mini_beir / "corpus.jsonl"
    (mini_beir / "corpus.jsonl.gz").write_bytes(gzip.compress(corpus.read_bytes()))
    corpus.unlink()

    with pytest.raises(CommandError, match=r"corpus\.jsonl is missing; corpus\.jsonl\.gz is compressed: gunzip it$"):
        call_command("evaluate_retrieval", "--beir", str(mini_beir))


def test_a_gzipped_file_under_the_plain_name_is_refused_by_name(mini_beir):
    queries = mini_beir / "queries.jsonl"
    queries.write_bytes(gzip.compress(queries.read_bytes()))

    with pytest.raises(BeirFormatError, match=rf"^{queries} is gzip-compressed: gunzip it$"):
        load_beir(mini_beir)


def test_a_query_nested_too_deeply_is_named_by_line(mini_beir):
    (mini_beir / "queries.jsonl").write_text('{"_id": "q1", "text": "park"}\n' + "[" * 100_000 + "\n")

    with pytest.raises(CommandError, match=r"queries\.jsonl line 2 is not a query: it is nested too deeply$"):
        call_command("evaluate_retrieval", "--beir", str(mini_beir), "--modes", "bm25")


@pytest.mark.parametrize("name", ["corpus.jsonl", "queries.jsonl", "qrels/test.tsv"])
def test_files_starting_with_a_byte_order_mark_are_read_as_without(mini_beir, name):
    # given a file saved with a UTF-8 byte order mark, as some Windows editors save them; no header
    path = mini_beir / name
    (mini_beir / "qrels" / "test.tsv").write_text("q1\td1\t1\nq2\td2\t1\n")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    # when
    dataset = load_beir(mini_beir)
    # then its first record is read, its id without the mark
    assert (dataset.corpus[0].external_id, dataset.qrels, list(dataset.queries)) == (
        "d1",
        {"q1": {"d1": 1}, "q2": {"d2": 1}},
        ["q1", "q2"],
    )


def test_with_no_query_to_ask_the_error_says_what_was_skipped(mini_beir):
    # given the only judged query has no text
    (mini_beir / "queries.jsonl").write_text('{"_id": "q1", "text": ""}\n')
    (mini_beir / "qrels" / "test.tsv").write_text("q1\td1\t1\n")

    with pytest.raises(BeirFormatError, match=r"in qrels/test\.tsv \(skipped: 1 query with empty text\)$"):
        load_beir(mini_beir)


@pytest.mark.parametrize("first", ["q1\t0\td1\t1\n", "query-id\tcorpus-id\tscore\n"])
def test_trec_qrels_are_named_as_such(tmp_path: Path, first: str) -> None:
    # given TREC's four columns (query, iteration, document, score) instead of BEIR's three
    path = _qrels_file(tmp_path, first + "q1\t0\td2\t1\n")
    line = 2 if first.startswith("query-id") else 1

    with pytest.raises(BeirFormatError, match=rf"test\.tsv line {line} .*TREC qrels .*drop the second column$"):
        read_qrels(path)


def test_ingest_corpus_reads_its_records_as_plain_text_as_an_uploaded_corpus_is(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given children of a sentence or two, and a record with a line starting with "#"
    small = dataclasses.replace(conf.SETTINGS, parent_tokens=64, parent_overlap=8, child_tokens=32, child_overlap=0)
    monkeypatch.setattr(conf, "SETTINGS", small)
    text = (
        "Intro to what we offer and how to book it.\n\n# Refunds\n\n"
        + "Within 5 days the money is back on the card you paid with. " * 4
    )
    provider = RecordingEmbedder()
    # when
    ingest_corpus(tenant=tenant, corpus=[ParsedDocument("r1", "Policy", text)], provider=provider)
    # then every child is embedded under the title alone, no "Refunds" section above it
    children = Chunk.objects.filter(tenant=tenant, level=ChunkLevel.CHILD).order_by("ordinal")
    assert len(children) > 2
    assert provider.seen == [embedding_text("Policy", child.text) for child in children]


def test_ndcg_and_recall_are_cut_at_k_and_recall_100_is_not():
    # given two relevant documents, one ranked first and one eleventh, just past k
    qrels = {"q": {"a": 1, "b": 1}}
    run = {"q": ["a", *(f"other{n}" for n in range(9)), "b"]}
    # when
    metrics = compute_metrics(qrels, run, k=10)
    # then only "a" counts at k = 10: DCG 1 against the ideal 1 + 1/log2(3); "b" counts at 100
    assert metrics["recall@10"] == pytest.approx(0.5)
    assert metrics["recall@100"] == pytest.approx(1.0)
    assert metrics["ndcg@10"] == pytest.approx(1 / (1 + 1 / math.log2(3)))
