"""What parsing a file gives: its documents, or a coded error for the file (``knowledge.parsing``
reads Markdown, text, HTML and PDF; ``knowledge.record_formats`` CSV FAQs and BEIR corpora)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from enum import StrEnum

from django.template.defaultfilters import filesizeformat

from knowledge.languages import DEFAULT_LANGUAGE, declared_language
from supportai.outbound import http_url

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
    SOURCE_DELETED = "source_deleted"


MESSAGES = {
    ErrorCode.EMPTY: "The file has no text to index.",
    ErrorCode.BINARY: "The file looks binary, not text; upload Markdown, text, HTML, PDF, CSV or corpus.jsonl.",
    ErrorCode.ENCODING: "The file is not valid UTF-8; save it as UTF-8 and upload it again.",
    ErrorCode.TOO_LARGE: "The file is {size} bytes ({size_said}); the limit is {limit} bytes ({limit_said}).",
    ErrorCode.UNSUPPORTED: "Files of type {suffix!r} are not supported (use .md, .txt, .html, .pdf, .csv, .jsonl).",
    ErrorCode.MALFORMED: "{detail}",
    ErrorCode.UNREADABLE: "The file could not be read: {detail}.",
    ErrorCode.DUPLICATE: (
        "An earlier file in this upload has the same name, so this one was not stored; rename one of them."
    ),
    ErrorCode.INTERNAL: "This file could not be indexed; the error was logged.",
    ErrorCode.SOURCE_DELETED: (
        "The knowledge source this upload went to was deleted during the upload, with what it stored; "
        "upload the file again."
    ),
}
# Document.external_id's max_length (a test keeps them equal).
EXTERNAL_ID_MAX_LENGTH = 500
# PostgreSQL text holds neither NUL nor the halves of a surrogate pair (JSON escapes and file names
# can carry both).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class ParseError(Exception):
    """``message`` replaces the code's usual message (whose fields ``details`` fill in)."""

    def __init__(self, code: ErrorCode, message: str = "", **details: object) -> None:
        self.code = code
        super().__init__(message or MESSAGES[code].format(**details))


def too_large(size: int, limit: int) -> ParseError:
    """A file of ``size`` bytes over the ``limit``, both also as the upload form states its limit
    (``filesizeformat``: 195.3 KB for 200000)."""
    return ParseError(ErrorCode.TOO_LARGE, size=size, limit=limit, size_said=_said(size), limit_said=_said(limit))


def _said(size: int) -> str:
    # filesizeformat's space is a no-break one, which an API client would not expect in a message.
    return " ".join(filesizeformat(size).split())


@dataclass(frozen=True)
class ParsedDocument:
    external_id: str
    title: str
    text: str
    url: str = ""
    language: str = DEFAULT_LANGUAGE  # a tag such as "de" or "pt-BR" (knowledge/languages.py)


def declared_or(documents: list[ParsedDocument], default_language: str) -> list[ParsedDocument]:
    """``documents``, those whose file declared no language, or something that is not one
    (``languages.declared_language``), given ``default_language``."""
    return [dataclasses.replace(d, language=declared_language(d.language) or default_language) for d in documents]


# A file's note when some of its documents' urls are no absolute http(s) address (``web_urls``).
URLS_LEFT_OUT = "{count} address{plural} left out as not absolute http(s) ({titles}); the text is indexed."
# How many of those documents the note names by title.
URLS_NAMED = 3


@dataclass(frozen=True)
class ParsedFile:
    """A file's documents, and what the file should be told of them ("" when nothing)."""

    documents: list[ParsedDocument]
    note: str = ""


def web_urls(documents: list[ParsedDocument]) -> ParsedFile:
    """``documents`` with each url kept only as an absolute http(s) address, as a browser reads it
    (``javascript:``, ``data:``, a relative path, " JaVa\tscript:" are left out, since an API client
    could make any stored address a link), and a note naming the documents that lost theirs."""
    kept = [dataclasses.replace(d, url=http_url(d.url)) for d in documents]
    lost = [d.title for d, checked in zip(documents, kept, strict=True) if d.url and not checked.url]
    if not lost:
        return ParsedFile(kept)
    titles = ", ".join(f'"{title}"' for title in lost[:URLS_NAMED])
    if len(lost) > URLS_NAMED:
        titles += f" and {len(lost) - URLS_NAMED} more"
    note = URLS_LEFT_OUT.format(count=len(lost), plural="" if len(lost) == 1 else "es", titles=titles)
    return ParsedFile(kept, note)
