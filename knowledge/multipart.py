"""Uploads refusing a multipart body with a part Django's parser skipped: the upload API's parser
(``StrictMultiPartParser``) and the console upload's handler (``PartCountingUploadHandler``).

Django leaves out, without a word, a part whose Content-Disposition line is not UTF-8 (a Latin-1
file name), whose ``filename*`` names a charset Python does not know, or whose file name sanitizes
to nothing (``..``). The body's parts are counted as it is read, by its boundary delimiters, as
Django splits it; a body that gave fewer fields and files than it has parts is refused.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any, cast

from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, QueryDict
from django.http.multipartparser import MultiPartParser
from django.utils.datastructures import MultiValueDict
from django.utils.http import parse_header_parameters
from rest_framework import parsers, serializers

if TYPE_CHECKING:
    from django.http.request import _PostDataProtocol  # django-stubs only

UNREADABLE_PART = (
    "A part of the upload could not be read (a file name that is not UTF-8, a filename* in an unknown "
    'charset, or a name that is none, such as ".."): nothing was stored. Send file names in UTF-8.'
)


class _DelimiterCounter:
    """Reads ``stream`` through, counting the occurrences of ``delimiter`` in what was read (one
    split across two reads included)."""

    def __init__(self, stream: IO[bytes], delimiter: bytes) -> None:
        self._stream = stream
        self._delimiter = delimiter
        self._tail = b""
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._stream.read(size)
        # The tail is shorter than the delimiter, so no occurrence is counted twice.
        window = self._tail + chunk
        self.count += window.count(self._delimiter)
        self._tail = window[max(len(window) - len(self._delimiter) + 1, 0) :]
        return chunk

    def part_skipped(self, data: QueryDict, files: MultiValueDict[str, Any]) -> bool:
        """Whether ``data`` and ``files``, parsed from what was read, give fewer fields and files than
        the body has parts (its delimiters less one: the last closes the body)."""
        given = sum(len(values) for _, values in (*data.lists(), *files.lists()))
        return given < self.count - 1


class StrictMultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser, raising a ``ValidationError`` on ``files`` (``UNREADABLE_PART``) when a
    part of the body is missing from what Django's parser gave."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> parsers.DataAndFiles:
        boundary = parse_header_parameters(media_type or "")[1].get("boundary", "")
        if not boundary:
            return super().parse(stream, media_type, parser_context)  # Django refuses it
        counter = _DelimiterCounter(stream, b"--" + boundary.encode("ascii", "replace"))
        # Django's parser only calls read() on the stream.
        parsed = super().parse(cast(IO[bytes], counter), media_type, parser_context)
        if counter.part_skipped(parsed.data, parsed.files):
            raise serializers.ValidationError({"files": [UNREADABLE_PART]})
        return parsed


class PartCountingUploadHandler(FileUploadHandler):
    """First of a request's upload handlers, it parses a multipart body itself, with the request's
    other handlers, counting its parts as it is read; ``part_skipped`` then says whether Django's
    parser left one out. Inserted before anything reads ``request.POST`` (the CSRF middleware
    does, so the view is ``csrf_exempt`` and checks CSRF itself, as Django's docs show)."""

    def __init__(self, request: HttpRequest) -> None:
        super().__init__(request)
        self._request = request
        self.part_skipped = False

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
        self.part_skipped = counter.part_skipped(data, files)
        return data, files
