"""A second retrieval set from real support traffic: Bitext customer utterances against the answers.

covid-faq's queries paraphrase FAQ questions that share most of their words with the articles, so
keywords help there. Support chat looks different: "needd help switching several items of order
00004587345" has to find the answer about changing an order, next to near-twins (change vs cancel
an order, check vs get an invoice, set up vs change a shipping address). This set gives each of
Bitext's 27 intents its canned answer as one document and asks the customers' utterances,
relevant = their intent's answer. Answers are named ``a01``..``a27`` and have no title (the
intent's name would hand BM25 the label; an id as title put a meaningless word into every
embedding), as ``evaluate_retrieval`` reads an untitled BEIR record. Queries are the
``holdout`` half of the utterances (``supportai.datasets``); the fusion was chosen on ``dev``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from knowledge.beir import BeirDataset
from knowledge.parsed import ParsedDocument
from supportai.datasets import SPLITS, DatasetNotFound, csv_file, split_of
from supportai.management.output import replaced

COLUMNS = {"instruction", "intent", "response"}


class BitextFormatError(Exception):
    pass


def bitext_intent_dataset(source: Path, *, split: str = "holdout") -> BeirDataset:
    """The set from the Bitext CSV ``source`` (or the folder holding it)."""
    if split not in SPLITS:
        raise BitextFormatError(f"split must be one of {', '.join(SPLITS)}")
    try:
        path = csv_file(source)
    except DatasetNotFound as exc:
        raise BitextFormatError(str(exc)) from exc
    answers: dict[str, str] = {}
    queries: dict[str, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    with path.open(newline="", encoding="utf-8-sig") as handle:  # Excel saves UTF-8 with a BOM
        reader = csv.DictReader(handle)
        try:
            if not set(reader.fieldnames or ()) >= COLUMNS:
                raise BitextFormatError(f"{path} has no {', '.join(sorted(COLUMNS))} columns (is it the Bitext CSV?)")
            for number, row in enumerate(reader, start=1):
                if any(row[column] is None for column in COLUMNS):  # DictReader's filler for a short row
                    given = sum(value is not None for name, value in row.items() if name is not None)
                    raise BitextFormatError(
                        f"{path} line {reader.line_num} has {given} of the {len(reader.fieldnames or ())} columns"
                    )
                text, intent, answer = row["instruction"].strip(), row["intent"].strip(), row["response"].strip()
                if not (text and intent and answer):
                    continue
                answers.setdefault(intent, answer)
                if split == "all" or split_of(text) == split:
                    query_id = f"u{number}"
                    queries[query_id] = text
                    qrels[query_id] = {intent: 1}
        except UnicodeDecodeError as exc:
            raise BitextFormatError(f"{path} is not UTF-8: {exc}") from exc
        except csv.Error as exc:
            raise BitextFormatError(f"{path} line {reader.line_num} is not CSV: {exc}") from exc
    names = {intent: f"a{number:02d}" for number, intent in enumerate(sorted(answers), start=1)}
    corpus = [ParsedDocument(names[intent], "", answers[intent]) for intent in sorted(answers)]
    judged = {query_id: {names[intent]: 1 for intent in relevant} for query_id, relevant in qrels.items()}
    return BeirDataset(f"bitext-intents-{split}", corpus, queries, judged)


def write_beir(dataset: BeirDataset, folder: Path) -> None:
    """``dataset`` as a BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv) for evaluate_retrieval;
    each file is replaced whole, one after another."""
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    with replaced(folder / "corpus.jsonl") as out:
        for document in dataset.corpus:
            out.write(json.dumps({"_id": document.external_id, "title": document.title, "text": document.text}) + "\n")
    with replaced(folder / "queries.jsonl") as out:
        for query_id, text in dataset.queries.items():
            out.write(json.dumps({"_id": query_id, "text": text}) + "\n")
    with replaced(folder / "qrels" / "test.tsv") as out:
        out.write("query-id\tcorpus-id\tscore\n")
        for query_id, relevant in dataset.qrels.items():
            out.writelines(f"{query_id}\t{doc_id}\t{score}\n" for doc_id, score in relevant.items())
