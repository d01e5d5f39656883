"""Turn uploaded bytes into documents: Markdown, text, HTML, PDF, CSV FAQ and BEIR ``corpus.jsonl``
(the last two in ``knowledge.record_formats``).

Each problem raises ``ParseError`` with a code from ``ErrorCode`` (``knowledge.parsed``) and a plain
message; callers record it against the one file and carry on with the rest.
"""

from __future__ import annotations

import codecs
import dataclasses
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import PurePath

from knowledge.chunking import without_unread_words
from knowledge.languages import DEFAULT_LANGUAGE, declared_language
from knowledge.markdown_title import markdown_title
from knowledge.parsed import (
    EXTERNAL_ID_MAX_LENGTH,
    UNDECLARED,
    UNSTORABLE,
    ErrorCode,
    ParsedDocument,
    ParseError,
    declared_or,
    too_large,
)
from knowledge.pdf_reading import PDF_READ_SECONDS, pdf_pages
from knowledge.pdf_text import LIGATURES, pdf_text
from knowledge.record_formats import beir_corpus, csv_faq

BEIR_QUERIES = "queries.jsonl"
QUERIES_REFUSED = "queries.jsonl is a BEIR data set's questions, not documents; ingest its corpus.jsonl instead."
PAGE_BINARY = "The page looks binary, not HTML text."

SUPPORTED_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".csv", ".jsonl"})
# A file name leaves room in Document.external_id for the "#<digest>" that names each row of a CSV FAQ.
NAME_MAX_LENGTH = EXTERNAL_ID_MAX_LENGTH - 17


def file_name_nfc(name: str) -> str:
    """``name`` in Unicode NFC, as every file's name is stored: macOS spells "é" as "e" and a
    combining accent (NFD), Windows as one character (NFC), and a file uploaded from both is one file."""
    return unicodedata.normalize("NFC", name)


def file_title(name: str) -> str:
    """The title of a document whose file gives none: the file's name without its suffix, or with
    it if that leaves only blanks (" .txt")."""
    path = PurePath(name)
    return path.stem if path.stem.strip() else path.name


def is_document_file(name: str) -> bool:
    """Whether ``parse_file`` reads documents from a file called ``name``: a supported suffix and not a
    BEIR ``queries.jsonl`` (questions, which sit next to ``corpus.jsonl``)."""
    path = PurePath(name)
    return path.suffix.lower() in SUPPORTED_SUFFIXES and path.name.lower() != BEIR_QUERIES


# Text saved as UTF-32 or UTF-16 ("Unicode" in Windows tools) starts with its byte order mark, here with
# the codec that reads it (UTF-32's little-endian mark starts with UTF-16's, so it is looked for first).
WIDE_TEXT_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _decode(data: bytes) -> str:
    for mark, codec in WIDE_TEXT_MARKS:
        if data.startswith(mark):
            # Refused, as text is stored as UTF-8; but a mark with blanks alone is no text in any encoding.
            blank = not data.decode(codec, errors="replace").strip()
            raise ParseError(ErrorCode.EMPTY if blank else ErrorCode.ENCODING)
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


# Binary data that decodes as UTF-8 and holds no NUL still has control characters all over; text
# has a stray one at most (a Word line break, an ANSI colour escape), kept as read like any other.
# A share alone would refuse a short note for one control character: so many is needed too.
BINARY_CONTROL_SHARE = 0.05
BINARY_MIN_CONTROLS = 16


def _looks_binary(text: str) -> bool:
    """Whether control characters (NUL included) make up more than 5% of the text's start, and
    more than ``BINARY_MIN_CONTROLS`` of them."""
    sample = text[:8192]
    controls = sum(1 for char in sample if ord(char) < 32 and char not in "\n\r\t\f")
    return controls > BINARY_MIN_CONTROLS and controls / len(sample) > BINARY_CONTROL_SHARE


# Blanks next to a newline are [^\S\n], never \s: \s* followed by \n (or by \s* again) can split a run of
# blanks in as many ways as it is long, and regexes backtracked through all of them (a heading padded
# with 4,000 spaces took 85 s). The title's scan (``knowledge.markdown_title``) reads blanks in Python.
FRONT_MATTER = re.compile(r"\A---[^\S\n]*\n(.*?)\n---[^\S\n]*\n", re.DOTALL)


def _markdown(name: str, text: str) -> ParsedDocument:
    meta: dict[str, str] = {}
    match = FRONT_MATTER.match(text)
    if match:
        for line in match.group(1).splitlines():
            key, sep, value = line.partition(":")
            if sep:
                meta[key.strip().lower()] = value.strip().strip("\"'")
        text = text[match.end() :]
    # A title of blanks ('title: " "') is none.
    # A heading of only words the model reads as [UNK] ("#" and 600 letters) is no title either.
    title = meta.get("title", "").strip() or without_unread_words(markdown_title(text)) or file_title(name)
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

    def close(self) -> None:
        # What ``feed`` left starting with "<" is a tag, comment or declaration the file ends inside.
        # Python before 3.11.13 (gh-135462) reads it as text up to its next "<" and tries again from
        # there, each try a scan to the end: quadratic, minutes for 100 KB of '<a b="'. Browsers (and
        # newer Pythons) end it with the file: an unfinished tag is dropped, a comment runs to the end.
        if len(self.rawdata) > 1 and self.rawdata.startswith("<") and not self.cdata_elem:
            self.rawdata = ""
        super().close()


# Python's HTMLParser does Python work for every "<" (a tag, or a lone "<" read as text) and every "&"
# (a character reference): 10 MB of "<" or two million nested <div>s held an upload for ~20 s. Both
# are counted first (C speed), and a page of more is refused unparsed: ~1-3 s of parsing at most.
HTML_MARKUP_LIMIT = 300_000
HTML_TOO_MUCH_MARKUP = (
    "The page holds more than {limit} tags and character references, more than can be read here; "
    "split it into smaller pages."
)
# ... and for every attribute of a start tag: one tag of 5 million (" b b b ...") took 14 s. A page whose
# start tags hold more attributes than this is refused, each tag's counted before they are read.
HTML_ATTRIBUTE_LIMIT = 500_000
HTML_TOO_MANY_ATTRIBUTES = (
    "The page's tags hold more than {limit} attributes, more than can be read here; split it into smaller pages."
)
# One attribute of a start tag as Python's parser finds where the tag ends
# (``html.parser.locatestarttagend_tolerant``), with possessive repeats where that expression never
# backtracks (what follows them cannot fail): 3 to 6 times faster, and the same ends (compared on
# every tag of up to 5 characters after "<a" made of those the expression treats apart, and on random
# ones: test_html_markup_limits.py). The value indicator's ``=+\s*`` stays: ``<a b= "c`` matches only
# by giving back its blank.
_ATTRIBUTE = r"""
    (?<=['"\s/])[^\s/>][^\s/=>]*+
      (?:\s*+=+\s*
        (?:'[^']*+'
          |"[^"]*+"
          |(?!['"])[^>\s]*+
         )
        \s*+
       )?+(?:\s|/(?!>))*+
"""
_ATTRIBUTES = re.compile(_ATTRIBUTE, re.VERBOSE)
# Where that expression ends a start tag (group 1: its name), finished or not, walking at most
# HTML_ATTRIBUTE_LIMIT + 1 attributes: a tag of more is refused after those, not after a walk of all
# of them (the standard expression's: ~1.6 s a million, before the parser walks them again).
_START_TAG_END = re.compile(
    rf"""
  (<[a-zA-Z][^\t\n\r\f />\x00]*+)
  (?:[\s/]*+
    (?:{_ATTRIBUTE}){{0,{HTML_ATTRIBUTE_LIMIT + 1}}}+
   )?+
  \s*+
""",
    re.VERBOSE,
)


def _markup_check(text: str) -> None:
    """Refuse a page of more tags and character references than ``HTML_MARKUP_LIMIT``."""
    if text.count("<") + text.count("&") > HTML_MARKUP_LIMIT:
        raise ParseError(ErrorCode.TOO_LARGE, HTML_TOO_MUCH_MARKUP.format(limit=f"{HTML_MARKUP_LIMIT:,}"))


class _MainText(TolerantHTMLParser):
    # A <form> is not skipped, only its option lists and prefilled text: ASP.NET and SharePoint pages
    # wrap everything in one. A form is kept only if it holds content (a heading, a paragraph, a
    # list...), so that login, search and newsletter forms leave no "EmailPasswordLog in" behind.
    SKIP = frozenset(
        {"script", "style", "noscript", "nav", "header", "footer", "aside", "select", "textarea", "template", "svg"}
    )
    CONTENT = frozenset(
        {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "table", "blockquote", "pre", "article", "main"}
    )
    BLOCK = CONTENT | {"div", "br", "tr", "section", "dl", "ul", "ol", "figure", "figcaption", "details", "summary"}
    BLOCK |= {"hr", "address", "caption", "form", "fieldset"}
    # Inline elements whose neighbours are other words: table cells, form labels and buttons.
    SPACED = frozenset({"td", "th", "label", "button", "option", "input"})
    # Written as Markdown ATX lines ("## Refunds"), so that chunks know their section (knowledge/sections.py).
    HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth_skip = 0
        self.in_title = False
        self.in_main = 0
        self.title = ""
        self.language = ""
        self.parts: list[str] = []
        self.main_parts: list[str] = []
        self.forms = 0
        self.form_start = (0, 0)  # where the outermost open form's text begins in parts and main_parts
        self.form_has_content = False
        self.heading_at: tuple[int, int] | None = None  # where the open heading's "#" mark is in parts and main_parts
        self.attributes = 0  # in the start tags read so far

    def parse_starttag(self, i: int) -> int:
        # Counted before Python's parser walks the tag's attributes (``HTML_ATTRIBUTE_LIMIT``), up to
        # where it would stop, finished or not (``_START_TAG_END``, which stops after the limit).
        tag = _START_TAG_END.match(self.rawdata, i)
        if tag:
            self.attributes += len(_ATTRIBUTES.findall(self.rawdata, tag.end(1), tag.end()))
        if self.attributes > HTML_ATTRIBUTE_LIMIT:
            limit = f"{HTML_ATTRIBUTE_LIMIT:,}"
            raise ParseError(ErrorCode.TOO_LARGE, HTML_TOO_MANY_ATTRIBUTES.format(limit=limit))
        return super().parse_starttag(i)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html" and not self.language:
            self.language = (dict(attrs).get("lang") or "").strip()
        if tag in self.SKIP:
            self.depth_skip += 1
        elif tag == "title" and not self.depth_skip:
            # An SVG icon's <title> (a tooltip) is not the page's.
            self.in_title = True
        elif tag in {"main", "article"}:
            self.in_main += 1
        elif tag == "form":
            if not self.forms:
                self.form_start, self.form_has_content = (len(self.parts), len(self.main_parts)), False
            self.forms += 1
        if tag in self.CONTENT and not self.depth_skip:
            self.form_has_content = True
        if tag in self.BLOCK:
            self._add("\n\n" if tag != "br" else "\n")
        elif tag in self.SPACED:
            self._add(" ")
        if tag in self.HEADINGS and not self.depth_skip:
            self.heading_at = (len(self.parts), len(self.main_parts))
            self._add("#" * int(tag[1]) + " ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.depth_skip:
            self.depth_skip -= 1
        elif tag == "title":
            self.in_title = False
        elif tag in {"main", "article"} and self.in_main:
            self.in_main -= 1
        elif tag == "form" and self.forms:
            self.forms -= 1
            if not self.forms and not self.form_has_content:
                del self.parts[self.form_start[0] :], self.main_parts[self.form_start[1] :]
        elif tag in self.HEADINGS and self.heading_at is not None:
            # A heading without words leaves no bare "##" line behind.
            mark, main_mark = self.heading_at
            if not "".join(self.parts[mark + 1 :]).strip():
                del self.parts[mark:], self.main_parts[main_mark:]
            self.heading_at = None
        if tag in self.BLOCK:
            self._add("\n\n")
        elif tag in self.SPACED:
            self._add(" ")

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
    (``<html lang>``, else ``UNDECLARED``) of an HTML page. Raises ``ParseError`` (``TOO_LARGE``) for
    a page of more markup than ``HTML_MARKUP_LIMIT`` or ``HTML_ATTRIBUTE_LIMIT`` allow."""
    _markup_check(text)
    parser = _MainText()
    parser.feed(text)
    parser.close()
    main = _tidy("".join(parser.main_parts))
    body = main or _tidy("".join(parser.parts))
    return ParsedDocument(name, parser.title.strip() or file_title(name), body, language=parser.language)


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
        title=storable_text(parsed.title).strip() or file_title(name),
        text=storable_text(parsed.text),
        language=declared_language(parsed.language) or DEFAULT_LANGUAGE,
    )


def _pdf(name: str, data: bytes, *, max_chars: int, seconds: float) -> ParsedDocument:
    read = pdf_pages(data, max_chars=max_chars, seconds=seconds)
    # Extraction turns glyph code 0 into NUL; it carries no text.
    return ParsedDocument(
        name,
        storable_text(read.title.translate(LIGATURES)).strip() or file_title(name),
        storable_text(_tidy(pdf_text(read.pages))),
        language=storable_text(read.language.strip()) or UNDECLARED,
    )


# ".md" is a hidden file's whole name (no suffix), which "Files of type '.md' are not supported" contradicted.
NO_SUFFIX = (
    "The file name {name!r} has no type suffix, so its format is unknown; name it like faq.md "
    "(.md, .txt, .html, .pdf, .csv, .jsonl)."
)


def file_check(name: str, size: int, *, max_bytes: int) -> None:
    """Refuse, before it is read, a file that ``parse_file`` would refuse for its name or its size."""
    if not PurePath(name).suffix:
        raise ParseError(ErrorCode.UNSUPPORTED, NO_SUFFIX.format(name=PurePath(name).name))
    if PurePath(name).suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ParseError(ErrorCode.UNSUPPORTED, suffix=PurePath(name).suffix.lower())
    if PurePath(name).name.lower() == BEIR_QUERIES:
        raise ParseError(ErrorCode.UNSUPPORTED, QUERIES_REFUSED)
    if len(name) > NAME_MAX_LENGTH:
        raise ParseError(
            ErrorCode.MALFORMED, detail=f"The file name is {len(name)} characters long; the limit is {NAME_MAX_LENGTH}."
        )
    if UNSTORABLE.search(name):
        raise ParseError(ErrorCode.MALFORMED, detail="The file name is not valid UTF-8 text; rename the file.")
    if size > max_bytes:
        raise too_large(size, max_bytes)


def parse_file(
    name: str,
    data: bytes,
    *,
    max_bytes: int,
    default_language: str = DEFAULT_LANGUAGE,
    pdf_seconds: float = PDF_READ_SECONDS,
    notes: list[str] | None = None,
) -> list[ParsedDocument]:
    """Documents in one file named ``name`` (its suffix chooses the format); a document whose file
    declares no language gets ``default_language``. A PDF is refused once it has been read for
    ``pdf_seconds`` (``knowledge.pdf_reading``). What the file should be told though it was read (a
    corpus's records left out as empty) is appended to ``notes``."""
    file_check(name, len(data), max_bytes=max_bytes)
    suffix = PurePath(name).suffix.lower()
    if not data.strip():
        raise ParseError(ErrorCode.EMPTY)
    if suffix == ".pdf":
        if not data.startswith(b"%PDF"):
            raise ParseError(ErrorCode.MALFORMED, detail="The file does not start like a PDF.")
        documents = [_pdf(name, data, max_chars=max_bytes, seconds=pdf_seconds)]
    else:
        text = _decode(data)
        if suffix == ".jsonl":
            documents = beir_corpus(text, notes=[] if notes is None else notes, default_language=default_language)
        elif suffix == ".csv":
            documents = csv_faq(name, text)
        elif suffix in {".html", ".htm"}:
            documents = [parse_html(name, text)]
        elif suffix in {".md", ".markdown"}:
            documents = [_markdown(name, text)]
        else:
            documents = [ParsedDocument(name, file_title(name), text.strip(), language=UNDECLARED)]
    documents = declared_or([document for document in documents if document.text.strip()], default_language)
    if not documents:
        raise ParseError(ErrorCode.EMPTY)
    return documents
