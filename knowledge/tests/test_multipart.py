"""The upload parser's delimiter count, whatever the reads cut the body into."""

from __future__ import annotations

import io

import pytest

from knowledge.multipart import _DelimiterCounter

BODY = b"--B0undary\r\nx\r\n--B0undary\r\n--B0undar\r\n--B0undary--\r\n"


@pytest.mark.parametrize("size", [1, 2, 3, 9, 10, 11, 17, len(BODY), -1])
def test_delimiters_split_across_reads_are_counted_once(size: int) -> None:
    counter = _DelimiterCounter(io.BytesIO(BODY), b"--B0undary")
    read = b""
    while chunk := counter.read(size):
        read += chunk
    assert read == BODY
    assert counter.count == 3
