"""Properties of an upload through the REST API and the console over arbitrary files (hypothesis,
derandomized so CI is repeatable).

Whatever a user sends as files (any bytes, any file name: control characters, paths, names that are
not UTF-8, the same name twice, empty files, broken PDFs, CSV and JSON lines of any shape), the
answer is never a server error and nothing is logged at ERROR; every file the API accepted gets its
own result, documents or an error; what is stored and indexed is what those results say; and no other
tenant's documents change.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_django import DjangoCaptureOnCommitCallbacks

from knowledge.models import Document
from knowledge.parsing import SUPPORTED_SUFFIXES
from knowledge.tests.factories import add_document
from knowledge.tests.test_parsing import _pdf_bytes
from supportai.models import Tenant
from supportai.tests.factories import api_client

UPLOADS = "/api/v1/knowledge/documents/"
CONSOLE = "/console/knowledge/"
BOUNDARY = "Pr0pertyB0undary"
PROPERTIES = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

NAME_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8", exclude_characters='"\r\n'),
        st.sampled_from(["/", "\\", ".", "\x00", "\x1b", "\u202e", "\ufeff", " "]),
    ),
    max_size=30,
)
# Mostly a supported suffix: a file of another type is refused on its name, before it is read.
SUFFIX = st.one_of(st.sampled_from(sorted(SUPPORTED_SUFFIXES)), st.sampled_from([".PDF", ".Md", ".exe", ".tar.gz", ""]))
# A file name as its header line carries it: text with a suffix, an RFC 2231 filename* (percent
# escapes of any bytes), or raw bytes that need not be UTF-8 (a Latin-1 name).
NAME = st.one_of(
    st.builds(lambda stem, suffix: f'filename="{stem}{suffix}"'.encode(), NAME_TEXT, SUFFIX),
    st.builds(
        lambda raw, suffix: b"filename*=UTF-8''" + "".join(f"%{byte:02X}" for byte in raw).encode() + suffix.encode(),
        st.binary(max_size=12),
        SUFFIX,
    ),
    st.builds(lambda raw, suffix: b'filename="' + raw + suffix.encode() + b'"', st.binary(max_size=12), SUFFIX),
    st.sampled_from([b'filename="../../etc/passwd.md"', b'filename="C:\\x\\faq.csv"', b'filename=""', b"filename=.md"]),
)
TEXT = st.text(max_size=300)
CONTENT = st.one_of(
    st.binary(max_size=600),
    TEXT.map(str.encode),
    st.builds(lambda text, encoding: text.encode(encoding, "replace"), TEXT, st.sampled_from(["utf-16", "latin-1"])),
    st.builds(lambda rows: ("question,answer,url\n" + "\n".join(rows)).encode(), st.lists(TEXT, max_size=4)),
    st.builds(
        lambda lines: "\n".join(lines).encode(), st.lists(TEXT.map(lambda t: '{"_id": "1", "text": ' + t), max_size=3)
    ),
    st.builds(lambda text: f"<html><body><main><p>{text}</p></main></body></html>".encode(), TEXT),
    st.builds(
        lambda text, cut: _pdf_bytes(text)[: cut or None],
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126, blacklist_characters="()\\"), max_size=20),
        st.integers(0, 700),
    ),
    st.sampled_from([b"", b" \n", b"\xef\xbb\xbf", b"%PDF", b"\x00" * 20]),
)
FILES = st.lists(st.tuples(NAME, CONTENT), min_size=1, max_size=4)


def _body(field: str, files: list[tuple[bytes, bytes]], fields: dict[str, str]) -> bytes:
    parts = [f'Content-Disposition: form-data; name="{name}"\r\n\r\n{value}'.encode() for name, value in fields.items()]
    parts += [
        f'Content-Disposition: form-data; name="{field}"; '.encode()
        + disposition
        + b"\r\nContent-Type: application/octet-stream\r\n\r\n"
        + content
        for disposition, content in files
    ]
    return (
        b"".join(b"--" + BOUNDARY.encode() + b"\r\n" + part + b"\r\n" for part in parts)
        + f"--{BOUNDARY}--\r\n".encode()
    )


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logged_errors() -> Iterator[_Errors]:
    handler = _Errors()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


def _theirs(tenant: Tenant) -> list[tuple[str, str, str]]:
    return list(Document.objects.for_tenant(tenant).order_by("pk").values_list("external_id", "content", "status"))


@PROPERTIES
@given(files=FILES)
def test_any_files_through_the_api_get_a_result_each_and_no_server_error(
    tenant: Tenant,
    other_tenant: Tenant,
    logged_errors: _Errors,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    files: list[tuple[bytes, bytes]],
) -> None:
    # given another tenant's document, and errors logged before this example forgotten
    if not Document.objects.for_tenant(other_tenant).exists():
        add_document(other_tenant, "Their secret", "Nope.")
    theirs = _theirs(other_tenant)
    logged_errors.records.clear()
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(tenant).post(
            UPLOADS, _body("files", files, {}), content_type=f"multipart/form-data; boundary={BOUNDARY}"
        )
    # then
    assert response.status_code in {202, 400}, response.content
    assert not logged_errors.records, [record.getMessage() for record in logged_errors.records]
    if response.status_code == 202:
        results = response.json()["files"]
        assert len(results) == len(files)
        stored = Document.objects.for_tenant(tenant)
        for result in results:
            assert bool(result["error"]) == bool(result["error_code"]) != bool(result["documents"]), result
            for document in result["documents"]:
                assert stored.filter(pk=document["id"], file_name=result["name"]).exists(), result
    assert _theirs(other_tenant) == theirs


@PROPERTIES
@given(files=FILES)
def test_any_files_through_the_console_get_a_message_each_and_no_server_error(
    tenant: Tenant,
    other_tenant: Tenant,
    owner: User,
    logged_errors: _Errors,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    files: list[tuple[bytes, bytes]],
) -> None:
    # given
    if not Document.objects.for_tenant(other_tenant).exists():
        add_document(other_tenant, "Their secret", "Nope.")
    theirs = _theirs(other_tenant)
    logged_errors.records.clear()
    client = Client()
    client.force_login(owner)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            CONSOLE,
            _body("upload", files, {"tenant": str(tenant.pk)}),
            content_type=f"multipart/form-data; boundary={BOUNDARY}",
            follow=True,
        )
    # then
    assert response.status_code == 200
    assert not logged_errors.records, [record.getMessage() for record in logged_errors.records]
    assert _theirs(other_tenant) == theirs
