"""Uploads refusing a multipart body with a part Django's parser skipped: the upload API's parser
(``StrictMultiPartParser``) and the console upload's handler (``PartCountingUploadHandler``); and
both refusing, unread, a body over the request's limit (``RequestSizeUploadHandler``).

Django leaves out, without a word, a part whose Content-Disposition line is not UTF-8 (a Latin-1
file name), whose ``filename*`` names a charset Python does not know, or whose file name sanitizes
to nothing (``..``), and the last part of a body that ends before its closing boundary. The body's
parts are counted as it is read, by its boundary delimiters, as Django splits it; a body that gave
fewer fields and files than it has parts, or whose closing delimiter never came, is refused.
The upload API's parser also reads the media type in any case (``MULTIPART/FORM-DATA``) and refuses
a body declared in a charset its ASCII delimiters and headers cannot be read in (UTF-16).
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any, cast

from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, QueryDict
from django.http.multipartparser import MultiPartParser
from django.utils.datastructures import MultiValueDict
from django.utils.http import parse_header_parameters
from rest_framework import parsers, serializers

from knowledge.uploads import upload_request_max_bytes, upload_request_too_large

if TYPE_CHECKING:
    from django.http.request import _PostDataProtocol  # django-stubs only

UNREADABLE_PART = (
    "A part of the upload could not be read (a file name that is not UTF-8, a filename* in an unknown "
    'charset, or a name that is none, such as ".."): nothing was stored. Send file names in UTF-8.'
)
# Django's parser decodes part headers in the charset, so in UTF-16 no part is named "files" (it said
# "No files arrived"); a multipart body's delimiters and headers are ASCII (RFC 7578 5.1).
UNSUPPORTED_CHARSET = (
    "A multipart body cannot be sent in {charset}: its boundaries and part headers are ASCII. "
    "Send it without a charset, or with charset=utf-8."
)
# Django's parser drops, without a word, a last part that no closing boundary ends (a body cut short).
UNFINISHED_BODY = (
    "The upload ended before its closing boundary, so its last file may be missing or cut short: nothing was stored."
)


class _DelimiterCounter:
    """Reads ``stream`` through, counting the occurrences of ``delimiter`` in what was read (one
    split across two reads included) and noting whether the closing one (``delimiter--``) came."""

    def __init__(self, stream: IO[bytes], delimiter: bytes) -> None:
        self._stream = stream
        self._delimiter = delimiter
        self._tail = b""
        self.count = 0
        self._closing = delimiter + b"--"
        self._closing_tail = b""
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        chunk = self._stream.read(size)
        # The tail is shorter than the delimiter, so no occurrence is counted twice.
        window = self._tail + chunk
        self.count += window.count(self._delimiter)
        self._tail = window[max(len(window) - len(self._delimiter) + 1, 0) :]
        closing_window = self._closing_tail + chunk
        self.closed = self.closed or self._closing in closing_window
        self._closing_tail = closing_window[max(len(closing_window) - len(self._closing) + 1, 0) :]
        return chunk

    def problem(self, data: QueryDict, files: MultiValueDict[str, Any]) -> str | None:
        """Why the body cannot be taken as ``data`` and ``files``, parsed from what was read: it ended
        before its closing delimiter (``UNFINISHED_BODY``), or they give fewer fields and files than
        it has parts (its delimiters less one: the last closes the body; ``UNREADABLE_PART``)."""
        if self.count and not self.closed:
            return UNFINISHED_BODY
        given = sum(len(values) for _, values in (*data.lists(), *files.lists()))
        return UNREADABLE_PART if given < self.count - 1 else None


class StrictMultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser, raising a ``ValidationError`` on ``files`` when a part of the body is
    missing from what Django's parser gave (``UNREADABLE_PART``) or the body ended before its closing
    boundary (``UNFINISHED_BODY``)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> parsers.DataAndFiles:
        media_type = _lower_media_type(media_type or "")
        params = parse_header_parameters(media_type)[1]
        if (charset := params.get("charset")) and not _ascii_compatible(charset):
            raise serializers.ValidationError({"files": [UNSUPPORTED_CHARSET.format(charset=charset[:40])]})
        boundary = params.get("boundary", "")
        if not boundary:
            return super().parse(stream, media_type, parser_context)  # Django refuses it
        counter = _DelimiterCounter(stream, b"--" + boundary.encode("ascii", "replace"))
        # Django's parser only calls read() on the stream.
        parsed = super().parse(cast(IO[bytes], counter), media_type, parser_context)
        if problem := counter.problem(parsed.data, parsed.files):
            raise serializers.ValidationError({"files": [problem]})
        return parsed


def _lower_media_type(content_type: str) -> str:
    """``content_type`` with its media type in lower case, as Django's parser expects it; media types are
    case-insensitive (RFC 9110 8.3.1), its parameters' values (the boundary) are not."""
    media_type, semicolon, params = content_type.partition(";")
    return media_type.strip().lower() + semicolon + params


_ASCII = "".join(map(chr, range(128)))


def _ascii_compatible(charset: str) -> bool:
    """Whether ``charset`` encodes ASCII as itself. One Python does not know, or that is no text
    encoding, is left for DRF's parser to refuse ("Unsupported charset")."""
    try:
        return _ASCII.encode(charset) == _ASCII.encode("ascii")
    except (LookupError, UnicodeError):
        return True


class PartCountingUploadHandler(FileUploadHandler):
    """First of a request's upload handlers, it parses a multipart body itself, with the request's
    other handlers, counting its parts as it is read; ``problem`` then says why the body cannot be
    taken as Django's parser gave it (a part left out, a body cut short), if it cannot. Inserted
    before anything reads ``request.POST`` (the CSRF middleware does, so the view is ``csrf_exempt``
    and checks CSRF itself, as Django's docs show)."""

    def __init__(self, request: HttpRequest) -> None:
        super().__init__(request)
        self._request = request
        self.problem: str | None = None

    def handle_raw_input(
        self,
        input_data: IO[bytes],
        META: dict[str, Any],
        content_length: int,
        boundary: str,
        encoding: str | None = None,
    ) -> tuple[QueryDict, MultiValueDict[str, Any]]:
        # Django passes the boundary as bytes, though django-stubs say str.
        counter = _DelimiterCounter(input_data, b"--" + cast(bytes, boundary))
        others = [handler for handler in self._request.upload_handlers if handler is not self]
        # Django's parser only calls read() on the stream.
        data, files = MultiPartParser(META, cast("_PostDataProtocol", counter), others, encoding).parse()
        self.problem = counter.problem(data, files)
        return data, files


class UploadRequestTooLarge(Exception):
    """A multipart upload declared over ``KNOWLEDGE_MAX_UPLOAD_REQUEST_BYTES``; its message says so."""


class RequestSizeUploadHandler(FileUploadHandler):
    """First of an upload request's handlers: a multipart body declared longer than
    ``KNOWLEDGE_MAX_UPLOAD_REQUEST_BYTES`` raises ``UploadRequestTooLarge`` before a byte of it is
    read, whatever reads ``request.POST`` or ``FILES`` first (the CSRF check, DRF's parser, the view).

    Daphne refuses such a body as it arrives (``supportai/daphne_setup.py``); this holds the limit on
    other servers (``runserver``, a WSGI server), where Django reads the body itself. Django reads no
    more of a body than its ``Content-Length``, the length checked here (without one, none)."""

    def handle_raw_input(
        self,
        input_data: IO[bytes],
        META: dict[str, Any],
        content_length: int,
        boundary: str,
        encoding: str | None = None,
    ) -> None:
        if content_length > upload_request_max_bytes():
            raise UploadRequestTooLarge(upload_request_too_large())

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        return raw_data  # to the handlers after it, which store the file

    def file_complete(self, file_size: int) -> None:
        return None
