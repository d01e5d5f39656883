"""PDF text that retrieval can use: ligatures spelt out, words hyphenated across lines joined (real
hyphens kept), running headers, footers and page numbers dropped, page and form-feed breaks paragraphs.

The PDFs are built here and read by pypdf, which gives each artefact as it does for real files."""

from __future__ import annotations

import io
from collections.abc import Sequence

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader, PdfWriter
from pytest_django import DjangoCaptureOnCommitCallbacks

from knowledge.bm25 import bm25_search
from knowledge.models import Chunk, ChunkLevel
from knowledge.parsing import parse_file
from knowledge.uploads import files_upload
from supportai.models import Tenant

LIMIT = 1_000_000
HEADER = "Juniper & Sage — Refund policy"
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


def _framed(number: int, count: int, *content: str) -> list[str]:
    """A page of ``content`` under a running header and above a running footer."""
    return [HEADER, "Confidential", *content, f"Printed 12 March 2024 · Page {number} of {count}"]


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


def test_form_feeds_and_page_breaks_are_paragraph_breaks() -> None:
    text = _text(["Opening hours\fGift cards"], ["Parking"])

    assert text == "Opening hours\n\nGift cards\n\nParking"


def test_running_headers_and_footers_are_dropped() -> None:
    pages = [_framed(1, 3, "Refunds take 5 days."), _framed(2, 3, "Vouchers never expire."), _framed(3, 3, "Fees.")]

    assert _text(*pages) == "Refunds take 5 days.\n\nVouchers never expire.\n\nFees."


def test_a_line_on_at_least_60_percent_of_the_pages_is_running() -> None:
    # given a header on 3 of 5 pages, and a footer on 2
    topics = ["Massage.", "Yoga.", "Sauna.", "Vouchers.", "Parking."]
    pages = [[HEADER, topic, "Footer line"] for topic in topics[:2]] + [[HEADER, topics[2]], [topics[3]], [topics[4]]]

    assert _text(*pages) == "\n\n".join(
        ["Massage.\nFooter line", "Yoga.\nFooter line", "Sauna.", "Vouchers.", "Parking."]
    )


def test_lines_alike_but_for_numbers_are_running_only_when_the_numbers_follow_the_pages() -> None:
    # given pages that start with a price-list row, and end with a page number two above the page's
    pages = [
        [f"Massage {minutes} min {price} euros", f"Price list {n + 2}"]
        for n, (minutes, price) in enumerate([(30, 45), (60, 80), (90, 110)], start=1)
    ]

    assert _text(*pages) == "\n\n".join(
        [
            "Massage 30 min 45 euros",
            "Massage 60 min 80 euros",
            "Massage 90 min 110 euros",
        ]
    )


def test_a_two_page_document_keeps_its_repeated_lines() -> None:
    text = _text([HEADER, "Refunds take 5 days."], [HEADER, "Vouchers never expire."])

    assert text == f"{HEADER}\nRefunds take 5 days.\n\n{HEADER}\nVouchers never expire."


def test_a_line_repeated_inside_the_pages_is_kept() -> None:
    # given a line on every page near its top and bottom, but with content above and below it
    pages = [
        _framed(n, 3, f"{name} treatments.", "Questions? Call 555-0100.", f"{name} costs 80 euros.")
        for n, name in enumerate(["Massage", "Facial", "Sauna"], start=1)
    ]

    text = _text(*pages)

    assert text.count("Questions? Call 555-0100.") == 3
    assert HEADER not in text and "Printed" not in text and "Confidential" not in text


def test_page_numbers_alone_on_a_line_go_and_other_numbers_stay() -> None:
    assert _text(["Refunds take 5 days.", "1"], ["- 2 -", "Guests per room:", "4"]) == (
        "Refunds take 5 days.\n\nGuests per room:\n4"
    )
    assert _text(["Guests per room:", "1"]) == "Guests per room:\n1"


def test_a_word_hyphenated_across_a_page_break_is_joined() -> None:
    assert _text(["Late cancel-"], ["lations are charged."]) == "Late cancellations are charged."


def test_a_word_hyphenated_across_a_page_break_between_footer_and_header_is_joined() -> None:
    text = _text(*[_framed(1, 3, "Late cancel-"), _framed(2, 3, "lations are charged."), _framed(3, 3, "Fees.")])

    assert text == "Late cancellations are charged.\n\nFees."


def test_a_document_of_repeated_pages_keeps_its_text() -> None:
    assert _text(*[["Gift voucher", "Worth 50 euros"]] * 3) == "\n\n".join(["Gift voucher\nWorth 50 euros"] * 3)


def test_non_latin_text_is_unaffected() -> None:
    lines = [
        "Возврат денег — в течение 14 дней.",
        "退款政策\uff1a十四天内-",
        "全额退款。",
        "Ελληνικά: επιστροφή χρημάτων.",
    ]

    assert _text(lines) == "\n".join(lines)


@pytest.mark.django_db
def test_an_uploaded_pdf_is_indexed_without_its_header_and_found_by_its_ligature_words(
    tenant: Tenant, other_tenant: Tenant, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    # given a three-page policy with a running header, whose "find" and "refund" are ligatures
    pages = [
        _framed(1, 3, "To ﬁnd your booking, open the app."),
        _framed(2, 3, "Reﬂexology sessions are non-", "refundable once started."),
        _framed(3, 3, "Deposits are refunded within 5 days."),
    ]
    # when it is uploaded and indexed, and another tenant has a document of its own
    with django_capture_on_commit_callbacks(execute=True):
        files_upload(tenant=other_tenant, files=[SimpleUploadedFile("parking.txt", b"Find parking behind.")])
        [result] = files_upload(tenant=tenant, files=[SimpleUploadedFile("policy.pdf", pdf_pages(pages))])
    # then its chunks hold no header, and BM25 finds the words that were ligatures
    assert result.file.error_code == ""
    chunks = Chunk.objects.filter(tenant=tenant)
    assert chunks.filter(level=ChunkLevel.CHILD).exists()
    assert not chunks.filter(text__contains="Juniper").exists()
    assert not chunks.filter(text__contains="Page").exists()
    [hit] = bm25_search(tenant=tenant, query="find", limit=5)
    assert "find your booking" in Chunk.objects.get(pk=hit.chunk_id).text
    [hit] = bm25_search(tenant=tenant, query="reflexology", limit=5)
    assert "non-\nrefundable" in Chunk.objects.get(pk=hit.chunk_id).text
    # and another tenant finds only its own document
    [hit] = bm25_search(tenant=other_tenant, query="find reflexology", limit=5)
    assert Chunk.objects.get(pk=hit.chunk_id).document.title == "parking"


def test_ligatures_in_the_pdfs_title_are_spelt_out() -> None:
    # given a PDF whose metadata title was written with ligatures, as a typesetter may leave it
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_pages([["Refunds take five days."]]))))
    writer.add_metadata({"/Title": "Re\ufb01lls and o\ufb03ce \ufb02owers"})
    data = io.BytesIO()
    writer.write(data)
    # when
    [doc] = parse_file("policy.pdf", data.getvalue(), max_bytes=LIMIT)
    # then
    assert doc.title == "Refills and office flowers"
