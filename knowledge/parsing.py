"""Turn uploaded bytes into documents: Markdown, text, HTML, PDF, CSV FAQ and BEIR ``corpus.jsonl``.

Each problem raises ``ParseError`` with a code from ``ErrorCode`` and a plain message; callers
record it against the one file and carry on with the rest.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import re
from dataclasses import dataclass
from enum import StrEnum
from html.parser import HTMLParser
from pathlib import PurePath

from knowledge.languages import DEFAULT_LANGUAGE

# The language of a document whose file says nothing of it: ``parse_file`` gives it the caller's default.
UNDECLARED = ""


class ErrorCode(StrEnum):
    EMPTY = "empty"
    BINARY = "binary"
    ENCODING = "encoding"
    TOO_LARGE = "too_large"
    UNSUPPORTED = "unsupported"
    MALFORMED = "malformed"
    UNREADABLE = "unreadable"
    DUPLICATE = "duplicate"
    INTERNAL = "internal"


MESSAGES = {
    ErrorCode.EMPTY: "The file has no text to index.",
    ErrorCode.BINARY: "The file looks binary, not text; upload Markdown, text, HTML, PDF, CSV or corpus.jsonl.",
    ErrorCode.ENCODING: "The file is not valid UTF-8; save it as UTF-8 and upload it again.",
    ErrorCode.TOO_LARGE: "The file is {size} bytes; the limit is {limit} bytes.",
    ErrorCode.UNSUPPORTED: "Files of type {suffix!r} are not supported (use .md, .txt, .html, .pdf, .csv, .jsonl).",
    ErrorCode.MALFORMED: "{detail}",
    ErrorCode.UNREADABLE: "The file could not be read: {detail}.",
    ErrorCode.DUPLICATE: (
        "An earlier file in this upload has the same name, so this one was not stored; rename one of them."
    ),
    ErrorCode.INTERNAL: "This file could not be indexed; the error was logged.",
}
BEIR_QUERIES = "queries.jsonl"
QUERIES_REFUSED = "queries.jsonl is a BEIR data set's questions, not documents; ingest its corpus.jsonl instead."
PDF_ENCRYPTED = "The PDF is encrypted (password protected); upload a copy saved without a password."
PAGE_BINARY = "The page looks binary, not HTML text."

SUPPORTED_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".csv", ".jsonl"})
# Document.external_id's max_length (a test keeps them equal); a file name leaves room for the
# "#<digest>" that names each row of a CSV FAQ.
EXTERNAL_ID_MAX_LENGTH = 500
NAME_MAX_LENGTH = EXTERNAL_ID_MAX_LENGTH - 17
# PostgreSQL text holds neither NUL nor the halves of a surrogate pair (JSON escapes and file names
# can carry both).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class ParseError(Exception):
    """``message`` replaces the code's usual message (whose fields ``details`` fill in)."""

    def __init__(self, code: ErrorCode, message: str = "", **details: object) -> None:
        self.code = code
        super().__init__(message or MESSAGES[code].format(**details))


def is_document_file(name: str) -> bool:
    """Whether ``parse_file`` reads documents from a file called ``name``: a supported suffix and not a
    BEIR ``queries.jsonl`` (questions, which sit next to ``corpus.jsonl``)."""
    path = PurePath(name)
    return path.suffix.lower() in SUPPORTED_SUFFIXES and path.name.lower() != BEIR_QUERIES


@dataclass(frozen=True)
class ParsedDocument:
    external_id: str
    title: str
    text: str
    url: str = ""
    language: str = DEFAULT_LANGUAGE  # a tag such as "de" or "pt-BR" (knowledge/languages.py)


def _decode(data: bytes) -> str:
    # Anywhere in the file: PostgreSQL refuses NUL in text. One C-level scan of the bytes.
    if b"\x00" in data:
        raise ParseError(ErrorCode.BINARY)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(ErrorCode.ENCODING) from exc
    if _looks_binary(text):
        raise ParseError(ErrorCode.BINARY)
    return text


def _looks_binary(text: str) -> bool:
    """Whether control characters (NUL included) make up more than 5% of the text's start."""
    sample = text[:8192]
    controls = sum(1 for char in sample if ord(char) < 32 and char not in "\n\r\t\f")
    return bool(sample) and controls / len(sample) > 0.05


FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
HEADING = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)


def _markdown(name: str, text: str) -> ParsedDocument:
    meta: dict[str, str] = {}
    match = FRONT_MATTER.match(text)
    if match:
        for line in match.group(1).splitlines():
            key, sep, value = line.partition(":")
            if sep:
                meta[key.strip().lower()] = value.strip().strip("\"'")
        text = text[match.end() :]
    heading = HEADING.search(text)
    title = meta.get("title") or (heading.group(1) if heading else PurePath(name).stem)
    language = meta.get("language") or meta.get("lang") or UNDECLARED
    return ParsedDocument(name, title, text.strip(), url=meta.get("url", ""), language=language)


class TolerantHTMLParser(HTMLParser):
    """``HTMLParser`` that reads what browsers read instead of raising on it."""

    def parse_html_declaration(self, i: int) -> int:
        try:
            return super().parse_html_declaration(i)
        except AssertionError:
            # Python's parser gives up on a marked section it does not know (``<![foo[``, ``<![``);
            # browsers read any ``<![`` in HTML as a comment, and so do we.
            return self.parse_bogus_comment(i)


class _MainText(TolerantHTMLParser):
    SKIP = frozenset({"script", "style", "noscript", "nav", "header", "footer", "aside", "form", "template", "svg"})
    BLOCK = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth_skip = 0
        self.in_title = False
        self.in_main = 0
        self.title = ""
        self.language = ""
        self.parts: list[str] = []
        self.main_parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html" and not self.language:
            self.language = (dict(attrs).get("lang") or "").strip()
        if tag in self.SKIP:
            self.depth_skip += 1
        elif tag == "title":
            self.in_title = True
        elif tag in {"main", "article"}:
            self.in_main += 1
        if tag in self.BLOCK:
            self._add("\n\n" if tag != "br" else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.depth_skip:
            self.depth_skip -= 1
        elif tag == "title":
            self.in_title = False
        elif tag in {"main", "article"} and self.in_main:
            self.in_main -= 1
        if tag in self.BLOCK:
            self._add("\n\n")

    def _add(self, text: str) -> None:
        self.parts.append(text)
        if self.in_main:
            self.main_parts.append(text)

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
        elif not self.depth_skip:
            self._add(data)


def _tidy(text: str) -> str:
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def parse_html(name: str, text: str) -> ParsedDocument:
    """Title, main text (``<main>``/``<article>`` when present, without navigation) and language
    (``<html lang>``, else ``UNDECLARED``) of an HTML page."""
    parser = _MainText()
    parser.feed(text)
    parser.close()
    main = _tidy("".join(parser.main_parts))
    body = main or _tidy("".join(parser.parts))
    return ParsedDocument(name, parser.title.strip() or PurePath(name).stem, body, language=parser.language)


def storable_text(text: str) -> str:
    """``text`` without what PostgreSQL cannot store: NUL goes, a lone surrogate becomes U+FFFD."""
    return UNSTORABLE.sub(lambda match: "" if match.group() == "\x00" else "\ufffd", text)


def parse_html_page(name: str, text: str) -> ParsedDocument:
    """``parse_html`` for a page already decoded to text (a fetched web page), held to the rules of
    uploaded files: text that looks binary raises ``ParseError`` (``BINARY``); otherwise the title
    and text lose what PostgreSQL cannot store (a stray NUL is dropped, as browsers drop it from
    text; a lone surrogate, which odd charsets such as UTF-7 decode to, becomes U+FFFD)."""
    if _looks_binary(text):
        raise ParseError(ErrorCode.BINARY, PAGE_BINARY)
    parsed = parse_html(name, text)
    return dataclasses.replace(
        parsed,
        title=storable_text(parsed.title),
        text=storable_text(parsed.text),
        language=parsed.language or DEFAULT_LANGUAGE,
    )


def _pdf(name: str, data: bytes) -> ParsedDocument:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, DeprecationError, FileNotDecryptedError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
        title = (reader.metadata.title if reader.metadata else None) or PurePath(name).stem
        language = reader.root_object.get("/Lang")  # the catalog's natural language, e.g. "de-DE"
    except FileNotDecryptedError as exc:
        raise ParseError(ErrorCode.MALFORMED, detail=PDF_ENCRYPTED) from exc
    except (NotImplementedError, DependencyError) as exc:
        # An encryption handler or a stream filter that pypdf cannot read.
        detail = f"The PDF uses a feature that cannot be read here ({exc}); save it again as a plain PDF."
        raise ParseError(ErrorCode.MALFORMED, detail=detail) from exc
    # pypdf's own errors, and what broken files were seen to raise from inside it.
    except (
        PyPdfError,
        DeprecationError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        AssertionError,
        RecursionError,
    ) as exc:
        raise ParseError(ErrorCode.MALFORMED, detail=f"The PDF could not be read: {exc}") from exc
    # Extraction turns glyph code 0 into NUL; it carries no text.
    return ParsedDocument(
        name,
        storable_text(str(title)),
        storable_text(_tidy("\n\n".join(pages))),
        language=storable_text(language.strip()) if isinstance(language, str) else UNDECLARED,
    )


# The columns a CSV FAQ row is made of; any others (a category, an id) are ignored.
CSV_COLUMNS = ("question", "answer", "url", "language")
CSV_NO_HEADER = "A CSV FAQ needs a header row with question,answer[,url][,language]."
CSV_UNREADABLE = "Row {row} could not be read: {error}."
CSV_EXTRA_FIELDS = "Row {row} has more fields than the header; put answers with commas in quotes."
CSV_HALF_PAIR = "Row {row} has {missing}; fill it in or delete the row."
CSV_QUESTION_AGAIN = "Row {row} asks the question of row {first} again, with another answer or url; keep one of them."


def _csv_faq(name: str, text: str) -> list[ParsedDocument]:
    """One document per row, rows counted as records with the header as row 1 (an answer over
    several lines is one row). A row blank in every FAQ column is skipped and a row repeated exactly
    is read once; a row with half a pair, or a question asked again with another answer, refuses the
    file naming the rows, rather than storing some rows and silently leaving the others out."""
    reader = csv.DictReader(io.StringIO(text))
    row_number = 0
    try:
        if not {"question", "answer"} <= {field.strip().lower() for field in reader.fieldnames or []}:
            raise ParseError(ErrorCode.MALFORMED, detail=CSV_NO_HEADER)
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
            digest = hashlib.sha256(faq["question"].encode()).hexdigest()[:16]
            if digest in first_rows:
                first, first_faq = first_rows[digest]
                if first_faq != faq:
                    raise ParseError(ErrorCode.MALFORMED, detail=CSV_QUESTION_AGAIN.format(row=row_number, first=first))
                continue
            first_rows[digest] = (row_number, faq)
            documents.append(
                ParsedDocument(
                    f"{name}#{digest}", faq["question"], faq["answer"], url=faq["url"], language=faq["language"]
                )
            )
    except csv.Error as exc:  # e.g. a field over csv.field_size_limit() (128 KiB), in the row after the last read
        raise ParseError(ErrorCode.MALFORMED, detail=CSV_UNREADABLE.format(row=row_number + 1, error=exc)) from exc
    return documents


def _csv_pair_check(row: int, faq: dict[str, str]) -> None:
    question, answer = faq["question"], faq["answer"]
    if question and answer:
        return
    missing = "no answer" if question else "no question" if answer else "no question and no answer"
    raise ParseError(ErrorCode.MALFORMED, detail=CSV_HALF_PAIR.format(row=row, missing=missing))


class _BadRecord(ValueError):
    pass


def _beir_field(record: dict[str, object], key: str) -> str:
    """A string field of a corpus record (a number is taken as its text; missing or null is "")."""
    value = record.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _BadRecord(f'"{key}" must be a string, not {type(value).__name__}')
    text = str(value)
    if UNSTORABLE.search(text):
        raise _BadRecord(
            f'"{key}" holds a NUL (\\u0000) or an unpaired surrogate (\\ud800-\\udfff), which cannot be stored'
        )
    return text


def _beir_record(line: str) -> ParsedDocument:
    try:
        record = json.loads(line)
    except RecursionError as exc:
        raise _BadRecord("it is nested too deeply") from exc
    if not isinstance(record, dict):
        raise _BadRecord(f"it is a JSON {type(record).__name__}, not an object")
    if "_id" not in record:
        raise _BadRecord('it has no "_id"')
    doc_id = _beir_field(record, "_id")
    if not doc_id:
        raise _BadRecord('"_id" is empty')
    if len(doc_id) > EXTERNAL_ID_MAX_LENGTH:
        raise _BadRecord(f'"_id" is {len(doc_id)} characters long; the limit is {EXTERNAL_ID_MAX_LENGTH}')
    metadata = record.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise _BadRecord(f'"metadata" must be an object, not {type(metadata).__name__}')
    title = _beir_field(record, "title")
    return ParsedDocument(
        doc_id,
        title or doc_id,
        # BEIR retrieves on title and text together: a record with a title only is its title.
        _beir_field(record, "text") or title,
        url=_beir_field(metadata, "url"),
        language=_beir_field(metadata, "language"),
    )


BEIR_ID_AGAIN = "Line {line} has the _id of line {first}; a corpus names each document once."


def beir_corpus(text: str, *, default_language: str = DEFAULT_LANGUAGE) -> list[ParsedDocument]:
    """Records of a BEIR ``corpus.jsonl`` (``default_language`` where ``metadata.language`` is
    missing); a bad one is a ``MALFORMED`` error naming its line."""
    documents = []
    first_lines: dict[str, int] = {}
    # Lines end at \n only: str.splitlines would also cut at a raw U+2028 inside a JSON string.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            document = _beir_record(line)
        except ValueError as exc:  # json.JSONDecodeError or _BadRecord
            raise ParseError(ErrorCode.MALFORMED, detail=f"Line {number} is not a BEIR corpus record: {exc}") from exc
        if document.external_id in first_lines:
            first = first_lines[document.external_id]
            raise ParseError(ErrorCode.MALFORMED, detail=BEIR_ID_AGAIN.format(line=number, first=first))
        first_lines[document.external_id] = number
        documents.append(document)
    return _declared_or(documents, default_language)


def _declared_or(documents: list[ParsedDocument], default_language: str) -> list[ParsedDocument]:
    """``documents``, those whose file declared no language given ``default_language``."""
    return [dataclasses.replace(d, language=d.language or default_language) for d in documents]


def file_check(name: str, size: int, *, max_bytes: int) -> None:
    """Refuse, before it is read, a file that ``parse_file`` would refuse for its name or its size."""
    if PurePath(name).suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ParseError(ErrorCode.UNSUPPORTED, suffix=PurePath(name).suffix.lower() or name)
    if PurePath(name).name.lower() == BEIR_QUERIES:
        raise ParseError(ErrorCode.UNSUPPORTED, QUERIES_REFUSED)
    if len(name) > NAME_MAX_LENGTH:
        raise ParseError(
            ErrorCode.MALFORMED, detail=f"The file name is {len(name)} characters long; the limit is {NAME_MAX_LENGTH}."
        )
    if UNSTORABLE.search(name):
        raise ParseError(ErrorCode.MALFORMED, detail="The file name is not valid UTF-8 text; rename the file.")
    if size > max_bytes:
        raise ParseError(ErrorCode.TOO_LARGE, size=size, limit=max_bytes)


def parse_file(
    name: str, data: bytes, *, max_bytes: int, default_language: str = DEFAULT_LANGUAGE
) -> list[ParsedDocument]:
    """Documents in one file named ``name`` (its suffix chooses the format); a document whose file
    declares no language gets ``default_language``."""
    file_check(name, len(data), max_bytes=max_bytes)
    suffix = PurePath(name).suffix.lower()
    if not data.strip():
        raise ParseError(ErrorCode.EMPTY)
    if suffix == ".pdf":
        if not data.startswith(b"%PDF"):
            raise ParseError(ErrorCode.MALFORMED, detail="The file does not start like a PDF.")
        documents = [_pdf(name, data)]
    else:
        text = _decode(data)
        if suffix == ".jsonl":
            documents = beir_corpus(text, default_language=default_language)
        elif suffix == ".csv":
            documents = _csv_faq(name, text)
        elif suffix in {".html", ".htm"}:
            documents = [parse_html(name, text)]
        elif suffix in {".md", ".markdown"}:
            documents = [_markdown(name, text)]
        else:
            documents = [ParsedDocument(name, PurePath(name).stem, text.strip(), language=UNDECLARED)]
    documents = _declared_or([document for document in documents if document.text.strip()], default_language)
    if not documents:
        raise ParseError(ErrorCode.EMPTY)
    return documents
