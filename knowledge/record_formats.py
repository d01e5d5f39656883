"""Files of one document per record: a CSV FAQ (a row per question) and a BEIR ``corpus.jsonl``.

A record that cannot be read, or that would be left out or overwritten without a word (half a
question/answer pair, a question asked again with another answer, an ``_id`` repeated), refuses the
whole file with a ``malformed`` error naming its row or line. A corpus record with nothing to index
(no title and no text) is left out with a note naming its line.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from typing import Any

from knowledge.languages import DEFAULT_LANGUAGE
from knowledge.parsed import (
    EXTERNAL_ID_MAX_LENGTH,
    UNSTORABLE,
    ErrorCode,
    ParsedDocument,
    ParseError,
    declared_or,
)

# The columns a CSV FAQ row is made of; any others (a category, an id) are ignored.
CSV_COLUMNS = ("question", "answer", "url", "language")
CSV_NO_HEADER = "A CSV FAQ needs a header row with question,answer[,url][,language]."
CSV_OTHER_SEPARATOR = (
    'The header row\'s columns are separated by {separator}, not commas; save the FAQ as "CSV (comma delimited)".'
)
CSV_UNREADABLE = "Row {row} could not be read: {error}."
CSV_COLUMN_AGAIN = "The header names the column {column} twice; keep one of them."
CSV_EXTRA_FIELDS = "Row {row} has more fields than the header; put answers with commas in quotes."
CSV_HALF_PAIR = "Row {row} has {missing}; fill it in or delete the row."
CSV_QUESTION_AGAIN = "Row {row} asks the question of row {first} again, with another answer or url; keep one of them."
# A row's document id is the file's name, "#" and this many hex digits of the SHA-256 of its question.
CSV_ROW_DIGITS = 16


def csv_row_id(name: str, question: str) -> str:
    return f"{name}#{hashlib.sha256(question.encode()).hexdigest()[:CSV_ROW_DIGITS]}"


def csv_faq(name: str, text: str) -> list[ParsedDocument]:
    """One document per row, rows counted as records with the header as row 1 (an answer over
    several lines is one row). A row blank in every FAQ column is skipped and a row repeated exactly
    is read once; a row with half a pair, or a question asked again with another answer, refuses the
    file naming the rows, rather than storing some rows and silently leaving the others out."""
    # newline="": lines end at \n, \r\n or \r (classic Mac), as the csv module expects.
    reader = csv.DictReader(io.StringIO(text, newline=""))
    row_number = 0
    try:
        columns = [field.strip().lower() for field in reader.fieldnames or []]
        if not {"question", "answer"} <= set(columns):
            raise ParseError(ErrorCode.MALFORMED, detail=_csv_header_problem(columns))
        # Each row's cells are read by column name: of a column named twice, one would be dropped.
        for column in CSV_COLUMNS:
            if columns.count(column) > 1:
                raise ParseError(ErrorCode.MALFORMED, detail=CSV_COLUMN_AGAIN.format(column=column))
        row_number = 1  # the header's: a row that cannot be read is the one after the last read
        documents = []
        first_rows: dict[str, tuple[int, dict[str, str]]] = {}
        for row_number, row in enumerate(reader, start=2):
            if None in row:
                raise ParseError(ErrorCode.MALFORMED, detail=CSV_EXTRA_FIELDS.format(row=row_number))
            cells = {(key or "").strip().lower(): (value or "").strip() for key, value in row.items()}
            faq = {column: cells.get(column, "") for column in CSV_COLUMNS}
            if not any(faq.values()):
                continue
            _csv_pair_check(row_number, faq)
            external_id = csv_row_id(name, faq["question"])
            if external_id in first_rows:
                first, first_faq = first_rows[external_id]
                if first_faq != faq:
                    raise ParseError(ErrorCode.MALFORMED, detail=CSV_QUESTION_AGAIN.format(row=row_number, first=first))
                continue
            first_rows[external_id] = (row_number, faq)
            documents.append(
                ParsedDocument(external_id, faq["question"], faq["answer"], url=faq["url"], language=faq["language"])
            )
    except csv.Error as exc:  # e.g. a field over csv.field_size_limit() (128 KiB), in the row after the last read
        raise ParseError(ErrorCode.MALFORMED, detail=CSV_UNREADABLE.format(row=row_number + 1, error=exc)) from exc
    return documents


# Separators other than a comma that spreadsheets write CSV with: Excel where the decimal mark is a
# comma (German, French...) separates columns with semicolons, and a copy of cells is tab-separated.
OTHER_SEPARATORS = {";": "semicolons", "\t": "tabs"}


def _csv_header_problem(columns: list[str]) -> str:
    """Why a header without the question and answer columns is refused: it names them separated by
    something else than commas, or it does not name them."""
    header = ",".join(columns)
    for separator, name in OTHER_SEPARATORS.items():
        if {"question", "answer"} <= {column.strip() for column in header.split(separator)}:
            return CSV_OTHER_SEPARATOR.format(separator=name)
    return CSV_NO_HEADER


def _csv_pair_check(row: int, faq: dict[str, str]) -> None:
    question, answer = faq["question"], faq["answer"]
    if question and answer:
        return
    missing = "no answer" if question else "no question" if answer else "no question and no answer"
    raise ParseError(ErrorCode.MALFORMED, detail=CSV_HALF_PAIR.format(row=row, missing=missing))


class _BadRecord(ValueError):
    pass


class JsonNumber(str):
    """A JSON number, kept as the text it is written as: no rounding (ids 0.1 and
    0.10000000000000001 stay two) and no limit on digits (Python's is 4,300 for an integer)."""


class NotJsonNumber(str):
    """NaN, Infinity or -Infinity: Python's json module reads them, but they are not JSON."""


def json_as_written(text: str) -> Any:
    """``text`` parsed as JSON with every number a ``JsonNumber`` and NaN or Infinity a
    ``NotJsonNumber``: what ``corpus.jsonl`` and ``queries.jsonl`` lines are read with."""
    return json.loads(text, parse_int=JsonNumber, parse_float=JsonNumber, parse_constant=NotJsonNumber)


def json_type(value: object) -> str:
    """The JSON type of a value ``json_as_written`` read, as a message names it."""
    if isinstance(value, NotJsonNumber):
        return str(value)
    return "number" if isinstance(value, JsonNumber) else type(value).__name__


def _beir_field(record: dict[str, object], key: str) -> str:
    """A string field of a corpus record (a number is taken as its text; missing or null is "")."""
    value = record.get(key)
    if value is None:
        return ""
    if isinstance(value, NotJsonNumber):
        raise _BadRecord(f'"{key}" is {value}, which is not a JSON number; put it in quotes to keep it as text')
    if not isinstance(value, str):
        raise _BadRecord(f'"{key}" must be a string, not {json_type(value)}')
    text = str(value)
    if UNSTORABLE.search(text):
        raise _BadRecord(
            f'"{key}" holds a NUL (\\u0000) or an unpaired surrogate (\\ud800-\\udfff), which cannot be stored'
        )
    return text


def _beir_record(line: str, *, id_as_title: bool) -> ParsedDocument:
    try:
        record = json_as_written(line)
    except RecursionError as exc:
        raise _BadRecord("it is nested too deeply") from exc
    if not isinstance(record, dict):
        raise _BadRecord(f"it is a JSON {json_type(record)}, not an object")
    if "_id" not in record:
        raise _BadRecord('it has no "_id"')
    doc_id = _beir_field(record, "_id")
    if not doc_id:
        raise _BadRecord('"_id" is empty')
    if not doc_id.strip():
        raise _BadRecord('"_id" is only whitespace')
    if len(doc_id) > EXTERNAL_ID_MAX_LENGTH:
        raise _BadRecord(f'"_id" is {len(doc_id)} characters long; the limit is {EXTERNAL_ID_MAX_LENGTH}')
    metadata = record.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise _BadRecord(f'"metadata" must be an object, not {json_type(metadata)}')
    title = _beir_field(record, "title")
    text = _beir_field(record, "text")
    return ParsedDocument(
        doc_id,
        # Blanks are no title, nor text (a record of blank text was left out for it, with its title).
        title if title.strip() else (doc_id if id_as_title else ""),
        # BEIR retrieves on title and text together: a record with a title only is its title.
        text if text.strip() else title,
        url=_beir_field(metadata, "url"),
        language=_beir_field(metadata, "language"),
    )


BEIR_ID_AGAIN = "Line {line} has the _id of line {first}; a corpus names each document once."


def beir_records(text: str, *, id_as_title: bool = True) -> list[tuple[int, ParsedDocument]]:
    """(line number, document) of every record of a BEIR ``corpus.jsonl``, an ``_id`` repeated or not;
    a bad one is a ``MALFORMED`` error naming its line. A record without a title is titled by its
    ``_id`` unless ``id_as_title`` is false (BEIR's retrievers read title and text, and no id)."""
    records = []
    # Lines end at \n only: str.splitlines would also cut at a raw U+2028 inside a JSON string.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            records.append((number, _beir_record(line, id_as_title=id_as_title)))
        except ValueError as exc:  # json.JSONDecodeError or _BadRecord
            raise ParseError(ErrorCode.MALFORMED, detail=f"Line {number} is not a BEIR corpus record: {exc}") from exc
    return records


# A corpus's note when records with neither a title nor a text, nothing to index, were left out.
RECORDS_LEFT_OUT = "{count} record{plural} left out: no title and no text ({lines})"
# How many of their line numbers the note names.
LINES_NAMED = 5


def records_left_out(lines: list[int]) -> str:
    """The note for the records left out on ``lines`` (the first ``LINES_NAMED``, then "and N more")."""
    named = ", ".join(map(str, lines[:LINES_NAMED]))
    if len(lines) > LINES_NAMED:
        named += f" and {len(lines) - LINES_NAMED} more"
    plural = "" if len(lines) == 1 else "s"
    return RECORDS_LEFT_OUT.format(count=len(lines), plural=plural, lines=f"line{plural} {named}")


def beir_corpus(text: str, *, notes: list[str], default_language: str = DEFAULT_LANGUAGE) -> list[ParsedDocument]:
    """Records of a BEIR ``corpus.jsonl`` (``default_language`` where ``metadata.language`` is
    missing); a bad one, or an ``_id`` repeated, is a ``MALFORMED`` error naming its line. A record
    with neither a title nor a text is left out, and ``notes`` is told its line."""
    documents = []
    first_lines: dict[str, int] = {}
    left_out = []
    for number, document in beir_records(text):
        if document.external_id in first_lines:
            first = first_lines[document.external_id]
            raise ParseError(ErrorCode.MALFORMED, detail=BEIR_ID_AGAIN.format(line=number, first=first))
        first_lines[document.external_id] = number
        if document.text.strip():
            documents.append(document)
        else:
            left_out.append(number)
    if left_out:
        notes.append(records_left_out(left_out))
    return declared_or(documents, default_language)
