"""Properties of ``parse_file`` over arbitrary input (hypothesis, derandomized so CI is repeatable).

Whatever the bytes, for every supported suffix, parsing gives documents PostgreSQL can store, each
with a title, some text and a language ``knowledge.languages`` accepts, or a ``ParseError`` with a
message; no other exception. Well-formed files of each format give back exactly what they hold.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from knowledge.languages import declared_language
from knowledge.parsed import EXTERNAL_ID_MAX_LENGTH, UNSTORABLE, ParsedDocument, ParseError
from knowledge.parsing import SUPPORTED_SUFFIXES, parse_file
from knowledge.tests.test_parsing import _pdf_bytes

LIMIT = 1_000_000
PROPERTIES = settings(max_examples=500, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SUFFIXES = sorted(SUPPORTED_SUFFIXES)
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "latin-1"]
# Text a person could type: no control characters but line ends and tabs (``_looks_binary``), no
# NUL (refused as binary), no surrogates (UTF-8 cannot encode them).
TYPED = st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\n\r\t")


def _parsed(name: str, data: bytes, default_language: str = "en") -> list[ParsedDocument] | None:
    """``parse_file``'s documents, held to what every document must be; None if it raised ParseError."""
    error: ParseError | None = None
    try:
        documents = parse_file(name, data, max_bytes=LIMIT, default_language=default_language)
    except ParseError as exc:
        error = exc
    if error is not None:
        assert str(error).strip(), error.code  # the message the user reads
        return None
    assert documents
    for document in documents:
        for value in (document.external_id, document.title, document.text, document.url, document.language):
            assert isinstance(value, str)
            assert not UNSTORABLE.search(value), value
        assert 0 < len(document.external_id) <= EXTERNAL_ID_MAX_LENGTH
        assert document.title.strip()
        assert document.text.strip()
        assert document.language and declared_language(document.language) == document.language
    return documents


@PROPERTIES
@given(suffix=st.sampled_from(SUFFIXES), data=st.binary(max_size=2000))
def test_any_bytes_give_storable_documents_or_a_parse_error(suffix: str, data: bytes) -> None:
    _parsed(f"upload{suffix}", data)


@PROPERTIES
@given(suffix=st.sampled_from(SUFFIXES), text=st.text(max_size=500), encoding=st.sampled_from(ENCODINGS))
def test_any_text_in_any_encoding_gives_storable_documents_or_a_parse_error(
    suffix: str, text: str, encoding: str
) -> None:
    data = text.encode(encoding, errors="replace")
    documents = _parsed(f"upload{suffix}", data)
    # UTF-16 starts with its byte order mark, or (without one) has a NUL in each ASCII character:
    # refused. Text of other characters can happen to be valid UTF-8 (a few control characters).
    if encoding == "utf-16" or (encoding == "utf-16-le" and any(ord(char) < 128 for char in text)):
        assert documents is None


@PROPERTIES
@given(text=st.text(alphabet=TYPED, max_size=500), bom=st.booleans())
def test_a_text_file_is_its_text_stripped(text: str, bom: bool) -> None:
    data = (codecs.BOM_UTF8 if bom else b"") + text.encode()
    documents = _parsed("notes.txt", data)
    if not text.strip():
        assert documents is None
    else:
        assert documents is not None
        [document] = documents
        assert (document.title, document.text, document.language) == ("notes", text.strip(), "en")


CELL = st.text(alphabet=TYPED, max_size=40)


def _csv_cell(cell: str, *, quote_all: bool) -> str:
    """``cell`` as a CSV field, quoted where it must be: Python's writer leaves a lone carriage return
    unquoted when its line terminator is a line feed, and a reader rightly ends the row there."""
    if quote_all or any(char in cell for char in ',"\r\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


@PROPERTIES
@given(
    rows=st.lists(st.tuples(CELL, CELL, CELL), max_size=8),
    quote_all=st.booleans(),
    line_end=st.sampled_from(["\n", "\r\n", "\r"]),
    bom=st.booleans(),
    header=st.sampled_from(["question,answer,url", "Question , ANSWER,url", "url,answer,question"]),
)
def test_a_csv_faq_gives_one_document_per_question_with_its_answer(
    rows: list[tuple[str, str, str]], quote_all: bool, line_end: str, bom: bool, header: str
) -> None:
    # given: distinct questions (a question asked again is refused, tested by example)
    rows = [(f"Q{n} {question}", answer, url) for n, (question, answer, url) in enumerate(rows)]
    columns = [column.strip().lower() for column in header.split(",")]
    lines = [header]
    for row in rows:
        cells = dict(zip(("question", "answer", "url"), row, strict=True))
        lines.append(",".join(_csv_cell(cells[column], quote_all=quote_all) for column in columns))
    data = (codecs.BOM_UTF8 if bom else b"") + (line_end.join(lines) + line_end).encode()
    # when
    documents = _parsed("faq.csv", data)
    # then: a row without an answer refuses the file; otherwise every row is a document
    if any(not answer.strip() for _, answer, _ in rows) or not rows:
        assert documents is None
        return
    assert documents is not None
    got = [(d.title, d.text, d.url) for d in documents]
    assert got == [(question.strip(), answer.strip(), url.strip()) for question, answer, url in rows]


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["\ud800", "a\x00b", "\udfff", " "]),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=10,
)
RECORD_KEYS = st.sampled_from(["_id", "title", "text", "metadata", "url", "language"])
RECORDS = st.dictionaries(
    RECORD_KEYS,
    st.one_of(JSON_VALUES, st.dictionaries(st.sampled_from(["url", "language"]), JSON_VALUES, max_size=2)),
    max_size=5,
)
ODD_LINES = st.sampled_from(
    ["[" * 5000 + "]" * 5000, '{"_id": ' + "9" * 5000 + ', "text": "t"}', '{"_id": "a", "text": NaN}', "{", "\u2028"]
)


def _json_line(value: Any, ensure_ascii: bool) -> str:
    return json.dumps(value, ensure_ascii=ensure_ascii)


@PROPERTIES
@given(
    lines=st.lists(st.one_of(RECORDS, JSON_VALUES).map(lambda v: ("json", v)) | ODD_LINES.map(lambda v: ("raw", v))),
    ensure_ascii=st.booleans(),
)
def test_any_json_lines_give_storable_documents_or_a_parse_error(
    lines: list[tuple[str, Any]], ensure_ascii: bool
) -> None:
    text = "\n".join(_json_line(value, ensure_ascii) if kind == "json" else value for kind, value in lines)
    _parsed("corpus.jsonl", text.encode("utf-8", errors="surrogatepass"))


FIELD = st.one_of(CELL, st.sampled_from(["", " ", "\t", "\n "]))


@PROPERTIES
@given(records=st.lists(st.tuples(CELL, FIELD, FIELD), max_size=6), ensure_ascii=st.booleans())
def test_a_beir_corpus_gives_each_record_with_its_id_title_and_text(
    records: list[tuple[str, str, str]], ensure_ascii: bool
) -> None:
    records = [(f"doc-{n}{doc_id}", title, text) for n, (doc_id, title, text) in enumerate(records)]
    assume(any(title.strip() or text.strip() for _, title, text in records))
    lines = [json.dumps({"_id": i, "title": t, "text": x}, ensure_ascii=ensure_ascii) for i, t, x in records]
    documents = _parsed("corpus.jsonl", "\n".join(lines).encode())
    assert documents is not None
    # A record of blank text is its title, one of a blank title is titled by its _id; one with
    # neither is left out.
    texts = [(i, t if t.strip() else i, x if x.strip() else t) for i, t, x in records]
    expected = [(i, t, x) for i, t, x in texts if x.strip()]
    assert [(d.external_id, d.title, d.text) for d in documents] == expected


HTML_PIECES = st.sampled_from(
    [
        "<html lang='de'>",
        '<html lang="&#0;">',
        "<title>",
        "</title>",
        "<main>",
        "</main>",
        "<article>",
        "<p>",
        "</p>",
        "<br>",
        "<script>",
        "</script>",
        "<style>",
        "<svg><title>icon</title></svg>",
        "<form>",
        "</form>",
        "<!-- c -->",
        "<!--",
        "-->",
        "<![CDATA[x]]>",
        "<![",
        "<!DOCTYPE html>",
        "<?php ?>",
        "&amp;",
        "&#0;",
        "&#xD800;",
        "&#x110000;",
        "&nbsp;",
        "&bogus;",
        '<a b="',
        "<",
        ">",
        "</",
        "<td>",
        "<textarea>",
        " ",
        "\n",
        "\u00a0",
    ]
)
HTML = st.lists(st.one_of(HTML_PIECES, st.text(alphabet=TYPED, max_size=10)), max_size=40).map("".join)


@PROPERTIES
@given(page=HTML, suffix=st.sampled_from([".html", ".htm"]))
def test_any_tag_soup_gives_a_storable_page_or_a_parse_error(page: str, suffix: str) -> None:
    _parsed(f"page{suffix}", page.encode())


FRONT_MATTER_LINES = st.lists(
    st.tuples(
        st.sampled_from(["title", "Title", "language", "lang", "url", "other", ""]),
        st.sampled_from([":", ": ", " : ", ""]),
        st.one_of(
            st.text(alphabet=TYPED.filter(lambda c: c not in "\r\n"), max_size=20),
            st.sampled_from(['""', "'", "\u3000", '" "', "' '"]),
        ),
    ).map("".join),
    max_size=5,
)


@PROPERTIES
@given(
    meta=FRONT_MATTER_LINES,
    body=st.text(alphabet=TYPED, max_size=200),
    line_end=st.sampled_from(["\n", "\r\n"]),
    fence=st.sampled_from(["---", "--- ", "----"]),
)
def test_markdown_with_any_front_matter_gives_storable_documents_or_a_parse_error(
    meta: list[str], body: str, line_end: str, fence: str
) -> None:
    text = line_end.join([fence, *meta, fence, body])
    _parsed("guide.md", text.encode())


@settings(max_examples=200, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126, blacklist_characters="()\\"), max_size=40),
    cuts=st.lists(st.tuples(st.integers(0, 10_000), st.binary(max_size=4)), max_size=3),
    # -1: the last number, startxref's offset of the cross-reference table
    numbers=st.lists(
        st.tuples(st.integers(0, 100) | st.just(-1), st.sampled_from([b"9" * 30, b"-1", b"0", b"007"])), max_size=2
    ),
    truncate=st.integers(0, 700),  # the fixture is ~650 bytes: most cuts keep some of it
)
def test_a_damaged_pdf_gives_storable_documents_or_a_parse_error(
    text: str, cuts: list[tuple[int, bytes]], numbers: list[tuple[int, bytes]], truncate: int
) -> None:
    data = bytearray(_pdf_bytes(text))
    for position, replacement in cuts:
        position %= len(data)
        data[position : position + len(replacement)] = replacement
    # A number (an object number, a length, an offset) replaced by one out of range.
    for index, number in numbers:
        runs = list(re.finditer(rb"[0-9]+", data))
        if runs:
            run = runs[index % len(runs)]
            data[run.start() : run.end()] = number
    _parsed("policy.pdf", bytes(data[: max(4, len(data) - truncate)]))
