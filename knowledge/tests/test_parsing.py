from __future__ import annotations

import codecs
import io
import json
import time
import zlib
from pathlib import PurePath

import pytest
from pypdf import PdfWriter

from knowledge.markdown_title import TITLE_SCAN_CHARS
from knowledge.models import Document
from knowledge.parsed import EXTERNAL_ID_MAX_LENGTH, ErrorCode, ParseError
from knowledge.parsing import NAME_MAX_LENGTH, parse_file, parse_html_page
from knowledge.pdf_reading import PDF_TEXT_TOO_LONG
from knowledge.record_formats import CSV_OTHER_SEPARATOR
from knowledge.tests.pdfs import pdf_from_objects

LIMIT = 1_000_000


def _pdf_bytes(text: str, *, times: int = 1) -> bytes:
    """A minimal one-page PDF with ``text`` in Helvetica (enough for pypdf's extractor), shown
    ``times`` times; its content stream is compressed when ``times`` is more than one."""
    stream = b"BT /F1 12 Tf 72 720 Td " + f"({text}) Tj ".encode() * times + b"ET"
    stream, flate = (zlib.compress(stream), b" /Filter /FlateDecode") if times > 1 else (stream, b"")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + flate + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return pdf_from_objects(objects)


def test_markdown_front_matter_and_heading():
    data = b"---\ntitle: Gift cards\nurl: https://example.com/gift\n---\n# Ignored heading\nBuy one online."
    [doc] = parse_file("help/gift.md", data, max_bytes=LIMIT)
    assert (doc.external_id, doc.title, doc.url) == ("help/gift.md", "Gift cards", "https://example.com/gift")
    assert "Buy one online." in doc.text


def test_markdown_front_matter_values_are_read_as_text_whatever_they_look_like() -> None:
    # a number, a YAML list under the key and a list in flow style: never a crash
    numbered = b"---\ntitle: 42\nlanguage: [en, fr]\n---\nBody."
    listed = b"---\ntitle:\n  - Parking\n  - Hours\nlanguage:\n---\n# Heading\nBody."
    [doc] = parse_file("numbered.md", numbered, max_bytes=LIMIT)
    assert (doc.title, doc.language) == ("42", "en")  # a list is no language: the default
    [doc] = parse_file("listed.md", listed, max_bytes=LIMIT)
    assert (doc.title, doc.language, doc.text) == ("Heading", "en", "# Heading\nBody.")


def test_markdown_with_long_runs_of_blanks_where_its_title_is_looked_for_is_read_at_once() -> None:
    # given: a heading padded with spaces, and a file that opens with a rule and many blank lines
    padded = b"# Opening hours" + b" " * 3_000 + b"(updated)\nOpen 9 to 7."
    ruled = b"---" + b"\n" * 50_000 + b"# Parking\nFree lot."
    # when
    started = time.monotonic()
    [hours] = parse_file("hours.md", padded, max_bytes=LIMIT)
    [parking] = parse_file("parking.md", ruled, max_bytes=LIMIT)
    # then
    assert time.monotonic() - started < 5
    assert hours.title.split() == ["Opening", "hours", "(updated)"]
    assert (parking.title, parking.text) == ("Parking", "---" + "\n" * 50_000 + "# Parking\nFree lot.")


def test_markdown_title_falls_back_to_heading_then_filename():
    assert parse_file("a.md", b"# Parking\nFree lot.", max_bytes=LIMIT)[0].title == "Parking"
    assert parse_file("parking-info.md", b"Free lot.", max_bytes=LIMIT)[0].title == "parking-info"


@pytest.mark.parametrize(
    ("markdown", "title"),
    [
        ("# C#\nTyped.", "C#"),  # closing #s need a blank before them
        ("# Gift cards #\nBuy one.", "Gift cards"),
        ("# Gift cards ###  \r\nBuy one.", "Gift cards"),
        ("#\tGift cards\nBuy one.", "Gift cards"),
        ("   # Gift cards\nBuy one.", "Gift cards"),  # up to three spaces of indent
        ("#\nfoo\n", "guide"),  # an empty heading; the next line is a paragraph
        ("# #\nfoo\n", "guide"),  # an empty heading with its closing #
        ("#Gift cards\nBuy one.", "guide"),  # no blank after the #: a paragraph, not a heading
        ("    # code\nBuy one.", "guide"),  # four spaces of indent: code
        ("#\nfoo\n# Gift cards\nBuy one.", "Gift cards"),  # the first heading that has text
        ("# \u00a0\u3000\nfoo\n# Gift cards\nBuy one.", "Gift cards"),  # Unicode blanks are no text
    ],
)
def test_markdown_title_is_the_first_atx_heading_as_commonmark_reads_it(markdown: str, title: str) -> None:
    [doc] = parse_file("guide.md", markdown.encode(), max_bytes=LIMIT)
    assert doc.title == title


@pytest.mark.parametrize("line_end", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
def test_markdown_title_is_read_whatever_the_line_ends(line_end: str) -> None:
    # given the same guide saved by Unix, Windows and classic Mac tools (CommonMark ends a line at each)
    lines = ["```sh", "# a comment", "```", "# Gift cards", "Buy one online.", "Or at the desk."]
    # when
    [doc] = parse_file("guide.md", line_end.join(lines).encode(), max_bytes=LIMIT)
    # then the title is the heading's line alone, never the lines after it
    assert doc.title == "Gift cards"


@pytest.mark.parametrize(
    ("markdown", "title"),
    [
        ("```\n# not a title\n```\n# Gift cards\nBuy one.", "Gift cards"),
        ("~~~ python\n# a comment\n~~~\n# Gift cards\n", "Gift cards"),
        ("Intro.\n```sh\n# a comment\n```\n# Gift cards\n", "Gift cards"),  # a fence interrupts a paragraph
        ("````\n```\n# inside\n````\n# Gift cards\n", "Gift cards"),  # a shorter fence does not close it
        ("```\n# inside\n~~~\n# still inside\n", "guide"),  # nor one of the other character
        ("```\n# inside\n```sh\n# still inside\n```\n# Gift cards\n", "Gift cards"),  # nor one with info
        ("```\n# inside\n", "guide"),  # an unclosed fence runs to the end of the document
        ("```\n# inside\n  ```` \t\r\n# Gift cards\n", "Gift cards"),  # longer, indented, blanks after
        ("   ```\n# inside\n```\n# Gift cards\n", "Gift cards"),  # up to three spaces of indent
        ("    ```\n# Gift cards\n", "Gift cards"),  # four spaces: indented code, no fence
        ("``\n# Gift cards\n", "Gift cards"),  # two backticks: no fence
        ("```a`b\n# Gift cards\n", "Gift cards"),  # a backtick in a backtick fence's info: no fence
        ("~~~a`b\n# inside\n~~~\n# Gift cards\n", "Gift cards"),  # ... but a tilde fence may have one
        ("```\n# inside\n    ```\n# still inside\n", "guide"),  # a closing fence indented four is code
    ],
)
def test_markdown_title_is_never_a_line_of_a_fenced_code_block(markdown: str, title: str) -> None:
    [doc] = parse_file("guide.md", markdown.encode(), max_bytes=LIMIT)
    assert doc.title == title


@pytest.mark.parametrize(
    ("markdown", "title"),
    [
        # a fence in a list item is indented by the item's content offset
        ("- item\n\n  ```\n  # not a title\n  ```\n# Gift cards\n", "Gift cards"),
        ("1. Step\n\n   ```sh\n   # run this\n   ```\n", "guide"),
        ("- ```\n  # inside\n  ```\n# Gift cards\n", "Gift cards"),  # opened on the marker's line
        ("- item\n  - sub\n\n    ~~~\n    # inside\n    ~~~\n", "guide"),  # a nested item
        ("-\titem\n\n\t```\n\t# inside\n\t```\n# Gift cards\n", "Gift cards"),  # a tab after the marker
        # in a blockquote each line of it is prefixed by ">"
        ("> ```\n> # comment\n> ```\n# Gift cards\n", "Gift cards"),
        (">```\n>    # comment\n>```\n", "guide"),
        ("- item\n  > ```\n  > # inside\n  > ```\n", "guide"),  # a quote in a list item
        ("> - ```\n>   # inside\n>   ```\n", "guide"),  # a list item in a quote
        # the container's end closes a fence opened in it (a fence has no lazy continuation)
        ("> ```\n> # inside\n# Gift cards\n", "Gift cards"),
        ("- ```\n  # inside\n# Gift cards\n", "Gift cards"),
        ("- item\n\n ```\n # inside\n ```\n", "guide"),  # indented less than the item: a fence of its own
        # a heading in a quote or a list item is part of it, not the document's title
        ("> # Quoted\n# Gift cards\n", "Gift cards"),
        ("- # Listed\n# Gift cards\n", "Gift cards"),
        ("- item\n\n  # In the item\n# Gift cards\n", "Gift cards"),
        ("> quote\nlazy line\n# Gift cards\n", "Gift cards"),  # a lazy line keeps the quote, a heading ends it
        ("* * *\n  # Gift cards\n", "Gift cards"),  # a thematic break opens no list item
        ("Intro\n2. not a list\n   # Gift cards\n", "Gift cards"),  # only "1." starts a list in a paragraph
    ],
)
def test_markdown_title_is_never_a_line_of_a_fence_in_a_list_item_or_a_blockquote(markdown: str, title: str) -> None:
    [doc] = parse_file("guide.md", markdown.encode(), max_bytes=LIMIT)
    assert doc.title == title


@pytest.mark.timeout(60)  # each is read in milliseconds; a scan quadratic in them takes hours
@pytest.mark.parametrize(
    "markdown",
    [
        "- " * 50_000 + "x" + "\n" * 50_000,  # deep list items, then lines each of them continues
        "> " * 50_000 + "```" + "\n>" * 50_000,  # deep quotes around a fence
        ("> " * 100 + "```\n") * 500,  # many deeply quoted fences
        "- a\n" + (" " * 50_000 + "- b\n") * 2,  # items indented as far as a line goes
        "1." * 50_000 + "\n" + "   " * 33_000,
        "* " * 50_000 + "\n",  # a thematic break or a deep list, to the end of the line
        "-" * 100_000 + "\n",
        "\t" * 100_000 + "x\n",
        ("- \t" * 30 + "```\n") * 1_000,
    ],
)
def test_markdown_title_of_a_100_kb_adversarial_container_nesting_is_read_in_linear_time(markdown: str) -> None:
    [doc] = parse_file("nested.md", markdown.encode(), max_bytes=LIMIT)
    assert doc.title == "nested"


def test_markdown_title_is_looked_for_in_the_documents_opening_only() -> None:
    # given a heading that opens the document, and one that comes after a long preamble
    preamble = "Plain words of a long preamble.\n" * (TITLE_SCAN_CHARS // 32)
    opening = "# Gift cards\n" + preamble + "# Refunds\n"
    late = preamble + "# Refunds\nMoney back."
    # when / then the opening one is the title; a heading that far in heads a section, not the file
    assert parse_file("guide.md", opening.encode(), max_bytes=LIMIT)[0].title == "Gift cards"
    assert parse_file("guide.md", late.encode(), max_bytes=LIMIT)[0].title == "guide"


def test_markdown_front_matter_title_comes_before_a_heading_after_a_code_block() -> None:
    data = b"---\ntitle: Gift cards\n---\n```\n# a comment\n```\n# Ignored heading\nBuy one."
    [doc] = parse_file("guide.md", data, max_bytes=LIMIT)
    assert doc.title == "Gift cards"


def test_markdown_with_long_fences_and_many_fence_lines_is_read_at_once() -> None:
    # given fences of every shape a backtracking regex could stall on
    documents = {
        "long.md": b"`" * 200_000 + b"\n# Inside\n" + b"`" * 199_999 + b"\n# Gift cards\n",
        "many.md": b"```\n# Inside\n```\n" * 11_000 + b"# Gift cards\n",  # within the title's scan
        "info.md": b"~~~" + b" " * 200_000 + b"`\n# Inside\n~~~" + b" \t" * 100_000 + b"x\n# Inside\n",
        "unclosed.md": b"```\n" + b"   ``\n" * 100_000 + b"# Inside\n",
    }
    # when
    started = time.monotonic()
    titles = {name: parse_file(name, data, max_bytes=10 * LIMIT)[0].title for name, data in documents.items()}
    # then
    assert time.monotonic() - started < 5
    assert titles == {"long.md": "long", "many.md": "Gift cards", "info.md": "info", "unclosed.md": "unclosed"}


def test_html_keeps_main_text_only():
    html = (
        b"<html><head><title>Hours</title><style>p{}</style></head><body><nav>Home | About</nav>"
        b"<main><h1>Opening hours</h1><p>Mon&ndash;Fri 9&ndash;7</p><script>track()</script></main>"
        b"<footer>Copyright</footer></body></html>"
    )
    [doc] = parse_file("hours.html", html, max_bytes=LIMIT)
    assert doc.title == "Hours"
    assert "Mon\u2013Fri 9\u20137" in doc.text and "Opening hours" in doc.text
    assert "Home" not in doc.text and "track" not in doc.text and "Copyright" not in doc.text


def test_html_page_wrapped_in_a_form_keeps_its_text_and_drops_the_controls() -> None:
    # given an ASP.NET / SharePoint page: everything inside one <form>, with a country picker
    page = (
        b'<html><head><title>Parking</title></head><body><form method="post" id="aspnetForm">'
        b'<input type="hidden" name="__VIEWSTATE" value="dDwtMTA4"><nav>Home | Help</nav>'
        b"<main><h1>Parking</h1><p>Free parking behind the studio.</p>"
        b"<label>Country <select><option>Albania</option><option>Algeria</option></select></label>"
        b"<textarea>Your question</textarea><button>Ask</button></main></form></body></html>"
    )
    # when
    [doc] = parse_file("parking.html", page, max_bytes=LIMIT)
    # then
    assert doc.text == "# Parking\n\nFree parking behind the studio.\n\nCountry Ask"


def test_html_forms_without_content_leave_no_words_behind() -> None:
    # given a page without <main>: its article, a login form, a search form and a newsletter signup
    page = (
        b"<html><head><title>Refunds</title></head><body><div><h1>Refunds</h1><p>Refunds take five days.</p></div>"
        b"<form><label>Email</label><input name=email><label>Password</label><button>Log in</button></form>"
        b"<form role=search><input placeholder=Search><button>Search</button></form>"
        b"<form><fieldset><legend>Newsletter</legend><input type=email><button>Sign up</button></fieldset></form>"
        b"</body></html>"
    )
    # when
    [doc] = parse_file("refunds.html", page, max_bytes=LIMIT)
    # then
    assert doc.text == "# Refunds\n\nRefunds take five days."


def test_html_cells_and_definition_lists_keep_their_words_apart() -> None:
    # given a price table and a FAQ written as a definition list
    page = (
        b"<main><table><tr><th>Plan</th><th>Price</th></tr><tr><td>Basic</td><td>$5</td></tr></table>"
        b"<dl><dt>Can I park?</dt><dd>Yes, behind the studio.</dd><dt>Wifi?</dt><dd>Free.</dd></dl></main>"
    )
    # when
    [doc] = parse_file("plans.html", page, max_bytes=LIMIT)
    # then
    assert doc.text == "Plan Price\n\nBasic $5\n\nCan I park?\n\nYes, behind the studio.\n\nWifi?\n\nFree."


def test_html_title_is_the_pages_and_not_its_icons() -> None:
    # given accessible SVG icons, each with a <title> of its own
    icon = b'<svg role="img"><title>Close</title><path d="M0 0"/></svg>'
    page = b"<html><head><title>Gift cards</title></head><body><header><a href='/'>" + icon + b"</a></header>"
    page += b"<main><h1>Gift cards</h1><p>Buy one online.</p><button>" + icon + b"</button></main></body></html>"
    # when
    [doc] = parse_file("gift.html", page, max_bytes=LIMIT)
    [untitled] = parse_file("gift-cards.html", b"<p>Buy one online.</p><button>" + icon + b"</button>", max_bytes=LIMIT)
    # then
    assert (doc.title, doc.text) == ("Gift cards", "# Gift cards\n\nBuy one online.")
    assert untitled.title == "gift-cards"


def test_csv_faq_rows_become_documents_with_stable_ids():
    data = (
        b"question,answer,url\nDo you sell gift cards?,Yes at the desk.,https://x.example/g\n"
        b" , , \nIs there wifi?,Yes.,\nDo you sell gift cards?,Yes at the desk.,https://x.example/g\n"
    )
    docs = parse_file("faq.csv", data, max_bytes=LIMIT)
    # a blank row is skipped, and a row repeated exactly is read once
    assert [(d.title, d.text, d.url) for d in docs] == [
        ("Do you sell gift cards?", "Yes at the desk.", "https://x.example/g"),
        ("Is there wifi?", "Yes.", ""),
    ]
    assert [d.external_id for d in docs] == [d.external_id for d in parse_file("faq.csv", data, max_bytes=LIMIT)]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (b",An answer without its question,", "Row 3 has no question; fill it in or delete the row."),
        (b"A question without its answer?,,", "Row 3 has no answer; fill it in or delete the row."),
        (b",,https://x.example/orphan", "Row 3 has no question and no answer; fill it in or delete the row."),
        (
            b"Is there wifi?,No.,",
            "Row 3 asks the question of row 2 again, with another answer or url; keep one of them.",
        ),
    ],
)
def test_csv_row_that_would_be_left_out_refuses_the_file_naming_it(row: bytes, message: str) -> None:
    data = b"question,answer,url\nIs there wifi?,Yes.,\n" + row + b"\nDo you sell gift cards?,Yes.,\n"
    with pytest.raises(ParseError) as raised:
        parse_file("faq.csv", data, max_bytes=LIMIT)
    assert raised.value.code == ErrorCode.MALFORMED and str(raised.value) == message


def test_csv_rows_are_records_and_only_the_faq_columns_count() -> None:
    # given a category column, a section row with only a category, and an answer over two lines
    data = (
        b"question,answer,category\n"
        b'Is there wifi?,"Yes,\nfree for guests.",Studio\n'
        b",,Billing\n"
        b"Do you sell gift cards?,Yes.,Billing\n"
        b'Is there wifi?,"Yes,\nfree for guests.",Guests\n'
    )
    docs = parse_file("faq.csv", data, max_bytes=LIMIT)
    # then the section row is blank, and the repeat that differs only by category is the same question
    assert [(d.title, d.text) for d in docs] == [
        ("Is there wifi?", "Yes,\nfree for guests."),
        ("Do you sell gift cards?", "Yes."),
    ]
    # and a conflicting repeat is named by its row, not by its line
    with pytest.raises(ParseError, match=r"^Row 5 asks the question of row 2 again"):
        parse_file("faq.csv", data.replace(b'"Yes,\nfree for guests.",Guests', b"No.,Guests"), max_bytes=LIMIT)


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])
def test_csv_is_read_whatever_its_line_ends(line_end: bytes) -> None:
    # given the same FAQ saved by Unix, Windows and classic Mac (Excel's "CSV (Macintosh)") tools
    rows = [b"question,answer", b"Is there wifi?,Yes.", b'Do you sell gift cards?,"Yes, online."']
    # when
    docs = parse_file("faq.csv", line_end.join(rows) + line_end, max_bytes=LIMIT)
    # then
    assert [(d.title, d.text) for d in docs] == [
        ("Is there wifi?", "Yes."),
        ("Do you sell gift cards?", "Yes, online."),
    ]


def test_csv_without_header_is_malformed():
    with pytest.raises(ParseError) as excinfo:
        parse_file("faq.csv", b"foo,bar\n1,2\n", max_bytes=LIMIT)
    assert excinfo.value.code == ErrorCode.MALFORMED
    assert "question,answer" in str(excinfo.value)


@pytest.mark.parametrize(
    ("data", "separator"),
    [
        (b"Question;Answer;url\nWifi?;Yes, free.;\n", "semicolons"),  # Excel's CSV where the decimal mark is a comma
        (b"question\tanswer\nWifi?\tYes.\n", "tabs"),
    ],
)
def test_csv_separated_by_semicolons_or_tabs_says_so(data: bytes, separator: str) -> None:
    with pytest.raises(ParseError) as excinfo:
        parse_file("faq.csv", data, max_bytes=LIMIT)
    assert excinfo.value.code == ErrorCode.MALFORMED
    assert str(excinfo.value) == CSV_OTHER_SEPARATOR.format(separator=separator)


@pytest.mark.parametrize(
    ("header", "row"),
    [
        (b"question,answer,answer", b"Wifi?,Yes,In the lobby only"),
        (b"Question,Answer,question ", b"Wifi?,Yes,Is there wifi?"),
        (b"question,answer,url,URL", b"Wifi?,Yes,https://example.com/wifi,https://example.com"),
    ],
)
def test_csv_header_naming_a_faq_column_twice_refuses_the_file(header: bytes, row: bytes) -> None:
    # given: a header whose FAQ column comes twice (one of them would be dropped without a word)
    data = header + b"\n" + row + b"\n"
    # when
    with pytest.raises(ParseError) as excinfo:
        parse_file("faq.csv", data, max_bytes=LIMIT)
    # then
    assert excinfo.value.code == ErrorCode.MALFORMED
    column = header.decode().split(",")[-1].strip().lower()
    assert str(excinfo.value) == f"The header names the column {column} twice; keep one of them."


def test_csv_header_naming_another_column_twice_is_read() -> None:
    data = b"question,note,answer,note\nWifi?,a,Yes,b\n"
    [doc] = parse_file("faq.csv", data, max_bytes=LIMIT)
    assert (doc.title, doc.text) == ("Wifi?", "Yes")


def test_csv_row_with_unquoted_comma_names_the_row():
    with pytest.raises(ParseError, match="Row 3 has more fields"):
        parse_file("faq.csv", b"question,answer\nA?,B\nC?,D, E\n", max_bytes=LIMIT)


def test_csv_field_over_the_csv_module_limit_names_the_row() -> None:
    data = b"question,answer\nA?,B\nC?," + b"x" * 200_000 + b"\n"
    with pytest.raises(ParseError, match="Row 3 could not be read: field larger than field limit") as excinfo:
        parse_file("faq.csv", data, max_bytes=LIMIT)
    assert excinfo.value.code == ErrorCode.MALFORMED


@pytest.mark.parametrize(("data", "row"), [(b"question,answer\nC?,", 2), (b"question," + b"x" * 200_000 + b"\nC?,", 1)])
def test_csv_field_over_the_csv_module_limit_in_the_first_row_or_the_header_names_it(data: bytes, row: int) -> None:
    with pytest.raises(ParseError) as excinfo:
        parse_file("faq.csv", data + b"x" * 200_000 + b"\n", max_bytes=LIMIT)
    assert str(excinfo.value) == f"Row {row} could not be read: field larger than field limit (131072)."


def test_html_with_a_marked_section_python_does_not_know_keeps_its_text() -> None:
    html = b"<title>Hours</title><main><p>Open 9 to 7.</p><![foo[ hidden ]]><p>Closed on Sunday.</p><![</main>"
    [doc] = parse_file("hours.html", html, max_bytes=LIMIT)
    assert doc.text == "Open 9 to 7.\n\nClosed on Sunday."


@pytest.mark.parametrize(("unfinished", "times"), [('<a b="', 20_000), ("<!--x", 30_000), ("</a", 100_000)])
def test_html_ending_inside_thousands_of_unfinished_tags_is_read_at_once(unfinished: str, times: int) -> None:
    # given: a page cut off inside a tag or comment, with thousands more after it (Python re-read
    # the rest of the file from each one: minutes for 100 KB)
    html = "<title>Hours</title><main><p>Open 9 to 7.</p></main>" + unfinished * times
    # when
    started = time.monotonic()
    [doc] = parse_file("hours.html", html.encode(), max_bytes=LIMIT)
    # then: as in browsers, the unfinished tag or comment runs to the end of the file
    assert time.monotonic() - started < 5
    assert (doc.title, doc.text) == ("Hours", "Open 9 to 7.")


def test_beir_corpus_records():
    data = b'{"_id": "d1", "title": "T", "text": "Body", "metadata": {"url": "u"}}\n\n{"_id": "d2", "text": "B2"}\n'
    docs = parse_file("corpus.jsonl", data, max_bytes=LIMIT)
    assert [(d.external_id, d.title, d.url) for d in docs] == [("d1", "T", "u"), ("d2", "d2", "")]


def test_beir_record_with_a_title_only_is_its_title_and_one_with_nothing_is_left_out() -> None:
    data = b'{"_id": "d1", "title": "Parking is free", "text": ""}\n{"_id": "d2", "title": "", "text": " "}\n'
    docs = parse_file("corpus.jsonl", data, max_bytes=LIMIT)
    assert [(d.external_id, d.title, d.text) for d in docs] == [("d1", "Parking is free", "Parking is free")]


def test_beir_record_whose_title_or_text_is_only_blanks_is_read_as_one_without_it() -> None:
    # given: a record with a title and blank text, and one with a blank title and text
    data = b'{"_id": "d1", "title": "Parking is free", "text": " \\n"}\n'
    data += b'{"_id": "d2", "title": "\\t", "text": "Open 9 to 7."}\n'
    # when
    docs = parse_file("corpus.jsonl", data, max_bytes=LIMIT)
    # then: the first is its title (not left out for its blank text); the second is named by its _id
    assert [(d.external_id, d.title, d.text) for d in docs] == [
        ("d1", "Parking is free", "Parking is free"),
        ("d2", "d2", "Open 9 to 7."),
    ]


def test_beir_id_repeated_refuses_the_file_naming_both_lines() -> None:
    data = b'{"_id": "d1", "text": "First"}\n{"_id": "d2", "text": "x"}\n\n{"_id": "d1", "text": "Second"}\n'
    with pytest.raises(ParseError) as raised:
        parse_file("corpus.jsonl", data, max_bytes=LIMIT)
    assert raised.value.code == ErrorCode.MALFORMED
    assert str(raised.value) == "Line 4 has the _id of line 1; a corpus names each document once."


def test_beir_bad_line_names_the_line():
    with pytest.raises(ParseError, match="Line 2"):
        parse_file("corpus.jsonl", b'{"_id": "d1", "text": "x"}\nnot json\n', max_bytes=LIMIT)


def test_beir_numbers_are_text_and_null_fields_are_empty() -> None:
    data = (
        b'{"_id": 7, "title": 3.5, "text": 42, "metadata": {"url": null}}\n{"_id": "d2", "text": "B", "metadata": null}'
    )
    docs = parse_file("corpus.jsonl", data, max_bytes=LIMIT)
    assert [(d.external_id, d.title, d.text, d.url) for d in docs] == [("7", "3.5", "42", ""), ("d2", "d2", "B", "")]


def test_beir_numbers_are_the_text_written_with_no_rounding_and_no_digit_limit() -> None:
    # given: ids Python would round alike as floats, a number over a float's range and one over
    # Python's 4,300-digit limit for converting integers to text
    digits = "9" * 5000
    data = (
        '{"_id": 0.1, "text": "a"}\n{"_id": 0.10000000000000001, "text": "b"}\n'
        f'{{"_id": 12345678901234567890123, "title": 1e400, "text": {digits}}}\n'
    ).encode()
    # when
    docs = parse_file("corpus.jsonl", data, max_bytes=LIMIT)
    # then
    assert [(d.external_id, d.title, d.text) for d in docs] == [
        ("0.1", "0.1", "a"),
        ("0.10000000000000001", "0.10000000000000001", "b"),
        ("12345678901234567890123", "1e400", digits),
    ]


def test_beir_record_with_a_line_separator_in_its_text_is_one_record() -> None:
    record = json.dumps({"_id": "d1", "text": "Open 9\u2028to 7."}, ensure_ascii=False).encode()
    [doc] = parse_file("corpus.jsonl", record + b"\n", max_bytes=LIMIT)
    assert doc.text == "Open 9\u2028to 7."


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ('{"_id": "d2", "text": "x", "metadata": "https://x.example"}', '"metadata" must be an object, not str'),
        ('{"_id": "d2", "text": "x", "metadata": [1]}', '"metadata" must be an object, not list'),
        ('{"_id": "d2", "text": "x", "metadata": {"url": ["a"]}}', '"url" must be a string, not list'),
        ('{"_id": "d2", "title": {"en": "T"}, "text": "x"}', '"title" must be a string, not dict'),
        ('{"_id": "d2", "text": ["x"]}', '"text" must be a string, not list'),
        ('{"_id": "d2", "text": true}', '"text" must be a string, not bool'),
        ('{"_id": null, "text": "x"}', '"_id" is empty'),
        ('{"_id": "", "text": "x"}', '"_id" is empty'),
        ('{"_id": " ", "text": "x"}', '"_id" is only whitespace'),
        ('{"_id": "\\t\\n", "text": "x"}', '"_id" is only whitespace'),
        ('{"_id": "d2", "text": NaN}', '"text" is NaN, which is not a JSON number; put it in quotes'),
        ('{"_id": "d2", "title": -Infinity, "text": "x"}', '"title" is -Infinity, which is not a JSON number'),
        ('{"_id": Infinity, "text": "x"}', '"_id" is Infinity, which is not a JSON number'),
        ('{"_id": "d2", "text": "x", "metadata": 7}', '"metadata" must be an object, not number'),
        ("7", "it is a JSON number, not an object"),
        ('{"_id": ["d2"], "text": "x"}', '"_id" must be a string, not list'),
        (json.dumps({"_id": "d" * 501, "text": "x"}), '"_id" is 501 characters long; the limit is 500'),
        ('{"text": "x"}', 'it has no "_id"'),
        ('["d2", "x"]', "it is a JSON list, not an object"),
        ('{"_id": "d2", "text": "a\\u0000b"}', '"text" holds a NUL'),
        ('{"_id": "d2", "title": "\\ud800", "text": "x"}', '"title" holds a NUL (\\u0000) or an unpaired surrogate'),
        ("[" * 100_000, "it is nested too deeply"),
    ],
)
def test_beir_record_that_cannot_be_stored_is_malformed_with_its_line(record: str, reason: str) -> None:
    data = b'{"_id": "d1", "text": "fine"}\n' + record.encode()
    with pytest.raises(ParseError) as excinfo:
        parse_file("corpus.jsonl", data, max_bytes=LIMIT)
    assert excinfo.value.code == ErrorCode.MALFORMED
    assert str(excinfo.value).startswith(f"Line 2 is not a BEIR corpus record: {reason}")


def test_beir_id_limit_is_the_document_columns() -> None:
    assert Document._meta.get_field("external_id").max_length == EXTERNAL_ID_MAX_LENGTH
    [doc] = parse_file("corpus.jsonl", json.dumps({"_id": "d" * 500, "text": "x"}).encode(), max_bytes=LIMIT)
    assert len(doc.external_id) == 500


def test_beir_queries_file_is_refused_as_questions_not_documents() -> None:
    data = b'{"_id": "q1", "text": "Is there parking?"}\n'
    with pytest.raises(ParseError) as excinfo:
        parse_file("beir/Queries.jsonl", data, max_bytes=LIMIT)
    assert excinfo.value.code == ErrorCode.UNSUPPORTED
    assert "questions, not documents" in str(excinfo.value) and "corpus.jsonl" in str(excinfo.value)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("a" * NAME_MAX_LENGTH + ".csv", f"The file name is {NAME_MAX_LENGTH + 4} characters long"),
        ("caf\udce9.md", "The file name is not valid UTF-8 text"),  # a Latin-1 name read from disk
        ("a\x00b.md", "The file name is not valid UTF-8 text"),
    ],
)
def test_file_name_that_cannot_be_a_document_id_is_malformed(name: str, message: str) -> None:
    with pytest.raises(ParseError, match=message) as excinfo:
        parse_file(name, b"question,answer\nA?,B\n", max_bytes=LIMIT)
    assert excinfo.value.code == ErrorCode.MALFORMED


def test_pdf_text_is_extracted():
    [doc] = parse_file("policy.pdf", _pdf_bytes("Cancellation needs 24 hours notice"), max_bytes=LIMIT)
    assert "Cancellation needs 24 hours notice" in doc.text


def _pdf_titled(title: str) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(_pdf_bytes("Cancellation needs 24 hours notice")))
    writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_title_of_only_blanks_is_no_title_whatever_the_format() -> None:
    # given: a title of blanks in front matter, in a PDF's metadata, a file name before its suffix
    # and (NUL, dropped from a fetched page) in a page's <title>
    front_matter = b'---\ntitle: " "\n---\nBuy one online.'
    # when
    [markdown] = parse_file("gift.md", front_matter, max_bytes=LIMIT)
    [pdf] = parse_file("policy.pdf", _pdf_titled(" \t "), max_bytes=LIMIT)
    [text] = parse_file("notes/ .txt", b"Open 9 to 7.", max_bytes=LIMIT)
    page = parse_html_page("https://x.example/hours", "<title>\x00 </title><p>Open 9 to 7.</p>")
    # then: each is titled as a file that gives no title, never with blanks that show as nothing
    assert [markdown.title, pdf.title, text.title, page.title] == ["gift", "policy", " .txt", "hours"]
    [pdf] = parse_file("policy.pdf", _pdf_titled(" Cancellations "), max_bytes=LIMIT)
    assert pdf.title == "Cancellations"


def _encrypted_pdf(user_password: str) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(_pdf_bytes("Cancellation needs 24 hours notice")))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_pdf_with_a_password_is_refused_as_encrypted() -> None:
    with pytest.raises(ParseError) as excinfo:
        parse_file("policy.pdf", _encrypted_pdf("secret"), max_bytes=LIMIT)
    assert excinfo.value.code == ErrorCode.MALFORMED
    assert str(excinfo.value) == "The PDF is encrypted (password protected); upload a copy saved without a password."


def test_pdf_encrypted_without_a_user_password_is_read() -> None:
    [doc] = parse_file("policy.pdf", _encrypted_pdf(""), max_bytes=LIMIT)
    assert "Cancellation needs 24 hours notice" in doc.text


def test_pdf_with_an_encryption_handler_pypdf_lacks_is_malformed() -> None:
    data = _encrypted_pdf("").replace(b"/Filter /Standard", b"/Filter /Adobe.PubSec")
    with pytest.raises(ParseError, match="uses a feature that cannot be read here") as excinfo:
        parse_file("policy.pdf", data, max_bytes=LIMIT)
    assert excinfo.value.code == ErrorCode.MALFORMED


@pytest.mark.parametrize("keep", [0.9, 0.5, 0.1])
def test_truncated_pdf_is_malformed(keep: float) -> None:
    data = _pdf_bytes("Cancellation needs 24 hours notice")
    with pytest.raises(ParseError, match="The PDF could not be read") as excinfo:
        parse_file("policy.pdf", data[: int(len(data) * keep)], max_bytes=LIMIT)
    assert excinfo.value.code == ErrorCode.MALFORMED


def test_pdf_whose_cross_reference_offset_is_too_large_a_number_is_malformed() -> None:
    # given: a damaged "startxref", a number past any file offset a seek can take
    data = _pdf_bytes("Cancellation needs 24 hours notice")
    data = data[: data.rindex(b"startxref\n")] + b"startxref\n" + b"9" * 30 + b"\n%%EOF\n"
    # when
    with pytest.raises(ParseError, match="The PDF could not be read") as excinfo:
        parse_file("policy.pdf", data, max_bytes=LIMIT)
    # then
    assert excinfo.value.code == ErrorCode.MALFORMED


def test_pdf_whose_compressed_text_expands_past_the_upload_limit_is_refused() -> None:
    # given: a PDF of about a kilobyte with 140,000 characters of text (a bomb reaches gigabytes)
    data = _pdf_bytes("Opening hours ", times=10_000)
    assert len(data) < 2_000
    # when
    with pytest.raises(ParseError) as excinfo:
        parse_file("hours.pdf", data, max_bytes=100_000)
    # then
    assert excinfo.value.code == ErrorCode.TOO_LARGE
    assert str(excinfo.value) == PDF_TEXT_TOO_LONG.format(limit=100_000)
    [doc] = parse_file("hours.pdf", _pdf_bytes("Opening hours ", times=7_000), max_bytes=100_000)
    assert len(doc.text) > 90_000


def test_pdf_glyph_zero_leaves_no_nul_in_the_text() -> None:
    [doc] = parse_file("policy.pdf", _pdf_bytes(r"Gift\000cards"), max_bytes=LIMIT)
    assert doc.text == "Giftcards"


@pytest.mark.parametrize(
    "text",
    [
        "hello\x01 world",
        "\x1b[1mCheck-in\x1b[0m is at 3 pm.",  # a log line coloured with ANSI escapes
        "Opening hours\x0bMonday to Friday\x0b9 to 5",  # Word's line breaks
    ],
)
def test_short_text_with_a_stray_control_character_is_read_as_it_is(text: str) -> None:
    [doc] = parse_file("note.txt", text.encode(), max_bytes=LIMIT)
    assert doc.text == text


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("empty.md", b"", ErrorCode.EMPTY),
        ("blank.txt", b"  \n\n ", ErrorCode.EMPTY),
        ("junk.txt", bytes(range(256)), ErrorCode.BINARY),
        ("late-nul.md", b"# Parking\n" + b"Free parking. " * 700 + b"\x00", ErrorCode.BINARY),
        ("late-nul.csv", b"question,answer\n" + b"A?,B\n" * 2000 + b"C?,D\x00\n", ErrorCode.BINARY),
        ("noise.md", bytes([1, 2, 3, 65, 66, 7, 8]) * 20, ErrorCode.BINARY),
        ("short-noise.txt", bytes(range(1, 32)) + b"AB", ErrorCode.BINARY),
        ("latin1.txt", "Café crème brûlée".encode("latin-1"), ErrorCode.ENCODING),
        # Windows' "Unicode" text and Excel's "Unicode Text": NUL in every other byte, but text
        ("utf16.txt", "Free parking.\r\n".encode("utf-16"), ErrorCode.ENCODING),
        ("utf16be.csv", "\ufeffquestion,answer\r\nWifi?,Yes.".encode("utf-16-be"), ErrorCode.ENCODING),
        ("utf32.md", "# Parking".encode("utf-32"), ErrorCode.ENCODING),
        # its byte order mark and blanks alone: no text in any encoding, not a file to save as UTF-8
        ("bom-only.txt", codecs.BOM_UTF16_LE, ErrorCode.EMPTY),
        ("blank-utf16be.md", codecs.BOM_UTF16_BE + " \r\n".encode("utf-16-be"), ErrorCode.EMPTY),
        ("blank-utf32.csv", "\n".encode("utf-32"), ErrorCode.EMPTY),
        ("big.md", b"a" * 2000, ErrorCode.TOO_LARGE),
        ("image.png", b"\x89PNG", ErrorCode.UNSUPPORTED),
        ("fake.pdf", b"hello", ErrorCode.MALFORMED),
        ("broken.pdf", b"%PDF-1.4 garbage", ErrorCode.MALFORMED),
    ],
)
def test_bad_files_raise_a_coded_error(name, data, code):
    with pytest.raises(ParseError) as excinfo:
        parse_file(name, data, max_bytes=1000 if name == "big.md" else LIMIT)
    assert excinfo.value.code == code
    assert str(excinfo.value)


@pytest.mark.parametrize(
    ("name", "data", "language"),
    [
        ("a.md", b"---\nlanguage: de\n---\nGutscheine.", "de"),
        ("b.md", b"---\nlang: fr\n---\nBons cadeaux.", "fr"),
        ("c.md", b"Gift cards.", "en"),
        ("d.html", b'<html lang="de-AT"><title>T</title><p>Gutscheine.</p></html>', "de-AT"),
        ("e.html", b"<html><title>T</title><p>Gift cards.</p></html>", "en"),
        ("corpus.jsonl", b'{"_id": "d1", "text": "Bons.", "metadata": {"language": "fr"}}\n', "fr"),
        ("corpus.jsonl", b'{"_id": "d1", "text": "Gift cards."}\n', "en"),
        ("g.txt", b"Gift cards.", "en"),
    ],
)
def test_each_format_reads_the_documents_language_or_defaults_to_english(name, data, language) -> None:
    assert parse_file(name, data, max_bytes=LIMIT)[0].language == language


def test_csv_rows_without_a_language_default_to_english() -> None:
    data = b"question,answer,language\nGutscheine?,Ja.,de\nGift cards?,Yes.,\n"
    assert [doc.language for doc in parse_file("faq.csv", data, max_bytes=LIMIT)] == ["de", "en"]


@pytest.mark.parametrize("name", [".md", "README", "notes/.txt", "Makefile."])
def test_a_file_name_without_a_type_suffix_is_refused_as_such_not_as_a_type(name: str) -> None:
    # ".md" is a hidden file's whole name, not a Markdown file's suffix; "README" has no type at all
    with pytest.raises(ParseError) as excinfo:
        parse_file(name, b"# Parking\n\nFree parking.", max_bytes=LIMIT)
    assert excinfo.value.code == ErrorCode.UNSUPPORTED
    message = str(excinfo.value)
    assert "Files of type" not in message  # never "type '.md' is not supported (use .md, …)"
    assert repr(PurePath(name).name) in message and "no type suffix" in message
