"""PDFs whose reading takes unbounded work are stopped after a time limit (knowledge/pdf_reading.py)."""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import time
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from knowledge import conf
from knowledge.models import Document
from knowledge.parsed import ErrorCode, ParseError
from knowledge.parsing import parse_file
from knowledge.pdf_reading import PDF_TOO_SLOW, PdfReaderCrashed, _read_into
from knowledge.tests.factories import add_document
from knowledge.tests.pdfs import pdf_from_objects
from knowledge.tests.test_parsing import _pdf_bytes
from supportai.models import Tenant
from supportai.tests.factories import api_client

UPLOADS = "/api/v1/knowledge/documents/"
PARKING = b"# Parking\n\nFree parking behind the studio."

LIMIT = 1_000_000


def _slow_pdf(operators: int = 150_000) -> bytes:
    """A PDF of a few kilobytes whose one page draws ``operators`` times two lines and shows no text:
    pypdf parses each operator before it looks at any (~10 s for the default)."""
    stream = zlib.compress(b"0 0 m 1 1 l " * operators)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return pdf_from_objects(objects)


def test_a_pdf_that_takes_too_long_to_read_is_refused_without_waiting_for_it() -> None:
    # given a PDF of a few kilobytes that takes ~10 s to read
    data = _slow_pdf()
    assert len(data) < 5_000
    started = time.monotonic()
    # when
    with pytest.raises(ParseError) as excinfo:
        parse_file("drawing.pdf", data, max_bytes=LIMIT, pdf_seconds=1)
    # then: refused once its second is up
    assert excinfo.value.code == ErrorCode.TOO_LARGE
    assert str(excinfo.value) == PDF_TOO_SLOW.format(seconds=1)
    assert time.monotonic() - started < 5


def test_a_pdf_read_within_the_limit_gives_its_text_title_and_language() -> None:
    [document] = parse_file("policy.pdf", _pdf_bytes("Cancellation needs 24 hours notice"), max_bytes=LIMIT)
    assert (document.title, document.text, document.language) == (
        "policy",
        "Cancellation needs 24 hours notice",
        "en",
    )


def test_an_upload_refuses_a_pdf_too_slow_to_read_and_stores_the_other_files(
    tenant: Tenant, other_tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given KNOWLEDGE_PDF_READ_SECONDS=1, and another tenant's document
    monkeypatch.setattr(conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, pdf_read_seconds=1))
    add_document(other_tenant, "Parking", "Their parking.", external_id="parking.md")
    files = [SimpleUploadedFile("drawing.pdf", _slow_pdf()), SimpleUploadedFile("parking.md", PARKING)]
    # when
    response = api_client(tenant).post(UPLOADS, {"files": files}, format="multipart")
    # then
    assert response.status_code == 202
    slow, parking = response.json()["files"]
    assert (slow["error_code"], slow["error"]) == ("too_large", PDF_TOO_SLOW.format(seconds=1))
    assert (parking["error_code"], [d["outcome"] for d in parking["documents"]]) == ("", ["created"])
    assert set(Document.objects.for_tenant(tenant).values_list("external_id", flat=True)) == {"parking.md"}
    assert list(Document.objects.for_tenant(other_tenant).values_list("content", flat=True)) == ["Their parking."]


class _Unmeasurable:
    """A limit that cannot be compared: what no broken file makes pypdf raise (ZeroDivisionError)."""

    def __lt__(self, other: object) -> bool:
        raise ZeroDivisionError


def test_the_reader_sends_an_unexpected_error_with_its_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    # given the child's side run here (the reader quiets pypdf's logger: restored after the test)
    pypdf_logger = logging.getLogger("pypdf")
    monkeypatch.setattr(pypdf_logger, "level", pypdf_logger.level)
    receiver, sender = multiprocessing.Pipe(duplex=False)
    # when
    _read_into(sender, _pdf_bytes("Cancellation needs 24 hours notice"), _Unmeasurable())  # type: ignore[arg-type]
    # then: the caller raises it, and an upload logs it as an internal error
    crashed = receiver.recv()
    assert isinstance(crashed, PdfReaderCrashed)
    assert "ZeroDivisionError" in str(crashed) and str(crashed).startswith("Traceback")
