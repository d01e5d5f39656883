"""Reading a BEIR-format folder: ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/SPLIT.tsv``, as
BEIR's loader reads them, with what was left out, unmatched or repeated counted in ``BeirNotes``."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from knowledge.languages import DEFAULT_LANGUAGE
from knowledge.parsed import ParsedDocument, ParseError, declared_or
from knowledge.parsing import storable_text
from knowledge.record_formats import NotJsonNumber, beir_records, json_as_written, json_type

# The qrels files a BEIR folder may hold, qrels/SPLIT.tsv; test is the default.
SPLITS = ("test", "dev", "train")


@dataclass(frozen=True)
class BeirNotes:
    """What reading a BEIR folder left out, could not match or read twice (the later line wins)."""

    unjudged_queries: int = 0  # queries.jsonl ids with text that the qrels do not judge: not asked
    empty_queries: int = 0  # queries.jsonl ids whose text is empty or spaces: not asked
    unknown_queries: int = 0  # judged query ids queries.jsonl does not hold: not asked
    unknown_documents: int = 0  # judgements of asked queries naming ids corpus.jsonl does not hold
    repeated_queries: int = 0
    repeated_judgements: int = 0
    repeated_documents: int = 0
    identical_ids: int = 0  # asked queries whose id is also a document's: left out of their rankings

    def line(self, *, qrels: str = "the qrels") -> str:
        """One line saying all of it, or "" when there is nothing to say; ``qrels`` names the qrels file."""
        skipped = _listed(
            (
                self.unjudged_queries,
                f"query without judgements in {qrels}",
                f"queries without judgements in {qrels}",
            ),
            (self.empty_queries, "query with empty text", "queries with empty text"),
            (self.unknown_queries, "judged query not in queries.jsonl", "judged queries not in queries.jsonl"),
        )
        repeated = _listed(
            (self.repeated_documents, "document id", "document ids"),
            (self.repeated_queries, "query id", "query ids"),
            (self.repeated_judgements, "judgement", "judgements"),
        )
        parts = [f"skipped: {skipped}"] if skipped else []
        if self.unknown_documents:
            judgements = _listed((self.unknown_documents, "judgement names a document", "judgements name documents"))
            parts.append(f"{judgements} not in corpus.jsonl (never found)")
        if repeated:
            parts.append(f"repeated, the later line wins: {repeated}")
        if self.identical_ids == 1:
            parts.append("1 query id is also a document id: that document is left out of its ranking, as in BEIR")
        elif self.identical_ids:
            parts.append(
                f"{self.identical_ids} query ids are also document ids: "
                "those documents are left out of their rankings, as in BEIR"
            )
        return "; ".join(parts)


def _listed(*counts: tuple[int, str, str]) -> str:
    """ "2 queries, 1 judgement" of (number, singular, plural) triples; those of 0 are left out."""
    return ", ".join(f"{number} {one if number == 1 else many}" for number, one, many in counts if number)


@dataclass(frozen=True)
class BeirDataset:
    name: str
    corpus: list[ParsedDocument]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    notes: BeirNotes = field(default_factory=BeirNotes)


class BeirFormatError(ValueError):
    """A BEIR file that cannot be read; the message names the file and, where it can, the line."""


def load_beir(folder: Path, *, split: str = "test") -> BeirDataset:
    corpus_path = folder / "corpus.jsonl"
    try:
        records = beir_records(_text(corpus_path), id_as_title=False)
    except ParseError as exc:
        raise BeirFormatError(f"{corpus_path}: {exc}") from exc
    # Ids stripped of spaces as the qrels' fields are, so that an id padded alike in both still
    # matches, as in BEIR's loader, which keeps them; later lines win, as in BEIR.
    latest = {
        document.external_id.strip(): replace(document, external_id=document.external_id.strip())
        for _, document in records
    }
    corpus = declared_or(list(latest.values()), DEFAULT_LANGUAGE)
    if not any(document.text.strip() for document in corpus):
        raise BeirFormatError(f"{corpus_path} holds no documents with text to search")
    labelled = read_labelled(folder / "queries.jsonl", folder / "qrels" / f"{split}.tsv")
    documents = {document.external_id for document in corpus}
    notes = replace(
        labelled.notes,
        unknown_documents=sum(doc_id not in documents for docs in labelled.qrels.values() for doc_id in docs),
        repeated_documents=len(records) - len(latest),
        identical_ids=sum(query_id in documents for query_id in labelled.queries),
    )
    if not labelled.queries:
        said = notes.line(qrels=f"qrels/{split}.tsv")
        why = f" ({said})" if said else ""
        raise BeirFormatError(f"{folder}: no query in queries.jsonl has a judgement in qrels/{split}.tsv{why}")
    # Named as the folder is, however it was written: "." or "set/sub/.." have no name of their own.
    name = Path(os.path.abspath(folder)).name
    return BeirDataset(name, corpus, labelled.queries, labelled.qrels, notes)


@dataclass(frozen=True)
class LabelledQueries:
    """The judged queries to ask (text not empty), their judgements, and what reading left out."""

    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    notes: BeirNotes  # all but the corpus's counts, which only load_beir can know


def read_labelled(queries_path: Path, qrels_path: Path) -> LabelledQueries:
    """BEIR ``queries.jsonl`` and qrels (``query_lines``, ``qrels_lines``): the queries that have
    a judgement and text to ask. Queries with empty text, judged queries never asked and queries
    the qrels do not judge (another split's) are left out and counted: metrics are means over the
    qrels' queries, where they would count as 0."""
    asked = query_lines(queries_path)
    queries = {query_id: text for _, query_id, text in asked}
    empty = {query_id for query_id, text in queries.items() if not text.strip()}
    judgements = qrels_lines(qrels_path)
    qrels = _qrels_of(judgements)
    judged = {query_id: text for query_id, text in queries.items() if query_id in qrels and query_id not in empty}
    notes = BeirNotes(
        unjudged_queries=len(queries.keys() - qrels.keys() - empty),
        empty_queries=len(empty),
        unknown_queries=len(qrels.keys() - queries.keys()),
        repeated_queries=len(asked) - len(queries),
        repeated_judgements=len(judgements) - sum(len(judged_docs) for judged_docs in qrels.values()),
    )
    return LabelledQueries(judged, {query_id: qrels[query_id] for query_id in judged}, notes)


GZIP_MAGIC = b"\x1f\x8b"


def _text(path: Path) -> str:
    try:
        data = path.read_bytes()
        if data.startswith(GZIP_MAGIC):  # never UTF-8: 0x8b cannot start a character
            raise BeirFormatError(f"{path} is gzip-compressed: gunzip it")
        # Line ends as text mode reads them: \r\n and a lone \r become \n. A byte order mark,
        # which some editors write, would otherwise stick to the first id or refuse the first line.
        return data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise BeirFormatError(f"{path}: {exc}") from exc


def _lines(path: Path) -> list[str]:
    """The file's lines, ended by line feeds only (a carriage return before one is dropped):
    ``str.splitlines`` would also cut at a U+2028 or U+0085 that JSON allows raw inside a string."""
    return [line.removesuffix("\r") for line in _text(path).split("\n")]


def query_lines(path: Path) -> list[tuple[int, str, str]]:
    """BEIR ``queries.jsonl``: (line number, query id, text) per query, in file order; an id or a
    text may be a JSON number (taken as its text), an id is stripped of spaces, other fields are
    ignored."""
    queries = []
    for number, line in enumerate(_lines(path), start=1):
        if not line.strip():
            continue
        try:
            item = json_as_written(line)
            if not isinstance(item, dict):
                raise TypeError(f"it is a JSON {json_type(item)}, not an object")
            query_id, text = _query_field(item, "_id"), _query_field(item, "text")
        except RecursionError as exc:
            raise BeirFormatError(f"{path} line {number} is not a query: it is nested too deeply") from exc
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise BeirFormatError(f'{path} line {number} is not a query {{"_id": ..., "text": ...}}: {exc}') from exc
        # Stripped of spaces as the qrels' fields are (``qrels_lines``).
        queries.append((number, query_id.strip(), storable_text(text)))
    return queries


def _query_field(item: dict[str, Any], key: str) -> str:
    """A query's id or text: a string, or a number taken as the text it is written as (``1.10``
    stays "1.10", as qrels name it); null would be asked as "None", NaN is no JSON number."""
    value = item[key]
    if isinstance(value, NotJsonNumber):
        raise TypeError(f'"{key}" is {value}, which is not a JSON number; put it in quotes to keep it as text')
    if not isinstance(value, str):
        raise TypeError(f'"{key}" must be a string, not {json_type(value)}')
    return str(value)


# trec_eval holds a grade in a C int: beyond it pytrec_eval raises a SystemError or wraps around.
GRADES = range(-(2**31), 2**31)
TREC_QRELS = "these are TREC qrels (query-id, 0, corpus-id, score); for BEIR's, drop the second column"
QRELS_LINE = "{path} line {number} is not query-id<TAB>corpus-id<TAB>score (a whole number): {error}"


def qrels_lines(path: Path) -> list[tuple[int, str, str, int]]:
    """BEIR qrels TSV: (line number, query id, corpus id, grade) per judgement, in file order.

    Fields are split at tabs (an empty field, as from two tabs in a row, is skipped) and stripped
    of spaces; columns after the third are ignored. The first line is a header when none of its
    fields is a whole number (BEIR's loader skips its first line whatever it holds); without a
    header it is the first judgement. TREC qrels (query, 0, document, score) are refused as such. A
    grade is a whole number: 1 and up are relevant, the higher the more (nDCG's gain); 0 or below is
    judged not relevant."""
    judgements = []
    for number, line in enumerate(_lines(path), start=1):
        if not line.strip():
            continue
        fields = [field.strip() for field in line.split("\t") if field.strip()]
        if number == 1 and len(fields) >= 3 and not any(_is_whole_number(field) for field in fields[:4]):
            continue
        try:
            if len(fields) < 3:
                raise ValueError(f"{len(fields)} field(s) separated by tabs")
            if len(fields) == 4 and _is_whole_number(fields[3]) and not _is_whole_number(fields[2]):
                raise ValueError(TREC_QRELS)
            grade = int(fields[2])
            if grade not in GRADES:
                raise ValueError(f"{grade} is beyond trec_eval's range, {GRADES.start} to {GRADES.stop - 1}")
            judgements.append((number, fields[0], fields[1], grade))
        except ValueError as exc:
            raise BeirFormatError(QRELS_LINE.format(path=path, number=number, error=exc)) from exc
    return judgements


def _is_whole_number(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """BEIR qrels TSV (``qrels_lines``): query id -> {document id: grade}; of a pair judged twice,
    the later line wins, as in BEIR's loader."""
    return _qrels_of(qrels_lines(path))


def _qrels_of(judgements: list[tuple[int, str, str, int]]) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    for _, query_id, doc_id, grade in judgements:
        qrels.setdefault(query_id, {})[doc_id] = grade
    return qrels
