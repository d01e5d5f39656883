"""The upload API's multipart parser: Django's, refusing a body with a part Django's parser skipped.

Django leaves out, without a word, a part whose Content-Disposition line is not UTF-8 (a Latin-1
file name), whose ``filename*`` names a charset Python does not know, or whose file name sanitizes
to nothing (``..``). The body's parts are counted as it is read, by its boundary delimiters, as
Django splits it; a body that gave fewer fields and files than it has parts is refused.
"""

from __future__ import annotations

from typing import IO, Any, cast

from django.utils.http import parse_header_parameters
from rest_framework import parsers, serializers

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
        # The delimiters are one more than the parts: the last closes the body.
        given = sum(len(values) for _, values in (*parsed.data.lists(), *parsed.files.lists()))
        if given < counter.count - 1:
            raise serializers.ValidationError({"files": [UNREADABLE_PART]})
        return parsed
