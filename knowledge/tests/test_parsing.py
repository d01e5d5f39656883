from __future__ import annotations

import pytest

from knowledge.parsing import ErrorCode, ParseError, parse_file

LIMIT = 1_000_000


def _pdf_bytes(text: str) -> bytes:
    """A minimal one-page PDF with ``text`` in Helvetica (enough for pypdf's extractor)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def test_markdown_front_matter_and_heading():
    data = b"---\ntitle: Gift cards\nurl: https://example.com/gift\n---\n# Ignored heading\nBuy one online."
    [doc] = parse_file("help/gift.md", data, max_bytes=LIMIT)
    assert (doc.external_id, doc.title, doc.url) == ("help/gift.md", "Gift cards", "https://example.com/gift")
    assert "Buy one online." in doc.text


def test_markdown_title_falls_back_to_heading_then_filename():
    assert parse_file("a.md", b"# Parking\nFree lot.", max_bytes=LIMIT)[0].title == "Parking"
    assert parse_file("parking-info.md", b"Free lot.", max_bytes=LIMIT)[0].title == "parking-info"


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


def test_csv_faq_rows_become_documents_with_stable_ids():
    data = b"question,answer,url\nDo you sell gift cards?,Yes at the desk.,https://x.example/g\n,missing,\n"
    docs = parse_file("faq.csv", data, max_bytes=LIMIT)
    assert [(d.title, d.text, d.url) for d in docs] == [
        ("Do you sell gift cards?", "Yes at the desk.", "https://x.example/g")
    ]
    assert docs[0].external_id == parse_file("faq.csv", data, max_bytes=LIMIT)[0].external_id


def test_csv_without_header_is_malformed():
    with pytest.raises(ParseError) as excinfo:
        parse_file("faq.csv", b"foo,bar\n1,2\n", max_bytes=LIMIT)
    assert excinfo.value.code == ErrorCode.MALFORMED
    assert "question,answer" in str(excinfo.value)


def test_csv_row_with_unquoted_comma_names_the_row():
    with pytest.raises(ParseError, match="Row 3 has more fields"):
        parse_file("faq.csv", b"question,answer\nA?,B\nC?,D, E\n", max_bytes=LIMIT)


def test_beir_corpus_records():
    data = b'{"_id": "d1", "title": "T", "text": "Body", "metadata": {"url": "u"}}\n\n{"_id": "d2", "text": "B2"}\n'
    docs = parse_file("corpus.jsonl", data, max_bytes=LIMIT)
    assert [(d.external_id, d.title, d.url) for d in docs] == [("d1", "T", "u"), ("d2", "d2", "")]


def test_beir_bad_line_names_the_line():
    with pytest.raises(ParseError, match="Line 2"):
        parse_file("corpus.jsonl", b'{"_id": "d1", "text": "x"}\nnot json\n', max_bytes=LIMIT)


def test_pdf_text_is_extracted():
    [doc] = parse_file("policy.pdf", _pdf_bytes("Cancellation needs 24 hours notice"), max_bytes=LIMIT)
    assert "Cancellation needs 24 hours notice" in doc.text


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("empty.md", b"", ErrorCode.EMPTY),
        ("blank.txt", b"  \n\n ", ErrorCode.EMPTY),
        ("junk.txt", bytes(range(256)), ErrorCode.BINARY),
        ("noise.md", bytes([1, 2, 3, 65, 66, 7, 8]) * 20, ErrorCode.BINARY),
        ("latin1.txt", "Café crème brûlée".encode("latin-1"), ErrorCode.ENCODING),
        ("big.md", b"a" * 2000, ErrorCode.TOO_LARGE),
        ("image.png", b"\x89PNG", ErrorCode.UNSUPPORTED),
        ("fake.pdf", b"hello", ErrorCode.MALFORMED),
        ("broken.pdf", b"%PDF-1.4 garbage", ErrorCode.MALFORMED),
    ],
)
def test_bad_files_raise_a_coded_error(name, data, code):
    with pytest.raises(ParseError) as excinfo:
        parse_file(name, data, max_bytes=1000)
    assert excinfo.value.code == code
    assert str(excinfo.value)
