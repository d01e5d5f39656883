"""Turn uploaded bytes into documents: Markdown, text, HTML, PDF, CSV FAQ and BEIR ``corpus.jsonl``.

Each problem raises ``ParseError`` with a code from ``ErrorCode`` and a plain message; callers
record it against the one file and carry on with the rest.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass
from enum import StrEnum
from html.parser import HTMLParser
from pathlib import PurePath


class ErrorCode(StrEnum):
    EMPTY = "empty"
    BINARY = "binary"
    ENCODING = "encoding"
    TOO_LARGE = "too_large"
    UNSUPPORTED = "unsupported"
    MALFORMED = "malformed"


MESSAGES = {
    ErrorCode.EMPTY: "The file has no text to index.",
    ErrorCode.BINARY: "The file looks binary, not text; upload Markdown, text, HTML, PDF, CSV or corpus.jsonl.",
    ErrorCode.ENCODING: "The file is not valid UTF-8; save it as UTF-8 and upload it again.",
    ErrorCode.TOO_LARGE: "The file is {size} bytes; the limit is {limit} bytes.",
    ErrorCode.UNSUPPORTED: "Files of type {suffix!r} are not supported (use .md, .txt, .html, .pdf, .csv, .jsonl).",
    ErrorCode.MALFORMED: "{detail}",
}

SUPPORTED_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".csv", ".jsonl"})


class ParseError(Exception):
    def __init__(self, code: ErrorCode, **details: object) -> None:
        self.code = code
        super().__init__(MESSAGES[code].format(**details))


@dataclass(frozen=True)
class ParsedDocument:
    external_id: str
    title: str
    text: str
    url: str = ""
    language: str = "en"


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise ParseError(ErrorCode.BINARY)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(ErrorCode.ENCODING) from exc
    sample = text[:8192]
    controls = sum(1 for char in sample if ord(char) < 32 and char not in "\n\r\t\f")
    if sample and controls / len(sample) > 0.05:
        raise ParseError(ErrorCode.BINARY)
    return text


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
    return ParsedDocument(name, title, text.strip(), url=meta.get("url", ""), language=meta.get("language", "en"))


class _MainText(HTMLParser):
    SKIP = frozenset({"script", "style", "noscript", "nav", "header", "footer", "aside", "form", "template", "svg"})
    BLOCK = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth_skip = 0
        self.in_title = False
        self.in_main = 0
        self.title = ""
        self.parts: list[str] = []
        self.main_parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
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
    """Title and main text of an HTML page (``<main>``/``<article>`` when present, without navigation)."""
    parser = _MainText()
    parser.feed(text)
    parser.close()
    main = _tidy("".join(parser.main_parts))
    body = main or _tidy("".join(parser.parts))
    return ParsedDocument(name, parser.title.strip() or PurePath(name).stem, body)


def _pdf(name: str, data: bytes) -> ParsedDocument:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
        title = (reader.metadata.title if reader.metadata else None) or PurePath(name).stem
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise ParseError(ErrorCode.MALFORMED, detail=f"The PDF could not be read: {exc}") from exc
    return ParsedDocument(name, str(title), _tidy("\n\n".join(pages)))


def _csv_faq(name: str, text: str) -> list[ParsedDocument]:
    reader = csv.DictReader(io.StringIO(text))
    fields = {field.strip().lower() for field in reader.fieldnames or []}
    if not {"question", "answer"} <= fields:
        raise ParseError(ErrorCode.MALFORMED, detail="A CSV FAQ needs a header row with question,answer[,url].")
    documents = []
    for row in reader:
        if None in row:
            raise ParseError(
                ErrorCode.MALFORMED,
                detail=f"Row {reader.line_num} has more fields than the header; put answers with commas in quotes.",
            )
        clean = {(key or "").strip().lower(): (value or "").strip() for key, value in row.items()}
        if not clean.get("question") or not clean.get("answer"):
            continue
        digest = hashlib.sha256(clean["question"].encode()).hexdigest()[:16]
        documents.append(
            ParsedDocument(f"{name}#{digest}", clean["question"], clean["answer"], url=clean.get("url", ""))
        )
    return documents


def _beir_corpus(text: str) -> list[ParsedDocument]:
    documents = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            doc_id = str(item["_id"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ParseError(ErrorCode.MALFORMED, detail=f"Line {number} is not a BEIR corpus record: {exc}") from exc
        metadata = item.get("metadata") or {}
        title = str(item.get("title") or "")
        documents.append(
            ParsedDocument(doc_id, title or doc_id, str(item.get("text") or ""), url=metadata.get("url", ""))
        )
    return documents


def parse_file(name: str, data: bytes, *, max_bytes: int) -> list[ParsedDocument]:
    """Documents in one file named ``name`` (its suffix chooses the format)."""
    suffix = PurePath(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ParseError(ErrorCode.UNSUPPORTED, suffix=suffix or name)
    if len(data) > max_bytes:
        raise ParseError(ErrorCode.TOO_LARGE, size=len(data), limit=max_bytes)
    if not data.strip():
        raise ParseError(ErrorCode.EMPTY)
    if suffix == ".pdf":
        if not data.startswith(b"%PDF"):
            raise ParseError(ErrorCode.MALFORMED, detail="The file does not start like a PDF.")
        documents = [_pdf(name, data)]
    else:
        text = _decode(data)
        if suffix == ".jsonl":
            documents = _beir_corpus(text)
        elif suffix == ".csv":
            documents = _csv_faq(name, text)
        elif suffix in {".html", ".htm"}:
            documents = [parse_html(name, text)]
        elif suffix in {".md", ".markdown"}:
            documents = [_markdown(name, text)]
        else:
            documents = [ParsedDocument(name, PurePath(name).stem, text.strip())]
    documents = [document for document in documents if document.text.strip()]
    if not documents:
        raise ParseError(ErrorCode.EMPTY)
    return documents
