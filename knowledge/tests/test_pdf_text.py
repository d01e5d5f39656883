"""PDF text that retrieval can use: ligatures spelt out, words hyphenated across lines joined (real
hyphens kept), page and form-feed breaks paragraphs.

The PDFs are built here and read by pypdf, which gives each artefact as it does for real files."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from knowledge.parsing import parse_file

LIMIT = 1_000_000
FULL_WIDTH = "\uff46\uff55\uff4c\uff4c"  # "full" in full-width letters, which NFKC would rewrite


def pdf_pages(pages: Sequence[Sequence[str]]) -> bytes:
    """A PDF with one page per item, each line of it a line of Helvetica text. Characters beyond
    ASCII (ligatures, a soft hyphen, Cyrillic, CJK) get codes from 128 up named ``/uniXXXX`` in the
    font's encoding, which pypdf reads back as those characters; a form feed is written as itself."""
    extra = sorted({char for lines in pages for line in lines for char in line if ord(char) > 126})
    assert len(extra) <= 128, "a font encoding holds 128 extra characters"
    codes = {char: f"\\{128 + index:03o}" for index, char in enumerate(extra)} | {"\f": "\\014"}
    codes |= {char: "\\" + char for char in "()\\"}
    names = " ".join(f"/uni{ord(char):04X}" for char in extra)
    font = f"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Differences [128 {names}] >> >>"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", font.encode()]
    kids = []
    for lines in pages:
        shown = "".join("(" + "".join(codes.get(char, char) for char in line) + ") Tj T* " for line in lines)
        stream = f"BT /F1 12 Tf 14 TL 72 720 Td {shown}ET".encode("ascii")
        objects.append(b"<< /Length %d >>\nstream\n%b\nendstream" % (len(stream), stream))
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            b"/Resources << /Font << /F1 3 0 R >> >> >>" % len(objects)
        )
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%b] /Count %d >>" % (b" ".join(b"%d 0 R" % kid for kid in kids), len(kids))
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%b\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def _text(*pages: Sequence[str]) -> str:
    [doc] = parse_file("policy.pdf", pdf_pages(pages), max_bytes=LIMIT)
    return doc.text


def test_ligatures_are_spelt_out_and_other_compatibility_characters_kept() -> None:
    text = _text(["To ﬁnd a reﬂund: ﬀ ﬃ ﬄ ﬅ ﬆ", f"½ off, m², ™, {FULL_WIDTH} width, Ⅻ"])

    assert text == f"To find a reflund: ff ffi ffl st st\n½ off, m², ™, {FULL_WIDTH} width, Ⅻ"


def test_a_word_hyphenated_across_lines_is_joined() -> None:
    text = _text(["Cancel-", "lation needs notice; late cancel-", "lations are charged."])

    assert text == "Cancellation needs notice; late cancellations are charged."


@pytest.mark.parametrize(
    "lines",
    [
        ["Open 24-", "hour lines."],  # a digit before the hyphen
        ["Send an e-", "mail."],  # one letter before it: hyphenation leaves two at least
        ["Quote JS-PAY-", "402 to us."],  # a code
        ["Our Wi-", "Fi is free."],  # a capital after it
        ["The state-of-the-", "art spa."],  # a compound before it
        ["Deposits are non-", "refundable."],  # a prefix that makes compounds
        ["Try our self-", "service kiosk."],
        ["Order gluten-", "free meals."],  # a word that ends compounds
        ["Book a follow-", "up."],  # two letters after it: hyphenation leaves three at least
    ],
)
def test_a_real_hyphen_at_a_line_end_is_kept(lines: list[str]) -> None:
    assert _text(lines) == "\n".join(lines)


def test_the_document_itself_tells_a_compound_from_a_hyphenated_word() -> None:
    # given "check-out" written whole once, and "checkin" once
    lines = ["Late check-", "out costs 20.", "Early check-", "in is free.", "The check-out desk; the checkin app."]
    # then the one written with a hyphen keeps it, the one written as a word is joined
    assert _text(lines) == "Late check-\nout costs 20.\nEarly checkin is free.\nThe check-out desk; the checkin app."


def test_a_soft_hyphen_at_a_line_end_joins_the_word_and_elsewhere_goes() -> None:
    assert _text(["Can\u00adcel\u00ad", "lation of a mas\u00ad", "Sage."]) == "Cancellation of a masSage."


def test_a_word_hyphenated_across_a_page_break_is_joined() -> None:
    assert _text(["Late cancel-"], ["lations are charged."]) == "Late cancellations are charged."


def test_form_feeds_and_page_breaks_are_paragraph_breaks() -> None:
    text = _text(["Opening hours\fGift cards"], ["Parking"])

    assert text == "Opening hours\n\nGift cards\n\nParking"


def test_non_latin_text_is_unaffected() -> None:
    lines = [
        "Возврат денег — в течение 14 дней.",
        "退款政策\uff1a十四天内-",
        "全额退款。",
        "Ελληνικά: επιστροφή χρημάτων.",
    ]

    assert _text(lines) == "\n".join(lines)
